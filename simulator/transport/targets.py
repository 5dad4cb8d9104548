"""What happens when a push target fails: one small policy per kind of target,
used by the one invoker (invoker.py), which plays EventBridge and, for a Lambda
target, Lambda's asynchronous invocation.

``ApiDestination`` (``http:``, ``wsgi:``, ``deno:``): EventBridge's own target
retry policy (PutTargets ``RetryPolicy``).

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
- Then the target's DLQ (a standard queue) with the message attributes
  EventBridge sets: RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, and
  EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS; error codes from EventBridge's
  documented list, the mapping ours: TIMEOUT, CONNECTION_FAILURE, THROTTLING
  (429), SDK_CLIENT_ERROR (other statuses).

``LambdaAsync`` (``lambda-eb:``): EventBridge invokes a Lambda function
asynchronously; its Invoke call succeeds as soon as Lambda has queued the event,
so EventBridge's retry policy plays no part (it covers only a failed Invoke call:
with our hosts, only a body that is not JSON, which Lambda refuses). What follows
is Lambda's (docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):

- A function error (the handler raised, the runtime exited, the function timed
  out) is retried ``maximum_retry_attempts`` times (0-2, default 2), one minute
  after the first attempt and two minutes after the second.
- Throttling (429) and system errors (5xx that are not a function error) keep
  the event queued: retried 1 s after the first attempt, doubling to at most 5
  minutes, for as long as ``maximum_event_age_s`` allows (60-21600, default 6 h).
  They do not use up retry attempts.
- An instance that is gone (nothing listening while it restarts after a crash
  or a timeout; 503 ``ServiceUnavailableException`` while its environment is
  being replaced; a connection it dropped once known to be going) is what a cold
  start is to Lambda, which runs the event on a new execution environment as
  soon as there is one: the events wait, one of them probes the instance every
  ``COLD_START_RETRY_REAL_S`` real seconds (doubling to
  ``COLD_START_MAX_WAIT_REAL_S``; real: a process starts in real time, whatever
  the time scale; the invoker's ``_gate``), and none of it uses up a retry
  attempt.
- Then the event goes to the function's DLQ (the event as it is; message
  attributes RequestID, ErrorCode, ErrorMessage), or its on-failure destination
  (an invocation record: requestContext.condition RetriesExhausted or
  EventAgeExceeded), or is dropped.
- "Even if your function doesn't return an error, it's possible for it to
  receive the same event from Lambda multiple times": ``duplicate_probability``
  of the delivered events are invoked once more, within a minute.

A function error is how our hosts answer a failed invocation: HTTP 5xx with a
Lambda error object (``{"errorType": ..., "errorMessage": ...}``), e.g.
``Sandbox.Timedout`` when the function ran past its timeout or
``Runtime.ExitError`` when it crashed; a connection dropped mid-invocation is the
runtime exiting too.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, Protocol

import orjson

from simulator.errors import BadInput
from simulator.model import Delivery

RETRYABLE_STATUS = frozenset({401, 407, 409, 429})
MAX_ERROR_MESSAGE = 1000  # EventBridge's ERROR_MESSAGE
LAMBDA_ERROR_MESSAGE_BYTES = 1024  # "Error message (truncated to 1 KB)"
LAMBDA_RETRY_DELAYS_S = (60.0, 120.0)  # after the first and after the second attempt
LAMBDA_THROTTLE_CAP_S = 300.0
COLD_START_RETRY_REAL_S = 0.05
COLD_START_MAX_WAIT_REAL_S = 1.0

NoAnswer = Literal["timeout", "refused", "reset"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got back: a status and a body, or ``failure`` (the call
    timed out, nothing listened, or the connection was dropped mid-call)."""

    status: int | None
    text: str = ""
    failure: NoAnswer | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Verdict:
    """A policy's reading of one failed attempt: the error as the service records
    it, and when to try again (None: give up; ``exhausted`` names the limit that
    ended the retries, None for an error that is not retried)."""

    error_code: str
    message: str
    retry_at_s: float | None
    exhausted: str | None = None
    counted: bool = True  # used up one of the retry attempts
    throttled: bool = False  # a throttle: the next one waits longer
    status: int = 0  # the status the service records for it (Lambda's DLQ ErrorCode)


@dataclass(frozen=True, slots=True)
class Parked:
    """The message a policy writes to the DLQ for an event given up on."""

    body: str
    attributes: dict[str, tuple[str, str]]  # name -> (DataType, value)
    where: str  # dlq | destination


class TargetPolicy(Protocol):
    name: str  # api-destination | lambda
    # Whether a target with nothing listening is an environment still starting (a
    # cold start: the events wait for it, and only one probes) rather than a
    # failed delivery of each event.
    waits_for_environment: bool

    def judge(self, answer: Answer, *, delivery: Delivery, retries: int, throttles: int,
              now_s: float, time_scale: float, rng: random.Random) -> Verdict:
        """The verdict on a failed attempt; ``retries`` and ``throttles``: the
        failures of this delivery before this one that did and did not use up a
        retry attempt (``time_scale``: scenario seconds per real second)."""

    def duplicate_at(self, now_s: float, rng: random.Random) -> float | None:
        """When a delivered event is delivered once more by the service itself."""

    def target_arn(self, *, region: str, account: str, rule_name: str, consumer: str) -> str: ...

    def parked(self, delivery: Delivery, verdict: Verdict, *, attempts: int, invocations: int,
               rule_arn: str, target_arn: str, request_id: str, now_s: float) -> Parked | None:
        """What goes to the DLQ (None: the event is dropped)."""


# ---- EventBridge API destinations ----


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


@dataclass(frozen=True)
class ApiDestination:
    """EventBridge's retry policy for a target such as an API destination."""

    retry: RetryPolicy = RetryPolicy()
    backoff: Backoff = Backoff()
    name: str = "api-destination"
    waits_for_environment: bool = False

    def judge(self, answer: Answer, *, delivery: Delivery, retries: int, throttles: int,
              now_s: float, time_scale: float, rng: random.Random) -> Verdict:
        status = answer.status
        code = error_code(status, answer.failure == "timeout")
        if status is not None:
            message = f"target answered HTTP {status}: {answer.text}"
        elif answer.failure == "timeout":
            message = f"timed out: {answer.text}"
        else:
            message = f"connection failed: {answer.text}"
        message = message[:MAX_ERROR_MESSAGE]
        if not retryable(status):
            return Verdict(code, message, None, status=status or 0)
        if retries >= self.retry.maximum_retry_attempts:
            return Verdict(code, message, None, "MaximumRetryAttempts", status=status or 0)
        retry_at = now_s + self.backoff.delay_s(retries + 1, rng)
        if retry_at - delivery.at_s > self.retry.maximum_event_age_s:
            return Verdict(code, message, None, "MaximumEventAgeInSeconds", status=status or 0)
        return Verdict(code, message, retry_at, status=status or 0)

    def duplicate_at(self, now_s: float, rng: random.Random) -> float | None:
        return None  # EventBridge's own duplicates are planned (the redeliver fault)

    def target_arn(self, *, region: str, account: str, rule_name: str, consumer: str) -> str:
        return f"arn:aws:events:{region}:{account}:api-destination/{rule_name}/{consumer or 'target'}"

    def parked(self, delivery: Delivery, verdict: Verdict, *, attempts: int, invocations: int,
               rule_arn: str, target_arn: str, request_id: str, now_s: float) -> Parked | None:
        attributes = {"RULE_ARN": rule_arn, "TARGET_ARN": target_arn, "ERROR_CODE": verdict.error_code,
                      "ERROR_MESSAGE": verdict.message or verdict.error_code,
                      "RETRY_ATTEMPTS": str(attempts - 1)}
        if verdict.exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = verdict.exhausted
        return Parked(delivery.body, {k: ("String", v) for k, v in attributes.items() if v}, "dlq")


# ---- Lambda asynchronous invocation ----

OnFailure = Literal["dlq", "destination", "drop"]


@dataclass(frozen=True)
class LambdaAsync:
    """Lambda's asynchronous invocation configuration (PutFunctionEventInvokeConfig)
    and what it does with the event after the last attempt."""

    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21600  # scenario seconds
    on_failure: OnFailure = "dlq"
    duplicate_probability: float = 0.0
    name: str = "lambda"
    waits_for_environment: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.maximum_retry_attempts <= 2:
            raise BadInput(f"maximum_retry_attempts {self.maximum_retry_attempts} is outside "
                           "Lambda's 0-2", where="lambda.maximum_retry_attempts")
        if not 60 <= self.maximum_event_age_s <= 21600:
            raise BadInput(f"maximum_event_age_s {self.maximum_event_age_s} is outside "
                           "Lambda's 60-21600", where="lambda.maximum_event_age_s")
        if self.on_failure not in ("dlq", "destination", "drop"):
            raise BadInput(f"on_failure {self.on_failure!r}: expected dlq, destination or drop",
                           where="lambda.on_failure")
        if not 0.0 <= self.duplicate_probability <= 1.0:
            raise BadInput(f"duplicate_probability {self.duplicate_probability} is not between 0 and 1",
                           where="lambda.duplicate_probability")

    def judge(self, answer: Answer, *, delivery: Delivery, retries: int, throttles: int,
              now_s: float, time_scale: float, rng: random.Random) -> Verdict:
        error_type, message, status, function_error = lambda_error(answer)
        if function_error:
            if retries >= self.maximum_retry_attempts:
                return Verdict(error_type, message, None, "RetriesExhausted", status=status)
            retry_at = now_s + LAMBDA_RETRY_DELAYS_S[retries]
        elif no_environment(answer):
            retry_at = now_s + COLD_START_RETRY_REAL_S * time_scale
        else:
            retry_at = now_s + min(LAMBDA_THROTTLE_CAP_S, 2.0 ** throttles)
        throttled = not function_error and not no_environment(answer)
        if retry_at - delivery.at_s > self.maximum_event_age_s:
            return Verdict(error_type, message, None, "EventAgeExceeded", counted=function_error,
                           throttled=throttled, status=status)
        return Verdict(error_type, message, retry_at, counted=function_error, throttled=throttled,
                       status=status)

    def duplicate_at(self, now_s: float, rng: random.Random) -> float | None:
        if self.duplicate_probability and rng.random() < self.duplicate_probability:
            return now_s + rng.uniform(0.0, 60.0)
        return None

    def target_arn(self, *, region: str, account: str, rule_name: str, consumer: str) -> str:
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in (consumer or "function"))[:64]
        return f"arn:aws:lambda:{region}:{account}:function:{name}"

    def parked(self, delivery: Delivery, verdict: Verdict, *, attempts: int, invocations: int,
               rule_arn: str, target_arn: str, request_id: str, now_s: float) -> Parked | None:
        if self.on_failure == "drop":
            return None
        if self.on_failure == "dlq":
            # The event as it was, no details of the response (the DLQ's contract).
            message = verdict.message.encode("utf-8", "surrogatepass")[:LAMBDA_ERROR_MESSAGE_BYTES]
            return Parked(delivery.body, {
                "RequestID": ("String", request_id),
                "ErrorCode": ("Number", str(verdict.status)),
                "ErrorMessage": ("String", message.decode("utf-8", "ignore") or verdict.error_code),
            }, "dlq")
        return Parked(orjson.dumps(invocation_record(
            delivery, verdict, invocations=invocations, function_arn=target_arn,
            request_id=request_id, now_s=now_s)).decode(), {}, "destination")


def no_environment(answer: Answer) -> bool:
    """Nothing could run the function: nothing listening, or a host whose
    environment is being replaced answering Lambda's ServiceUnavailableException."""
    if answer.failure == "refused":
        return True
    return answer.status == 503 and _error_object(answer.text).get("errorType") == "ServiceUnavailableException"


def environment_gone(answer: Answer) -> bool:
    """The instance will not take the next invocation: nothing could run this one,
    or this one ended its environment (a crash, a timeout): Lambda starts a new
    execution environment, and the next invocation waits for it."""
    if no_environment(answer) or answer.failure == "reset":
        return True
    return _error_object(answer.text).get("errorType") in ("Runtime.ExitError", "Sandbox.Timedout")


def lambda_error(answer: Answer) -> tuple[str, str, int, bool]:
    """(errorType, errorMessage, status Lambda records, is a function error) of a
    failed invocation. A function error is what the function's code or runtime
    did; the rest (throttling, nothing to run it on) keeps the event queued."""
    if answer.failure == "timeout":
        return "Sandbox.Timedout", "Task timed out", 200, True
    if answer.failure == "reset":
        return "Runtime.ExitError", "Process exited before completing request", 200, True
    if no_environment(answer):
        return "ColdStart", "no execution environment was ready (an instance is starting)", 429, False
    status = answer.status or 0
    body = _error_object(answer.text)
    if status == 429:
        return "TooManyRequestsException", body.get("errorMessage", "Rate Exceeded."), 429, False
    if status >= 500 and not body.get("errorType"):
        return "ServiceException", f"HTTP {status}: {answer.text[:200]}", status, False
    return (str(body.get("errorType") or f"HTTP{status}"),
            str(body.get("errorMessage") or answer.text[:200] or f"HTTP {status}"), 200, True)


def _error_object(text: str) -> dict:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def invocation_record(delivery: Delivery, verdict: Verdict, *, invocations: int, function_arn: str,
                      request_id: str, now_s: float) -> dict:
    """The record Lambda sends to an on-failure destination (the shape of the
    example in invocation-async-retain-records.html). ``timestamp`` is the moment
    it gave up, on the simulated world's clock (the event's ``time`` plus the
    scenario seconds since the event was queued)."""
    try:
        payload = orjson.loads(delivery.body)
    except orjson.JSONDecodeError:
        payload = delivery.body
    response: dict = {"statusCode": 200, "executedVersion": "$LATEST"}
    if verdict.counted:
        response["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": _world_time(payload, now_s - delivery.at_s),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": verdict.exhausted or "RetriesExhausted",
            "approximateInvokeCount": max(1, invocations),
        },
        "requestPayload": payload,
        "responseContext": response,
        "responsePayload": {"errorType": verdict.error_code, "errorMessage": verdict.message},
    }


def _world_time(payload: object, after_s: float) -> str:
    when = None
    if isinstance(payload, dict) and isinstance(payload.get("time"), str):
        try:
            when = datetime.fromisoformat(payload["time"].replace("Z", "+00:00"))
        except ValueError:
            when = None
    moment = (when or datetime.now(timezone.utc)) + timedelta(seconds=max(0.0, after_s))
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def request_id(rng: random.Random) -> str:
    """A Lambda request id: one per event, kept across its retries."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
