"""Does the harness carry production loads, and is it never the limit?

Issue 9's figures, each against a baseline measured in this run, on the embedded
moto and (when it answers) a real LocalStack, each backend against its own raw
emulator loop (simulator/bench/rawloop.py: bare boto3, SendMessageBatch, then
ReceiveMessage(10) + DeleteMessageBatch):

1. the harness's own ceiling: the null consumer's load ladder (``genesys-sim
   bench``'s, clean.yaml's traffic without faults, one instance); goal >= 0.6x
   the raw loop;
2. ``ref:correct`` at 1, 2 and 4 instances: its ceiling on the same ladder; goal
   >= 500 events/s for one instance on moto; 2 and 4 against 1 (the curve);
3. p99 latency of ``ref:correct`` at 300 events/s offered; baseline the null
   consumer's p99 at the same rate; goal <= 1 s;
4. one effect-sink call over the framed socket the harness's Python hosts use,
   against the same call over HTTP (the route every other consumer uses);
5. the shipped production-day (about 55,000 logical events, every fault on) end
   to end with ``ref:correct``; baseline its schedule (the last delivery's time
   in real seconds); goal < 300 s.

    .venv/bin/python benchmarks/bench_harness.py [--quick] [--skip-day] [--json PATH]

``--quick``: moto only, shorter steps, no production-day.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_backends import localstack_endpoint  # a script's own folder is on sys.path
from simulator.bench.ladder import BenchSettings, native_rate, run_ladder
from simulator.bench.null import SPEC as NULL_SPEC
from simulator.bench.rawloop import raw_loop
from simulator.clients.spec import parse_spec
from simulator.harness import Harness
from simulator.options import RunOptions
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
NULL_RATIO_GOAL = 0.6
CORRECT_GOAL_EPS = 500.0
P99_GOAL_MS = 1000.0
P99_AT_EPS = 300.0
DAY_GOAL_S = 300.0
SINK_CALLS = 3000


def figure(name: str, value: float, unit: str, baseline: float, label: str, *,
           goal: str | None = None, met: bool | None = None, note: str = "") -> dict:
    return {"name": name, "value": round(value, 3), "unit": unit, "baseline": round(baseline, 3),
            "baseline_label": label, "goal": goal, "met": met, "note": note}


def ladder_ceiling(harness: Harness, spec: str, settings: BenchSettings, native: float) -> tuple[float, str]:
    ladder = run_ladder(harness, parse_spec(spec), spec, settings, native=native)
    steps = ", ".join(f"{s.offered_eps:.0f}->{s.achieved_eps:.0f}" for s in ladder.steps)
    print(f"   {spec} x{settings.options.instances}: ceiling {ladder.ceiling_eps:.0f} events/s "
          f"(offered->achieved: {steps})", flush=True)
    return ladder.ceiling_eps, f"steps offered->achieved {steps}"


def p99_at(harness: Harness, spec: str, settings: BenchSettings, native: float) -> float:
    one = BenchSettings(scenario=settings.scenario, step_s=settings.step_s, start_rate=P99_AT_EPS,
                        max_rate=P99_AT_EPS, faults=False, options=settings.options)
    step = run_ladder(harness, parse_spec(spec), spec, one, native=native).steps[0]
    p99 = step.latency_ms.get("p99") or float("nan")
    print(f"   {spec} at {P99_AT_EPS:.0f} events/s: achieved {step.achieved_eps:.0f}, p99 {p99:.0f} ms", flush=True)
    return p99


def backend_figures(harness: Harness, backend: str, *, step_s: float, instances: tuple[int, ...]) -> list[dict]:
    scenario = load_scenario("clean")
    native = native_rate(scenario, scenario.seed)
    print(f"{backend}: raw emulator loop ...", flush=True)
    raw = raw_loop(harness.backend(backend), messages=5000)
    print(f"   raw loop {raw.loop_mps:.0f} msg/s (send {raw.send_mps:.0f}, drain {raw.drain_mps:.0f})", flush=True)
    raw_label = f"raw {backend} loop (bare boto3)"

    def settings(n: int) -> BenchSettings:
        return BenchSettings(scenario=scenario, step_s=step_s, start_rate=150.0, max_rate=2500.0,
                             faults=False, options=RunOptions(instances=n, backend=backend))

    out = []
    null, null_steps = ladder_ceiling(harness, NULL_SPEC, settings(1), native)
    out.append(figure(f"harness ceiling, null consumer ({backend})", null, "events/s", raw.loop_mps, raw_label,
                      goal=f"ratio >= {NULL_RATIO_GOAL}", met=null / raw.loop_mps >= NULL_RATIO_GOAL,
                      note=f"clean.yaml traffic, 1 instance, {step_s:g} s steps; {null_steps}"))
    ceilings = {}
    for n in instances:
        ceilings[n], steps = ladder_ceiling(harness, "ref:correct", settings(n), native)
        if n == 1:
            goal = f">= {CORRECT_GOAL_EPS:.0f} events/s" if backend == "moto" else None
            met = ceilings[n] >= CORRECT_GOAL_EPS if backend == "moto" else None
            out.append(figure(f"ref:correct, 1 instance ({backend})", ceilings[n], "events/s", raw.loop_mps,
                              raw_label, goal=goal, met=met, note=steps))
        else:
            out.append(figure(f"ref:correct, {n} instances ({backend})", ceilings[n], "events/s", ceilings[1],
                              "ref:correct, 1 instance", note=f"{steps}; 2 cores shared by harness, emulator "
                              "and every instance"))
    null_p99 = p99_at(harness, NULL_SPEC, settings(1), native)
    correct_p99 = p99_at(harness, "ref:correct", settings(1), native)
    out.append(figure(f"ref:correct p99 latency at {P99_AT_EPS:.0f} events/s ({backend})", correct_p99, "ms",
                      null_p99, f"null consumer p99 at {P99_AT_EPS:.0f} events/s",
                      goal=f"<= {P99_GOAL_MS:.0f} ms", met=correct_p99 <= P99_GOAL_MS,
                      note="1 instance, no faults"))
    return out


def sink_call_figure(harness: Harness) -> dict:
    """Median microseconds per effect call over the framed socket and over HTTP, to
    one sink, from one thread, interleaved in rounds."""
    from simulator.clients.api import Sink
    from simulator.ledger import Ledger
    from simulator.sink import EffectSink

    sink_url = harness.open_sink("bench-sink", EffectSink(Ledger(), consumer="c"), consumer="c")
    socket_address = harness.sink_socket
    try:
        clients = {"http": Sink(sink_url), "socket": Sink(sink_url, socket_address=socket_address)}
        per_call: dict[str, list[float]] = {"http": [], "socket": []}
        for round_ in range(5):
            for kind, client in clients.items():
                started = time.perf_counter()
                for i in range(SINK_CALLS // 5):
                    client.effect(correlation_id=f"{kind}-{round_}-{i}")
                per_call[kind].append((time.perf_counter() - started) / (SINK_CALLS // 5) * 1e6)
    finally:
        harness.close_sink("bench-sink")
    http, framed = statistics.median(per_call["http"]), statistics.median(per_call["socket"])
    print(f"sink call: socket {framed:.0f} us, HTTP {http:.0f} us", flush=True)
    return figure("effect sink call, framed socket", framed, "us", http, "the same call over HTTP",
                  note=f"{SINK_CALLS} calls each, one thread, median of 5 interleaved rounds")


def production_day_figure(harness: Harness) -> dict:
    from simulator.runner import make_plan, run_scenario

    scenario = load_scenario("production-day")
    _, plan = make_plan(scenario, scenario.seed)
    schedule = max(d.at_s for d in plan.deliveries) / scenario.clock.time_scale
    print(f"production-day: schedule {schedule:.0f} s ...", flush=True)
    started = time.perf_counter()
    result = run_scenario(harness, scenario, [parse_spec("ref:correct")], options=RunOptions())
    wall = time.perf_counter() - started
    score, = result.consumers
    print(f"   {wall:.0f} s, {score.logical_events} events, verdict {score.verdict}", flush=True)
    return figure("production-day end to end, ref:correct (moto)", wall, "s", schedule, "scenario schedule",
                  goal=f"< {DAY_GOAL_S:.0f} s and pass", met=wall < DAY_GOAL_S and score.verdict == "pass",
                  note=f"{score.logical_events} logical events, {score.effect_attempts} effect attempts, "
                       f"missed {score.missed}, duplicated {score.duplicated}, {score.verdict}; "
                       f"{score.throughput_eps:.0f} events/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="moto only, 4 s steps, no production-day")
    parser.add_argument("--skip-day", action="store_true", help="no production-day run")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-harness-") as tmp:
        with Harness(out_dir=Path(tmp) / "moto") as harness:
            figures += backend_figures(harness, "moto", step_s=4.0 if args.quick else 8.0,
                                       instances=(1, 2) if args.quick else (1, 2, 4))
            figures.append(sink_call_figure(harness))
            if not (args.quick or args.skip_day):
                figures.append(production_day_figure(harness))
        endpoint = None if args.quick else localstack_endpoint()
        if endpoint is None:
            figures.append({"name": "harness figures on LocalStack",
                            "skipped": "--quick" if args.quick else "LocalStack not reachable"})
        else:
            with Harness(out_dir=Path(tmp) / "localstack", endpoint_url=endpoint) as harness:
                figures += backend_figures(harness, "localstack", step_s=8.0, instances=(1,))
    if args.json:
        Path(args.json).write_text(json.dumps({"benchmark": "harness", "figures": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
