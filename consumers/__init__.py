"""Reference consumers: one per deduplication strategy that published guides
recommend for Genesys EventBridge events, each implemented the way its guide
writes it, so a scenario run shows which events that strategy misses or repeats.

Where a guide reads fields a Genesys event does not have (``detail.id``,
``detail.eventId``, ``detail.conversationId``), there are two variants: the
``-verbatim`` one reads what the guide reads, the plain one reads the real
fields. Run one with the spec ``ref:NAME``; ``genesys-sim consumers`` lists them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.errors import BadInput

# seed 004's handlers are TypeScript files run under Deno: named by path, not module
_DENO = Path(__file__).resolve().parent / "deno"


@dataclass(frozen=True)
class Reference:
    name: str
    spec: str  # the spec string it runs as
    strategy: str
    predicts: str  # one line: the failure it predicts


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "memory-window-verbatim", "python:consumers.memory_window:VerbatimWindowConsumer",
        "in-memory 5-minute window on detail.eventId, marked after processing",
        "detail.eventId does not exist: one event per 5 minutes is processed, the rest missed",
    ),
    Reference(
        "memory-window", "python:consumers.memory_window:AdaptedWindowConsumer",
        "in-memory 5-minute window on the envelope id, marked after processing",
        "duplicates for late copies (> 5 min), re-publishes, crashes after the effect, several instances",
    ),
    Reference(
        "redis-nx-conversation-verbatim", "python:consumers.redis_nx:VerbatimSetNxConsumer",
        "Redis SET NX EX before the effect, on detail.conversationId / resources[0] / detail.eventId",
        "none of those fields exist: one event per 24 h is processed, the rest missed",
    ),
    Reference(
        "redis-nx-conversation", "python:consumers.redis_nx:AdaptedSetNxConsumer",
        "Redis SET NX EX before the effect, on eventBody.conversationId / resources[0] / envelope id",
        "all events of a conversation after the first missed; a failed effect loses its event",
    ),
    Reference(
        "redis-nx-envelope", "lambda-sqs:consumers.redis_envelope:handler",
        "Lambda on SQS: Redis SET NX EX on the envelope id (else conversation id), batchItemFailures",
        "re-publishes (new envelope id) processed twice; a failed effect loses its event",
    ),
    Reference(
        "webhook-mark-first-verbatim", "wsgi:consumers.webhook_mark_first:create_verbatim_app",
        "webhook: mark detail.id in Redis for 24 h first, then process, always answer 200",
        "detail.id does not exist: one event per 24 h is processed, the rest missed",
    ),
    Reference(
        "webhook-mark-first", "wsgi:consumers.webhook_mark_first:create_app",
        "webhook: mark the envelope id in Redis for 24 h first, then process, always answer 200",
        "missed events whenever the downstream fails after the mark; poison dropped silently",
    ),
    Reference(
        "http-seen-set", "wsgi:consumers.http_seen_set:create_app",
        "webhook: in-memory set of processed envelope ids",
        "duplicates across instances, after restarts and for re-publishes; memory grows forever",
    ),
    Reference(
        "check-then-set-verbatim", "python:consumers.check_then_set:VerbatimCheckThenSetConsumer",
        "Redis GET detail.id, then the effect, then SET (not atomic)",
        "detail.id does not exist: one event per 24 h is processed, the rest missed",
    ),
    Reference(
        "check-then-set", "python:consumers.check_then_set:AdaptedCheckThenSetConsumer",
        "Redis GET CorrelationId, then the effect, then SET (not atomic)",
        "duplicates when instances race on copies, and after a crash between effect and SET",
    ),
    Reference(
        "latest-timestamp-wins", "python:consumers.latest_timestamp:LatestTimestampConsumer",
        "per conversation, apply (upsert) only events newer than the newest applied eventTime",
        "missed events and stale state under clock skew and reordering; equal eventTimes collapse",
    ),
    Reference(
        "powertools-verbatim", "lambda-sqs:consumers.powertools:verbatim_handler",
        "Powertools idempotent_function per SQS record on messageId (DynamoDB), batchItemFailures",
        "duplicates for every copy that arrives as a new SQS message (EventBridge copies, re-publishes)",
    ),
    Reference(
        "powertools", "lambda-sqs:consumers.powertools:handler",
        "Powertools idempotent_function per SQS record on CorrelationId (DynamoDB), batchItemFailures",
        "after a crash mid-record: AlreadyInProgress until expiry, then a duplicate (or the DLQ)",
    ),
    Reference(
        "powertools-redis", "lambda-sqs:consumers.powertools_redis:handler",
        "Powertools idempotent_function per SQS record on CorrelationId (Redis), batchItemFailures",
        "duplicates for copies arriving after the record's 1 h expiry; a crash mid-record: AlreadyInProgress until then",
    ),
    Reference(
        "powertools-function", "python:consumers.powertools_function:Consumer",
        "Powertools idempotent_function on CorrelationId (Redis) outside a Lambda context, SQS poll loop",
        "duplicates for copies arriving after the record's 1 h expiry; up to 3.34.0 also when two executions of one "
        "event overlap (#8386); poison it can parse is processed and deleted, not parked",
    ),
    Reference(
        "deno-seen-set", f"deno:{_DENO / 'seen_set.ts'}:handler",
        "Deno fetch handler: in-memory Set of envelope ids, added before processing",
        "failed effects missed (their retry is answered 'duplicate'); duplicates after restarts, re-publishes, across instances",
    ),
    Reference(
        "deno-kv-two-tier", f"deno:{_DENO / 'kv_two_tier.ts'}:handler",
        "Deno fetch handler on Deno KV: envelope id get, process, set (5 min); conversation state check",
        "reordered conversation events missed as stale; duplicates when copies race or a crash follows the effect",
    ),
    Reference(
        "deno-latest-map", f"deno:{_DENO / 'latest_map.ts'}:handler",
        "Deno fetch handler: in-memory Map of the latest eventTime per interaction, upsert if newer",
        "missed events and stale state under reordering and skew; duplicates after restarts and across instances",
    ),
    Reference(
        "postgres-on-conflict", "python:consumers.postgres_dedup:OnConflictConsumer",
        "PostgreSQL: dedup row INSERT ... ON CONFLICT DO NOTHING and the state upsert in one transaction",
        "none missed or duplicated; stale state only where producer clocks disagree (eventTime order)",
    ),
    Reference(
        "postgres-for-update", "python:consumers.postgres_dedup:ForUpdateConsumer",
        "PostgreSQL: entity row SELECT ... FOR UPDATE, dedup row and state write in one transaction",
        "none missed or duplicated; stale state only where producer clocks disagree (eventTime order)",
    ),
    Reference(
        "correct", "python:consumers.correct:CorrectConsumer",
        "effect idempotency key = CorrelationId, delete only after the effect, poison to the DLQ",
        "nothing: zero missed, zero duplicated",
    ),
)

_BY_NAME = {ref.name: ref for ref in REFERENCES}


def get(name: str) -> Reference:
    """The reference consumer called ``name``; BadInput naming the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise BadInput(
            f"unknown reference consumer {name!r}; known: {', '.join(_BY_NAME)}", where=f"ref:{name}"
        ) from None
