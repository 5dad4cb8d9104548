"""The SQS poll loops a consumer instance runs, behaving as AWS does:

* ``python:`` classes — the harness's poller: receive a batch, ``handle()`` each
  message, delete it when ``handle`` returns, leave it when it raises (it comes back
  after the visibility timeout, and SQS redrives it to the DLQ after maxReceiveCount).
  Deletes go out in DeleteMessageBatch calls from a thread of their own
  (``Deletes``), so handling never waits for them; everything handled is deleted
  before a planned crash, as a per-message delete would have done.
* ``lambda-sqs:`` handlers — the Lambda SQS event source: one invocation per batch
  with ``{"Records": [...]}``; a raise fails the whole batch; a
  ``{"batchItemFailures": [...]}`` answer keeps only the listed messages; a
  handler past its function timeout leaves the batch undeleted and the instance
  exits (lambda_runtime.py).

The ``sqs_duplicate`` fault is applied here, on the real queue: a chosen message
is made visible again as soon as it is received (ChangeMessageVisibility 0), so
another receive gets the same message (same MessageId, a new receipt handle, a
higher ApproximateReceiveCount) while this instance still processes it; and this
instance's delete is lost, as SQS documents for a stale receipt handle or a copy
on a server the delete did not reach. So the copy always comes back.
"""
from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from typing import Any, Callable

from simulator.clients.api import ConsumerContext, Message
from simulator.clients.faults import FaultInjector
from simulator.clients.lambda_runtime import FunctionTimeout, LambdaContext, invoke, throw_away_environment
from simulator.clients.receipts import ReceiptLog

log = logging.getLogger("genesys_sim.consumer")


class PollLoop:
    def __init__(self, ctx: ConsumerContext, *, faults: FaultInjector, receipts: ReceiptLog,
                 batch_size: int = 10, wait_time_s: int = 1, queue_arn: str = "",
                 function_timeout_s: float | None = None) -> None:
        self.ctx = ctx
        self.faults = faults
        self.receipts = receipts
        self.batch_size = batch_size
        self.wait_time_s = wait_time_s
        self.queue_arn = queue_arn
        self.function_timeout_s = function_timeout_s  # real seconds (lambda-sqs)
        self.stopping = threading.Event()
        self.sqs = ctx.client("sqs")
        self._lost_deletes: set[str] = set()  # receipt handles whose delete SQS loses (sqs_duplicate)

    def receive(self) -> list[dict]:
        resp = self.sqs.receive_message(
            QueueUrl=self.ctx.queue_url, MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_time_s, AttributeNames=["All"],
            MessageAttributeNames=["All"])
        messages = resp.get("Messages", [])
        if messages:
            counts = [int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)) for m in messages]
            again = self.faults.sqs_duplicates([m["MessageId"] for m in messages], counts)
            self.receipts.received(
                (m["MessageId"], m["Body"], n, ("sqs_duplicate",) if m["MessageId"] in again else ())
                for m, n in zip(messages, counts))
            if again:
                self._visible_again([m for m in messages if m["MessageId"] in again])
            self.faults.after_receive(len(messages))
        return messages

    def _visible_again(self, messages: list[dict]) -> None:
        self.sqs.change_message_visibility_batch(QueueUrl=self.ctx.queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(messages)])
        self._lost_deletes.update(m["ReceiptHandle"] for m in messages)

    def delete(self, messages: list[dict]) -> None:
        messages = [m for m in messages if m["ReceiptHandle"] not in self._lost_deletes]
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.ctx.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])

    def run(self, dispatch: Callable[[list[dict]], None]) -> None:
        while not self.stopping.is_set():
            messages = self.receive()
            if messages:
                dispatch(messages)


class Deletes:
    """Deletes handled messages off the handling thread, in DeleteMessageBatch calls
    of up to ten: a call goes out when ten are waiting or LINGER_S after the first
    of them, so under load one call carries a batch and no handled message waits
    long (a visibility timeout is a second at least). ``flush`` waits until
    everything added is deleted (before a planned crash, at the end)."""

    LINGER_S = 0.01

    def __init__(self, send: Callable[[list[dict]], None]) -> None:
        self._send = send  # PollLoop.delete: one DeleteMessageBatch
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._pending = 0
        self._done = threading.Condition()
        threading.Thread(target=self._run, name="sqs-deletes", daemon=True).start()

    def add(self, message: dict) -> None:
        with self._done:
            self._pending += 1
        self._waiting.put(message)

    def flush(self, timeout_s: float = 5.0) -> None:
        with self._done:
            self._done.wait_for(lambda: self._pending == 0, timeout=timeout_s)

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            until = time.monotonic() + self.LINGER_S
            while len(batch) < 10:
                left = until - time.monotonic()
                try:
                    batch.append(self._waiting.get(timeout=left) if left > 0 else self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._send(batch)
            except Exception as exc:  # noqa: BLE001 - a lost delete is redelivery, as in SQS
                log.warning("DeleteMessageBatch failed (%s): %d message(s) will come back",
                            type(exc).__name__, len(batch))
            with self._done:
                self._pending -= len(batch)
                self._done.notify_all()


def _message(m: dict) -> Message:
    attrs = m.get("Attributes", {})
    return Message(message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"], body=m["Body"],
                   receive_count=int(attrs.get("ApproximateReceiveCount", 1)),
                   attributes=attrs, message_attributes=m.get("MessageAttributes", {}))


def class_dispatch(loop: PollLoop, consumer: Any) -> Callable[[list[dict]], None]:
    deletes = Deletes(loop.delete)
    loop.faults.before_exit = deletes.flush  # what was handled is deleted before a crash

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
            deletes.add(m)
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


def lambda_sqs_dispatch(loop: PollLoop, handler: Callable[[dict, Any], Any]) -> Callable[[list[dict]], None]:
    def dispatch(messages: list[dict]) -> None:
        event = {"Records": [sqs_record(m, queue_arn=loop.queue_arn, region=loop.ctx.region) for m in messages]}
        context = LambdaContext(loop.ctx.name, loop.ctx.region, loop.function_timeout_s)
        try:
            result = invoke(handler, event, context, before=loop.faults.before_handle)
        except FunctionTimeout as exc:  # the batch stays on the queue; the environment is gone
            log.info("%s (batch of %d left on the queue)", exc, len(messages))
            throw_away_environment()
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
