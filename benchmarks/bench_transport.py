"""What does the transport cost, and what do the moto fixes buy?

Every figure is measured in this run against a baseline measured in this run:

1. Injection: ``SqsInjector`` sending N Genesys events (default 5,000) on the sqs
   path vs a bare boto3 ``send_message_batch`` loop with the same bodies, against
   the same embedded backend, with a time scale at which nothing waits; 5 rounds
   each, interleaved; best (min) and median. Goal: ratio <= 1.1.
2. Backlog: N messages sent, then drained (receive 10 + delete_message_batch), on
   the patched embedded moto, N = 5,000 and 20,000, interleaved, best of 3, wall and
   CPU (harness + server) time. Goal: 20k/5k <= 4.5 (linear is 4). The same on
   moto as shipped, bounded: it runs 500 and 1,000 (a 5,000 run takes minutes
   there), fits t ~ N^k and extrapolates 5k and 20k, saying so.
3. Where the embedded moto runs: injection while two consumer processes receive
   and delete (a run's shape), against a moto in a child process (our default) vs
   ``ThreadedMotoServer`` in the harness's process (sharing its GIL).
4. Races: 8 consumer processes receive-and-delete one queue of 500 messages,
   3 times, on the patched and on the shipped moto: messages received twice,
   missing, failed deletes. Over HTTP the race is rare (the server's request
   handling spaces the calls out); 4b runs the same receive -> delete from 8
   threads straight on moto's model with a 10 us thread switch interval, where
   it is frequent.

Wall time moves with whatever else shares the machine; CPU time (this process +
the moto server, from /proc) much less, so both are printed.

    .venv/bin/python benchmarks/bench_transport.py [--events N] [--skip-shipped]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

from simulator.clock import ScenarioClock
from simulator.transport.protocol import Listener
from simulator.transport import SqsInjector, create_topology, drain_queue
from simulator.transport.moto_backend import MotoBackend
from simulator.transport.testing import concurrent_consumers, delivery, genesys_envelope

FAST = 1e9


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def server_cpu_s(backend: MotoBackend) -> float:
    """CPU seconds the child moto server has used (Linux /proc)."""
    fields = open(f"/proc/{backend.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_cpu(backend: MotoBackend, fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and the server): CPU time hardly
    moves when other work shares the machine, wall time does."""
    cpu0, server0 = time.process_time(), server_cpu_s(backend)
    wall = timed(fn)
    return wall, time.process_time() - cpu0 + server_cpu_s(backend) - server0


def fresh_queue(backend: MotoBackend, tag: str):
    return create_topology(backend, run_id=f"{tag}-{uuid.uuid4().hex[:8]}", delivery="sqs")


def inject_vs_bare(backend: MotoBackend, events: int, rounds: int = 3) -> dict[str, list]:
    """(wall, CPU) of each round of the bare loop and of the injector."""
    plan = [delivery(genesys_envelope(i), at_s=0.0) for i in range(events)]
    bodies = [d.body for d in plan]
    sqs = backend.client("sqs")

    def bare(url: str) -> None:
        for i in range(0, len(bodies), 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies[i:i + 10])])

    def injector(topo) -> None:
        SqsInjector(backend, topo).run(plan, ScenarioClock(FAST), Listener())

    def measure(kind: str) -> None:
        with fresh_queue(backend, kind) as topo:
            work = (lambda: bare(topo.queue_url)) if kind == "bare" else (lambda: injector(topo))
            runs[kind].append(timed_cpu(backend, work))

    runs: dict[str, list] = {"bare": [], "injector": []}
    for i in range(rounds):  # interleaved, first one then the other: drift hits both
        for kind in (("bare", "injector") if i % 2 == 0 else ("injector", "bare")):
            measure(kind)
    return runs


def send_then_drain(backend: MotoBackend, n: int) -> tuple[float, float]:
    body = delivery(genesys_envelope(0)).body
    sqs = backend.client("sqs")
    with fresh_queue(backend, "backlog") as topo:
        def work() -> None:
            for i in range(0, n, 10):
                sqs.send_message_batch(QueueUrl=topo.queue_url, Entries=[
                    {"Id": str(j), "MessageBody": body} for j in range(10)])
            drained = drain_queue(backend, topo.queue_url, visibility_timeout_s=30)
            assert len(drained) == n, len(drained)
        return timed_cpu(backend, work)


def section_backlog(skip_shipped: bool) -> None:
    print("\n2. backlog: send N, then drain (receive 10 + delete batch); best of 3, wall / CPU")
    runs: dict[int, list[tuple[float, float]]] = {5000: [], 20000: []}
    with MotoBackend() as patched:
        for _ in range(3):  # interleaved, so a busy spell on the machine hits both sizes
            for n in runs:
                runs[n].append(send_then_drain(patched, n))
    w5, c5 = min(r[0] for r in runs[5000]), min(r[1] for r in runs[5000])
    w20, c20 = min(r[0] for r in runs[20000]), min(r[1] for r in runs[20000])
    print(f"   patched moto   5k: {w5:6.2f} s / {c5:6.2f} s CPU   20k: {w20:6.2f} s / {c20:6.2f} s CPU")
    print(f"   patched 20k/5k: wall {w20 / w5:.2f}, CPU {c20 / c5:.2f}  (goal <= 4.5; linear = 4)")
    if skip_shipped:
        return
    with MotoBackend(patched=False) as shipped:
        w_a, c_a = send_then_drain(shipped, 500)
        w_b, c_b = send_then_drain(shipped, 1000)
    k = math.log(w_b / w_a, 2)
    e5, e20 = w_b * 5 ** k, w_b * 20 ** k
    print(f"   shipped moto  500: {w_a:6.2f} s / {c_a:6.2f} s CPU    1k: {w_b:6.2f} s / "
          f"{c_b:6.2f} s CPU   t ~ N^{k:.2f}")
    print(f"   shipped 5k: ~{e5:5.0f} s   20k: ~{e20:6.0f} s   20k/5k: ~{e20 / e5:.1f}   "
          "(EXTRAPOLATED from 500 and 1k; the 5k and 20k runs would take too long)")
    print(f"   patched vs shipped at 5k: ~{e5 / w5:.0f}x faster (shipped extrapolated)")


def section_injection(events: int, rounds: int = 5) -> None:
    print(f"\n1. injection of {events} events on the sqs path ({rounds} interleaved rounds each;"
          " wall / CPU of harness + server)")
    with MotoBackend() as backend:
        runs = inject_vs_bare(backend, events, rounds=rounds)
    for pick in (min, statistics.median):
        (bare_w, bare_c), (inj_w, inj_c) = ((pick(r[0] for r in runs[k]), pick(r[1] for r in runs[k]))
                                            for k in ("bare", "injector"))
        print(f"   {pick.__name__:6s} bare boto3 loop: {bare_w:5.2f} s / {bare_c:5.2f} s CPU   "
              f"SqsInjector: {inj_w:5.2f} s / {inj_c:5.2f} s CPU   "
              f"ratio: wall {inj_w / bare_w:.3f}, CPU {inj_c / bare_c:.3f}  (goal <= 1.1)")


def section_placement(events: int, rounds: int = 2) -> None:
    print(f"\n3. where moto runs: SqsInjector sending {events} events while 2 consumer processes"
          f" receive and delete (median of {rounds})")
    plan = [delivery(genesys_envelope(i), at_s=0.0) for i in range(events)]

    def mixed(backend: MotoBackend) -> tuple[float, float]:
        with create_topology(backend, run_id=f"place-{uuid.uuid4().hex[:8]}", delivery="sqs",
                             visibility_timeout_s=600) as topo:
            injected: list[float] = []
            injector = SqsInjector(backend, topo)
            start = time.perf_counter()
            results = concurrent_consumers(
                backend.endpoint_url, topo.queue_url, 2, empty_polls=1,
                during=lambda: injected.append(
                    timed(lambda: injector.run(plan, ScenarioClock(FAST), Listener()))))
            consumed = time.perf_counter() - start
            assert sum(len(got) for got, _ in results) == events
            return injected[0], consumed

    with MotoBackend() as child, MotoBackend(mode="thread") as in_process:
        child_runs, thread_runs = [], []
        for _ in range(rounds):
            child_runs.append(mixed(child))
            thread_runs.append(mixed(in_process))
    for label, runs in (("child process (default)", child_runs), ("in-process thread", thread_runs)):
        inject_s = statistics.median(r[0] for r in runs)
        consumed_s = statistics.median(r[1] for r in runs)
        print(f"   {label:24s} injection {inject_s:6.2f} s   all consumed {consumed_s:6.2f} s")
    ratio = (statistics.median(r[0] for r in thread_runs) / statistics.median(r[0] for r in child_runs))
    print(f"   injection thread/child = {ratio:.2f}  (> 1: the child process is faster)")


def section_races(skip_shipped: bool) -> None:
    print("\n4a. races over HTTP: 8 consumer processes x 500 messages, 3 trials")
    for patched in (True, False):
        if not patched and skip_shipped:
            break
        totals: Counter = Counter()
        for trial in range(3):
            with MotoBackend(patched=patched) as backend, \
                    create_topology(backend, run_id=f"race{trial}", delivery="sqs",
                                    visibility_timeout_s=600) as topo:
                sqs = backend.client("sqs")
                for s in range(0, 500, 10):
                    sqs.send_message_batch(QueueUrl=topo.queue_url, Entries=[
                        {"Id": str(i), "MessageBody": f"m{s + i}"} for i in range(10)])
                results = concurrent_consumers(backend.endpoint_url, topo.queue_url, processes=8)
            per_body = Counter(body for got, _ in results for _, body, _ in got)
            totals["received twice"] += sum(1 for n in per_body.values() if n > 1)
            totals["missing"] += 500 - len(per_body)
            totals["failed deletes"] += sum(len(failed) for _, failed in results)
        print_race("patched moto" if patched else "shipped moto", totals, 1500)

    print("\n4b. races in moto's model: 8 threads x 500 messages, 3 trials, thread switch"
          " every 10 us (the same race, made frequent; each variant in its own process)")
    for variant in ("patched", "shipped"):
        if variant == "shipped" and skip_shipped:
            break
        out = subprocess.run([sys.executable, __file__, "--race-model", variant],
                             capture_output=True, text=True, check=True).stdout
        print_race(f"{variant} moto", Counter(json.loads(out.splitlines()[-1])), 1500)


def print_race(label: str, totals: Counter, messages: int) -> None:
    print(f"   {label}: " + ", ".join(f"{k} {totals[k]}" for k in
                                      ("received twice", "missing", "failed deletes"))
          + f" (of {messages} messages)")


def race_in_model(patched: bool, messages: int = 500, threads: int = 8, trials: int = 3) -> Counter:
    """receive -> delete from ``threads`` threads straight on moto's SQS model."""
    if patched:
        from simulator.transport import moto_patches

        moto_patches.apply()
    from moto.sqs.models import SQSBackend

    sys.setswitchinterval(1e-5)
    totals: Counter = Counter()
    for _ in range(trials):
        backend = SQSBackend("us-east-1", "123456789012")
        backend.create_queue("q")
        for i in range(messages):
            backend.send_message("q", f"m{i}")
        seen: Counter = Counter()
        failures: list[str] = []

        def consume() -> None:
            empty = 0
            while empty < 3:
                try:
                    got = backend.receive_message("q", 10, 0, 600)
                except Exception as exc:  # noqa: BLE001 - the race shows as errors too
                    failures.append(repr(exc))
                    continue
                empty = 0 if got else empty + 1
                seen.update(m.body for m in got)
                for m in got:
                    try:
                        backend.delete_message("q", m.receipt_handle)
                    except Exception as exc:  # noqa: BLE001
                        failures.append(repr(exc))

        workers = [threading.Thread(target=consume) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        totals["received twice"] += sum(1 for n in seen.values() if n > 1)
        totals["missing"] += messages - len(seen)
        totals["failed deletes"] += len(failures)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--skip-shipped", action="store_true",
                        help="do not measure moto as shipped (slow)")
    parser.add_argument("--race-model", choices=("patched", "shipped"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.race_model:
        print(json.dumps(race_in_model(args.race_model == "patched")))
        return 0
    section_injection(args.events)
    section_backlog(args.skip_shipped)
    section_placement(args.events)
    section_races(args.skip_shipped)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
