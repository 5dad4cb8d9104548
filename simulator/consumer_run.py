"""One consumer's part of a run: its own topology, sink and instances, the plan put
on the wire through the path's ``Injector``, and at the end what is left on its
queues, all recorded in the run's ledger under the consumer's name.

The runner (runner.py) makes one ``ConsumerRun`` per consumer and knows nothing of
paths: a push consumer and a queue consumer differ only in the injector the
transport gives them and in whether there is a queue to wait for.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

from simulator.clients.api import (ENV_CONSUMER, ENV_NAMESPACE, ENV_QUEUE, ENV_REDIS, ENV_SINK,
                                   ENV_SINK_SOCKET, ENV_TIME_SCALE)
from simulator.clients.host import HostConfig
from simulator.clients.interpreter import child_pythonpath
from simulator.clients.receipts import read_receipts
from simulator.clients.spec import ConsumerSpec
from simulator.clients.supervisor import Supervisor
from simulator.clock import ScenarioClock
from simulator.ledger import Ledger
from simulator.model import (Delivery, DlqEntry, Leftover, Plan, PushAttempt, Refused, Sent,
                             body_key)
from simulator.stopping import DrainTimeout, RunStop
from simulator.transport.records import Attempt, DrainedMessage, Rejected
from simulator.transport.protocol import Listener
from simulator.wire import envelope_ids

Progress = Callable[[dict], None]

# However much progress a consumer shows, a drain never waits longer than this.
MAX_DRAIN_S = 600.0
# Kinds that run as Lambda functions (the scenario's ``lambda`` settings apply).
LAMBDA_KINDS = frozenset({"lambda-sqs", "lambda-eb"})
LAMBDA_MAX_TIMEOUT_S = 900.0  # Lambda's largest function timeout


def slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "run"


def path_for(spec: ConsumerSpec, scenario: Any) -> str:
    """Queue consumers get the scenario's path to their queue (EventBridge rule or
    straight SQS); push consumers always get EventBridge target semantics."""
    if not spec.pulls:
        return "push"
    return "eventbridge" if scenario.delivery == "eventbridge" else "sqs"


class ConsumerRun:
    def __init__(self, harness: Any, backend: Any, scenario: Any, plan: Plan, spec: ConsumerSpec,
                 name: str, ledger: Ledger, *, run_id: str, run_dir: Path, seed: int, instances: int,
                 stop: RunStop, progress: Progress | None = None) -> None:
        self.harness = harness
        self.backend = backend
        self.scenario = scenario
        self.plan = plan
        self.spec = spec
        self.name = name
        self.ledger = ledger
        self.run_id = run_id
        self.run_dir = run_dir
        self.seed = seed
        self.instances = instances
        self.stop = stop
        self.path = path_for(spec, scenario)
        self.notes: list[str] = []
        self.reporter = _Reporter(progress, name, len(plan.deliveries))

    def run(self) -> list[str]:
        """Run the consumer's part to its end; the notes it leaves. Raises what
        stopped it (after recording what was observed)."""
        from simulator.sink import EffectSink
        from simulator.transport import create_topology

        scenario = self.scenario
        scale = scenario.clock.time_scale
        visibility_s = max(1, math.ceil(scenario.queue.visibility_timeout_s / scale))
        topology = create_topology(
            # A FIFO queue is a queue consumer's: EventBridge pushes to Lambda/HTTP targets directly.
            self.backend, run_id=self.run_id, delivery=self.path,
            fifo=scenario.queue.type == "fifo" and self.spec.pulls,
            visibility_timeout_s=visibility_s, max_receive_count=scenario.queue.max_receive_count,
            bus_name=scenario.eventbridge.bus_name, detail_types=scenario.eventbridge.detail_types)
        clock = ScenarioClock(scale)
        sink = EffectSink(self.ledger, clock=clock, faults=self.plan.consumer_faults.sink, seed=self.seed,
                          consumer=self.name)
        self.reporter.sink = sink
        sink_key = f"{self.run_id}-{slug(self.name)}"
        # The URL carries an unguessable token: knowing a run's id is not enough to
        # post effects into it (simulator/app/registry.py).
        sink_url = self.harness.open_sink(sink_key, sink, consumer=self.name)
        supervisor = self._supervisor(topology, sink_key, sink_url)
        listener = _LedgerListener(self.ledger, self.name, offset=clock.start - self.ledger.t0,
                                   reporter=self.reporter)
        try:
            supervisor.start()
            self.reporter("starting")
            injector = self._injector(topology, supervisor)
            injector.run(self.plan.deliveries, clock, listener, stop=self.stop.event)
            if topology.queue_url and not self.stop.is_set():
                self._wait_drained(topology, sink)
        finally:
            supervisor.stop()
            self.harness.close_sink(sink_key)  # its consumers are gone: release it, keep its counts
            self.ledger.record_many(read_receipts(supervisor.receipt_files))
            self._collect(topology, visibility_s)
            topology.teardown()
            if supervisor.crashes:
                self.notes.append(f"{self.name}: {supervisor.crashes} planned crash(es), each restarted")
            if listener.refused_count:
                self.notes.append(f"{self.name}: {listener.refused_count} deliveries refused by the wire "
                                  "(e.g. over the entry size limit); not charged to the consumer")
            if listener.pending_count:
                self.notes.append(f"{self.name}: {listener.pending_count} deliveries still being retried "
                                  "when the run's time was up")
            self.reporter("done")
        return self.notes

    # ---- the parts ----

    def _supervisor(self, topology: Any, sink_key: str, sink_url: str) -> Supervisor:
        scenario, harness = self.scenario, self.harness
        scale = scenario.clock.time_scale
        crash, slow = self.plan.consumer_faults.crash, self.plan.consumer_faults.slow
        copies = self.plan.consumer_faults.sqs_duplicate
        stall = self.plan.consumer_faults.stall
        function_timeout = scenario.lambda_.function_timeout_s
        env = {
            **_base_env(emulator=self.backend.emulator),
            **self.backend.consumer_env(),  # endpoint, region and, on an emulator, dummy credentials
            ENV_QUEUE: topology.queue_url or "",
            ENV_SINK: sink_url,
            ENV_SINK_SOCKET: harness.sink_socket or "",
            ENV_TIME_SCALE: repr(scale),
            ENV_CONSUMER: self.name,
            ENV_REDIS: harness.redis_url,
            ENV_NAMESPACE: sink_key,
        }
        host = HostConfig(kind=self.spec.kind, target=self.spec.target, seed=self.seed,
                          batch_size=scenario.queue.batch_size,
                          wait_time_s=int(min(20, max(0, round(scenario.queue.wait_time_s)))),
                          queue_arn=topology.queue_arn or "", t0=self.ledger.t0,
                          crash=dataclasses.asdict(crash) if crash else None,
                          slow=dataclasses.asdict(slow) if slow else None,
                          stall=dataclasses.asdict(stall) if stall else None,
                          # only a standard queue hands a message over again (FIFO: exactly once)
                          sqs_duplicate=(dataclasses.asdict(copies) if copies and scenario.queue.type == "standard"
                                         else None),
                          function_timeout_s=(function_timeout / scale
                                              if function_timeout and self.spec.kind in LAMBDA_KINDS else None))
        return Supervisor(self.spec, instances=self.instances, env=env, host=host,
                          log_dir=self.run_dir / slug(self.name), time_scale=scale,
                          restart_after_s=crash.restart_after_s if crash else 2.0, name=self.name,
                          on_lifecycle=self.ledger.record, now=self.ledger.now)

    def _injector(self, topology: Any, supervisor: Supervisor) -> Any:
        from simulator import transport

        scenario = self.scenario
        scale = scenario.clock.time_scale
        options: dict[str, Any] = {}
        if self.spec.kind == "lambda-eb":
            # EventBridge invokes Lambda asynchronously: Lambda's retries, not EventBridge's
            config = scenario.lambda_
            options["policy"] = transport.LambdaAsync(
                maximum_retry_attempts=config.maximum_retry_attempts,
                maximum_event_age_s=config.maximum_event_age_s, on_failure=config.on_failure,
                duplicate_probability=config.duplicate_probability)
            # the host answers a timed-out invocation itself; wait a little longer than that
            options["timeout_s"] = (config.function_timeout_s or LAMBDA_MAX_TIMEOUT_S) / scale + 5.0
        else:
            retry = scenario.eventbridge.retry
            options["policy"] = transport.ApiDestination(transport.RetryPolicy(
                maximum_retry_attempts=retry.maximum_retry_attempts,
                maximum_event_age_s=retry.maximum_event_age_s))
        return transport.make_injector(
            self.backend, topology, self.path, consumer=self.name, seed=self.seed,
            max_entry_bytes=scenario.eventbridge.max_entry_bytes,
            # push: the consumer's instances, or the user's own endpoint (http:URL)
            targets=supervisor.endpoints or [self.spec.target],
            settle_timeout_s=scenario.timeout_s, **options)

    def _wait_drained(self, topology: Any, sink: Any) -> None:
        from simulator.transport import wait_until_drained

        scenario = self.scenario
        outcome = wait_until_drained(
            self.backend, topology.queue_url, quiet_s=max(0.5, 2 * min(1.0, scenario.queue.wait_time_s)),
            timeout_s=scenario.timeout_s, max_s=MAX_DRAIN_S,
            activity=lambda: sink.counts().get("attempts", 0), stop=self.stop.event,
            progress=lambda pending: self.reporter("draining", pending=pending))
        if outcome == "timeout":
            self.reporter("timeout")
            raise DrainTimeout(f"{self.name}: the queue did not drain within timeout_s "
                               f"{scenario.timeout_s:g} s of its last progress")

    def _collect(self, topology: Any, visibility_s: int) -> None:
        """What is left on the queues, into the ledger; a failure to read them is a
        note, never a lost run."""
        from botocore.exceptions import BotoCoreError, ClientError

        from simulator.transport import collect_ends

        try:
            ends = collect_ends(self.backend, topology, in_flight_wait_s=visibility_s + 1.0)
        except (ClientError, BotoCoreError, OSError) as exc:
            self.notes.append(f"{self.name}: could not read its queues at the end ({type(exc).__name__}: "
                              f"{exc}); DLQ and leftovers are not in the history")
            return
        now = self.ledger.now()
        records: list[Any] = []
        for where, messages in (("queue", ends.queue), ("in_flight", ends.in_flight)):
            records += [_leftover(self.name, m, now, where) for m in messages]
        records += [_dlq_entry(self.name, m, now) for m in ends.dlq]
        self.ledger.record_many(records)
        if ends.stuck:
            self.notes.append(f"{self.name}: {ends.stuck} message(s) still hidden on the queue when "
                              "collection gave up waiting for their visibility timeout")


def _leftover(consumer: str, m: DrainedMessage, now: float, where: str) -> Leftover:
    envelope_id, correlation_id = envelope_ids(m.body)
    count = int(m.attributes.get("ApproximateReceiveCount", 1)) - 1  # minus the drain's own
    return Leftover(consumer=consumer, body_key=body_key(m.body), correlation_id=correlation_id,
                    envelope_id=envelope_id, at=now, where=where,  # type: ignore[arg-type]
                    receive_count=count, message_id=m.message_id)


def _dlq_entry(consumer: str, m: DrainedMessage, now: float) -> DlqEntry:
    envelope_id, correlation_id = envelope_ids(m.body)
    attrs = {k: v.get("StringValue") for k, v in (m.message_attributes or {}).items()}
    return DlqEntry(consumer=consumer, at=now, body_key=body_key(m.body), correlation_id=correlation_id,
                    envelope_id=envelope_id, attributes=attrs, message_id=m.message_id)


def _base_env(*, emulator: bool) -> dict[str, str]:
    env = dict(os.environ)
    if emulator:
        # A profile names real credentials; against an emulator it only breaks clients
        # on a machine that lacks it. The backend adds the dummy credentials instead.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            env.pop(name, None)
    cwd = str(Path.cwd())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (cwd, env.get("PYTHONPATH", "")) if p)
    # the project's source too: a consumer under its own interpreter still runs our host
    env["PYTHONPATH"] = child_pythonpath(env)
    return env


class _LedgerListener(Listener):
    """The transport's account of the plan, into the ledger on the ledger's clock
    (the injector stamps times on the scenario clock's origin: ``offset`` apart)."""

    def __init__(self, ledger: Ledger, name: str, *, offset: float, reporter: "_Reporter") -> None:
        self.ledger = ledger
        self.name = name
        self.offset = offset
        self.reporter = reporter
        self.refused_count = 0
        self.pending_count = 0

    def sent(self, sent: Sent) -> None:
        self.reporter.sent += 1
        planned = None if sent.planned_at is None else sent.planned_at + self.offset
        self.ledger.record(dataclasses.replace(sent, consumer=self.name, at=sent.at + self.offset,
                                               planned_at=planned))

    def refused(self, refused: Rejected) -> None:
        d = refused.delivery
        self.refused_count += 1
        self.ledger.record(Refused(consumer=self.name, at=refused.at + self.offset, kind=d.kind,
                                   correlation_id=d.correlation_id, envelope_id=d.envelope_id,
                                   body_key=body_key(d.body), error_code=refused.error_code,
                                   error_message=refused.error_message[:300], poison=d.poison,
                                   faults=d.faults))

    def attempted(self, attempt: Attempt) -> None:
        d = attempt.delivery
        self.ledger.record(PushAttempt(consumer=self.name, at=attempt.at + self.offset,
                                       correlation_id=d.correlation_id, envelope_id=d.envelope_id,
                                       body_key=body_key(d.body), number=attempt.number,
                                       status=attempt.status, outcome=attempt.outcome,
                                       error_code=attempt.error_code))

    def pending(self, delivery: Delivery, attempts: int) -> None:
        self.pending_count += 1
        self.ledger.record(Leftover(consumer=self.name, body_key=body_key(delivery.body),
                                    correlation_id=delivery.correlation_id,
                                    envelope_id=delivery.envelope_id, at=self.ledger.now(),
                                    where="retrying", receive_count=attempts))

    def progress(self, sent: int) -> None:
        self.reporter("sending")


class _Reporter:
    """Turns a consumer run's state into progress callbacks, at most ~8 per second."""

    def __init__(self, progress: Progress | None, name: str, planned: int) -> None:
        self.progress = progress
        self.name = name
        self.planned = planned
        self.sink: Any = None
        self.sent = 0
        self._last = 0.0

    def __call__(self, phase: str, **extra: Any) -> None:
        if not self.progress:
            return
        now = time.monotonic()
        if phase in ("sending", "draining") and now - self._last < 0.12:
            return
        self._last = now
        effects = self.sink.counts().get("applied", 0) if self.sink is not None else 0
        self.progress({"consumer": self.name, "phase": phase, "planned": self.planned,
                       "sent": self.sent, "effects": effects, **extra})
