"""Fixture output formats: the same logical events as each delivery path hands them
to a consumer.

- ``eventbridge``: one EventBridge event per line (JSON lines).
- ``json``: one JSON array of events.
- ``sqs``: one SQS ``ReceiveMessage`` ``Messages`` entry per line; ``Body`` is the event.
- ``lambda-sqs``: one Lambda SQS event-source batch ``{"Records": [...]}`` per line.
- ``lambda-eb``: one Lambda invocation event per line (EventBridge → Lambda hands the
  function the event itself, so the lines equal ``eventbridge``'s).

Everything is derived from the event, so output is deterministic: message ids are
name-based UUIDs of the envelope id, timestamps follow the event's publication time.
"""
from __future__ import annotations

import base64
import hashlib
import uuid
from typing import BinaryIO, Callable, Iterable

import orjson

from simulator.model import LogicalEvent

FORMATS = ("eventbridge", "json", "sqs", "lambda-sqs", "lambda-eb")
QUEUE_NAME = "genesys-events"
_SENDER_ID = "AIDAIENQZJOLO23YVJ4VO"
_SQS_NAMESPACE = uuid.UUID("5b7d0a52-3c7e-4d43-9b1c-6f4f0e3c2a11")


def sqs_message(event: LogicalEvent, body: str | None = None) -> dict:
    """The event as one entry of an SQS ReceiveMessage response."""
    body = body if body is not None else orjson.dumps(event.event).decode()
    envelope_id = event.event["id"]
    sent = event.time_ms + 20  # EventBridge puts it on the queue ~20 ms after publication
    return {
        "MessageId": str(uuid.uuid5(_SQS_NAMESPACE, envelope_id)),
        "ReceiptHandle": _receipt_handle(envelope_id),
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "Body": body,
        "Attributes": {"SenderId": _SENDER_ID, "ApproximateFirstReceiveTimestamp": str(sent + 35),
                       "ApproximateReceiveCount": "1", "SentTimestamp": str(sent)},
    }


def lambda_sqs_record(event: LogicalEvent, queue_name: str = QUEUE_NAME, body: str | None = None) -> dict:
    """The event as one record of a Lambda SQS event-source batch."""
    message = sqs_message(event, body)
    attributes = message["Attributes"]
    region, account = event.event["region"], event.event["account"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1",
                       "SentTimestamp": attributes["SentTimestamp"],
                       "SenderId": _SENDER_ID,
                       "ApproximateFirstReceiveTimestamp": attributes["ApproximateFirstReceiveTimestamp"]},
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{account}:{queue_name}",
        "awsRegion": region,
    }


def write(events: Iterable[LogicalEvent], fmt: str, out: BinaryIO, *, batch_size: int = 10,
          on_event: Callable[[LogicalEvent], None] | None = None) -> int:
    """Write ``events`` to ``out`` in ``fmt``, streaming (flat memory for any count).
    Returns the number of events written. ``fmt`` must be one of FORMATS."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    dumps = orjson.dumps
    count = 0
    line = orjson.OPT_APPEND_NEWLINE
    if fmt in ("eventbridge", "lambda-eb"):
        for event in events:
            out.write(dumps(event.event, option=line))
            count += 1
            if on_event:
                on_event(event)
    elif fmt == "json":
        out.write(b"[")
        for event in events:
            out.write((b"\n" if count == 0 else b",\n") + dumps(event.event))
            count += 1
            if on_event:
                on_event(event)
        out.write(b"\n]\n" if count else b"]\n")
    elif fmt == "sqs":
        for event in events:
            out.write(dumps(sqs_message(event), option=line))
            count += 1
            if on_event:
                on_event(event)
    else:  # lambda-sqs: batches of up to batch_size records, as the event source mapping sends
        batch: list[dict] = []
        for event in events:
            batch.append(lambda_sqs_record(event))
            count += 1
            if on_event:
                on_event(event)
            if len(batch) == batch_size:
                out.write(dumps({"Records": batch}, option=line))
                batch = []
        if batch:
            out.write(dumps({"Records": batch}, option=line))
    return count


def _receipt_handle(envelope_id: str) -> str:
    # Real receipt handles are opaque base64 of ~180 characters starting "AQEB".
    digest = hashlib.blake2b(envelope_id.encode(), digest_size=64).digest()
    return "AQEB" + base64.b64encode(digest + hashlib.sha512(digest).digest()[:68]).decode()
