#!/usr/bin/env python3
"""Two or more hcwrap builds against each other: the wall time of a wrapped `true`.

    python3 benches/compare.py OLD_BINARY NEW_BINARY [...] [--rounds 400]

Runs `true` and then each binary (`BINARY --url <sink> -- /usr/bin/true`) in turn, one
after the other, for many rounds, so that the machine's drift hits every command alike,
and prints each one's median and its difference from `true`. This is how the changes in
BENCHMARKS.md were measured; a difference of 0.03 ms is within its noise on a shared
two-CPU machine. Uses the benchmark's sink (built with `cargo build --release --example
sink` if missing).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench import ROOT, check_binary, start_sink


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binaries", nargs="+", help="hcwrap binaries to compare")
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    for binary in args.binaries:
        check_binary(os.path.abspath(binary))

    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--example", "sink"],
                   cwd=ROOT, check=True)
    sink_proc, sink = start_sink("ok")
    try:
        commands = [["/usr/bin/true"]] + [
            [os.path.abspath(b), "--url", sink, "--", "/usr/bin/true"] for b in args.binaries]
        samples = interleaved(commands, args.rounds)
    finally:
        sink_proc.kill()
        sink_proc.wait()

    floor = statistics.median(samples[0])
    for command, times in zip(commands, samples):
        median = statistics.median(times)
        print(f"{command[0]:60} median {median / 1e6:.3f} ms  +{(median - floor) / 1e6:.3f} ms")
    return 0


def interleaved(commands, rounds, warmup=10):
    """Wall times (ns) of each command, run in turn `rounds` times after `warmup` rounds."""
    devnull = os.open(os.devnull, os.O_RDWR)
    quiet = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    samples = [[] for _ in commands]
    for round_ in range(warmup + rounds):
        for times, command in zip(samples, commands):
            start = time.perf_counter_ns()
            pid = os.posix_spawn(command[0], command, os.environ, file_actions=quiet)
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"{' '.join(command)} failed")
            if round_ >= warmup:
                times.append(time.perf_counter_ns() - start)
    return samples


if __name__ == "__main__":
    sys.exit(main())
