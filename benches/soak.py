#!/usr/bin/env python3
"""Soak: hcwrap 500 times against a server that fails one request in three.

    python3 benches/soak.py [--runs 500] [--parallel 4]

Then checks that no process of the runs is left (running or zombie), that every command
saw only the file descriptors a command run directly sees (hcwrap leaks none into it),
and that every run's final ping was delivered (answered 200) with the run's own id.
Exits non-zero and says what failed otherwise. Takes a minute or two (retries back off),
so it is a script rather than part of `cargo test`.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import threading
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK = "1f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"
# The command prints its run id, then (exec'd, so no shell is in between) the descriptors
# it holds: those it inherited, plus ls's own handle on the directory.
MARKER = f"hcwrap-soak-{uuid.uuid4().hex[:8]}"
SCRIPT = f': {MARKER}; echo "run $HC_RUN_ID"; exec ls /proc/self/fd'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()

    build = ["cargo", "build", "--release", "--locked", "--quiet"]
    subprocess.run(build, cwd=ROOT, check=True)
    subprocess.run(build + ["--example", "sink"], cwd=ROOT, check=True)
    hcwrap = os.path.join(ROOT, "target", "release", "hcwrap")
    sink = subprocess.Popen([os.path.join(ROOT, "target", "release", "examples", "sink"), "flaky"],
                            stdout=subprocess.PIPE, text=True)
    port = int(sink.stdout.readline())
    answers = []
    reader = threading.Thread(target=lambda: answers.extend(sink.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/ping/{CHECK}"

    def snapshot():
        """Zombies, and hcwrap processes of this build, by pid."""
        table = subprocess.run(["ps", "-eo", "pid=,stat=,args="], stdout=subprocess.PIPE, text=True).stdout
        rows = [line.split(None, 2) for line in table.splitlines() if line.strip()]
        zombies = {r[0] for r in rows if r[1].startswith("Z")}
        wrappers = {r[0] for r in rows if len(r) > 2 and r[2].startswith(hcwrap)}
        return zombies, wrappers

    zombies_before, _ = snapshot()

    # What a command run directly (not through hcwrap) holds.
    direct = subprocess.run(["sh", "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, check=True).stdout.split()
    direct_fds = set(direct[1:])

    def one(_):
        out = subprocess.run([hcwrap, "--url", url, "--", "sh", "-c", SCRIPT], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return out

    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        results = list(pool.map(one, range(args.runs)))
    sink.kill()
    sink.wait()
    reader.join(timeout=5)

    failures = []
    run_ids = []
    for out in results:
        if out.returncode != 0:
            failures.append(f"a run exited {out.returncode}: {out.stderr.strip()}")
            continue
        fields = out.stdout.split()
        run_ids.append(fields[1])
        extra = set(fields[2:]) - direct_fds
        if extra:
            failures.append(f"the command saw descriptors {sorted(extra)} it would not have seen alone")

    delivered = {line.split("rid=")[1].strip() for line in answers
                 if line.startswith("200 ") and "/start" not in line and "rid=" in line}
    missing = [rid for rid in run_ids if rid not in delivered]
    if missing:
        failures.append(f"{len(missing)} runs' final pings were not delivered, e.g. {missing[:3]}")

    left = subprocess.run(["ps", "-eo", "stat=,args="], stdout=subprocess.PIPE, text=True).stdout
    strays = [line for line in left.splitlines() if MARKER in line and "ps -eo" not in line]
    if strays:
        failures.append(f"processes left over: {strays[:5]}")
    zombies_after, wrappers = snapshot()
    if zombies_after - zombies_before:
        failures.append(f"new zombie processes: {sorted(zombies_after - zombies_before)}")
    if wrappers:
        failures.append(f"hcwrap processes still running: {sorted(wrappers)}")

    refused = sum(1 for line in answers if line.startswith("500 "))
    print(f"{args.runs} runs, {len(answers)} requests answered, {refused} of them with 500 (retried)")
    print(f"descriptors a command sees, directly and through hcwrap: {' '.join(sorted(direct_fds, key=int))}")
    if failures:
        for failure in failures[:20]:
            print("FAIL:", failure)
        return 1
    print("OK: no leftover processes, no leaked descriptors, every final ping delivered with its run id")
    return 0


if __name__ == "__main__":
    sys.exit(main())
