"""EventBridge -> Lambda / HTTP targets (``lambda-eb:`` and ``http:`` consumers).

Neither moto nor LocalStack retries a failing target or sends to a target DLQ, so
this module plays the rule: it POSTs each event to one of the target URLs
(round-robin over the consumer's instances) and, when that fails, retries with the
target's retry policy, on the scenario clock:

- Retried: timeouts, connection errors, and HTTP 401, 407, 409, 429 and 5xx, the
  statuses EventBridge documents as retried for API destinations. Any other
  non-2xx is not retried: the event goes to the DLQ at once.
- Limits: ``RetryPolicy`` (MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds
  60-86400, defaults 185 and 24 h). The age counts from when the event reached
  EventBridge (the delivery's ``at_s``).
- Backoff: EventBridge documents "exponential back off and jitter" without
  constants. Ours (``Backoff``): full jitter, first retry within 1 s, doubling,
  capped at 900 s: with those, the default policy's two limits meet (185 attempts
  average about 23 h).
- Then the event goes to the DLQ (a standard queue) with the message attributes
  EventBridge sets: RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, and
  EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS; or is dropped when there is no DLQ.
  Error codes come from EventBridge's documented list; the mapping is ours:
  TIMEOUT, CONNECTION_FAILURE, THROTTLING (429), SDK_CLIENT_ERROR (other statuses).

Every attempt of a delivery POSTs the same body, so a retried event carries the
same ``id``, as EventBridge's retries do. The body is the delivery's body as
planned (on this path there is no PutEvents: the planned envelope id stands for
the one EventBridge assigned), poison included, as a broken upstream would send it.

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
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from botocore.exceptions import BotoCoreError, ClientError

from simulator.clock import ScenarioClock
from simulator.errors import BadInput
from simulator.model import Delivery, Sent, body_key
from simulator.transport.backend import Backend
from simulator.transport.records import Attempt, InvokerStats, Undelivered
from simulator.transport.topology import Topology

RETRYABLE_STATUS = frozenset({401, 407, 409, 429})
API_DESTINATION_TIMEOUT_S = 5.0  # EventBridge's client timeout for API destinations
MAX_ERROR_MESSAGE = 1000


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int = 185
    maximum_event_age_s: int = 86400  # scenario seconds

    def __post_init__(self) -> None:
        if not 0 <= self.maximum_retry_attempts <= 185:
            raise BadInput(f"maximum_retry_attempts {self.maximum_retry_attempts} is outside "
                           "EventBridge's 0-185", where="retry_policy.maximum_retry_attempts")
        if not 60 <= self.maximum_event_age_s <= 86400:
            raise BadInput(f"maximum_event_age_s {self.maximum_event_age_s} is outside "
                           "EventBridge's 60-86400", where="retry_policy.maximum_event_age_s")


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 900.0

    def delay_s(self, retry: int, rng: random.Random) -> float:
        """Scenario seconds to wait before retry number ``retry`` (1-based)."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2.0 ** min(retry - 1, 60)))


def retryable(status: int | None) -> bool:
    """None stands for a timeout or a connection error."""
    return status is None or status in RETRYABLE_STATUS or status >= 500


def error_code(status: int | None, timed_out: bool) -> str:
    if status is None:
        return "TIMEOUT" if timed_out else "CONNECTION_FAILURE"
    return "THROTTLING" if status == 429 else "SDK_CLIENT_ERROR"


@dataclass(order=True)
class _Task:
    due_s: float
    seq: int
    delivery: Delivery = field(compare=False)
    number: int = field(compare=False, default=1)


class EventBridgeTargetInvoker:
    """Plays an EventBridge rule with one Lambda/HTTP target."""

    path = "push"

    def __init__(self, backend: Backend, topology: Topology, targets: Sequence[str], *,
                 retry: RetryPolicy = RetryPolicy(), backoff: Backoff = Backoff(),
                 consumer: str = "", timeout_s: float = API_DESTINATION_TIMEOUT_S,
                 workers: int = 8, seed: int | None = None, use_dlq: bool = True,
                 target_arn: str | None = None) -> None:
        if not targets:
            raise BadInput("a push delivery needs at least one target URL", where="consumers")
        self.consumer = consumer
        self.retry = retry
        self.backoff = backoff
        self.timeout_s = timeout_s
        self.workers = workers
        self._targets = itertools.cycle(list(targets))
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._sqs = backend.client("sqs")
        self._dlq_url = topology.dlq_url if use_dlq else None
        self._rule_arn = topology.rule_arn or ""
        self._target_arn = target_arn or (f"arn:aws:events:{backend.region}:{topology.account}:"
                                          f"api-destination/{topology.rule_name}/{consumer or 'target'}")
        self._http = threading.local()

    def run(self, deliveries: Iterable[Delivery], clock: ScenarioClock,
            on_sent: Callable[[Sent], None], progress: Callable[..., None] | None = None, *,
            on_attempt: Callable[[Attempt], None] | None = None,
            on_undelivered: Callable[[Undelivered], None] | None = None,
            stop: threading.Event | None = None) -> InvokerStats:
        """Invoke the target for every delivery at its ``at_s``, retrying as
        EventBridge does. Returns once every delivery is delivered, in the DLQ or
        dropped (or ``stop`` is set)."""
        stats = InvokerStats()
        cond = threading.Condition()
        retries: list[_Task] = []
        inflight = 0
        seq = itertools.count()
        source = iter(deliveries)
        upcoming = next(source, None)

        failures: list[BaseException] = []

        def attempt(task: _Task) -> None:
            nonlocal inflight
            try:
                follow_up = self._attempt(task, clock, stats, on_sent, on_attempt, on_undelivered)
                if follow_up is not None:
                    with cond:
                        heapq.heappush(retries, _Task(follow_up, next(seq), task.delivery, task.number + 1))
            except BaseException as exc:  # a callback failed: stop and raise it in run()
                failures.append(exc)
            finally:
                with cond:
                    inflight -= 1
                    cond.notify_all()

        with ThreadPoolExecutor(self.workers, thread_name_prefix="eb-target") as pool:
            with cond:
                while not failures and not (stop is not None and stop.is_set()):
                    due_retry = retries[0].due_s if retries else math.inf
                    due_new = upcoming.at_s if upcoming is not None else math.inf
                    due = min(due_retry, due_new)
                    if due == math.inf:
                        if inflight == 0:
                            break
                        cond.wait(0.5)
                        continue
                    delay = clock.start + due / clock.time_scale - time.monotonic()
                    if delay > 0:
                        cond.wait(min(delay, 0.5))
                        continue
                    if upcoming is not None and due_new <= due_retry:
                        task = _Task(upcoming.at_s, next(seq), upcoming)
                        upcoming = next(source, None)
                    else:
                        task = heapq.heappop(retries)
                    inflight += 1
                    pool.submit(attempt, task)
                    if progress:
                        progress("sending", sent=stats.deliveries)
        if failures:
            raise failures[0]
        return stats

    inject = run

    def _attempt(self, task: _Task, clock: ScenarioClock, stats: InvokerStats,
                 on_sent: Callable[[Sent], None], on_attempt: Callable[[Attempt], None] | None,
                 on_undelivered: Callable[[Undelivered], None] | None) -> float | None:
        """One POST; returns the scenario time of the retry, or None when done."""
        delivery = task.delivery
        now_s = clock.now_s()
        at = time.monotonic() - clock.start
        if task.number == 1:
            with self._lock:
                stats.deliveries += 1
            on_sent(Sent(consumer=self.consumer, at=at, kind=delivery.kind,
                         correlation_id=delivery.correlation_id, envelope_id=delivery.envelope_id,
                         body_key=body_key(delivery.body), poison=delivery.poison))
        with self._lock:
            url = next(self._targets)
            stats.attempts += 1
        status, timed_out, text = self._post(url, delivery.body)
        if status is not None and 200 <= status < 300:
            with self._lock:
                stats.delivered += 1
            if on_attempt:
                on_attempt(Attempt(delivery, task.number, at, now_s, url, status, None, None, "delivered"))
            return None

        code = error_code(status, timed_out)
        message = (f"target answered HTTP {status}: {text}" if status is not None
                   else f"{'timed out after %gs' % self.timeout_s if timed_out else 'connection failed'}: {text}")
        message = message[:MAX_ERROR_MESSAGE]
        exhausted = None
        retry_at: float | None = None
        if retryable(status):
            if task.number - 1 >= self.retry.maximum_retry_attempts:
                exhausted = "MaximumRetryAttempts"
            else:
                with self._lock:
                    retry_at = clock.now_s() + self.backoff.delay_s(task.number, self._rng)
                if retry_at - delivery.at_s > self.retry.maximum_event_age_s:
                    exhausted, retry_at = "MaximumEventAgeInSeconds", None
        if on_attempt:
            on_attempt(Attempt(delivery, task.number, at, now_s, url, status, code, message,
                               "retry" if retry_at is not None else "failed"))
        if retry_at is None:
            self._give_up(delivery, task.number, code, message, exhausted, clock, stats, on_undelivered)
        return retry_at

    def _post(self, url: str, body: str) -> tuple[int | None, bool, str]:
        session = getattr(self._http, "session", None)
        if session is None:
            session = self._http.session = requests.Session()
        try:
            response = session.post(url, data=body.encode("utf-8", "surrogatepass"),
                                    headers={"content-type": "application/json"},
                                    timeout=self.timeout_s)
            return response.status_code, False, response.text[:200]
        except requests.Timeout as exc:
            return None, True, exc.__class__.__name__
        except requests.RequestException as exc:
            return None, False, exc.__class__.__name__

    def _give_up(self, delivery: Delivery, attempts: int, code: str, message: str,
                 exhausted: str | None, clock: ScenarioClock, stats: InvokerStats,
                 on_undelivered: Callable[[Undelivered], None] | None) -> None:
        attributes = {"RULE_ARN": self._rule_arn, "TARGET_ARN": self._target_arn,
                      "ERROR_CODE": code, "ERROR_MESSAGE": message or code,
                      "RETRY_ATTEMPTS": str(attempts - 1)}
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        message_id = None
        if self._dlq_url:
            try:
                message_id = self._sqs.send_message(
                    QueueUrl=self._dlq_url, MessageBody=delivery.body,
                    MessageAttributes={k: {"DataType": "String", "StringValue": v}
                                       for k, v in attributes.items() if v})["MessageId"]
            except (ClientError, BotoCoreError) as exc:
                # EventBridge counts these as InvocationsFailedToBeSentToDLQ: the event is lost
                attributes["DLQ_ERROR"] = str(exc)[:MAX_ERROR_MESSAGE]
        with self._lock:
            if message_id:
                stats.to_dlq += 1
            else:
                stats.dropped += 1
        if on_undelivered:
            on_undelivered(Undelivered(delivery, time.monotonic() - clock.start, attempts, code,
                                       message, exhausted, message_id, attributes))
