"""The ``sqs`` delivery path: the producer writes each delivery's body, byte for
byte, straight to the queue with SendMessageBatch (10 entries, 256 KiB per call).

FIFO: ``MessageGroupId`` is the delivery's group (the entity) or the topology's
fixed group; ``MessageDeduplicationId`` is the SHA-256 of the body, so an exact
copy sent within the 5-minute interval is dropped by the queue as SQS does (our
moto patch keeps the id after the original is deleted, as SQS does). The
emulators' interval is 5 *real* minutes while the plan runs on the scenario
clock: ``FifoDedup`` gives a copy sent more than 5 *scenario* minutes after the
first a fresh id, so the queue accepts it as SQS would have.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from simulator.clock import ScenarioClock
from simulator.model import Delivery, Sent, body_key
from simulator.transport.backend import Backend
from simulator.transport.records import InjectionStats, Rejected
from simulator.transport.schedule import due_batches
from simulator.transport.topology import Topology

SQS_BATCH_BYTES = 262144
FIFO_DEDUP_WINDOW_S = 300.0

OnSent = Callable[[Sent], None]
OnRejected = Callable[[Rejected], None]
Progress = Callable[..., None]  # progress("sending", sent=n) after each call


class FifoDedup:
    """Deduplication ids on the scenario clock (see the module docstring)."""

    def __init__(self, window_s: float = FIFO_DEDUP_WINDOW_S) -> None:
        self.window_s = window_s
        self._first: dict[str, tuple[float, int]] = {}  # digest -> (first at_s, generation)

    def generation(self, body: str, at_s: float) -> tuple[str, int]:
        """(SHA-256 of ``body``, generation): generation 0 until ``window_s`` after
        the first send, then 1, ... Same generation = same dedup id = dropped."""
        digest = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
        first = self._first.get(digest)
        if first is not None and at_s - first[0] < self.window_s:
            return digest, first[1]
        generation = 0 if first is None else first[1] + 1
        self._first[digest] = (at_s, generation)
        return digest, generation

    def dedup_id(self, body: str, at_s: float) -> str:
        digest, generation = self.generation(body, at_s)
        return digest if generation == 0 else f"{digest}-{generation}"


def body_bytes(delivery: Delivery) -> int:
    return len(delivery.body.encode("utf-8", "surrogatepass"))


def split_by_bytes(entries: list[dict], max_bytes: int = SQS_BATCH_BYTES) -> list[list[dict]]:
    """SendMessageBatch calls for ``entries`` (already at most 10): each at most
    ``max_bytes`` of bodies, a single larger entry alone (SQS refuses it)."""
    calls: list[list[dict]] = []
    total = 0
    for entry in entries:
        size = len(entry["MessageBody"].encode("utf-8", "surrogatepass"))
        if not calls or total + size > max_bytes:
            calls.append([])
            total = 0
        calls[-1].append(entry)
        total += size
    return calls


def send_entries(sqs: Any, queue_url: str, entries: list[dict]) -> list[tuple[str | None, str, str]]:
    """One SendMessageBatch. Per entry, in order: (MessageId, "", "") when accepted,
    (None, code, message) when refused; a refused call refuses every entry."""
    try:
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return [(None, error.get("Code", "ClientError"), error.get("Message", str(exc)))] * len(entries)
    except BotoCoreError as exc:
        return [(None, exc.__class__.__name__, str(exc))] * len(entries)
    outcome: dict[str, tuple[str | None, str, str]] = {}
    for ok in response.get("Successful", []):
        outcome[ok["Id"]] = (ok["MessageId"], "", "")
    for failed in response.get("Failed", []):
        outcome[failed["Id"]] = (None, failed.get("Code", "Failed"), failed.get("Message", ""))
    return [outcome.get(e["Id"], (None, "Missing", "no result for entry")) for e in entries]


class SqsInjector:
    """Sends a delivery plan to the topology's queue on the scenario clock."""

    path = "sqs"

    def __init__(self, backend: Backend, topology: Topology, *, consumer: str = "",
                 group_id: str | None = None, max_batch_bytes: int = SQS_BATCH_BYTES,
                 dedup_window_s: float = FIFO_DEDUP_WINDOW_S) -> None:
        if topology.queue_url is None:
            raise ValueError(f"topology of run {topology.run_id} has no queue (push delivery)")
        self.consumer = consumer
        self._sqs = backend.client("sqs")
        self._queue_url = topology.queue_url
        self._fifo = topology.fifo
        self._group = group_id or topology.group_id
        self._max_batch_bytes = max_batch_bytes
        self._dedup = FifoDedup(dedup_window_s)

    def _entry(self, index: int, delivery: Delivery) -> dict:
        entry = {"Id": str(index), "MessageBody": delivery.body}
        if self._fifo:
            entry["MessageGroupId"] = delivery.group or self._group
            entry["MessageDeduplicationId"] = self._dedup.dedup_id(delivery.body, delivery.at_s)
        return entry

    def run(self, deliveries: Iterable[Delivery], clock: ScenarioClock, on_sent: OnSent,
            progress: Progress | None = None, *, on_rejected: OnRejected | None = None,
            stop: threading.Event | None = None) -> InjectionStats:
        """Send every delivery at its ``at_s``; report each via ``on_sent`` (or
        ``on_rejected`` when SQS refuses it). Returns when the plan is sent or
        ``stop`` is set."""
        stats = InjectionStats()
        for batch in due_batches(deliveries, clock, size=body_bytes,
                                 max_bytes=self._max_batch_bytes, stop=stop):
            stats.late_s = max(stats.late_s, clock.now_s() - batch[0].at_s)
            entries = [self._entry(i, d) for i, d in enumerate(batch)]
            outcomes = send_entries(self._sqs, self._queue_url, entries)
            stats.calls += 1
            at = time.monotonic() - clock.start
            for delivery, (message_id, code, message) in zip(batch, outcomes):
                if message_id is None:
                    stats.rejected += 1
                    if on_rejected:
                        on_rejected(Rejected(delivery, at, code, message))
                    continue
                stats.sent += 1
                on_sent(Sent(consumer=self.consumer, at=at, kind=delivery.kind,
                             correlation_id=delivery.correlation_id,
                             envelope_id=delivery.envelope_id, body_key=body_key(delivery.body),
                             message_id=message_id, poison=delivery.poison))
            if progress:
                progress("sending", sent=stats.sent)
        return stats

    inject = run
