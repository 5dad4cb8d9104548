"""The same scenario on embedded moto and on LocalStack: how do they compare?

Times the whole command for ``scenarios/clean.yaml`` with ``ref:correct`` on the
default backend (embedded moto, the baseline) and with ``--backend localstack``,
interleaved (moto, LocalStack, then LocalStack, moto) so a busy spell on the machine
hits both; best of the rounds. Prints the ratio LocalStack / moto. There is no goal:
the figure tells a team what switching backends costs. Needs a LocalStack at
$LOCALSTACK_ENDPOINT (default http://127.0.0.1:4566; `bash scripts/localstack.sh
start` runs one); without one it prints "skipped: LocalStack not reachable".

    .venv/bin/python benchmarks/bench_backends.py [--rounds N] [--quick] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "clean.yaml"
CONSUMER = "ref:correct"
SERVICES = ("sqs", "events")


def localstack_endpoint() -> str | None:
    """The LocalStack endpoint when its health check reports SQS and EventBridge up."""
    endpoint = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566").rstrip("/")
    try:
        states = requests.get(f"{endpoint}/_localstack/health", timeout=3).json().get("services", {})
    except (requests.RequestException, ValueError):
        return None
    return endpoint if all(states.get(s) in ("running", "available") for s in SERVICES) else None


def cli() -> list[str]:
    script = Path(sys.executable).parent / "genesys-sim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "simulator"]


def run_once(backend: str, endpoint: str, workdir: Path) -> tuple[float, dict]:
    """(wall seconds, the JSON report) of one run; SystemExit when the command breaks."""
    report = workdir / f"{backend}-{time.monotonic_ns()}.json"
    command = [*cli(), "run", str(SCENARIO), "--consumer", CONSUMER, "--quiet", "--report", "json",
               "--out", str(report), "--run-dir", str(workdir / "runs")]
    if backend == "localstack":
        command += ["--backend", "localstack", "--endpoint-url", endpoint]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1) or not report.exists():
        raise SystemExit(f"{backend} run exited {done.returncode}: {done.stderr.strip()[-800:]}")
    return wall, json.loads(report.read_text())


def summary(result: dict) -> str:
    c = result["consumers"][0]
    return f"{c['effects']} effects, missed {c['missed']}, duplicated {c['duplicated']}, {c['verdict']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs per backend, interleaved (default 2)")
    parser.add_argument("--quick", action="store_true", help="one run per backend")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else max(1, args.rounds)

    endpoint = localstack_endpoint()
    if endpoint is None:
        print("skipped: LocalStack not reachable")
        figures = [{"name": "LocalStack vs moto, clean.yaml", "skipped": "LocalStack not reachable"}]
    else:
        print(f"backends: {SCENARIO.name} with {CONSUMER}, {rounds} round(s) each, LocalStack at {endpoint}")
        walls: dict[str, list[float]] = {"moto": [], "localstack": []}
        results: dict[str, dict] = {}
        with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
            for i in range(rounds):
                for backend in (("moto", "localstack") if i % 2 == 0 else ("localstack", "moto")):
                    wall, results[backend] = run_once(backend, endpoint, Path(tmp))
                    walls[backend].append(wall)
                    print(f"   {backend:10s} {wall:6.1f} s   ({summary(results[backend])})", flush=True)
        moto, localstack = min(walls["moto"]), min(walls["localstack"])
        print(f"   best: moto {moto:.1f} s, LocalStack {localstack:.1f} s, ratio {localstack / moto:.2f}")
        figures = [{"name": "LocalStack vs moto, clean.yaml", "value": localstack, "unit": "s",
                    "baseline": moto, "baseline_label": "embedded moto", "goal": None, "met": None,
                    "note": f"ref:correct, best of {rounds}; moto: {summary(results['moto'])}; "
                            f"LocalStack: {summary(results['localstack'])}"}]
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "backends", "figures": figures}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
