"""The raw emulator loop: what bare boto3 gets through a backend with no harness
around it, one client, the baseline the harness's own throughput is measured
against. Send N messages of a typical Genesys event's size in SendMessageBatch
calls, then receive them back ten at a time and delete each batch with
DeleteMessageBatch; the loop's rate is N over both phases."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from simulator.transport import create_topology
from simulator.transport.backend import Backend

BODY_BYTES = 1500  # about a conversation event's envelope


@dataclass(frozen=True)
class RawLoop:
    messages: int
    send_mps: float  # SendMessageBatch, messages per second
    drain_mps: float  # ReceiveMessage(10) + DeleteMessageBatch
    loop_mps: float  # messages / (send time + drain time)

    def to_dict(self) -> dict:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def raw_loop(backend: Backend, *, messages: int = 5000, body_bytes: int = BODY_BYTES) -> RawLoop:
    sqs = backend.client("sqs")
    with create_topology(backend, run_id="raw" + uuid.uuid4().hex[:10], delivery="sqs") as topo:
        body = "x" * body_bytes
        started = time.perf_counter()
        for first in range(0, messages, 10):
            sqs.send_message_batch(QueueUrl=topo.queue_url, Entries=[
                {"Id": str(i), "MessageBody": body} for i in range(min(10, messages - first))])
        sent = time.perf_counter()
        received = 0
        while received < messages:
            batch = sqs.receive_message(QueueUrl=topo.queue_url, MaxNumberOfMessages=10,
                                        WaitTimeSeconds=1).get("Messages", [])
            if not batch:
                continue
            received += len(batch)
            sqs.delete_message_batch(QueueUrl=topo.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        drained = time.perf_counter()
    send_s, drain_s = sent - started, drained - sent
    return RawLoop(messages=messages, send_mps=messages / send_s, drain_mps=messages / drain_s,
                   loop_mps=messages / (send_s + drain_s))
