"""Lambda handlers used by the end-to-end tests of the push path: one that is
correct under every shipped scenario, and ones that fail for a while."""
from __future__ import annotations

import os
import time

import orjson
from buggy import touched  # a sibling file, imported as a handler imports its own modules

from consumers.correct import validate
from simulator.clients.api import Message, report_effect


def _event(event: dict) -> tuple[dict, str]:
    """The event and its CorrelationId, or PoisonMessage (the correct consumer's
    rules, applied to the event Lambda was invoked with)."""
    body = orjson.dumps(event).decode() if isinstance(event, (dict, list)) else str(event)
    return validate(Message(message_id=str(event.get("id") if isinstance(event, dict) else ""),
                            receipt_handle="", body=body))


def correct_handler(event: dict, context: object) -> None:
    """EventBridge -> Lambda done right: the effect is keyed by the Genesys event;
    what is not a Genesys event raises, so Lambda retries it and then parks it
    in the function's DLQ."""
    parsed, correlation_id = _event(event)
    report_effect(parsed, idempotency_key=correlation_id)


_invocations: dict[str, int] = {}


def fails_three_times_handler(event: dict, context: object) -> None:
    """One event in seven fails its first three invocations (a downstream outage
    of three minutes, per event): longer than Lambda's retry window (one try and
    two retries), shorter than EventBridge's 24 hours."""
    parsed, correlation_id = _event(event)
    if touched(correlation_id):
        _invocations[correlation_id] = _invocations.get(correlation_id, 0) + 1
        if _invocations[correlation_id] <= 3:
            raise RuntimeError(f"downstream unavailable (invocation {_invocations[correlation_id]})")
    report_effect(parsed, idempotency_key=correlation_id)


def _first_time(correlation_id: str) -> bool:
    """True the first time any instance asks about ``correlation_id`` (a mark
    file under $GENESYS_SIM_TEST_MARKS: it outlives the process Lambda throws away)."""
    try:
        with open(os.path.join(os.environ["GENESYS_SIM_TEST_MARKS"], correlation_id), "x"):
            return True
    except FileExistsError:
        return False


def _function_timeout_s() -> float:
    return orjson.loads(os.environ["GENESYS_SIM_HOST"])["function_timeout_s"]


def times_out_once_handler(event: dict, context) -> None:
    """One event in seven runs past the function timeout on its first invocation,
    then reports its effect *without* an idempotency key: if anything of the
    timed-out invocation reached the outside, the event is applied twice. The
    others are keyed: on a loaded machine one of them may time out just after
    its effect left, which real Lambda would retry too."""
    parsed, correlation_id = _event(event)
    timeout = _function_timeout_s()
    remaining = context.get_remaining_time_in_millis()
    if not 0 < remaining <= timeout * 1000:  # counts down from the function timeout
        raise RuntimeError(f"remaining time {remaining} ms, function timeout {timeout} s")
    if not touched(correlation_id):
        report_effect(parsed, idempotency_key=correlation_id)
        return
    if _first_time(correlation_id):
        time.sleep(3 * timeout)
    report_effect(parsed)


def sqs_times_out_once_handler(event: dict, context) -> dict:
    """Lambda on SQS: a batch holding an event in seven runs past the function
    timeout the first time; the batch stays on the queue and comes back."""
    timeout = _function_timeout_s()
    if not 0 < context.get_remaining_time_in_millis() <= timeout * 1000:
        raise RuntimeError("remaining time does not count down from the function timeout")
    records = event["Records"]
    firsts = [_first_time(cid) for cid in map(_cid, records) if touched(cid)]  # mark them all
    if any(firsts):
        time.sleep(3 * timeout)
    for r in records:
        parsed, correlation_id = _event(orjson.loads(r["body"]))
        report_effect(parsed, idempotency_key=correlation_id)
    return {"batchItemFailures": []}


def _cid(record: dict) -> str:
    return orjson.loads(record["body"])["detail"]["metadata"]["CorrelationId"]
