"""The SQS poll loops a consumer instance runs, behaving as AWS does:

* ``python:`` classes — the harness's poller: receive a batch, ``handle()`` each
  message, delete it when ``handle`` returns, leave it when it raises (it comes back
  after the visibility timeout, and SQS redrives it to the DLQ after maxReceiveCount).
* ``lambda-sqs:`` handlers — the Lambda SQS event source: one invocation per batch
  with ``{"Records": [...]}``; a raise fails the whole batch; a
  ``{"batchItemFailures": [...]}`` answer keeps only the listed messages.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from typing import Any, Callable

from simulator.clients.api import ConsumerContext, Message
from simulator.clients.faults import FaultInjector
from simulator.clients.receipts import ReceiptLog

log = logging.getLogger("genesys_sim.consumer")


class PollLoop:
    def __init__(self, ctx: ConsumerContext, *, faults: FaultInjector, receipts: ReceiptLog,
                 batch_size: int = 10, wait_time_s: int = 1, queue_arn: str = "") -> None:
        self.ctx = ctx
        self.faults = faults
        self.receipts = receipts
        self.batch_size = batch_size
        self.wait_time_s = wait_time_s
        self.queue_arn = queue_arn
        self.stopping = threading.Event()
        self.sqs = ctx.client("sqs")

    def receive(self) -> list[dict]:
        resp = self.sqs.receive_message(
            QueueUrl=self.ctx.queue_url, MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_time_s, AttributeNames=["All"],
            MessageAttributeNames=["All"])
        messages = resp.get("Messages", [])
        if messages:
            self.receipts.received(
                (m["MessageId"], m["Body"], int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)))
                for m in messages)
            self.faults.after_receive(len(messages))
        return messages

    def delete(self, messages: list[dict]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.ctx.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])

    def run(self, dispatch: Callable[[list[dict]], None]) -> None:
        while not self.stopping.is_set():
            messages = self.receive()
            if messages:
                dispatch(messages)


def _message(m: dict) -> Message:
    attrs = m.get("Attributes", {})
    return Message(message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"], body=m["Body"],
                   receive_count=int(attrs.get("ApproximateReceiveCount", 1)),
                   attributes=attrs, message_attributes=m.get("MessageAttributes", {}))


def class_dispatch(loop: PollLoop, consumer: Any) -> Callable[[list[dict]], None]:
    def dispatch(messages: list[dict]) -> None:
        middle = len(messages) // 2
        for i, m in enumerate(messages):
            if i == middle and i > 0:
                loop.faults.mid_batch()  # first half done and deleted, the rest in flight
            loop.faults.before_handle()
            try:
                consumer.handle(_message(m))
            except Exception as exc:  # the consumer's own choice: not deleted, comes back
                log.info("handle() raised %s: %s (message %s left on the queue)",
                         type(exc).__name__, exc, m["MessageId"])
                continue
            loop.sqs.delete_message(QueueUrl=loop.ctx.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return dispatch


def sqs_record(m: dict, *, queue_arn: str, region: str) -> dict:
    """One record of a Lambda SQS event-source batch, as Lambda builds it."""
    attrs = m.get("Attributes", {})
    return {
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": {
            "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attrs.get("SentTimestamp", "0"),
            "SenderId": attrs.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp", "0"),
            **{k: v for k, v in attrs.items() if k in ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber")},
        },
        "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class LambdaContext:
    """The parts of Lambda's context object handlers and Powertools read."""

    def __init__(self, function_name: str, region: str, timeout_s: float = 30.0) -> None:
        import time

        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 128
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "genesys-sim"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        import time

        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_sqs_dispatch(loop: PollLoop, handler: Callable[[dict, Any], Any]) -> Callable[[list[dict]], None]:
    def dispatch(messages: list[dict]) -> None:
        event = {"Records": [sqs_record(m, queue_arn=loop.queue_arn, region=loop.ctx.region) for m in messages]}
        loop.faults.before_handle()
        try:
            result = handler(event, LambdaContext(loop.ctx.name, loop.ctx.region))
        except Exception as exc:  # the whole batch fails and comes back
            log.info("handler raised %s: %s (batch of %d left on the queue)", type(exc).__name__, exc, len(messages))
            return
        failed: set[str] = set()
        if isinstance(result, dict) and result.get("batchItemFailures"):
            failed = {f.get("itemIdentifier") for f in result["batchItemFailures"] if isinstance(f, dict)}
            if failed - {m["MessageId"] for m in messages}:
                # Lambda treats an unknown identifier as a failure of the whole batch.
                log.info("batchItemFailures names unknown messages; whole batch fails")
                return
        loop.faults.mid_batch()  # the handler finished; the deletes have not happened
        loop.delete([m for m in messages if m["MessageId"] not in failed])
    return dispatch
