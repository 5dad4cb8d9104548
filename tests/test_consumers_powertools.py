"""Powertools idempotency on a DynamoDB table in moto, driven with real Lambda
SQS batches."""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from moto import mock_aws

from consumers import powertools
from test_consumers_kit import (
    Crash, RecordingSink, crash_after_effects, genesys_event, memory_context, message, republish, sqs_batch,
)


class LambdaContext:
    """What the Lambda runtime passes: Powertools reads the time left from it."""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


def cid(event: dict) -> str:
    return event["detail"]["metadata"]["CorrelationId"]


def test_first_use_creates_the_table_and_racing_instances_tolerate_each_other(aws):
    client = boto3.client("dynamodb", region_name="us-east-1")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: powertools.ensure_table(client), range(4)))
    assert client.list_tables()["TableNames"] == [powertools.TABLE]
    ttl = client.describe_time_to_live(TableName=powertools.TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"


def test_a_second_call_with_the_same_key_does_not_reapply(aws, sink):
    handler = powertools.make_handler(memory_context(sink))
    event = genesys_event()
    assert handler(sqs_batch([message(event)]), LambdaContext()) == {"batchItemFailures": []}
    assert handler(sqs_batch([message(event), message(republish(event))]), LambdaContext()) == \
        {"batchItemFailures": []}
    assert len(sink.attempts) == 1


def test_instances_share_the_table(aws, sink):
    event = genesys_event()
    for _ in range(2):  # a second instance: a new process, a new handler
        handler = powertools.make_handler(memory_context(sink, name="shared"))
        handler(sqs_batch([message(event)]), LambdaContext())
    assert len(sink.attempts) == 1


def test_verbatim_keys_on_the_sqs_message_so_every_new_message_is_applied(aws, sink):
    handler = powertools.make_verbatim_handler(memory_context(sink))
    event = genesys_event()
    same_message = message(event)
    handler(sqs_batch([same_message]), LambdaContext())
    handler(sqs_batch([same_message]), LambdaContext())  # SQS redelivery: same messageId
    handler(sqs_batch([message(event), message(republish(event))]), LambdaContext())
    assert sink.applied() == Counter({cid(event): 3})


def test_a_failed_record_is_reported_and_its_retry_applies(aws, sink):
    handler = powertools.make_handler(memory_context(sink))
    failing, fine = message(genesys_event()), message(genesys_event())
    sink.fail_next()
    assert handler(sqs_batch([failing, fine]), LambdaContext()) == \
        {"batchItemFailures": [{"itemIdentifier": failing.message_id}]}
    assert handler(sqs_batch([failing]), LambdaContext()) == {"batchItemFailures": []}
    assert sorted(sink.applied().values()) == [1, 1]


def test_poison_fails_its_record(aws, sink):
    handler = powertools.make_handler(memory_context(sink))
    poison, fine = message("{not json"), message(genesys_event())
    assert handler(sqs_batch([poison, fine]), LambdaContext()) == \
        {"batchItemFailures": [{"itemIdentifier": poison.message_id}]}
    assert len(sink.attempts) == 1


def test_expiry_is_on_the_scenario_clock(aws, sink):
    ctx = memory_context(sink, time_scale=7200)  # Powertools' 1 h is half a real second
    powertools.make_handler(ctx)(sqs_batch([message(genesys_event())]), LambdaContext())
    item = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=powertools.TABLE)["Items"][0]
    assert item["status"]["S"] == "COMPLETED"
    # 1 s instead of 3600 s from now (bounded loosely: this is not a timing test)
    assert int(item["expiration"]["N"]) < time.time() + 600


def test_after_a_crash_mid_record_the_retry_fails_as_already_in_progress(aws, sink):
    ctx = memory_context(sink, after_effect=crash_after_effects(1))
    record = message(genesys_event())
    with pytest.raises(Crash):
        powertools.make_handler(ctx)(sqs_batch([record]), LambdaContext())
    restarted = powertools.make_handler(ctx)  # the record is still INPROGRESS in the table
    assert restarted(sqs_batch([record, message(genesys_event())]), LambdaContext()) == \
        {"batchItemFailures": [{"itemIdentifier": record.message_id}]}
    assert [a.applied for a in sink.attempts] == [True, True]  # the crashed one, then the other record
