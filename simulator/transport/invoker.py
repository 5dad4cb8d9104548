"""EventBridge -> Lambda / HTTP targets (``lambda-eb:``, ``http:``, ``wsgi:``,
``deno:`` consumers).

Neither moto nor LocalStack retries a failing target, sends to a target DLQ or
plays Lambda's asynchronous invocation, so this module plays them: it POSTs each
event to one of the target URLs (round-robin over the consumer's instances) and,
when that fails, retries it as the target's ``TargetPolicy`` says (targets.py:
EventBridge's retry policy for an API destination, Lambda's async invocation for
a Lambda function), on the scenario clock, then parks the event where the policy
says, or drops it.

Every attempt of a delivery POSTs the same body, so a retried event carries the
same ``id``, as EventBridge's and Lambda's retries do. The body is the delivery's
body as planned (on this path there is no PutEvents: the planned envelope id
stands for the one EventBridge assigned), poison included, as a broken upstream
would send it; a Lambda target is not invoked with a body that is not JSON
(Lambda's Invoke refuses it: EventBridge parks it in the rule target's DLQ).

Attempts run on a small thread pool so a slow target does not stall the schedule.
Callbacks are called from those threads.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import orjson
import requests
from botocore.exceptions import BotoCoreError, ClientError

from simulator.clock import ScenarioClock
from simulator.errors import BadInput
from simulator.model import Delivery
from simulator.transport.backend import Backend
from simulator.transport.eventbridge_injector import as_event
from simulator.transport.protocol import DeliveryListener
from simulator.transport.records import Attempt, InvokerStats, Undelivered, sent_record
from simulator.transport.targets import (COLD_START_MAX_WAIT_REAL_S, COLD_START_RETRY_REAL_S,
                                         MAX_ERROR_MESSAGE, Answer, ApiDestination, Backoff,
                                         LambdaAsync, Parked, RetryPolicy, TargetPolicy, Verdict,
                                         environment_gone, request_id)
from simulator.transport.topology import Topology

__all__ = ["API_DESTINATION_TIMEOUT_S", "ApiDestination", "Backoff", "EventBridgeTargetInvoker",
           "LambdaAsync", "RetryPolicy"]

API_DESTINATION_TIMEOUT_S = 5.0  # EventBridge's client timeout for API destinations


@dataclass(order=True)
class _Task:
    due_s: float
    seq: int
    delivery: Delivery = field(compare=False)
    number: int = field(compare=False, default=1)
    retries: int = field(compare=False, default=0)  # failures that used up a retry attempt
    throttles: int = field(compare=False, default=0)  # failures that did not
    request_id: str = field(compare=False, default="")
    duplicate: bool = field(compare=False, default=False)  # the service's own second delivery


class EventBridgeTargetInvoker:
    """Plays an EventBridge rule with one Lambda/HTTP target: the target's
    ``policy`` decides what a failed attempt leads to."""

    path = "push"

    def __init__(self, backend: Backend, topology: Topology, targets: Sequence[str], *,
                 policy: TargetPolicy | None = None, consumer: str = "",
                 timeout_s: float = API_DESTINATION_TIMEOUT_S, workers: int = 8,
                 seed: int | None = None, use_dlq: bool = True, target_arn: str | None = None,
                 settle_timeout_s: float | None = None) -> None:
        if not targets:
            raise BadInput("a push delivery needs at least one target URL", where="consumers")
        self.consumer = consumer
        self.policy: TargetPolicy = policy if policy is not None else ApiDestination()
        self.timeout_s = timeout_s  # real seconds an attempt may take
        # Real seconds the invoker keeps retrying once every delivery had its first
        # try; then what is still waiting for a retry is reported ``pending``, so a
        # run ends within its time limits however long the retry policy is.
        self.settle_timeout_s = settle_timeout_s
        self.workers = workers
        self._topology = topology
        self._targets = itertools.cycle(list(targets))
        self._target_count = len(targets)
        self._gates: dict[str, list[float]] = {}  # url -> [opens at (monotonic), gap]: cold starts
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._sqs = backend.client("sqs")
        self._dlq_url = topology.dlq_url if use_dlq else None
        self._rule_arn = topology.rule_arn or ""
        self._target_arn = target_arn or self.policy.target_arn(
            region=backend.region, account=topology.account, rule_name=topology.rule_name or "rule",
            consumer=consumer)
        self._http = threading.local()
        self._seq = itertools.count()

    def run(self, deliveries: Iterable[Delivery], clock: ScenarioClock, listener: DeliveryListener,
            *, stop: threading.Event | None = None) -> InvokerStats:
        """Invoke the target for every delivery the rule routes to it, at its
        ``at_s``, retrying as the policy says. Returns once every delivery is
        delivered, parked or dropped; or ``settle_timeout_s`` after the last first
        try, reporting what is still waiting as ``pending``; or when ``stop`` is set
        (reporting the same)."""
        stats = InvokerStats()
        cond = threading.Condition()
        later: list[_Task] = []  # retries, and the service's own second deliveries
        inflight = 0
        seq = self._seq = itertools.count()
        source = iter(deliveries)
        upcoming = next(source, None)
        settle_deadline: float | None = None
        failures: list[BaseException] = []

        def attempt(task: _Task, url: str, probe: bool) -> None:
            nonlocal inflight
            try:
                follow_up = self._attempt(task, url, probe, clock, stats, listener)
                if follow_up is not None:
                    with cond:
                        heapq.heappush(later, follow_up)
            except BaseException as exc:  # a callback failed: stop and raise it in run()
                failures.append(exc)
            finally:
                with cond:
                    inflight -= 1
                    cond.notify_all()

        with ThreadPoolExecutor(self.workers, thread_name_prefix="eb-target") as pool:
            with cond:
                while not failures and not (stop is not None and stop.is_set()):
                    if upcoming is None and settle_deadline is None and self.settle_timeout_s is not None:
                        settle_deadline = time.monotonic() + self.settle_timeout_s
                    if settle_deadline is not None and time.monotonic() >= settle_deadline:
                        break
                    due_later = later[0].due_s if later else math.inf
                    due_new = upcoming.at_s if upcoming is not None else math.inf
                    due = min(due_later, due_new)
                    if due == math.inf:
                        if inflight == 0:
                            break
                        cond.wait(0.5)
                        continue
                    delay = clock.start + due / clock.time_scale - time.monotonic()
                    if delay > 0:
                        cond.wait(min(delay, 0.5))
                        continue
                    if inflight >= self.workers:  # decide on a target when a worker can call it
                        cond.wait(0.5)
                        continue
                    url, probe = self._free_target()
                    if url is None:  # every instance is starting up: the events wait for one
                        cond.wait(min(self._gate_wait(), 0.5))
                        continue
                    if upcoming is not None and due_new <= due_later:
                        with self._lock:
                            rid = request_id(self._rng)
                        task = _Task(upcoming.at_s, next(seq), upcoming, request_id=rid)
                        upcoming = next(source, None)
                        event = as_event(task.delivery.body)
                        if not self._topology.routes(event):
                            # the rule does not match: EventBridge never invokes this target
                            listener.sent(sent_record(task.delivery, self.consumer,
                                                      time.monotonic() - clock.start, clock,
                                                      envelope_id=task.delivery.envelope_id,
                                                      message_id=None, routed=False))
                            continue
                    else:
                        task = heapq.heappop(later)
                    inflight += 1
                    pool.submit(attempt, task, url, probe)
                    listener.progress(stats.deliveries)
            # Time is up (or stop): let the in-flight attempts finish, then whatever
            # still waits for a retry was neither delivered nor given up on.
            pool.shutdown(wait=True)
        if failures:
            raise failures[0]
        waiting = sorted(task for task in later if not task.duplicate)
        for task in waiting:
            listener.pending(task.delivery, task.number - 1)
        stats.pending = len(waiting)
        return stats

    def _attempt(self, task: _Task, url: str, probe: bool, clock: ScenarioClock, stats: InvokerStats,
                 listener: DeliveryListener) -> _Task | None:
        """One POST to ``url`` (``probe``: the one attempt that finds out whether
        a starting instance is up); returns what follows it (a retry, a second
        delivery), or None."""
        delivery = task.delivery
        now_s = clock.now_s()
        at = time.monotonic() - clock.start
        if task.number == 1 and not task.duplicate:
            with self._lock:
                stats.deliveries += 1
            listener.sent(sent_record(delivery, self.consumer, at, clock,
                                      envelope_id=delivery.envelope_id, message_id=None))
        if isinstance(self.policy, LambdaAsync) and not _is_json(delivery.body):
            if probe:
                self._release(url)  # the function was never reached: nothing was found out
            self._refused_invoke(task, at, now_s, clock, stats, listener)
            return None
        with self._lock:
            stats.attempts += 1
        answer = self._post(url, delivery.body)
        if self.policy.waits_for_environment:
            if answer.failure == "reset" and self._gated(url):
                # dropped by an instance already known to be going away, before it
                # ran the function (it finishes what it started): not a function error
                answer = Answer(None, answer.text, "refused")
            self._gate(url, gone=environment_gone(answer), probe=probe)
        if answer.delivered:
            with self._lock:
                if not task.duplicate:
                    stats.delivered += 1
                again = None if task.duplicate else self.policy.duplicate_at(clock.now_s(), self._rng)
            listener.attempted(Attempt(delivery, task.number, at, now_s, url, answer.status, None, None,
                                       "duplicate" if task.duplicate else "delivered"))
            if again is not None:
                return self._follow(task, again, duplicate=True)
            return None
        with self._lock:
            verdict = self.policy.judge(answer, delivery=delivery, retries=task.retries,
                                        throttles=task.throttles, now_s=clock.now_s(),
                                        time_scale=clock.time_scale, rng=self._rng)
        if task.duplicate:  # the event was delivered already: nothing more comes of it
            listener.attempted(Attempt(delivery, task.number, at, now_s, url, answer.status,
                                       verdict.error_code, verdict.message, "duplicate"))
            return None
        listener.attempted(Attempt(delivery, task.number, at, now_s, url, answer.status,
                                   verdict.error_code, verdict.message,
                                   "retry" if verdict.retry_at_s is not None else "failed"))
        retries = task.retries + (1 if verdict.counted else 0)
        if verdict.retry_at_s is None:
            self._give_up(task, verdict, retries, clock, stats, listener)
            return None
        return self._follow(task, verdict.retry_at_s, retries=retries,
                            throttles=task.throttles + (1 if verdict.throttled else 0))

    def _free_target(self) -> tuple[str | None, bool]:
        """The next target in turn that takes an attempt now, and whether the
        attempt probes a starting instance; None when every one is starting up
        (a cold start: see ``_gate``)."""
        now = time.monotonic()
        with self._lock:
            for _ in range(self._target_count):
                url = next(self._targets)
                gate = self._gates.get(url)
                if gate is None:
                    return url, False
                if gate[0] <= now:
                    gate[0] = math.inf  # this attempt probes it; the others wait for its answer
                    return url, True
        return None, False

    def _gate_wait(self) -> float:
        now = time.monotonic()
        with self._lock:
            opens = [gate[0] for gate in self._gates.values() if gate[0] != math.inf]
        return max(0.0, min(opens) - now) if opens else COLD_START_RETRY_REAL_S

    def _gate(self, url: str, *, gone: bool, probe: bool) -> None:
        """A target whose instance is gone (nothing listening, or it just crashed
        or timed out) is an instance starting up: Lambda's cold start. Hold the
        events back and let one probe it, ever less often (real time: processes
        start in real time), until it takes an invocation. Only the probe's own
        answer says anything about the new instance."""
        now = time.monotonic()
        with self._lock:
            gate = self._gates.get(url)
            if gate is None:
                if gone:
                    self._gates[url] = [now + COLD_START_RETRY_REAL_S, COLD_START_RETRY_REAL_S]
            elif probe and gone:  # still starting: wait longer before the next probe
                gap = min(gate[1] * 2, COLD_START_MAX_WAIT_REAL_S)
                self._gates[url] = [now + gap, gap]
            elif probe:  # it is up
                del self._gates[url]

    def _gated(self, url: str) -> bool:
        with self._lock:
            return url in self._gates

    def _release(self, url: str) -> None:
        """A probe that did not call ``url`` after all."""
        with self._lock:
            gate = self._gates.get(url)
            if gate is not None and gate[0] == math.inf:
                gate[0] = time.monotonic()

    def _follow(self, task: _Task, due_s: float, **changes: object) -> _Task:
        """The next attempt of ``task``'s delivery, due at scenario time ``due_s``."""
        fields = {"number": task.number + 1, "retries": task.retries, "throttles": task.throttles,
                  "request_id": task.request_id, "duplicate": task.duplicate, **changes}
        return _Task(due_s, next(self._seq), task.delivery, **fields)  # type: ignore[arg-type]

    def _post(self, url: str, body: str) -> Answer:
        session = getattr(self._http, "session", None)
        if session is None:
            session = self._http.session = requests.Session()
        try:
            response = session.post(url, data=body.encode("utf-8", "surrogatepass"),
                                    headers={"content-type": "application/json"},
                                    timeout=self.timeout_s)
            return Answer(response.status_code, response.text[:2000])
        except requests.ConnectTimeout as exc:
            return Answer(None, exc.__class__.__name__, "refused")
        except requests.Timeout as exc:
            return Answer(None, f"after {self.timeout_s:g}s ({exc.__class__.__name__})", "timeout")
        except requests.RequestException as exc:
            return Answer(None, exc.__class__.__name__, "refused" if _refused(exc) else "reset")

    def _refused_invoke(self, task: _Task, at: float, now_s: float, clock: ScenarioClock,
                        stats: InvokerStats, listener: DeliveryListener) -> None:
        """Lambda's Invoke refuses a payload that is not JSON (400, not retried):
        a failed invoke call, the one case EventBridge's own policy covers here,
        and EventBridge parks the event in the rule target's DLQ."""
        verdict = Verdict("SDK_CLIENT_ERROR", "Lambda refused the invocation (HTTP 400 "
                          "InvalidRequestContentException): could not parse request body into json",
                          None, status=400)
        with self._lock:
            stats.attempts += 1
        listener.attempted(Attempt(task.delivery, task.number, at, now_s, self._target_arn, 400,
                                   verdict.error_code, verdict.message, "failed"))
        parked = ApiDestination().parked(task.delivery, verdict, attempts=1, invocations=0,
                                         rule_arn=self._rule_arn, target_arn=self._target_arn,
                                         request_id=task.request_id, now_s=now_s)
        self._park(task, verdict, parked, 1, clock, stats, listener)

    def _give_up(self, task: _Task, verdict: Verdict, invocations: int, clock: ScenarioClock,
                 stats: InvokerStats, listener: DeliveryListener) -> None:
        parked = self.policy.parked(task.delivery, verdict, attempts=task.number, invocations=invocations,
                                    rule_arn=self._rule_arn, target_arn=self._target_arn,
                                    request_id=task.request_id, now_s=clock.now_s())
        self._park(task, verdict, parked, task.number, clock, stats, listener)

    def _park(self, task: _Task, verdict: Verdict, parked: Parked | None, attempts: int,
              clock: ScenarioClock, stats: InvokerStats, listener: DeliveryListener) -> None:
        attributes = {name: value for name, (_, value) in (parked.attributes if parked else {}).items()}
        message_id = None
        if parked is not None and self._dlq_url:
            try:
                message_id = self._sqs.send_message(
                    QueueUrl=self._dlq_url, MessageBody=parked.body,
                    MessageAttributes={k: {"DataType": kind, "StringValue": v}
                                       for k, (kind, v) in parked.attributes.items()})["MessageId"]
            except (ClientError, BotoCoreError) as exc:
                # counted by the service as a failure to send to the DLQ: the event is lost
                attributes["DLQ_ERROR"] = str(exc)[:MAX_ERROR_MESSAGE]
        with self._lock:
            if message_id:
                stats.to_dlq += 1
            else:
                stats.dropped += 1
        listener.undelivered(Undelivered(task.delivery, time.monotonic() - clock.start, attempts,
                                         verdict.error_code, verdict.message, verdict.exhausted,
                                         message_id, attributes))


def _is_json(body: str) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


def _refused(exc: BaseException) -> bool:
    """Whether nothing listened (connection refused), as opposed to a connection
    dropped mid-call."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or "Connection refused" in str(current):
            return True
        stack += [current.__cause__, current.__context__, *[a for a in current.args
                                                             if isinstance(a, BaseException)]]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return False
