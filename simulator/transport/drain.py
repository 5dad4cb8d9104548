"""Reading a queue empty at the end of a run: the DLQ, and the leftovers on the
consumer's queue. Destructive (each batch is deleted once read): it is meant for
after the consumers stopped, just before teardown. Drain a source queue before its
DLQ: SQS moves a message that has reached maxReceiveCount to the DLQ on the next
receive, and the drain's receive is one."""
from __future__ import annotations

from typing import Any

from simulator.transport.backend import Backend
from simulator.transport.records import DrainedMessage


def drain_queue(backend: Backend, queue_url: str, *, visibility_timeout_s: int = 0,
                max_messages: int | None = None) -> list[DrainedMessage]:
    """Every message on ``queue_url``, in the order received; stops after two empty
    receives in a row (or ``max_messages``). ``visibility_timeout_s`` is passed to
    ReceiveMessage (0: a message whose delete fails is seen again at once; keep 0
    unless the emulator is slow to delete)."""
    sqs = backend.client("sqs")
    drained: list[DrainedMessage] = []
    seen: set[str] = set()
    empty = 0
    while empty < 2 and (max_messages is None or len(drained) < max_messages):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
            VisibilityTimeout=visibility_timeout_s, AttributeNames=["All"],
            MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            empty += 1
            continue
        empty = 0
        for message in messages:
            if message["MessageId"] not in seen:  # a failed delete shows it again
                seen.add(message["MessageId"])
                drained.append(_drained(message))
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return drained[:max_messages] if max_messages is not None else drained


def _drained(message: dict[str, Any]) -> DrainedMessage:
    return DrainedMessage(body=message["Body"], message_id=message["MessageId"],
                          attributes=dict(message.get("Attributes", {})),
                          message_attributes=dict(message.get("MessageAttributes", {})))
