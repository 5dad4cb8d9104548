"""End-of-run collection: what is left on a consumer's queues once its instances
have stopped. Owned here, by the transport, because the order matters and is a
fact about SQS: the source queue is read before its DLQ, since a receive of a
message that has reached maxReceiveCount moves it to the DLQ (the drain's own
receive is one), and messages the stopped consumers held in flight come back
only when their visibility timeout runs out, so the collection waits for them
instead of losing them from the history."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from simulator.transport.backend import Backend
from simulator.transport.drain import drain_queue
from simulator.transport.records import DrainedMessage
from simulator.transport.topology import Topology

_COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
           "ApproximateNumberOfMessagesDelayed")


@dataclass
class QueueEnds:
    """``queue``: visible on the source queue when the consumers stopped;
    ``in_flight``: received by a consumer, neither deleted nor visible then (they
    came back during the collection); ``dlq``: in the DLQ after both;
    ``stuck``: messages the source queue still hid when the wait ran out."""

    queue: list[DrainedMessage] = field(default_factory=list)
    in_flight: list[DrainedMessage] = field(default_factory=list)
    dlq: list[DrainedMessage] = field(default_factory=list)
    stuck: int = 0


def pending_messages(backend: Backend, queue_url: str) -> int:
    """Messages on a queue, visible, in flight or delayed."""
    attrs = backend.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=list(_COUNTS))["Attributes"]
    return sum(int(attrs.get(name, 0)) for name in _COUNTS)


def collect_ends(backend: Backend, topology: Topology, *, in_flight_wait_s: float) -> QueueEnds:
    """Empty the run's queues, source first. ``in_flight_wait_s`` (real seconds):
    how long to wait for in-flight messages to become visible again (the queue's
    visibility timeout, plus a margin)."""
    ends = QueueEnds()
    if topology.queue_url:
        ends.queue = drain_queue(backend, topology.queue_url)
        deadline = time.monotonic() + in_flight_wait_s
        while True:
            try:
                left = pending_messages(backend, topology.queue_url)
            except (ClientError, BotoCoreError):
                left = 0  # the queue is gone: nothing more to collect from it
            if left == 0:
                break
            if time.monotonic() >= deadline:
                ends.stuck = left
                break
            time.sleep(0.1)
            ends.in_flight += drain_queue(backend, topology.queue_url)
    if topology.dlq_url:
        ends.dlq = drain_queue(backend, topology.dlq_url)
    return ends


def wait_until_drained(backend: Backend, queue_url: str, *, quiet_s: float, timeout_s: float,
                       max_s: float, activity: Callable[[], int], stop: threading.Event,
                       progress: Callable[[int], None] | None = None) -> str:
    """Wait until nothing is left on the queue, visible or in flight, for a quiet
    spell of ``quiet_s``: every message was deleted by the consumer or redriven to
    the DLQ. Returns ``drained``, ``timeout`` or ``stopped``.

    ``timeout_s`` counts from the last sign of progress (the backlog shrank, or
    ``activity()`` grew: the consumer called the sink), so a consumer that is
    merely slow on a loaded machine is not cut off while it still works; ``max_s``
    bounds the whole wait."""
    started = time.monotonic()
    deadline = started + timeout_s
    fewest: int | None = None
    busy = -1
    empty_since: float | None = None
    while not stop.is_set():
        now = time.monotonic()
        if now >= deadline or now - started > max_s:
            return "timeout"
        pending = pending_messages(backend, queue_url)
        calls = activity()
        if fewest is None or pending < fewest or calls > busy:
            fewest = pending if fewest is None else min(pending, fewest)
            busy = calls
            deadline = now + timeout_s
        if pending == 0:
            empty_since = empty_since or now
            if now - empty_since >= quiet_s:
                return "drained"
        else:
            empty_since = None
        if progress:
            progress(pending)
        # GetQueueAttributes counts the queue (moto scans it): often enough to see
        # the end a moment after it comes, not so often that it slows the drain.
        stop.wait(0.25)
    return "stopped"
