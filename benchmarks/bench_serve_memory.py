"""Does one long-lived `genesys-sim serve` keep its memory flat over many runs?

One `serve` process (a child of this script, on a free loopback port, with a tiny
scenario in a temporary --scenarios-dir) is given N small runs through its control
API (`POST /runs`, `ref:correct`), at most --parallel at a time. Its resident set
(VmRSS from /proc) is read once the first --warmup runs have finished, and again
after all N; nothing is in flight at either reading. The figure is the ratio
RSS after N runs / RSS after the warm-up: a server that keeps every run's history
grows with N, one that releases finished runs stays near 1.

    .venv/bin/python benchmarks/bench_serve_memory.py [--runs 200] [--warmup 20] [--parallel 2]
                                                      [--json PATH]

With GENESYS_SIM_API_TOKEN set, the server guards its control routes with it and
this script sends it. Linux only (/proc).
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

# A server that kept each run's history grew to ~1.5x here (0.4 MB a run); what is
# left when runs are released is the allocator's and the kept summaries (~4 KB a run).
GOAL_RATIO = 1.2
TOKEN_ENV = "GENESYS_SIM_API_TOKEN"

# About 90 logical events and 120 deliveries, sent in one real second.
TINY = """name: tiny
description: a minute of traffic, for counting runs rather than events
seed: 5
clock: {time_scale: 60}
traffic: {duration_s: 60, conversations_per_minute: 6, agents: 2}
faults:
  - redeliver: {probability: 0.2}
timeout_s: 15
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Server:
    def __init__(self, workdir: Path) -> None:
        scenarios = workdir / "scenarios"
        scenarios.mkdir()
        (scenarios / "tiny.yaml").write_text(TINY)
        self.log = open(workdir / "serve.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "serve", "--port", "0", "--scenarios-dir", str(scenarios),
             "--run-dir", str(workdir / "runs")],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            self.stop()
            raise RuntimeError(f"serve did not start: {line!r} (see {workdir / 'serve.log'})")
        self.url = line.rsplit(" ", 1)[1].strip()
        token = os.environ.get(TOKEN_ENV)
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def start_run(self) -> str:
        answer = self.session.post(f"{self.url}/runs", json={"scenario": "tiny", "consumers": ["ref:correct"]},
                                   timeout=30)
        answer.raise_for_status()
        return answer.json()["run_id"]

    def status(self, run_id: str) -> dict:
        answer = self.session.get(f"{self.url}/runs/{run_id}", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def run_batch(server: Server, count: int, parallel: int, outcomes: dict[str, int]) -> None:
    """Start ``count`` runs, at most ``parallel`` in flight; return once all finished."""
    started, in_flight = 0, []
    while started < count or in_flight:
        while started < count and len(in_flight) < parallel:
            in_flight.append(server.start_run())
            started += 1
        time.sleep(0.25)
        for run_id in list(in_flight):
            state = server.status(run_id)
            if state["status"] in ("done", "failed"):
                in_flight.remove(run_id)
                verdict = (state.get("result") or {}).get("verdict", state["status"])
                outcomes[verdict] = outcomes.get(verdict, 0) + 1
                if state["status"] == "failed" and outcomes[verdict] == 1:
                    print(f"   a run failed: {state.get('error')}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if not 0 < args.warmup < args.runs or args.parallel < 1:
        parser.error("need 0 < --warmup < --runs and --parallel >= 1")

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        server = Server(Path(tmp))
        outcomes: dict[str, int] = {}
        try:
            t0 = time.perf_counter()
            run_batch(server, args.warmup, args.parallel, outcomes)
            time.sleep(1.0)  # let the last run's threads and backend wind down
            warm = rss_mb(server.proc.pid)
            warm_s = time.perf_counter() - t0
            print(f"RSS after {args.warmup} runs: {warm:.1f} MB ({warm_s:.0f} s)", flush=True)
            run_batch(server, args.runs - args.warmup, args.parallel, outcomes)
            time.sleep(1.0)
            after = rss_mb(server.proc.pid)
            total_s = time.perf_counter() - t0
        finally:
            server.stop()
    ratio = after / warm
    met = ratio <= GOAL_RATIO
    print(f"RSS after {args.runs} runs: {after:.1f} MB ({total_s:.0f} s; outcomes {outcomes})")
    print(f"ratio RSS after {args.runs} / after {args.warmup} runs: {ratio:.3f} "
          f"[goal <= {GOAL_RATIO}: {'met' if met else 'MISSED'}]")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "serve-memory", "figures": [{
                "name": f"serve memory over {args.runs} runs (RSS)", "value": round(after, 1), "unit": "MB",
                "baseline": round(warm, 1), "baseline_label": f"after {args.warmup} runs",
                "goal": f"ratio <= {GOAL_RATIO}", "met": met,
                "note": f"one serve, tiny scenario, ref:correct, {args.parallel} in flight; "
                        f"outcomes {outcomes}; {total_s:.0f} s"}]}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
