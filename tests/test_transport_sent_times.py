"""A delivery's sent time is taken before the call that sends it, so no receive or
effect can be earlier than it and latency is never negative. Checked with a
service that is slow to answer: the time must be that of the call, not of its end."""
from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import pytest

from simulator.clock import ScenarioClock
from simulator.transport import DeliveryLog, EventBridgeInjector, SqsInjector
from simulator.transport.testing import delivery, genesys_envelope

SLOW_S = 0.2


class SlowService:
    """An SQS and EventBridge client that takes SLOW_S to answer each call and
    remembers when each call began (monotonic)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def _call(self) -> None:
        self.calls.append(time.monotonic())
        time.sleep(SLOW_S)

    def send_message_batch(self, QueueUrl, Entries):  # noqa: N803 (boto3's names)
        self._call()
        return {"Successful": [{"Id": e["Id"], "MessageId": str(uuid.uuid4())} for e in Entries]}

    def put_events(self, Entries):  # noqa: N803
        self._call()
        return {"Entries": [{"EventId": str(uuid.uuid4())} for _ in Entries]}


class Backend:
    name = "fake"
    region = "us-east-1"
    event_json_separators = (",", ":")

    def __init__(self, service: SlowService) -> None:
        self.service = service

    def client(self, name: str) -> SlowService:
        return self.service


def topology(delivery_path: str) -> SimpleNamespace:
    return SimpleNamespace(run_id="t", queue_url="q", queue_arn="arn", fifo=False, group_id="g",
                           bus_name="bus", delivery=delivery_path, account="123456789012",
                           dlq_arn="arn:aws:sqs:us-east-1:123456789012:dlq",
                           routes=lambda event: True, backend=SimpleNamespace(region="us-east-1"))


@pytest.mark.parametrize("make", [
    lambda b: SqsInjector(b, topology("sqs")),
    lambda b: EventBridgeInjector(b, topology("eventbridge")),
], ids=["sqs", "eventbridge"])
def test_sent_time_is_taken_before_the_call(make):
    service = SlowService()
    clock = ScenarioClock(1e9)
    log = DeliveryLog()
    make(Backend(service)).run([delivery(genesys_envelope(i), at_s=0.0) for i in range(3)], clock, log)
    (call,) = service.calls
    for sent in log.sent_records:
        assert sent.at <= call - clock.start + 1e-3, "sent time taken after the call returned"
        assert sent.planned_at is not None and sent.planned_at <= sent.at


def test_a_copy_written_to_the_queue_is_stamped_before_its_call():
    service = SlowService()
    clock = ScenarioClock(1e9)
    log = DeliveryLog()
    original = delivery(genesys_envelope(1), at_s=0.0)
    copy = delivery(genesys_envelope(1), at_s=1.0, kind="redeliver")
    EventBridgeInjector(Backend(service), topology("eventbridge")).run([original, copy], clock, log)
    put_call, send_call = service.calls
    assert [s.kind for s in log.sent_records] == ["original", "redeliver"]
    assert log.sent_records[1].at <= send_call - clock.start + 1e-3
