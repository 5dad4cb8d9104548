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
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from simulator.clock import ScenarioClock
from simulator.model import Delivery
from simulator.transport.backend import Backend
from simulator.transport.protocol import DeliveryListener
from simulator.transport.records import InjectionStats, Rejected, sent_record
from simulator.transport.schedule import due_batches
from simulator.transport.topology import Topology

SQS_BATCH_BYTES = 262144
FIFO_DEDUP_WINDOW_S = 300.0
LINGER_S = 0.02  # real seconds a batch may wait for more deliveries to fall due


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


# Whole-call errors that are the service refusing what was sent (the content, the
# batch): the entries are refused. Anything else (a queue that is gone, a backend
# that does not answer) is an environment failure and is raised.
REFUSALS = frozenset({
    "InvalidMessageContents", "AWS.SimpleQueueService.InvalidMessageContents", "InvalidParameterValue",
    "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", "MessageTooLong",
    "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "ValidationException", "ValidationError", "InvalidAttributeValue", "InvalidParameterException",
})


def refusal(exc: ClientError) -> tuple[str, str] | None:
    """(code, message) when ``exc`` is the service refusing the request's content."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    return (code, error.get("Message", str(exc))) if code in REFUSALS else None


def send_entries(sqs: Any, queue_url: str, entries: list[dict]) -> list[tuple[str | None, str, str]]:
    """One SendMessageBatch. Per entry, in order: (MessageId, "", "") when accepted,
    (None, code, message) when refused; a refused call refuses every entry. Errors
    that are not refusals (``REFUSALS``) are raised: the run cannot go on."""
    try:
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    except ClientError as exc:
        refused = refusal(exc)
        if refused is None:
            raise
        return [(None, *refused)] * len(entries)
    outcome: dict[str, tuple[str | None, str, str]] = {}
    for ok in response.get("Successful", []):
        outcome[ok["Id"]] = (ok["MessageId"], "", "")
    for failed in response.get("Failed", []):
        outcome[failed["Id"]] = (None, failed.get("Code", "Failed"), failed.get("Message", ""))
    return [outcome.get(e["Id"], (None, "Missing", "no result for entry")) for e in entries]


class SqsInjector:
    """Sends a delivery plan to the topology's queue on the scenario clock.

    A standard queue keeps no order, so calls go out from ``senders`` threads at
    once: one call's round trip does not hold back the next batch that is due (a
    single sender tops out near what one connection carries, below what a busy
    plan offers). A FIFO queue gets one sender: its order is the plan's."""

    path = "sqs"

    def __init__(self, backend: Backend, topology: Topology, *, consumer: str = "",
                 group_id: str | None = None, max_batch_bytes: int = SQS_BATCH_BYTES,
                 dedup_window_s: float = FIFO_DEDUP_WINDOW_S, senders: int = 4) -> None:
        if topology.queue_url is None:
            raise ValueError(f"topology of run {topology.run_id} has no queue (push delivery)")
        self.consumer = consumer
        self._sqs = backend.client("sqs")
        self._queue_url = topology.queue_url
        self._fifo = topology.fifo
        self._group = group_id or topology.group_id
        self._max_batch_bytes = max_batch_bytes
        self._dedup = FifoDedup(dedup_window_s)
        self.senders = 1 if topology.fifo else max(1, senders)

    def _entry(self, index: int, delivery: Delivery) -> dict:
        entry = {"Id": str(index), "MessageBody": delivery.body}
        if self._fifo:
            entry["MessageGroupId"] = delivery.group or self._group
            entry["MessageDeduplicationId"] = self._dedup.dedup_id(delivery.body, delivery.at_s)
        return entry

    def run(self, deliveries: Iterable[Delivery], clock: ScenarioClock, listener: DeliveryListener,
            *, stop: threading.Event | None = None) -> InjectionStats:
        """Send every delivery at its ``at_s``; tell ``listener`` of each (sent, or
        refused by SQS). Returns when the plan is sent or ``stop`` is set."""
        stats = InjectionStats()
        lock = threading.Lock()

        def send(batch: list[Delivery], entries: list[dict]) -> None:
            at = time.monotonic() - clock.start  # before the call: no receive can precede it
            outcomes = send_entries(self._sqs, self._queue_url, entries)
            for delivery, (message_id, code, message) in zip(batch, outcomes):
                if message_id is None:
                    listener.refused(Rejected(delivery, at, code, message))
                else:
                    listener.sent(sent_record(delivery, self.consumer, at, clock,
                                              envelope_id=delivery.envelope_id, message_id=message_id))
            with lock:
                stats.calls += 1
                stats.rejected += sum(1 for o in outcomes if o[0] is None)
                stats.sent += sum(1 for o in outcomes if o[0] is not None)
                sent = stats.sent
            listener.progress(sent)

        with Senders(self.senders) as pool:
            for batch in due_batches(deliveries, clock, size=body_bytes, linger_s=LINGER_S,
                                     max_bytes=self._max_batch_bytes, stop=stop):
                stats.late_s = max(stats.late_s, clock.now_s() - batch[0].at_s)
                # entries are built here, in plan order: FIFO dedup ids depend on it
                pool.submit(send, batch, [self._entry(i, d) for i, d in enumerate(batch)])
        return stats


class Senders:
    """A few threads for calls to a service, at most ``2 * n`` calls waiting (so a
    plan running ahead of the service waits here, on the schedule's thread); the
    first exception a call raises is raised again when the pool closes."""

    def __init__(self, n: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(n, thread_name_prefix="sender") if n > 1 else None
        self._room = threading.BoundedSemaphore(2 * n)
        self._errors: list[BaseException] = []

    def submit(self, fn: Any, *args: Any) -> None:
        if self._errors:
            raise self._errors[0]
        if self._pool is None:
            fn(*args)
            return
        self._room.acquire()

        def call() -> None:
            try:
                fn(*args)
            except BaseException as exc:  # raised again in the caller's thread
                self._errors.append(exc)
            finally:
                self._room.release()

        self._pool.submit(call)

    def __enter__(self) -> "Senders":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._errors and exc[0] is None:
            raise self._errors[0]
