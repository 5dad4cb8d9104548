"""What the transport reports besides ``simulator.model.Sent``: deliveries the wire
refused, each push attempt, push deliveries given up on, and messages drained from
a queue. Plain frozen records, like those in simulator.model."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from simulator.clock import ScenarioClock
from simulator.model import Delivery, Sent, body_key


@dataclass(frozen=True, slots=True)
class Rejected:
    """A delivery the service refused (PutEvents entry error, oversize entry, SQS
    batch failure): it never reached the queue. ``at`` is real seconds since the run
    started."""

    delivery: Delivery
    at: float
    error_code: str
    error_message: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of an event to a push target (EventBridge -> Lambda/HTTP)."""

    delivery: Delivery
    number: int  # 1 = first try, 2 = first retry, ...
    at: float  # real seconds since the run started
    at_s: float  # scenario seconds
    target: str  # URL that was called
    status: int | None  # HTTP status; None on timeout or connection error
    error_code: str | None  # EventBridge DLQ error code when it failed
    error_message: str | None
    # duplicate: a second delivery the service made of an event already delivered
    # (Lambda "may invoke a function twice for one event")
    outcome: Literal["delivered", "retry", "failed", "duplicate"]


@dataclass(frozen=True, slots=True)
class Undelivered:
    """A push delivery given up on: sent to the target's DLQ (or a Lambda
    function's DLQ or on-failure destination), or dropped. ``exhausted`` names
    the limit that ended the retries, as the service calls it (EventBridge:
    MaximumRetryAttempts | MaximumEventAgeInSeconds; Lambda: RetriesExhausted |
    EventAgeExceeded) or None for an error that is not retried."""

    delivery: Delivery
    at: float
    attempts: int
    error_code: str
    error_message: str
    exhausted: str | None
    dlq_message_id: str | None  # None: dropped
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DrainedMessage:
    body: str
    message_id: str
    attributes: dict[str, str]  # SQS system attributes (ApproximateReceiveCount, ...)
    # custom attributes as ReceiveMessage returns them: {name: {"StringValue": ..., "DataType": ...}}
    message_attributes: dict[str, dict]

    def attribute(self, name: str) -> str | None:
        """A custom attribute's string value (e.g. ERROR_CODE on an EventBridge DLQ)."""
        value = self.message_attributes.get(name)
        return value.get("StringValue") if value else None


@dataclass(slots=True)
class InjectionStats:
    sent: int = 0
    rejected: int = 0
    calls: int = 0  # API calls made (SendMessageBatch, PutEvents, POST)
    late_s: float = 0.0  # worst lag behind the schedule, scenario seconds


@dataclass(slots=True)
class InvokerStats:
    deliveries: int = 0  # deliveries started
    attempts: int = 0  # POSTs made (first tries + retries)
    delivered: int = 0
    to_dlq: int = 0
    dropped: int = 0
    pending: int = 0  # still waiting for a retry when the time was up


def sent_record(delivery: Delivery, consumer: str, at: float, clock: ScenarioClock, *,
                envelope_id: str | None, message_id: str | None, routed: bool = True) -> Sent:
    """The ``Sent`` of ``delivery``, sent at ``at`` (real seconds on ``clock``'s origin)."""
    return Sent(consumer=consumer, at=at, kind=delivery.kind, correlation_id=delivery.correlation_id,
                envelope_id=envelope_id, body_key=body_key(delivery.body), message_id=message_id,
                poison=delivery.poison, planned_at=clock.real_s(delivery.at_s), faults=delivery.faults,
                routed=routed)
