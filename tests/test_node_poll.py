"""lambda-sqs under the Node.js host, on the embedded moto: the SQS event source
as Lambda runs it. The batch is built as the Python host builds it, a thrown
error or a rejected promise leaves the whole batch, batchItemFailures leaves only
the listed messages, and an unknown identifier fails the whole batch."""
from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest

from node_support import HANDLERS, NodeHost, served_sink
from simulator.clients.faults import CRASH_EXIT
from simulator.clients.poll import sqs_record
from simulator.transport import open_backend

BATCH = HANDLERS / "esm-ts" / "batch.ts"


@pytest.fixture(scope="module")
def backend():
    with open_backend("moto") as opened:
        yield opened


@pytest.fixture
def queue(backend):
    sqs = backend.client("sqs")
    url = sqs.create_queue(QueueName=f"node-{uuid.uuid4().hex[:10]}",
                           Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def sink():
    with served_sink() as recording:
        yield recording


def host(spec, tmp_path, backend, queue, sink=None, **config):
    url, arn = queue
    env = {**backend.consumer_env(), "QUEUE_URL": url}
    config.setdefault("wait_time_s", 1)
    return NodeHost(spec, tmp_path, sink_url=sink.url if sink else "http://127.0.0.1:9/x", env=env,
                    queue_arn=arn, **config)


def send(backend, queue, *orders):
    sqs = backend.client("sqs")
    sqs.send_message_batch(QueueUrl=queue[0], Entries=[
        {"Id": str(i), "MessageBody": json.dumps(order)} for i, order in enumerate(orders)])


def left_on_queue(backend, queue) -> int:
    attrs = backend.client("sqs").get_queue_attributes(
        QueueUrl=queue[0], AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def wait_for(predicate, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_batch_is_the_event_the_python_host_builds(tmp_path, backend, queue, monkeypatch):
    batches = tmp_path / "batches.jsonl"
    monkeypatch.setenv("GENESYS_SIM_TEST_BATCHES", str(batches))
    send(backend, queue, {"do": "ok", "id": "a"}, {"do": "ok", "id": "b"})
    with host(f"lambda-sqs:{HANDLERS / 'shapes.mjs'}:keepsBatch", tmp_path, backend, queue) as h:
        assert wait_for(lambda: left_on_queue(backend, queue) == 0)
        receipts = h.receipt_lines()
    records = [r for line in batches.read_text().splitlines() for r in json.loads(line)["Records"]]
    assert sorted(json.loads(r["body"])["id"] for r in records) == ["a", "b"]
    for record in records:
        # the Python host's record for the same message, as ReceiveMessage gave it
        message = {"MessageId": record["messageId"], "ReceiptHandle": record["receiptHandle"],
                   "Body": record["body"], "MD5OfBody": hashlib.md5(record["body"].encode()).hexdigest(),
                   "Attributes": dict(record["attributes"])}  # (only these keys survive sqs_record)
        assert record == sqs_record(message, queue_arn=queue[1], region="us-east-1")
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert int(record["attributes"]["SentTimestamp"]) > 1_700_000_000_000
    assert sorted(r["message_id"] for r in receipts) == sorted(r["messageId"] for r in records)
    # (these bodies' "id" reads as an envelope id, as it would for the Python host)
    assert sorted((r["envelope_id"], r["correlation_id"], r["receive_count"]) for r in receipts) == [
        ("a", None, 1), ("b", None, 1)]


def test_an_esm_typescript_handler_with_top_level_await(tmp_path, backend, queue, sink):
    send(backend, queue, {"do": "ok", "id": "t1"}, {"do": "ok", "id": "t2"})
    with host(f"lambda-sqs:{BATCH}:handler", tmp_path, backend, queue, sink):
        assert wait_for(lambda: left_on_queue(backend, queue) == 0)
    assert sorted(e["correlation_id"] for e in sink.effects) == ["t1", "t2"]


def test_batch_item_failures_leave_only_the_listed_messages(tmp_path, backend, queue, sink):
    send(backend, queue, {"do": "ok", "id": "k1"}, {"do": "fail-item", "id": "f1"}, {"do": "ok", "id": "k2"})
    with host(f"lambda-sqs:{BATCH}:handler", tmp_path, backend, queue, sink) as h:
        # the failed one comes back after the 1 s visibility timeout, and fails again
        assert wait_for(lambda: any(r["receive_count"] >= 3 for r in h.receipt_lines()))
        assert left_on_queue(backend, queue) == 1
        receipts = h.receipt_lines()
    assert sorted(e["correlation_id"] for e in sink.effects)[:2] == ["k1", "k2"]
    counts = {}
    for r in receipts:
        counts[r["message_id"]] = max(counts.get(r["message_id"], 0), r["receive_count"])
    assert sorted(counts.values())[:2] == [1, 1]  # the two good ones were received once


@pytest.mark.parametrize("order", ["throw", "unknown-id"])
def test_a_failed_invocation_leaves_the_whole_batch(tmp_path, backend, queue, sink, order):
    send(backend, queue, {"do": "ok", "id": "w1"}, {"do": order, "id": "x"}, {"do": "ok", "id": "w2"})
    with host(f"lambda-sqs:{BATCH}:handler", tmp_path, backend, queue, sink) as h:
        assert wait_for(lambda: sum(r["receive_count"] >= 2 for r in h.receipt_lines()) >= 3)
        assert left_on_queue(backend, queue) == 3
        log = h.log()
    if order == "throw":
        assert "handler failed: Error: record x throws (region us-east-1)" in log
    else:
        assert "whole batch fails" in log


def test_crash_mid_batch_after_the_handler_and_before_the_deletes(tmp_path, backend, queue, sink):
    send(backend, queue, {"do": "ok", "id": "m1"})
    crash = {"point": "mid_batch", "every": 1, "restart_after_s": 1}
    with host(f"lambda-sqs:{BATCH}:handler", tmp_path, backend, queue, sink, crash=crash) as h:
        assert h.wait(20) == CRASH_EXIT
    assert [e["correlation_id"] for e in sink.effects] == ["m1"]  # applied...
    assert left_on_queue(backend, queue) == 1  # ...and not deleted


def test_sigterm_finishes_the_batch_in_hand_then_stops(tmp_path, backend, queue, sink):
    with host(f"lambda-sqs:{BATCH}:handler", tmp_path, backend, queue, sink, wait_time_s=20) as h:
        time.sleep(0.3)  # in a 20 s long poll
        started = time.monotonic()
        h.process.terminate()
        assert h.wait(5) == 0
        assert time.monotonic() - started < 3.0  # the long poll is abandoned, not waited out
