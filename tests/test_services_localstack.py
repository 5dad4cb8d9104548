"""The real services behave as the harness assumes (DESIGN.md, "the emulators").

Against a real LocalStack: SQS round trips and FIFO deduplication, EventBridge
custom bus + rule on the Genesys partner source prefix delivering to SQS, DynamoDB
conditional writes. Against a real Redis: SET NX EX. LocalStack is shared (also by
xdist workers), so every test makes its own uniquely named resources and deletes them.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GENESYS_PREFIX = "aws.partner/genesys.com"
GENESYS_SOURCE = f"{GENESYS_PREFIX}/cloud/00000000-0000-0000-0000-000000000000/genesys_acme"

# Hypothesis examples reuse one queue: each example leaves it empty again.
REUSE_FIXTURES = settings(max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])


def unique(kind: str) -> str:
    return f"gsim-test-{kind}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def aws(localstack_endpoint: str, aws_env: None):
    """A boto3 client factory bound to LocalStack."""
    return lambda service: boto3.client(service, endpoint_url=localstack_endpoint,
                                        region_name="us-east-1")


@pytest.fixture
def sqs(aws):
    return aws("sqs")


@pytest.fixture
def queue_url(sqs) -> Iterator[str]:
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def fifo_queue_url(sqs) -> Iterator[str]:
    url = sqs.create_queue(QueueName=unique("q") + ".fifo",
                           Attributes={"FifoQueue": "true"})["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def queue_depth(sqs, url: str) -> tuple[int, int]:
    """(visible, in flight) messages."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (int(attrs["ApproximateNumberOfMessages"]),
            int(attrs["ApproximateNumberOfMessagesNotVisible"]))


def drain(sqs, url: str, expected: int) -> list[dict[str, Any]]:
    """Receive and delete until `expected` messages came back or a long poll is empty."""
    received: list[dict[str, Any]] = []
    while len(received) < expected:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=2).get("Messages", [])
        if not batch:
            break
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        received.extend(batch)
    return received


# --- SQS ------------------------------------------------------------------

@pytest.mark.localstack
def test_sqs_send_receive_delete_leaves_queue_empty(sqs, queue_url):
    bodies = [f"single-{uuid.uuid4()}"] + [f"batch-{i}-{uuid.uuid4()}" for i in range(10)]
    sqs.send_message(QueueUrl=queue_url, MessageBody=bodies[0])
    response = sqs.send_message_batch(QueueUrl=queue_url, Entries=[
        {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[1:])])
    assert not response.get("Failed")

    received = drain(sqs, queue_url, len(bodies))

    assert sorted(m["Body"] for m in received) == sorted(bodies)
    assert queue_depth(sqs, queue_url) == (0, 0)


@pytest.mark.localstack
def test_sqs_message_not_deleted_comes_back_with_higher_receive_count(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="again")
    counts = []
    for _ in range(2):
        # VisibilityTimeout=0 hands the message back at once, as an expired
        # visibility timeout would after a consumer crash.
        message = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2, VisibilityTimeout=0,
                                      MessageSystemAttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        counts.append(int(message["Attributes"]["ApproximateReceiveCount"]))
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert counts == [1, 2]


# SQS accepts exactly these characters in a body (the XML 1.0 set).
SQS_BODY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]).filter(
        lambda c: c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"),
    min_size=1, max_size=300)


@pytest.mark.localstack
@REUSE_FIXTURES
@given(body=SQS_BODY)
def test_sqs_returns_any_valid_body_unchanged(sqs, queue_url, body):
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    [message] = drain(sqs, queue_url, 1)
    assert message["Body"] == body


@pytest.mark.localstack
def test_fifo_dedup_id_still_suppresses_copies_after_delete(sqs, fifo_queue_url):
    # AWS keeps a deduplication id for 5 minutes even once its message is deleted;
    # moto forgets it at delete (DESIGN.md). LocalStack must behave like AWS here.
    send = dict(QueueUrl=fifo_queue_url, MessageBody="once", MessageGroupId="g",
                MessageDeduplicationId="dedup-1")
    first = sqs.send_message(**send)
    assert [m["Body"] for m in drain(sqs, fifo_queue_url, 1)] == ["once"]

    second = sqs.send_message(**send)

    assert second["MessageId"] == first["MessageId"]
    assert queue_depth(sqs, fifo_queue_url) == (0, 0)


# --- EventBridge -> SQS -----------------------------------------------------

@pytest.fixture
def event_bus(aws, sqs) -> Iterator[tuple[str, Any]]:
    """A custom bus, and ``route(source_prefix)`` which adds a rule sending events
    whose source starts with the prefix to a new queue and returns its URL."""
    events, bus = aws("events"), unique("bus")
    events.create_event_bus(Name=bus)
    made: list[tuple[str, str]] = []

    def route(source_prefix: str) -> str:
        rule, url = unique("rule"), sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
        made.append((rule, url))
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=rule, EventBusName=bus,
                        EventPattern=json.dumps({"source": [{"prefix": source_prefix}]}))
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        return url

    yield bus, route
    for rule, url in made:
        events.remove_targets(Rule=rule, EventBusName=bus, Ids=["queue"])
        events.delete_rule(Name=rule, EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)
    events.delete_event_bus(Name=bus)


def genesys_detail(correlation_id: str) -> dict[str, Any]:
    # Shape of a real customer.end notification (shared/genesys-captures).
    return {
        "topicName": "v2.detail.events.conversation.c0ffee00-0000-4000-8000-000000000001.customer.end",
        "version": "2",
        "eventBody": {"eventTime": 1765551713383, "conversationId": "c0ffee00-0000-4000-8000-000000000001",
                      "mediaType": "VOICE", "direction": "INBOUND", "disconnectType": "ENDPOINT",
                      "ani": "tel:+15555550898", "dnis": "tel:+15555550000"},
        "metadata": {"CorrelationId": correlation_id},
        "timestamp": "2025-12-12T15:01:53.761Z",
    }


@pytest.mark.localstack
def test_eventbridge_rule_delivers_genesys_events_to_sqs_in_the_envelope(aws, sqs, event_bus):
    bus, route = event_bus
    genesys_queue, other_queue = route(GENESYS_PREFIX), route("aws.partner/example.com")
    detail_type = "v2.detail.events.conversation.{id}.customer.end"
    entries = [{"EventBusName": bus, "Source": GENESYS_SOURCE, "DetailType": detail_type,
                "Detail": json.dumps(genesys_detail(str(uuid.uuid4())))} for _ in range(3)]
    other = {"EventBusName": bus, "Source": "aws.partner/example.com/cloud/x",
             "DetailType": detail_type, "Detail": json.dumps(genesys_detail(str(uuid.uuid4())))}

    response = aws("events").put_events(Entries=entries + [other])

    assert response["FailedEntryCount"] == 0
    ids = [e["EventId"] for e in response["Entries"]]
    # LocalStack delivers asynchronously, shortly after PutEvents returns: receive
    # until each queue has what its rule matches (the other source proves routing).
    by_id = {e["id"]: e for e in (json.loads(m["Body"]) for m in drain(sqs, genesys_queue, 3))}
    assert [json.loads(m["Body"])["id"] for m in drain(sqs, other_queue, 1)] == ids[3:]
    assert set(by_id) == set(ids[:3])
    assert queue_depth(sqs, genesys_queue) == (0, 0)
    for event_id, entry in zip(ids, entries):
        envelope = by_id[event_id]
        assert envelope["version"] == "0"
        assert envelope["source"] == GENESYS_SOURCE
        assert envelope["detail-type"] == detail_type
        assert envelope["detail"] == json.loads(entry["Detail"])
        assert envelope["resources"] == [] and envelope["region"] == "us-east-1"
        assert len(envelope["account"]) == 12 and envelope["account"].isdigit()
        assert envelope["time"].endswith("Z") and len(envelope["time"]) == len("2025-12-12T15:01:53Z")


@pytest.mark.localstack
def test_eventbridge_put_events_again_gives_a_new_id(aws, sqs, event_bus):
    # A producer re-send is a new event to EventBridge; only CorrelationId ties the copies.
    bus, route = event_bus
    queue = route(GENESYS_PREFIX)
    entry = {"EventBusName": bus, "Source": GENESYS_SOURCE, "DetailType": "d",
             "Detail": json.dumps(genesys_detail("same-correlation-id"))}
    events = aws("events")
    ids = {events.put_events(Entries=[entry])["Entries"][0]["EventId"] for _ in range(2)}
    envelopes = [json.loads(m["Body"]) for m in drain(sqs, queue, 2)]
    assert len(ids) == 2
    assert {e["id"] for e in envelopes} == ids
    assert {e["detail"]["metadata"]["CorrelationId"] for e in envelopes} == {"same-correlation-id"}


# --- DynamoDB ----------------------------------------------------------------

@pytest.fixture
def dynamodb_table(aws) -> Iterator[tuple[Any, str]]:
    dynamodb, name = aws("dynamodb"), unique("table")
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    yield dynamodb, name
    dynamodb.delete_table(TableName=name)


@pytest.mark.localstack
def test_dynamodb_conditional_put_admits_only_the_first_writer(dynamodb_table):
    # The primitive Powertools idempotency rests on: attribute_not_exists(id).
    dynamodb, table = dynamodb_table
    assert dynamodb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
    put = dict(TableName=table, ConditionExpression="attribute_not_exists(id)")
    dynamodb.put_item(Item={"id": {"S": "event-1"}, "owner": {"S": "first"}}, **put)

    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(Item={"id": {"S": "event-1"}, "owner": {"S": "second"}}, **put)

    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": "event-1"}}, ConsistentRead=True)["Item"]
    assert item["owner"] == {"S": "first"}


# --- Redis -------------------------------------------------------------------

@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    prefix = unique("key")
    client.prefix = prefix  # type: ignore[attr-defined]
    yield client
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.redis
@REUSE_FIXTURES
@given(suffix=st.text(min_size=0, max_size=40), first=st.binary(max_size=64),
       second=st.binary(max_size=64), ttl=st.integers(min_value=1, max_value=86_400))
def test_redis_set_nx_ex_lets_exactly_the_first_writer_in(redis_client, suffix, first, second, ttl):
    key = f"{redis_client.prefix}:{suffix}"
    assert redis_client.set(key, first, nx=True, ex=ttl) is True
    assert redis_client.set(key, second, nx=True, ex=ttl) is None
    assert redis_client.get(key) == first
    assert 0 < redis_client.ttl(key) <= ttl
    redis_client.delete(key)
    assert redis_client.set(key, second, nx=True, ex=ttl) is True
    redis_client.delete(key)


# --- the fixtures themselves ---------------------------------------------------

@pytest.mark.parametrize("fixture, env", [
    ("redis_url", {"REDIS_URL": "redis://127.0.0.1:1/0"}),
    ("localstack_endpoint", {"LOCALSTACK_ENDPOINT": "http://127.0.0.1:1"}),
])
@pytest.mark.parametrize("ci", [False, True])
def test_missing_service_skips_on_a_laptop_and_fails_in_ci(pytester, monkeypatch, fixture, env, ci):
    # Port 1 on loopback refuses connections: the service is certainly absent.
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makepyfile(f"def test_needs_it({fixture}):\n    pass\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)

    result = pytester.runpytest_subprocess("-p", "no:genesys_sim", "-p", "no:cacheprovider", "-rsf")

    result.assert_outcomes(**({"errors": 1} if ci else {"skipped": 1}))
    result.stdout.fnmatch_lines([f"*{next(iter(env.values()))}*"])
