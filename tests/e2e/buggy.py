"""Consumers with bugs nobody planned for, used to check that the checker scores
what really happened. Each bug is a pure function of the event's CorrelationId, so
the test can count from the plan how many events the bug touches."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from simulator.clients.api import ConsumerContext, DownstreamError, Message, report_effect

BUGGY = Path(__file__).resolve()  # for spec strings: python:{BUGGY}:DropsSome


def touched(correlation_id: str, every: int = 7) -> bool:
    """True for about one event in ``every``, the same in every process."""
    return int(hashlib.sha256(correlation_id.encode()).hexdigest()[:8], 16) % every == 0


def _event(message: Message) -> tuple[dict, str] | None:
    try:
        event = message.event()
        return event, event["detail"]["metadata"]["CorrelationId"]
    except (ValueError, KeyError, TypeError):
        return None


class _Consumer:
    """Parks poison properly (raises, so it is redriven to the DLQ); subclasses
    get the event and its CorrelationId."""

    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        parsed = _event(message)
        if parsed is None:
            raise ValueError("poison")
        self.apply(*parsed)

    def apply(self, event: dict, cid: str) -> None:
        raise NotImplementedError


class DropsSome(_Consumer):
    """Deletes one event in seven without applying it."""

    def apply(self, event: dict, cid: str) -> None:
        if not touched(cid):
            self.ctx.effect(event, idempotency_key=cid)


class AppliesSomeTwice(_Consumer):
    """Applies one event in seven twice, without an idempotency key."""

    def apply(self, event: dict, cid: str) -> None:
        self.ctx.effect(event, idempotency_key=None if touched(cid) else cid)
        if touched(cid):
            self.ctx.effect(event)


class AppliesEveryCopy(_Consumer):
    """No deduplication at all: every message it receives is an effect."""

    def apply(self, event: dict, cid: str) -> None:
        self.ctx.effect(event)


class AcksPoison:
    """Correct for events, but deletes what it cannot parse without a trace."""

    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        parsed = _event(message)
        if parsed is None:
            return  # silently acknowledged: the bug
        event, cid = parsed
        self.ctx.effect(event, idempotency_key=cid)


class InventsEffects(_Consumer):
    """Reports one effect for an event that never existed, per real event in seven."""

    def apply(self, event: dict, cid: str) -> None:
        self.ctx.effect(event, idempotency_key=cid)
        if touched(cid):
            self.ctx.effect(correlation_id=f"invented-{cid}")


def partial_batch_handler(event: dict, context: object) -> dict:
    """Lambda on SQS: reports each record once it has been seen twice (first
    delivery always fails), via batchItemFailures."""
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        cid = body["detail"]["metadata"]["CorrelationId"]
        if int(record["attributes"]["ApproximateReceiveCount"]) < 2 and touched(cid, 3):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        report_effect(body, idempotency_key=cid)
    return {"batchItemFailures": failures}


def eventbridge_handler(event: dict, context: object) -> None:
    """Lambda target: one event in seven always fails (ends in the DLQ)."""
    cid = event["detail"]["metadata"]["CorrelationId"]
    if touched(cid):
        raise RuntimeError("downstream validation failed")
    report_effect(event, idempotency_key=cid)


def create_app(ctx: ConsumerContext):
    """An HTTP consumer (API destination) that answers 503 to one event in seven
    the first time, 200 after: EventBridge's retries make it whole."""
    from flask import Flask, request

    app = Flask(__name__)
    seen: set[str] = set()

    @app.post("/")
    def receive():
        event = request.get_json(force=True)
        cid = event["detail"]["metadata"]["CorrelationId"]
        if touched(cid) and cid not in seen:
            seen.add(cid)
            return {"error": "try later"}, 503
        try:
            ctx.effect(event, idempotency_key=cid)
        except DownstreamError:
            return {"error": "downstream"}, 502
        return {"ok": True}
    return app


if __name__ == "__main__":  # a cmd: consumer: any program reading QUEUE_URL
    import boto3
    import requests

    sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
    sink = os.environ["GENESYS_SIM_SINK_URL"] + "/effects"
    while True:
        for m in sqs.receive_message(QueueUrl=os.environ["QUEUE_URL"], MaxNumberOfMessages=10,
                                     WaitTimeSeconds=1).get("Messages", []):
            try:
                event = json.loads(m["Body"])
                cid = event["detail"]["metadata"]["CorrelationId"]
            except (ValueError, KeyError, TypeError):
                continue  # leave poison for the redrive policy
            if requests.post(sink, json={"event": event, "idempotency_key": cid}).ok:
                sqs.delete_message(QueueUrl=os.environ["QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])


def parks_everything(event: dict, context) -> dict:
    """A Lambda SQS handler that reports every record as a batch item failure: it
    processes nothing, and the queue's redrive policy parks everything in the DLQ."""
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


class Hangs(_Consumer):
    """Never finishes a message: the queue never drains."""

    def apply(self, event: dict, cid: str) -> None:
        import time

        time.sleep(3600)
