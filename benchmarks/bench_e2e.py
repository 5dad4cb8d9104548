"""How long does a CI smoke run take, per reference consumer?

For each reference consumer, one after another, times the whole command a CI job runs:

    genesys-sim run scenarios/ci-smoke.yaml --consumer ref:NAME --quiet --report json --out ...

against the floor measured from the same scenario: its schedule length in real
seconds (the last delivery's ``at_s`` / ``time_scale``, from the plan the runner
makes), the wait no harness can avoid. The ratio is therefore overhead over that
wait. Goal: each run < 30 s (issue 9: ci-smoke stays small). The notes split the rest: start-up and tear-down
(command wall time minus the run's own ``elapsed_s``) and the drain after the last
delivery (``elapsed_s`` minus the schedule).

    .venv/bin/python benchmarks/bench_e2e.py [--consumers NAME,...] [--quick] [--json PATH]

``--quick`` runs three consumers (one per kind: SQS poller, Lambda on SQS, webhook).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from consumers import REFERENCES
from simulator.runner import make_plan
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "ci-smoke.yaml"
GOAL_S = 30.0
QUICK = ("correct", "redis-nx-envelope", "webhook-mark-first")


def schedule_s(path: Path) -> float:
    """Real seconds from the first to the last planned delivery."""
    scenario = load_scenario(path)
    _, plan = make_plan(scenario, scenario.seed)
    return max(d.at_s for d in plan.deliveries) / scenario.clock.time_scale


def cli() -> list[str]:
    """The console script next to this interpreter, as CI calls it."""
    script = Path(sys.executable).parent / "genesys-sim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "simulator"]


def run_one(name: str, workdir: Path) -> tuple[float, int, dict | None]:
    """(wall seconds, exit status, the consumer's JSON result or None)."""
    report = workdir / f"{name}.json"
    command = [*cli(), "run", str(SCENARIO), "--consumer", f"ref:{name}", "--quiet",
               "--report", "json", "--out", str(report), "--run-dir", str(workdir / "runs")]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    result = json.loads(report.read_text()) if report.exists() and report.stat().st_size else None
    if done.returncode not in (0, 1):  # 1 is a failed verdict: the expected outcome for most references
        print(f"   ref:{name} exited {done.returncode}: {done.stderr.strip()[-500:]}", file=sys.stderr)
    return wall, done.returncode, result


def describe(wall: float, schedule: float, status: int, result: dict | None) -> str:
    if result is None:
        return f"exit {status}, no report"
    consumer = result["consumers"][0] if result.get("consumers") else {}
    elapsed = result.get("elapsed_s") or 0.0
    failures = consumer.get("failures") or []
    parts = [f"verdict {consumer.get('verdict', '?')}" + (f" ({', '.join(failures)})" if failures else ""),
             f"missed {consumer.get('missed', '?')}, duplicated {consumer.get('duplicated', '?')}",
             f"start-up+tear-down {wall - elapsed:.1f} s, drain after schedule {elapsed - schedule:.1f} s"]
    if not result.get("complete", True):
        parts.append("INCOMPLETE run")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consumers", metavar="NAME,...", help="reference consumers to run (default: all)")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)

    known = [ref.name for ref in REFERENCES]
    names = args.consumers.split(",") if args.consumers else list(QUICK if args.quick else known)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"--consumers: unknown reference consumer(s) {', '.join(unknown)}; known: {', '.join(known)}")

    schedule = schedule_s(SCENARIO)
    print(f"ci-smoke: schedule {schedule:.1f} s real (the floor); goal < {GOAL_S:.0f} s per consumer")
    figures, crashed = [], []
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        for name in names:
            wall, status, result = run_one(name, Path(tmp))
            note = describe(wall, schedule, status, result)
            print(f"   ref:{name:32s} {wall:6.1f} s   {wall / schedule:4.2f}x schedule   "
                  f"[goal < {GOAL_S:.0f} s: {'met' if wall < GOAL_S else 'MISSED'}]   {note}", flush=True)
            if status not in (0, 1) or result is None:
                crashed.append(name)
            figures.append({"name": f"ci-smoke ref:{name}", "value": wall, "unit": "s",
                            "baseline": schedule, "baseline_label": "scenario schedule",
                            "goal": f"< {GOAL_S:.0f} s", "met": wall < GOAL_S and name not in crashed,
                            "note": note})
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "e2e", "figures": figures}, out, indent=2)
    if crashed:
        print(f"crashed (exit status other than 0/1, or no report): {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
