"""The records that flow between the pieces: generator -> nemesis -> transport ->
consumer -> sink -> ledger -> checker.

Every piece speaks in these types and nothing else, so each one can be used and
tested alone (a checker test builds a History by hand; a nemesis test feeds it a
list of LogicalEvents).

Times: ``time_ms`` on a logical event is true wall-clock epoch milliseconds in the
simulated world; ``at_s`` on a delivery is *scenario* seconds since the run
started; ``at`` on observed records (receives, effects, DLQ entries) is *real*
seconds since the run started (``time.monotonic()`` based), because that is what
the harness can observe.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DeliveryKind = Literal["original", "redeliver", "republish", "poison"]


@dataclass(frozen=True, slots=True)
class LogicalEvent:
    """One Genesys notification, as it happened (true order, true clock)."""

    seq: int  # position in true order, 0-based, gap-free within one generation
    correlation_id: str  # detail.metadata.CorrelationId: the identity of the event
    topic: str  # detail-type: the topic pattern with {id} placeholders
    time_ms: int  # true epoch ms at which Genesys emitted it
    entity: str  # what the event is about: conversation id, user id, queue id
    state: str  # the entity state this event implies (for final-state scoring)
    event: dict  # the EventBridge envelope, exactly as delivered (true clocks)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message the transport puts on the wire at scenario time ``at_s``."""

    at_s: float
    kind: DeliveryKind
    body: str  # the exact text on the wire (JSON of the envelope, or poison)
    correlation_id: str | None  # None for poison
    envelope_id: str | None  # envelope ``id``; None for poison that has none
    group: str | None = None  # FIFO MessageGroupId (the entity)
    seq: int | None = None  # LogicalEvent.seq; None for poison
    poison: str | None = None  # poison kind: invalid_json | missing_detail | unknown_topic | oversize


@dataclass(frozen=True, slots=True)
class CrashFault:
    """Consumer process exits abruptly at ``point`` on every ``every``-th occurrence."""

    point: Literal["after_receive", "after_effect", "mid_batch"]
    every: int
    restart_after_s: float  # scenario seconds before the instance is restarted


@dataclass(frozen=True, slots=True)
class SlowFault:
    """Processing takes ``delay_s`` scenario seconds for a fraction of messages."""

    probability: float
    delay_s: float


@dataclass(frozen=True, slots=True)
class SinkFault:
    """The effect sink answers ``status`` (or is slow) for a fraction of calls."""

    probability: float
    status: int = 500  # 500 | 429 | 200 (200 with delay = slow only)
    delay_s: float = 0.0  # scenario seconds added to each failing call
    window_s: tuple[float, float] | None = None  # only within [start, end) scenario time


@dataclass(frozen=True, slots=True)
class ConsumerFaults:
    crash: CrashFault | None = None
    slow: SlowFault | None = None
    sink: tuple[SinkFault, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """What the nemesis decided: deliveries sorted by ``at_s``, plus the faults the
    run applies on the consumer side."""

    deliveries: tuple[Delivery, ...]
    consumer_faults: ConsumerFaults = field(default_factory=ConsumerFaults)


# ---- observed history (written by the ledger, read by the checker) ----


@dataclass(frozen=True, slots=True)
class Sent:
    """A delivery as it actually went on the wire."""

    consumer: str
    at: float
    kind: DeliveryKind
    correlation_id: str | None
    envelope_id: str | None
    body_key: str  # stable identity of the body (poison is matched on this)
    message_id: str | None = None  # SQS MessageId, when the path has one
    poison: str | None = None


@dataclass(frozen=True, slots=True)
class Receive:
    consumer: str
    instance: int
    at: float
    message_id: str | None
    envelope_id: str | None
    correlation_id: str | None
    receive_count: int = 1


@dataclass(frozen=True, slots=True)
class Effect:
    """One call a consumer made to the downstream sink."""

    consumer: str
    at: float
    correlation_id: str | None  # resolved from the event or given directly
    envelope_id: str | None
    idempotency_key: str | None
    applied: bool  # False: the sink failed it, or the key had already been applied
    status: int  # HTTP status the sink answered
    upsert: bool = False  # the effect writes the entity's state (final-state probe)
    instance: int | None = None


@dataclass(frozen=True, slots=True)
class DlqEntry:
    consumer: str
    at: float
    body_key: str
    correlation_id: str | None
    envelope_id: str | None
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Leftover:
    """A message still on the consumer's queue when the run ended (not deleted)."""

    consumer: str
    body_key: str
    correlation_id: str | None
    envelope_id: str | None


@dataclass(slots=True)
class History:
    """Everything observed in one run; the checker's only input."""

    logical: list[LogicalEvent] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    receives: list[Receive] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    dlq: list[DlqEntry] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    complete: bool = True
    elapsed_s: float = 0.0


def body_key(body: str) -> str:
    """Stable short identity of a message body: how poison and DLQ entries are matched."""
    import hashlib

    return hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
