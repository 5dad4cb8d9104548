"""Test kit for the reference consumers (imported by the other test_consumers_*
files): real-looking Genesys events, SQS messages and Lambda batches built from a
capture, a recording downstream, a one-process SQS poll loop, and contexts whose
instances share one Redis (in-process fakeredis, then the real server).

The tests at the bottom check the kit against the captures it stands for.
"""
from __future__ import annotations

import copy
import json
import os
import uuid
from collections import Counter, deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

import fakeredis
import orjson
import pytest
import redis

from simulator.clients.api import ConsumerContext, DownstreamError, Message

# The repository is cloned with shared/ beside it.
CAPTURES = Path(os.environ.get("GENESYS_CAPTURES",
                               Path(__file__).resolve().parents[2] / "shared" / "genesys-captures"))
REAL_REDIS_URL = os.environ.get("GENESYS_SIM_TEST_REDIS", "redis://127.0.0.1:6379/0")

# customer-end__kanutomay.json from the captures (kanutomay/genesys-eventbridge-
# streaming-lakehouse, a sanitized sample), kept here so the tests run without them.
CUSTOMER_END: dict = {
    "version": "0",
    "id": "test-eventbridge-id",
    "detail-type": "v2.detail.events.conversation.{id}.customer.end",
    "source": "aws.partner/genesys.com/cloud/00000000-0000-0000-0000-000000000000/genesys_acme",
    "account": "123456789012",
    "time": "2025-12-12T15:01:53Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "topicName": "v2.detail.events.conversation.test-conversation-id.customer.end",
        "version": "2",
        "eventBody": {
            "eventTime": 1765551713383,
            "conversationId": "test-conversation-id",
            "participantId": "test-participant-id",
            "sessionId": "test-session-id",
            "disconnectType": "ENDPOINT",
            "mediaType": "VOICE",
            "externalContactId": "test-external-contact-id",
            "provider": "Edge",
            "direction": "INBOUND",
            "ani": "tel:+15555550898",
            "dnis": "tel:+15555550000",
            "interactingDurationMs": 369505,
            "conversationExternalContactIds": ["test-external-contact-id"],
        },
        "metadata": {"CorrelationId": "test-correlation-id"},
        "timestamp": "2025-12-12T15:01:53.761Z",
    },
}


def new_id() -> str:
    return str(uuid.uuid4())


def genesys_event(*, envelope_id: str | None = None, correlation_id: str | None = None,
                  conversation_id: str | None = None, event_time_ms: int | None = None,
                  suffix: str = "customer.end") -> dict:
    """A conversation detail event shaped like the capture, with fresh ids unless given.
    ``suffix`` picks the topic (customer.end, acd.end, user.start...)."""
    event = copy.deepcopy(CUSTOMER_END)
    conversation_id = conversation_id or new_id()
    event["id"] = envelope_id or new_id()
    event["detail-type"] = f"v2.detail.events.conversation.{{id}}.{suffix}"
    detail = event["detail"]
    detail["topicName"] = f"v2.detail.events.conversation.{conversation_id}.{suffix}"
    detail["metadata"]["CorrelationId"] = correlation_id or new_id()
    detail["eventBody"]["conversationId"] = conversation_id
    if event_time_ms is not None:
        detail["eventBody"]["eventTime"] = event_time_ms
    return event


def republish(event: dict) -> dict:
    """What a producer's second PutEvents of the same event looks like: new envelope id."""
    again = copy.deepcopy(event)
    again["id"] = new_id()
    return again


def message(event: dict | str, *, receive_count: int = 1, message_id: str | None = None) -> Message:
    body = event if isinstance(event, str) else orjson.dumps(event).decode()
    return Message(message_id=message_id or new_id(), receipt_handle=new_id(), body=body,
                   receive_count=receive_count)


def sqs_batch(messages: Iterable[Message]) -> dict:
    """A Lambda SQS event-source batch, as the lambda-sqs host builds it."""
    return {"Records": [{
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": {"ApproximateReceiveCount": str(m.receive_count), "SentTimestamp": "1765551713761"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:genesys-sim",
        "awsRegion": "us-east-1",
    } for m in messages]}


@dataclass(frozen=True)
class Attempt:
    correlation_id: str | None
    envelope_id: str | None
    idempotency_key: str | None
    upsert: bool
    applied: bool


class RecordingSink:
    """The downstream: records every effect, applies a given idempotency key once
    (as the harness's sink does), and fails the next calls, or the calls numbered
    in ``failing_calls`` (1-based), when told to."""

    def __init__(self, failing_calls: Iterable[int] = ()) -> None:
        self.attempts: list[Attempt] = []
        self.failing_calls = set(failing_calls)
        self._keys: set[str] = set()
        self._failures: deque[int] = deque()

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        self._failures.extend([status] * times)

    def effect(self, event: dict | None = None, *, correlation_id: str | None = None,
               idempotency_key: str | None = None, upsert: bool = False) -> None:
        status = self._failures.popleft() if self._failures else 200
        if len(self.attempts) + 1 in self.failing_calls:
            status = 500
        applied = status == 200 and idempotency_key not in self._keys
        if applied and idempotency_key is not None:
            self._keys.add(idempotency_key)
        event = event or {}
        self.attempts.append(Attempt(
            correlation_id=correlation_id or event.get("detail", {}).get("metadata", {}).get("CorrelationId"),
            envelope_id=event.get("id"), idempotency_key=idempotency_key, upsert=upsert, applied=applied))
        if status != 200:
            raise DownstreamError(status)

    def applied(self) -> Counter:
        """Applied effects per CorrelationId: what the checker scores."""
        return Counter(a.correlation_id for a in self.attempts if a.applied)


class Crash(BaseException):
    """Stands for the host's os._exit: nothing after it runs, in-memory state is lost."""


def crash_after_effects(*numbers: int) -> Callable[[], None]:
    """An ``after_effect`` hook that crashes after the given (1-based) effects."""
    count = 0

    def hook() -> None:
        nonlocal count
        count += 1
        if count in numbers:
            raise Crash(f"crash after effect {count}")

    return hook


def memory_context(sink: RecordingSink | None = None, **kw: Any) -> ConsumerContext:
    kw.setdefault("name", f"test-{uuid.uuid4().hex}")
    return ConsumerContext(sink=sink or RecordingSink(), **kw)


def drive(new_consumer: Callable[[], Any], deliveries: Iterable[Message], *,
          instances: int = 1, max_receive: int = 5) -> list[Message]:
    """One-process SQS poll loop: messages go round-robin to ``instances``; a
    message is deleted when handle() returns and comes back (receive count + 1,
    at the end of the queue) when it raises, until ``max_receive`` sends it to the
    DLQ; an instance that crashed is replaced by a new one. Returns the DLQ."""
    pool = [new_consumer() for _ in range(instances)]
    queue = deque(deliveries)
    dlq: list[Message] = []
    turn = 0
    while queue:
        msg = queue.popleft()
        slot = turn % instances
        turn += 1
        try:
            pool[slot].handle(msg)
            continue
        except Crash:
            pool[slot] = new_consumer()
        except Exception:
            pass
        if msg.receive_count >= max_receive:
            dlq.append(msg)
        else:
            queue.append(replace(msg, receive_count=msg.receive_count + 1))
    return dlq


# ---- one Redis shared by the instances of a consumer ----


@dataclass
class FakeRedisContext(ConsumerContext):
    server: Any = None

    def redis(self) -> Any:
        return fakeredis.FakeRedis(server=self.server)


@pytest.fixture(params=["fakeredis", "redis"])
def redis_contexts(request: pytest.FixtureRequest):
    """``new_store()`` -> ``context(sink, **kw)``: contexts of instances of one
    consumer sharing one store (its own key namespace), on fakeredis or on the
    real Redis at GENESYS_SIM_TEST_REDIS (skipped when unreachable, unless CI=true)."""
    names: list[str] = []
    if request.param == "redis":
        client = redis.Redis.from_url(REAL_REDIS_URL)
        try:
            client.ping()
        except redis.RedisError as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true and Redis at {REAL_REDIS_URL} is unreachable: {exc}")
            pytest.skip(f"Redis at {REAL_REDIS_URL} is unreachable: {exc}")

    def new_store() -> Callable[..., ConsumerContext]:
        name = f"test-{uuid.uuid4().hex}"
        names.append(name)
        if request.param == "fakeredis":
            server = fakeredis.FakeServer()
            return lambda sink, **kw: FakeRedisContext(name=name, sink=sink, server=server, **kw)
        return lambda sink, **kw: ConsumerContext(name=name, sink=sink, redis_url=REAL_REDIS_URL, **kw)

    yield new_store
    if request.param == "redis":
        for name in names:
            for key in client.scan_iter(match=f"genesys-sim:*:{name}:*"):
                client.delete(key)
        client.close()


# ---- the kit against the captures ----

_CAPTURE_FILES = sorted(CAPTURES.glob("*.json")) if CAPTURES.is_dir() else []
needs_captures = pytest.mark.skipif(not _CAPTURE_FILES, reason=f"no captures at {CAPTURES}")


@needs_captures
def test_embedded_sample_is_the_capture():
    assert json.loads((CAPTURES / "customer-end__kanutomay.json").read_text()) == CUSTOMER_END


def test_built_events_keep_the_capture_shape_with_fresh_ids():
    a, b = genesys_event(), genesys_event()
    assert a.keys() == CUSTOMER_END.keys() and a["detail"].keys() == CUSTOMER_END["detail"].keys()
    assert a["id"] != b["id"]
    assert a["detail"]["metadata"]["CorrelationId"] != b["detail"]["metadata"]["CorrelationId"]
    assert a["detail"]["eventBody"]["conversationId"] in a["detail"]["topicName"]


def test_republish_keeps_everything_but_the_envelope_id():
    event = genesys_event()
    again = republish(event)
    assert again["id"] != event["id"]
    assert {**again, "id": event["id"]} == event


def test_recording_sink_applies_a_key_once_and_fails_on_demand():
    sink = RecordingSink()
    event = genesys_event()
    sink.fail_next()
    with pytest.raises(DownstreamError):
        sink.effect(event, idempotency_key="k")
    sink.effect(event, idempotency_key="k")
    sink.effect(event, idempotency_key="k")
    assert [a.applied for a in sink.attempts] == [False, True, False]
    assert sink.applied() == Counter({event["detail"]["metadata"]["CorrelationId"]: 1})
