"""End-of-run collection, on a real queue (embedded moto and LocalStack): the
source queue is read before its DLQ, so a message that reached maxReceiveCount and
is moved by the collection's own receive lands in the DLQ instead of vanishing;
and messages held in flight when the consumers stopped are waited for, not lost."""
from __future__ import annotations

import time
import uuid

import pytest

from simulator.transport import collect_ends, create_topology


@pytest.fixture
def topology(backend):
    with create_topology(backend, run_id="c" + uuid.uuid4().hex[:10], delivery="sqs",
                         visibility_timeout_s=1, max_receive_count=1) as topo:
        yield topo


def test_a_message_past_max_receive_count_ends_in_the_dlq_not_lost(backend, topology):
    sqs = backend.client("sqs")
    sqs.send_message(QueueUrl=topology.queue_url, MessageBody="tired")
    (m,) = sqs.receive_message(QueueUrl=topology.queue_url, WaitTimeSeconds=1)["Messages"]
    # Its one receive is spent; it is visible again and the next receive redrives it.
    sqs.change_message_visibility(QueueUrl=topology.queue_url, ReceiptHandle=m["ReceiptHandle"],
                                  VisibilityTimeout=0)
    ends = collect_ends(backend, topology, in_flight_wait_s=3)
    assert [d.body for d in ends.queue + ends.in_flight + ends.dlq] == ["tired"]
    assert [d.body for d in ends.dlq] == ["tired"]


def test_messages_in_flight_when_consumers_stop_are_collected(backend):
    with create_topology(backend, run_id="c" + uuid.uuid4().hex[:10], delivery="sqs",
                         visibility_timeout_s=2, max_receive_count=5) as topo:
        sqs = backend.client("sqs")
        for body in ("held", "waiting"):
            sqs.send_message(QueueUrl=topo.queue_url, MessageBody=body)
        received = []
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:  # a consumer takes one and stops
            received = sqs.receive_message(QueueUrl=topo.queue_url, MaxNumberOfMessages=1,
                                           WaitTimeSeconds=1).get("Messages", [])
        (held,) = received
        ends = collect_ends(backend, topo, in_flight_wait_s=5)
        assert [d.body for d in ends.in_flight] == [held["Body"]]
        assert len(ends.queue) == 1 and ends.queue[0].body != held["Body"]
        assert ends.stuck == 0 and ends.dlq == []


def test_what_stays_hidden_past_the_wait_is_counted_stuck(backend):
    with create_topology(backend, run_id="c" + uuid.uuid4().hex[:10], delivery="sqs",
                         visibility_timeout_s=30) as topo:
        sqs = backend.client("sqs")
        sqs.send_message(QueueUrl=topo.queue_url, MessageBody="hidden")
        assert sqs.receive_message(QueueUrl=topo.queue_url, WaitTimeSeconds=1)["Messages"]
        ends = collect_ends(backend, topo, in_flight_wait_s=0.5)
        assert ends.stuck == 1 and not ends.in_flight
