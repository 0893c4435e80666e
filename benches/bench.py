#!/usr/bin/env python3
"""hcwrap's benchmark: each figure measured side by side with its floor, in one run.

    python3 benches/bench.py            # builds the release binary, installs hyperfine
                                        # and GNU time from the system's packages if missing
    python3 benches/bench.py --bin PATH # benchmark another build (the static musl one, say)

Prints a table of ratios and differences; absolute times on a shared machine drift, the
comparison with the floor measured in the same run does not. Not part of `cargo test`.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# Rounds of the wall-time measurement; see measure().
ROUNDS = 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB = 1024 * 1024 * 1024
UUID = "1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"
# The physical floor (examples/floor.rs), of the same libc as the binary measured.
FLOOR = os.path.join(ROOT, "target", "release", "examples", "floor")


def ensure_tools():
    """hyperfine and GNU time, from the system's packages when missing."""
    missing = [pkg for tool, pkg in (("hyperfine", "hyperfine"), ("/usr/bin/time", "time"))
               if shutil.which(tool) is None]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + missing, check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def check_binary(path):
    """Exits with one line if `path` is not an executable file."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        sys.exit(f"bench: no hcwrap binary at {path}: build it first (the static one with "
                 "scripts/static-check, see README)")


def start_sink(mode):
    """The Rust sink (examples/sink.rs): `ok` answers every ping at once with OK (keep-alive,
    TCP_NODELAY, so the sink's own cost stays in the tens of microseconds); `hang` accepts
    connections and never answers."""
    sink = os.path.join(ROOT, "target", "release", "examples", "sink")
    proc = subprocess.Popen([sink, mode], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}/ping/{UUID}"


def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/ping/{UUID}"


def hyperfine(commands, runs, warmup=10):
    """Median wall time (s) of each command, measured interleaved in one hyperfine run."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(["hyperfine", "-N", "--style", "none", "--warmup", str(warmup),
                        "--runs", str(runs), "--export-json", out.name] + commands,
                       check=True, stdout=subprocess.DEVNULL)
        results = json.load(open(out.name))["results"]
    return [r["median"] for r in results]


def peak_rss_kib(argv, runs=3):
    """Peak resident set (KiB) of argv, as GNU time reports it: the highest of `runs` runs
    (how much of the binary and of libc is mapped varies a little from run to run)."""
    peaks = []
    for _ in range(runs):
        proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=True)
        peaks.append(int(proc.stderr.strip().splitlines()[-1]))
    return max(peaks)


# The wrapped command prints the wall clock as it starts, then idles for as long as a hanging
# start ping makes hcwrap wait (--ping-timeout 300ms), so that both cases leave the machine
# equally idle between runs: otherwise the CPU's idle states alone make a difference.
STAMP = ["sh", "-c", "date +%s.%N; sleep 0.35"]


def start_latency(argv, runs):
    """Median time (s) from launching argv to the command it runs printing its start time."""
    samples = []
    for _ in range(runs):
        before = time.time()
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
        samples.append(float(out.stdout.strip()) - before)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", help="the hcwrap binary (default: build target/release/hcwrap)")
    parser.add_argument("--runs", type=int, default=200, help="runs for the wall-time figures")
    args = parser.parse_args()
    if args.bin is not None:
        check_binary(os.path.abspath(args.bin))

    ensure_tools()
    build = ["cargo", "build", "--release", "--locked", "--quiet"]
    subprocess.run(build + ["--example", "sink", "--example", "floor"], cwd=ROOT, check=True)
    hcwrap = args.bin
    # The floor is built with the same libc as the binary measured: the static (musl)
    # build is compared with a static floor.
    global FLOOR
    if hcwrap is not None and "musl" in hcwrap:
        target = "x86_64-unknown-linux-musl"
        subprocess.run(build + ["--example", "floor", "--target", target], cwd=ROOT, check=True,
                       env={**os.environ, "CC_x86_64_unknown_linux_musl": "musl-gcc"})
        FLOOR = os.path.join(ROOT, "target", target, "release", "examples", "floor")
    if hcwrap is None:
        subprocess.run(build, cwd=ROOT, check=True)
        hcwrap = os.path.join(ROOT, "target", "release", "hcwrap")
    hcwrap = os.path.abspath(hcwrap)
    sink_proc, sink = start_sink("ok")
    hang_proc, hanging = start_sink("hang")
    split_proc, split = start_sink("split")
    try:
        return measure(hcwrap, sink, hanging, split, args.runs)
    finally:
        for proc in (sink_proc, hang_proc, split_proc):
            proc.kill()
            proc.wait()


def measure(hcwrap, sink, hanging, split, runs_wall):
    rows = []

    # 1. Wall time of a wrapped `true`, both pings included, against `true` alone and
    # against the physical floor (examples/floor.rs: one connection, POST /start, spawn and
    # wait, POST the final ping; nothing else). The machine's speed drifts (a shared host),
    # so the three are measured in several short rounds, each interleaved, and the median
    # round counts.
    floor = FLOOR
    rounds = [hyperfine([shutil.which("true"), f"{floor} {sink} -- true",
                         f"{hcwrap} --url {sink} -- true"], runs_wall // ROUNDS)
              for _ in range(ROUNDS)]
    plain, floored, wrapped = sorted(rounds, key=lambda r: r[2] - r[0])[ROUNDS // 2]
    rows.append(("wall time, `hcwrap --url <sink> -- true`", f"{wrapped * 1e3:.2f} ms",
                 f"`true`: {plain * 1e3:.2f} ms", f"{(wrapped - plain) * 1e3:+.2f} ms",
                 "at most +2 ms", (wrapped - plain) <= 0.002))
    rows.append(("distance to the floor (same libc)", f"{(wrapped - plain) * 1e3:+.2f} ms",
                 f"floor: {(floored - plain) * 1e3:+.2f} ms", f"{(wrapped - floored) * 1e3:+.2f} ms",
                 "at most +0.25 ms", (wrapped - floored) <= 0.00025))

    # 1b. A server that sends an answer's head and body in two segments without
    # TCP_NODELAY (Python's http.server does): the final ping reuses the start ping's
    # connection, where the client's delayed acknowledgement held the body for 40 ms.
    fast, slow = hyperfine([f"{hcwrap} --url {sink} -- true", f"{hcwrap} --url {split} -- true"],
                           max(20, runs_wall // 4))
    rows.append(("wall time, server answering in two segments", f"{slow * 1e3:.2f} ms",
                 f"one segment: {fast * 1e3:.2f} ms", f"{(slow - fast) * 1e3:+.2f} ms",
                 "at most +1 ms", (slow - fast) <= 0.001))

    # 2. How long the command waits to start when the server sits on the start ping.
    runs = max(10, runs_wall // 8)
    wrap = [hcwrap, "--ping-timeout", "300ms", "--ping-retries", "0", "--url"]
    answering = start_latency(wrap + [sink, "--"] + STAMP, runs)
    hanging_latency = start_latency(wrap + [hanging, "--"] + STAMP, runs)
    direct = start_latency(STAMP, runs)
    rows.append(("child start, server hangs on /start", f"{hanging_latency * 1e3:.2f} ms",
                 f"server answers: {answering * 1e3:.2f} ms (no hcwrap: {direct * 1e3:.2f} ms)",
                 f"{(hanging_latency - answering) * 1e3:+.2f} ms", "at most +5 ms",
                 (hanging_latency - answering) <= 0.005))

    # 3. Peak memory while the command prints 1 GiB.
    rss = peak_rss_kib([hcwrap, "--url", sink, "--", "head", "-c", str(GIB), "/dev/zero"])
    idle = peak_rss_kib([hcwrap, "--url", sink, "--", "true"])
    rows.append(("peak RSS, command prints 1 GiB", f"{rss} KiB", f"printing nothing: {idle} KiB",
                 f"{rss - idle:+} KiB", "under 4096 KiB", rss < 4096))

    # 4. Throughput of 1 GiB through hcwrap to /dev/null, against the same through cat.
    pair = [f"sh -c 'head -c {GIB} /dev/zero | cat > /dev/null'",
            f"sh -c '{hcwrap} --url {sink} -- head -c {GIB} /dev/zero > /dev/null'"]
    rounds = [hyperfine(pair, runs=4, warmup=1) for _ in range(3)]
    through_cat, through_hcwrap = sorted(rounds, key=lambda r: r[0] / r[1])[1]
    rows.append(("1 GiB through, to /dev/null", f"{GIB / through_hcwrap / 2**20:.0f} MiB/s",
                 f"through cat: {GIB / through_cat / 2**20:.0f} MiB/s",
                 f"{through_cat / through_hcwrap:.2f}x cat's speed", "at least cat's", through_hcwrap <= through_cat))

    # 4b. The same with a small ring (--body-limit 1000): output must not be read in
    # ring-sized pieces then.
    pair = [f"sh -c 'head -c {GIB} /dev/zero | cat > /dev/null'",
            f"sh -c '{hcwrap} --body-limit 1000 --url {sink} -- head -c {GIB} /dev/zero > /dev/null'"]
    small_cat, small_hcwrap = hyperfine(pair, runs=4, warmup=1)
    rows.append(("1 GiB through, `--body-limit 1000`", f"{GIB / small_hcwrap / 2**20:.0f} MiB/s",
                 f"through cat: {GIB / small_cat / 2**20:.0f} MiB/s",
                 f"{small_cat / small_hcwrap:.2f}x cat's speed", "at least cat's", small_hcwrap <= small_cat))

    # 5. Added wall time when the server refuses connections, default retries.
    refused = closed_port_url()
    before = time.monotonic()
    subprocess.run([hcwrap, "--url", refused, "--", "true"], stderr=subprocess.DEVNULL, check=True)
    took = time.monotonic() - before
    bound = 0.5 + 1 + 2 + 4 + 8  # 5 retries: backoffs of 0.5 s doubling, each 50-100 % of that
    rows.append(("added wall time, connections refused", f"{took:.2f} s", "-",
                 f"bound {bound / 2:.2f}-{bound:.2f} s + 6 connects", "stated, bounded", took <= bound + 1))

    # 6. Binary size.
    size = os.path.getsize(hcwrap)
    rows.append(("binary size", f"{size / 2**20:.2f} MiB", "-", "-", "stated", True))

    print(f"hcwrap benchmark: {hcwrap}")
    print(f"machine: {os.cpu_count()} CPUs, {platform_text()}")
    print()
    header = ("figure", "hcwrap", "floor", "difference", "goal", "met")
    table = [header] + [r[:5] + ("yes" if r[5] else "NO",) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return 0 if all(r[5] for r in rows) else 1


def platform_text():
    import platform
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return f"{model}, {platform.system()} {platform.release()}"


if __name__ == "__main__":
    sys.exit(main())
