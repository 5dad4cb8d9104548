"""Fixture formats carry the same events the way each delivery path hands them over."""
from __future__ import annotations

import hashlib
import io
import re

import orjson
import pytest

from simulator.events import events_of
from simulator.events.formats import FORMATS, lambda_sqs_record, sqs_message, write

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def events():
    return events_of(["acd.end", "presence", "transcription"], 23, seed=5)


def written(events, fmt: str) -> bytes:
    out = io.BytesIO()
    assert write(events, fmt, out) == len(events)
    return out.getvalue()


def test_eventbridge_and_lambda_eb_are_one_event_per_line(events):
    for fmt in ("eventbridge", "lambda-eb"):
        lines = written(events, fmt).splitlines()
        assert [orjson.loads(line) for line in lines] == [e.event for e in events]


def test_json_is_one_array(events):
    assert orjson.loads(written(events, "json")) == [e.event for e in events]
    assert orjson.loads(written([], "json")) == []


def test_sqs_messages_carry_the_event_as_body(events):
    messages = [orjson.loads(line) for line in written(events, "sqs").splitlines()]
    for message, event in zip(messages, events, strict=True):
        assert set(message) == {"MessageId", "ReceiptHandle", "MD5OfBody", "Body", "Attributes"}
        assert orjson.loads(message["Body"]) == event.event
        assert message["MD5OfBody"] == hashlib.md5(message["Body"].encode()).hexdigest()
        assert UUID.match(message["MessageId"]) and message["ReceiptHandle"].startswith("AQEB")
        attributes = message["Attributes"]
        assert attributes["ApproximateReceiveCount"] == "1"
        assert int(attributes["SentTimestamp"]) >= event.time_ms
        assert int(attributes["ApproximateFirstReceiveTimestamp"]) >= int(attributes["SentTimestamp"])
    assert len({m["MessageId"] for m in messages}) == len(messages)


def test_lambda_sqs_batches_are_event_source_records(events):
    batches = [orjson.loads(line) for line in written(events, "lambda-sqs").splitlines()]
    assert [len(b["Records"]) for b in batches] == [10, 10, 3]
    records = [r for b in batches for r in b["Records"]]
    for record, event in zip(records, events, strict=True):
        assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                               "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"}
        assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == "us-east-1"
        assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:genesys-events"
        assert orjson.loads(record["body"]) == event.event
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert set(record["attributes"]) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                             "ApproximateFirstReceiveTimestamp"}


def test_sqs_shapes_agree(events):
    message, record = sqs_message(events[0]), lambda_sqs_record(events[0])
    assert (record["messageId"], record["receiptHandle"], record["body"], record["md5OfBody"]) == (
        message["MessageId"], message["ReceiptHandle"], message["Body"], message["MD5OfBody"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_deterministic(events, fmt):
    again = events_of(["acd.end", "presence", "transcription"], 23, seed=5)
    assert written(events, fmt) == written(again, fmt)


def test_unknown_format_is_refused(events):
    with pytest.raises(ValueError):
        write(events, "xml", io.BytesIO())
