"""Several consumer processes polling one queue of the embedded backend see every
message of a clean batch exactly once: the harness never blames a consumer for an
emulator's race. (moto as shipped hands the same message to two concurrent
receivers and can lose or resurrect messages on concurrent deletes; see
moto_patches and benchmarks/bench_transport.py, which measures it.)"""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from simulator.transport import create_topology, open_backend
from simulator.transport.testing import concurrent_consumers

MESSAGES = 500


@pytest.fixture(scope="module")
def backend():
    with open_backend("moto") as opened:
        yield opened


def test_concurrent_consumer_processes_see_each_message_exactly_once(backend):
    with create_topology(backend, run_id="race", delivery="sqs", visibility_timeout_s=600) as topo:
        sqs = backend.client("sqs")
        for start in range(0, MESSAGES, 10):
            sqs.send_message_batch(QueueUrl=topo.queue_url, Entries=[
                {"Id": str(i), "MessageBody": f"message-{start + i}"} for i in range(10)])
        results = concurrent_consumers(backend.endpoint_url, topo.queue_url, processes=8)

    received = [item for got, _ in results for item in got]
    failed_deletes = [f for _, failed in results for f in failed]
    per_body = Counter(body for _, body, _ in received)
    assert not failed_deletes
    assert set(per_body) == {f"message-{i}" for i in range(MESSAGES)}
    assert max(per_body.values()) == 1, [b for b, n in per_body.items() if n > 1][:5]
    assert {count for _, _, count in received} == {"1"}
    assert sum(1 for got, _ in results if got) > 1  # the work really was shared


def test_a_long_poll_on_a_busy_fifo_group_does_not_block_its_release(backend):
    """A message whose group is in flight is visible but may not be handed out; a long
    poll meanwhile must wait without holding the queue, so the consumer holding the
    group can delete and the group moves on. (moto's poll keeps the groups that were
    in flight when it started, so that same poll still returns empty: a fidelity
    gap of moto, not a race; the next receive gets the message.)"""
    with create_topology(backend, run_id="fifo-wait", delivery="sqs", fifo=True,
                         visibility_timeout_s=600) as topo:
        sqs = backend.client("sqs")
        for i in range(2):
            sqs.send_message(QueueUrl=topo.queue_url, MessageBody=f"m{i}", MessageGroupId="g",
                             MessageDeduplicationId=f"d{i}")
        (first,) = sqs.receive_message(QueueUrl=topo.queue_url, MaxNumberOfMessages=1)["Messages"]
        got: list = []
        poll = threading.Thread(target=lambda: got.extend(sqs.receive_message(
            QueueUrl=topo.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=5).get("Messages", [])))
        poll.start()
        time.sleep(0.5)  # the poll is waiting on the server
        sqs.delete_message(QueueUrl=topo.queue_url, ReceiptHandle=first["ReceiptHandle"])
        deleted_while_polling = poll.is_alive()
        poll.join()
        got += sqs.receive_message(QueueUrl=topo.queue_url, MaxNumberOfMessages=1).get("Messages", [])
    assert first["Body"] == "m0" and [m["Body"] for m in got] == ["m1"]
    assert deleted_while_polling


def test_a_conditional_write_is_decided_once_under_concurrent_writers(backend):
    # Powertools' idempotency record: many instances put the same key at once with
    # attribute_not_exists; DynamoDB lets exactly one through (moto as shipped let
    # several through: a duplicate the consumer would not make on AWS).
    import boto3

    def client():
        return boto3.client("dynamodb", endpoint_url=backend.endpoint_url, region_name=backend.region,
                            aws_access_key_id="test", aws_secret_access_key="test")

    ddb = client()
    table = "race-" + str(time.monotonic_ns())
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    keys, writers = 400, 8
    won: Counter = Counter()
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        mine = client()
        start.wait()
        for k in range(keys):
            try:
                mine.put_item(TableName=table, Item={"id": {"S": f"k{k}"}, "by": {"N": str(n)}},
                              ConditionExpression="attribute_not_exists(id)")
                won[k] += 1
            except mine.exceptions.ConditionalCheckFailedException:
                pass

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won == Counter({k: 1 for k in range(keys)})
