"""The moto patches, exercised on moto's SQS model in this process (no server): the
indexes and lazy attributes they add must agree with a scan of the messages and
with a reference model after any sequence of sends, receives, deletes and
visibility changes."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from simulator.transport import moto_patches

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module", autouse=True)
def patched():
    moto_patches.apply()
    yield
    moto_patches.revert()


def fresh_backend():
    from moto.sqs.models import SQSBackend

    return SQSBackend(REGION, ACCOUNT)


def scan_counts(queue) -> dict[str, int]:
    """What moto computes by scanning: visible, in flight, delayed."""
    messages = list(queue._messages)
    return {"ApproximateNumberOfMessages": sum(1 for m in messages if m.visible and not m.delayed),
            "ApproximateNumberOfMessagesNotVisible": sum(1 for m in messages if not m.visible),
            "ApproximateNumberOfMessagesDelayed": sum(1 for m in messages if m.delayed)}


def original_attributes(queue) -> dict:
    return moto_patches._originals[(moto_patches.Queue, "attributes")].fget(queue)


class QueueMachine(RuleBasedStateMachine):
    """A standard queue against a reference model: body -> visible | in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.backend = fresh_backend()
        self.queue = self.backend.create_queue("q")
        self.visible: set[str] = set()
        self.inflight: dict[str, str] = {}  # body -> latest receipt handle
        self.old_handles: list[str] = []  # handles of deleted messages
        self.counter = 0

    @rule(n=st.integers(1, 4))
    def send(self, n: int) -> None:
        for _ in range(n):
            body = f"m{self.counter}"
            self.counter += 1
            self.backend.send_message("q", body)
            self.visible.add(body)

    @rule(count=st.integers(1, 10))
    def receive(self, count: int) -> None:
        got = self.backend.receive_message("q", count, 0, 300)
        bodies = [m.body for m in got]
        assert len(bodies) == len(set(bodies))
        assert set(bodies) <= self.visible, "received a message that was in flight or gone"
        assert len(bodies) == min(count, len(self.visible))
        for m in got:
            self.visible.discard(m.body)
            self.inflight[m.body] = m.receipt_handle

    @precondition(lambda self: self.inflight)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        body = data.draw(st.sampled_from(sorted(self.inflight)))
        handle = self.inflight.pop(body)
        self.backend.delete_message("q", handle)
        self.old_handles.append(handle)

    @precondition(lambda self: self.inflight)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        body = data.draw(st.sampled_from(sorted(self.inflight)))
        self.backend.change_message_visibility("q", self.inflight.pop(body), 0)
        time.sleep(0.002)  # moto: visible once the clock passes visible_at (ms)
        self.visible.add(body)

    @precondition(lambda self: self.old_handles)
    @rule(data=st.data())
    def delete_again(self, data: st.DataObject) -> None:
        self.backend.delete_message("q", data.draw(st.sampled_from(self.old_handles)))

    @rule()
    def delete_unknown(self) -> None:
        from moto.sqs.exceptions import ReceiptHandleIsInvalid

        with pytest.raises(ReceiptHandleIsInvalid):
            self.backend.delete_message("q", "never-issued")

    @invariant()
    def counts_agree_with_a_scan_and_the_model(self) -> None:
        reported = self.backend.get_queue_attributes("q", ["All"])
        scanned = scan_counts(self.queue)
        for name, value in scanned.items():
            assert reported[name] == value
        assert scanned["ApproximateNumberOfMessages"] == len(self.visible)
        assert scanned["ApproximateNumberOfMessagesNotVisible"] == len(self.inflight)
        assert len(self.queue._messages) == len(self.visible) + len(self.inflight)

    @invariant()
    def lazy_attributes_equal_moto_s(self) -> None:
        assert dict(self.queue.attributes) == original_attributes(self.queue)

    @invariant()
    def handle_index_points_at_live_messages(self) -> None:
        index = moto_patches.handle_index(self.queue)
        live = list(self.queue._messages)
        assert all(message in self.queue._messages for message in index.values())
        for message in live:
            if message.receipt_handle is not None:
                assert index[message.receipt_handle] is message
        for handle in self.inflight.values():
            assert handle in index


QueueMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestQueueAgainstModel = QueueMachine.TestCase


def test_patches_check_the_installed_moto():
    moto_patches.check_compatible()
    assert moto_patches.is_applied()


def test_an_unexpected_signature_fails_loudly(monkeypatch):
    # as if moto's receive_message had grown a parameter the patch does not know
    expected = dict(moto_patches._EXPECTED)
    key = (moto_patches.SQSBackend, "receive_message")
    expected[key] = expected[key] + ("wait_time_ms",)
    monkeypatch.setattr(moto_patches, "_EXPECTED", expected)
    with pytest.raises(moto_patches.MotoPatchError, match="receive_message"):
        moto_patches.check_compatible()


def fifo_queue(backend):
    return backend.create_queue("f.fifo", FifoQueue="true", ContentBasedDeduplication="true")


def test_fifo_dedup_remembers_a_deleted_message():
    backend = fresh_backend()
    queue = fifo_queue(backend)
    backend.send_message("f.fifo", "same", group_id="g")
    (got,) = backend.receive_message("f.fifo", 10, 0, 30)
    backend.delete_message("f.fifo", got.receipt_handle)
    backend.send_message("f.fifo", "same", group_id="g")  # within 5 minutes: dropped
    assert len(queue._messages) == 0
    backend.send_message("f.fifo", "other", group_id="g")
    assert [m.body for m in queue._messages] == ["other"]


def test_fifo_dedup_forgets_after_the_interval():
    backend = fresh_backend()
    queue = fifo_queue(backend)
    backend.send_message("f.fifo", "same", group_id="g")
    seen = moto_patches.dedup_ids(queue)
    for key in seen:  # age the entry past its 5 minutes
        seen[key] = 0.0
    backend.send_message("f.fifo", "same", group_id="g")
    assert [m.body for m in queue._messages] == ["same", "same"]


@pytest.mark.parametrize("scope", ["queue", "messageGroup"])
@settings(max_examples=40, deadline=None)
@given(sends=st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("xy")), max_size=25))
def test_fifo_delivers_each_body_once_deleted_or_not(scope, sends):
    backend = fresh_backend()
    backend.create_queue("f.fifo", FifoQueue="true", ContentBasedDeduplication="true",
                         DeduplicationScope=scope)
    received = []
    for body, group in sends:
        backend.send_message("f.fifo", body, group_id=group)
        for m in backend.receive_message("f.fifo", 10, 0, 30):
            received.append((m.group_id if scope == "messageGroup" else None, m.body))
            backend.delete_message("f.fifo", m.receipt_handle)  # deleting must not matter
    expected = {(g if scope == "messageGroup" else None, b) for b, g in sends}
    assert sorted(received) == sorted(expected)


def test_messages_and_queues_are_no_longer_tracked_forever():
    from moto.sqs.models import Message, Queue

    before = len(Message.instances_tracked), len(Queue.instances_tracked)
    backend = fresh_backend()
    backend.create_queue("q")
    for i in range(20):
        backend.send_message("q", f"m{i}")
    backend.receive_message("q", 10, 0, 30)
    backend.delete_queue("q")
    assert (len(Message.instances_tracked), len(Queue.instances_tracked)) == before


def test_eventbridge_target_gets_the_event_as_eventbridge_sends_it():
    from moto.events.utils import EventTemplateParser

    event = {"version": "0", "id": "e1", "detail-type": "t.{id}", "source": "aws.partner/genesys.com/x",
             "account": "123456789012", "time": 1.0, "region": "us-east-1", "resources": [],
             "detail": {"text": "<id> and <source>"}, "ingestion-time": 2.0}
    delivered = EventTemplateParser.parse(input_template=None, input_paths_map={}, event=event)
    assert list(delivered) == list(moto_patches.ENVELOPE_FIELDS)
    assert delivered["detail"] == {"text": "<id> and <source>"}
    assert delivered["account"] == "123456789012"
    # an InputTransformer still goes through moto's template engine
    shaped = EventTemplateParser.parse(input_template='{"x": "<i>"}', input_paths_map={"i": "$.id"},
                                       event=event)
    assert shaped == {"x": "e1"}
