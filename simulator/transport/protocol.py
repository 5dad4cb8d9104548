"""The one shape every delivery path has, so the runner drives an SQS injector, an
EventBridge injector and the push-target invoker the same way: an ``Injector``
puts a plan on the wire and tells a ``DeliveryListener`` what happened to each
delivery, from whatever thread it happened on."""
from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from simulator.clock import ScenarioClock
from simulator.model import Delivery, Sent
from simulator.transport.records import Attempt, InjectionStats, InvokerStats, Rejected, Undelivered


class DeliveryListener(Protocol):
    def sent(self, sent: Sent) -> None:
        """A delivery reached the wire (``at`` taken before the call that sent it)."""

    def refused(self, refused: Rejected) -> None:
        """The service refused a delivery: it never reached the consumer."""

    def attempted(self, attempt: Attempt) -> None:
        """One POST to a push target (first try or retry)."""

    def undelivered(self, undelivered: Undelivered) -> None:
        """A push delivery given up on: in the target's DLQ, or dropped."""

    def pending(self, delivery: Delivery, attempts: int) -> None:
        """A push delivery still being retried when the run's time was up."""

    def progress(self, sent: int) -> None:
        """Called after each call to the service with the count sent so far."""


class Listener:
    """A DeliveryListener that ignores everything: subclass what you need."""

    def sent(self, sent: Sent) -> None:
        pass

    def refused(self, refused: Rejected) -> None:
        pass

    def attempted(self, attempt: Attempt) -> None:
        pass

    def undelivered(self, undelivered: Undelivered) -> None:
        pass

    def pending(self, delivery: Delivery, attempts: int) -> None:
        pass

    def progress(self, sent: int) -> None:
        pass


class DeliveryLog(Listener):
    """Keeps everything it is told, in arrival order (thread-safe): for tests and
    tools that want the transport's account of a plan."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent_records: list[Sent] = []
        self.refused_records: list[Rejected] = []
        self.attempt_records: list[Attempt] = []
        self.undelivered_records: list[Undelivered] = []
        self.pending_records: list[tuple[Delivery, int]] = []

    def sent(self, sent: Sent) -> None:
        with self._lock:
            self.sent_records.append(sent)

    def refused(self, refused: Rejected) -> None:
        with self._lock:
            self.refused_records.append(refused)

    def attempted(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempt_records.append(attempt)

    def undelivered(self, undelivered: Undelivered) -> None:
        with self._lock:
            self.undelivered_records.append(undelivered)

    def pending(self, delivery: Delivery, attempts: int) -> None:
        with self._lock:
            self.pending_records.append((delivery, attempts))


@runtime_checkable
class Injector(Protocol):
    path: str  # sqs | eventbridge | push

    def run(self, deliveries: Iterable[Delivery], clock: ScenarioClock, listener: DeliveryListener,
            *, stop: threading.Event | None = None) -> InjectionStats | InvokerStats:
        """Put every delivery on the wire at its ``at_s``. Returns when the plan is
        sent (a push path: when every delivery is delivered, parked, dropped or
        reported ``pending``), or as soon as ``stop`` is set."""
