"""Does the end-to-end scenario suite get faster on two workers?

Times the same pytest command twice in this run, serially and with ``-n 2``
(pytest-xdist), and prints the ratio parallel / serial. Goal: <= 0.6. These
tests mostly wait on scenario clocks, so two workers should nearly halve the wall
time even on two cores; start-up of each xdist worker (imports, a harness per
module) is what eats into it.

    .venv/bin/python benchmarks/bench_suite.py [--quick] [--json PATH]

``--quick`` times one test file instead of two.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("tests/e2e/test_scoring_truth.py", "tests/e2e/test_consumer_kinds.py")
GOAL_RATIO = 0.6
SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")


def run_pytest(files: tuple[str, ...], extra: list[str]) -> tuple[float, int, str]:
    """(wall seconds, exit status, pytest's summary counts)."""
    command = [sys.executable, "-m", "pytest", *files, "-p", "no:cacheprovider", "-q", *extra]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    counts = ", ".join(f"{n} {what}" for n, what in SUMMARY.findall(last)) or f"exit {done.returncode}"
    if done.returncode not in (0, 1):
        print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
    return wall, done.returncode, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"only {FILES[0]}")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)

    files = FILES[:1] if args.quick else FILES
    print(f"suite: {' '.join(files)}")
    serial, serial_status, serial_counts = run_pytest(files, [])
    print(f"   serial:  {serial:6.1f} s   ({serial_counts})", flush=True)
    parallel, parallel_status, parallel_counts = run_pytest(files, ["-n", "2"])
    print(f"   -n 2:    {parallel:6.1f} s   ({parallel_counts})")
    ratio = parallel / serial
    met = ratio <= GOAL_RATIO
    print(f"   ratio -n 2 / serial: {ratio:.2f}  [goal <= {GOAL_RATIO}: {'met' if met else 'MISSED'}]")
    failed = serial_status != 0 or parallel_status != 0
    if failed:
        print("   (tests did not all pass: the times are of a run that failed)", file=sys.stderr)
    if args.json:
        figure = {"name": "scenario suite, pytest -n 2", "value": parallel, "unit": "s",
                  "baseline": serial, "baseline_label": "same tests serially",
                  "goal": f"ratio <= {GOAL_RATIO}", "met": met and not failed,
                  "note": f"serial: {serial_counts}; -n 2: {parallel_counts}"}
        with open(args.json, "w") as out:
            json.dump({"benchmark": "suite", "figures": [figure]}, out, indent=2)
    # Failing tests are a finding, not a crash; pytest itself breaking (usage, internal error) is.
    return 0 if serial_status in (0, 1) and parallel_status in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
