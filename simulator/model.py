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

DeliveryKind = Literal["original", "redeliver", "republish", "replay", "poison"]


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
    # The faults of the plan that made or moved this delivery, in the order they ran
    # (``redeliver``, ``reorder``...): the evidence behind an anomaly names them.
    faults: tuple[str, ...] = ()


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
class SqsDuplicateFault:
    """SQS hands a fraction of messages over again: the same message (same
    MessageId), received again while the first receiver still processes it."""

    probability: float


@dataclass(frozen=True, slots=True)
class StallFault:
    """For a fraction of effects, the consumer stalls ``delay_s`` scenario seconds
    right after the effect, before it returns (simulator/faults/stall.py)."""

    probability: float
    delay_s: float


@dataclass(frozen=True, slots=True)
class ConsumerFaults:
    crash: CrashFault | None = None
    slow: SlowFault | None = None
    sink: tuple[SinkFault, ...] = ()
    sqs_duplicate: SqsDuplicateFault | None = None
    stall: StallFault | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What the nemesis decided: deliveries sorted by ``at_s``, plus the faults the
    run applies on the consumer side."""

    deliveries: tuple[Delivery, ...]
    consumer_faults: ConsumerFaults = field(default_factory=ConsumerFaults)


# ---- observed history (written by the ledger, read by the checker) ----


@dataclass(frozen=True, slots=True)
class Sent:
    """A delivery as it actually went on the wire. ``at`` is taken before the call
    that sends it, so no effect can precede its delivery."""

    consumer: str
    at: float
    kind: DeliveryKind
    correlation_id: str | None
    envelope_id: str | None  # the id the consumer sees (PutEvents assigns its own)
    body_key: str  # stable identity of the planned body (poison is matched on this)
    message_id: str | None = None  # SQS MessageId, when the path has one
    poison: str | None = None
    planned_at: float | None = None  # when the plan wanted it sent (ledger clock)
    faults: tuple[str, ...] = ()  # Delivery.faults
    # False when the consumer's EventBridge rule does not route it (its detail-type is
    # not one the rule matches): it reached the bus, never the consumer.
    routed: bool = True


@dataclass(frozen=True, slots=True)
class Refused:
    """A delivery the wire refused (an oversize PutEvents entry, a failed batch
    entry): it never reached the consumer, which is not accountable for it."""

    consumer: str
    at: float
    kind: DeliveryKind
    correlation_id: str | None
    envelope_id: str | None
    body_key: str
    error_code: str
    error_message: str = ""
    poison: str | None = None
    faults: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Receive:
    consumer: str
    instance: int
    at: float
    message_id: str | None
    envelope_id: str | None
    correlation_id: str | None
    receive_count: int = 1
    # consumer-side faults applied to this receive (``sqs_duplicate``: the message
    # was made visible again at once, so it is received again)
    faults: tuple[str, ...] = ()


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
    """A message found in the consumer's DLQ at the end of the run."""

    consumer: str
    at: float
    body_key: str
    correlation_id: str | None
    envelope_id: str | None
    attributes: dict = field(default_factory=dict)
    message_id: str | None = None
    receive_count: int | None = None  # ApproximateReceiveCount on the source queue


LeftoverWhere = Literal["queue", "in_flight", "retrying"]


@dataclass(frozen=True, slots=True)
class Leftover:
    """A message not done with when the run ended: still on the consumer's queue
    (``queue``), received but neither deleted nor back when the consumers stopped
    (``in_flight``), or a push delivery EventBridge was still retrying (``retrying``)."""

    consumer: str
    body_key: str
    correlation_id: str | None
    envelope_id: str | None
    at: float = 0.0
    where: LeftoverWhere = "queue"
    receive_count: int | None = None
    message_id: str | None = None


LifecycleEvent = Literal["start", "crash", "exit", "timeout", "stop"]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A consumer instance process started, crashed as planned, exited on its own,
    was killed by its function timeout, or was stopped at the end of the run."""

    consumer: str
    instance: int
    at: float
    event: LifecycleEvent
    code: int | None = None  # exit status
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class PushAttempt:
    """One POST of an event to a push target (EventBridge -> Lambda/HTTP)."""

    consumer: str
    at: float
    correlation_id: str | None
    envelope_id: str | None
    body_key: str
    number: int  # 1 = first try
    status: int | None  # HTTP status; None: timeout or connection error
    outcome: str  # delivered | retry | failed
    error_code: str | None = None


@dataclass(slots=True)
class History:
    """Everything observed in one run; the checker's only input."""

    logical: list[LogicalEvent] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    receives: list[Receive] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    dlq: list[DlqEntry] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    lifecycle: list[Lifecycle] = field(default_factory=list)
    attempts: list[PushAttempt] = field(default_factory=list)
    complete: bool = True
    elapsed_s: float = 0.0
    # The run's own description (scenario, seed, consumers and their specs, options),
    # written first in the ledger so a ledger alone can be scored and explained.
    meta: dict = field(default_factory=dict)
    stopped: str | None = None  # why an incomplete run ended (interrupted, backend gone, ...)


def body_key(body: str) -> str:
    """Stable short identity of a message body: how poison and DLQ entries are matched."""
    import hashlib

    return hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
