"""One run: scenario -> generator -> nemesis -> transport -> consumer -> sink ->
ledger -> checker. Each consumer gets its own queue (or push target), its own
instances and the same plan, one after another, and is scored on its own.

A run that stops half-way (Ctrl-C, a backend that dies) still closes the ledger,
scores what was observed and returns a result marked incomplete.
"""
from __future__ import annotations

import dataclasses
import math
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from urllib.parse import quote
from pathlib import Path
from typing import Any, Callable

from simulator.clients.api import (ENV_CONSUMER, ENV_NAMESPACE, ENV_QUEUE, ENV_REDIS, ENV_SINK,
                                   ENV_TIME_SCALE)
from simulator.clients.host import HostConfig
from simulator.clients.receipts import read_receipts
from simulator.clients.spec import ConsumerSpec
from simulator.clients.supervisor import Supervisor
from simulator.clock import ScenarioClock
from simulator.errors import SimError
from simulator.ledger import Ledger
from simulator.model import DlqEntry, Leftover, Plan, body_key
from simulator.wire import envelope_ids

Progress = Callable[[dict], None]

# However much progress a consumer shows, a drain never waits longer than this.
MAX_DRAIN_S = 600.0


@dataclasses.dataclass
class RunOptions:
    seed: int | None = None
    instances: int | None = None
    backend: str | None = None
    # Consumers of one scenario run side by side (each on its own queue) up to this
    # many at a time; 1 runs them one after another.
    parallel: int = 1


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "run"


def make_plan(scenario: Any, seed: int) -> tuple[list, Plan]:
    from simulator import faults
    from simulator.events import generate

    events = list(generate(seed, traffic=scenario.traffic_config()))
    plan = faults.plan(events, scenario.fault_specs(), seed=seed,
                       fifo=scenario.queue.type == "fifo",
                       max_entry_bytes=scenario.eventbridge.max_entry_bytes)
    return events, plan


def run_scenario(harness: Any, scenario: Any, specs: list[ConsumerSpec], *,
                 options: RunOptions | None = None, progress: Progress | None = None) -> Any:
    from simulator.report import RunResult
    from simulator.scoring import Expect, score

    options = options or RunOptions()
    seed = scenario.seed if options.seed is None else options.seed
    backend_name = options.backend or scenario.backend
    events, plan = make_plan(scenario, seed)
    run_id = f"{slug(scenario.name)}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    run_dir = harness.out_dir / run_id
    ledger = Ledger(run_dir / "ledger.jsonl")
    ledger.record_many(events)
    expect = Expect.from_mapping(scenario.expect or {})
    names = _unique_names(specs)
    notes: list[str] = []
    failure: BaseException | None = None
    done: list[str] = []
    stop = threading.Event()  # set on the first failure or Ctrl-C: every consumer winds down

    def one(index: int, spec: ConsumerSpec, name: str) -> str:
        _run_consumer(harness, backend, scenario, plan, spec, name, ledger,
                      run_id=f"{run_id[-20:]}-{index}", run_dir=run_dir, seed=seed,
                      instances=options.instances or scenario.consumers.instances,
                      progress=progress, notes=notes, stop=stop)
        return name

    try:
        backend = harness.backend(backend_name)
        with ThreadPoolExecutor(max_workers=max(1, options.parallel)) as pool:
            futures = [pool.submit(one, i, spec, name) for i, (spec, name) in enumerate(zip(specs, names))]
            try:
                for future in as_completed(futures):
                    try:
                        done.append(future.result())
                    except SimError as exc:
                        failure = failure or exc
                        stop.set()
            except KeyboardInterrupt as exc:
                failure = exc
                stop.set()
    except SimError as exc:
        failure = exc
    if failure is not None:
        notes.append(f"run stopped: {failure or type(failure).__name__}")
    history = ledger.close(complete=failure is None and not stop.is_set())
    scores = [score(history, name, expect) for name in names if name in done or failure is not None]
    return RunResult(scenario=scenario.name, seed=seed, backend=backend_name,
                     delivery=scenario.delivery, consumers=scores, complete=failure is None,
                     elapsed_s=history.elapsed_s, notes=notes, ledger_path=str(ledger.path),
                     abort=failure)


def _unique_names(specs: list[ConsumerSpec]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for spec in specs:
        seen[spec.name] = seen.get(spec.name, 0) + 1
        names.append(spec.name if seen[spec.name] == 1 else f"{spec.name}#{seen[spec.name]}")
    return names


def _path_for(spec: ConsumerSpec, scenario: Any) -> str:
    """Queue consumers get the scenario's path to their queue (EventBridge rule or
    straight SQS); push consumers always get EventBridge target semantics."""
    if not spec.pulls:
        return "push"
    return "eventbridge" if scenario.delivery == "eventbridge" else "sqs"


def _run_consumer(harness: Any, backend: Any, scenario: Any, plan: Plan, spec: ConsumerSpec,
                  name: str, ledger: Ledger, *, run_id: str, run_dir: Path, seed: int,
                  instances: int, progress: Progress | None, notes: list[str],
                  stop: threading.Event) -> None:
    from simulator.sink import EffectSink
    from simulator.transport import create_topology

    scale = scenario.clock.time_scale
    path = _path_for(spec, scenario)
    topology = create_topology(
        # A FIFO queue is a queue consumer's: EventBridge pushes to Lambda/HTTP targets directly.
        backend, run_id=run_id, delivery=path, fifo=scenario.queue.type == "fifo" and spec.pulls,
        visibility_timeout_s=max(1, math.ceil(scenario.queue.visibility_timeout_s / scale)),
        max_receive_count=scenario.queue.max_receive_count,
        bus_name=scenario.eventbridge.bus_name, detail_types=scenario.eventbridge.detail_types)
    clock = ScenarioClock(scale)
    sink = EffectSink(ledger, clock=clock, faults=plan.consumer_faults.sink, seed=seed)
    sink_key = f"{run_id}-{slug(name)}"
    harness.registry.open(sink_key, sink)
    crash, slow = plan.consumer_faults.crash, plan.consumer_faults.slow
    env = {
        **_base_env(emulator=backend.emulator),
        **backend.consumer_env(),  # endpoint, region and, on an emulator, dummy credentials
        ENV_QUEUE: topology.queue_url or "",
        ENV_SINK: f"{harness.sink_base_url}/runs/{sink_key}/consumers/{quote(name, safe='')}",
        ENV_TIME_SCALE: repr(scale),
        ENV_CONSUMER: name,
        ENV_REDIS: harness.redis_url,
        ENV_NAMESPACE: sink_key,
    }
    host = HostConfig(kind=spec.kind, target=spec.target, seed=seed,
                      batch_size=scenario.queue.batch_size,
                      wait_time_s=int(min(20, max(0, round(scenario.queue.wait_time_s)))),
                      queue_arn=topology.queue_arn or "", t0=ledger.t0,
                      crash=dataclasses.asdict(crash) if crash else None,
                      slow=dataclasses.asdict(slow) if slow else None)
    supervisor = Supervisor(spec, instances=instances, env=env, host=host,
                            log_dir=run_dir / slug(name), time_scale=scale,
                            restart_after_s=crash.restart_after_s if crash else 2.0)
    report = _Reporter(progress, name, plan, sink)

    # The injector stamps deliveries on the scenario clock's origin; the ledger on its own.
    offset = clock.start - ledger.t0

    def on_sent(sent: Any) -> None:
        report.sent += 1
        ledger.record(dataclasses.replace(sent, consumer=name, at=sent.at + offset))

    def on_rejected(rejected: Any) -> None:
        report.rejected += 1

    supervisor.start()
    try:
        report("starting")
        injector = _injector(backend, topology, path, supervisor, scenario, name, seed)
        extra = {} if path == "push" else {"on_rejected": on_rejected}
        injector.run(plan.deliveries, clock, on_sent, report, stop=stop, **extra)
        if path != "push":  # the invoker returns once every delivery is done, parked or dropped
            _wait_drained(backend, topology.queue_url, scenario, report, stop)
    finally:
        supervisor.stop()
        ledger.record_many(read_receipts(supervisor.receipt_files))
        _collect_queue_ends(backend, topology, name, ledger, pulls=spec.pulls)
        topology.teardown()
        if supervisor.crashes:
            notes.append(f"{name}: {supervisor.crashes} planned crash(es), each restarted")
        if report.rejected:
            notes.append(f"{name}: {report.rejected} deliveries refused by the wire (e.g. over the entry size limit)")
        report("done")


def _base_env(*, emulator: bool) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if emulator:
        # A profile names real credentials; against an emulator it only breaks clients
        # on a machine that lacks it. The backend adds the dummy credentials instead.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            env.pop(name, None)
    cwd = str(Path.cwd())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (cwd, env.get("PYTHONPATH", "")) if p)
    return env


def _injector(backend: Any, topology: Any, path: str, supervisor: Supervisor, scenario: Any,
              name: str, seed: int) -> Any:
    from simulator import transport

    if path == "push":
        retry = scenario.eventbridge.retry
        targets = supervisor.endpoints or [supervisor.spec.target]  # http:URL is the user's own
        return transport.make_injector(
            backend, topology, "push", consumer=name, targets=targets, seed=seed,
            retry=transport.RetryPolicy(maximum_retry_attempts=retry.maximum_retry_attempts,
                                        maximum_event_age_s=retry.maximum_event_age_s))
    options: dict[str, Any] = {"consumer": name}
    if path == "eventbridge":
        options["max_entry_bytes"] = scenario.eventbridge.max_entry_bytes
    return transport.make_injector(backend, topology, path, **options)


def _wait_drained(backend: Any, queue_url: str, scenario: Any, report: "_Reporter",
                  stop: threading.Event) -> None:
    """Wait until nothing is left on the queue, visible or in flight, for a quiet
    spell: every message was deleted by the consumer or redriven to the DLQ.

    ``timeout_s`` counts from the last sign of progress (the backlog shrank, or the
    consumer called the sink), so a consumer that is merely slow on a loaded
    machine is not scored as missing what it would still have processed."""
    sqs = backend.client("sqs")
    quiet_s = max(0.5, 2 * min(1.0, scenario.queue.wait_time_s))
    started = time.monotonic()
    deadline = started + scenario.timeout_s
    fewest, attempts = None, -1
    empty_since: float | None = None
    while not stop.is_set():
        now = time.monotonic()
        if now >= deadline or now - started > MAX_DRAIN_S:
            report("timeout")
            return
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        pending = sum(int(v) for v in attrs.values())
        calls = report.sink.counts().get("attempts", 0)
        if fewest is None or pending < fewest or calls > attempts:
            fewest, attempts = min(pending, fewest if fewest is not None else pending), calls
            deadline = now + scenario.timeout_s
        if pending == 0:
            empty_since = empty_since or now
            if now - empty_since >= quiet_s:
                return
        else:
            empty_since = None
        report("draining", pending=pending)
        time.sleep(0.1)


def _collect_queue_ends(backend: Any, topology: Any, name: str, ledger: Ledger, *, pulls: bool) -> None:
    from simulator.transport import drain_queue

    now = ledger.now()
    if topology.dlq_url:
        entries = []
        for m in drain_queue(backend, topology.dlq_url):
            envelope_id, correlation_id = envelope_ids(m.body)
            attrs = {k: v.get("StringValue") for k, v in (m.message_attributes or {}).items()}
            entries.append(DlqEntry(consumer=name, at=now, body_key=body_key(m.body),
                                    correlation_id=correlation_id, envelope_id=envelope_id,
                                    attributes=attrs))
        ledger.record_many(entries)
    if pulls and topology.queue_url:
        left = []
        for m in drain_queue(backend, topology.queue_url):
            envelope_id, correlation_id = envelope_ids(m.body)
            left.append(Leftover(consumer=name, body_key=body_key(m.body),
                                 correlation_id=correlation_id, envelope_id=envelope_id))
        ledger.record_many(left)


class _Reporter:
    """Turns the run's state into progress callbacks, at most ~8 per second."""

    def __init__(self, progress: Progress | None, name: str, plan: Plan, sink: Any) -> None:
        self.progress = progress
        self.name = name
        self.planned = len(plan.deliveries)
        self.sink = sink
        self.sent = 0
        self.rejected = 0
        self._last = 0.0

    def __call__(self, phase: str, **extra: Any) -> None:
        if not self.progress:
            return
        now = time.monotonic()
        if phase in ("sending", "draining") and now - self._last < 0.12:
            return
        self._last = now
        extra.pop("sent", None)
        self.progress({"consumer": self.name, "phase": phase, "planned": self.planned,
                       "sent": self.sent, "effects": self.sink.counts().get("applied", 0), **extra})
