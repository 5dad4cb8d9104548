"""Strategy: a Lambda on an SQS event source, deduplicating with Redis
``SET NX EX`` keyed on the EventBridge envelope ``id`` (falling back to the
conversation id when there is none), and reporting failed records through
``batchItemFailures``.

The envelope ``id`` is a real field, so there is no verbatim variant. It is the
id of one PutEvents entry, though, not of the Genesys event: EventBridge retries
keep it, a producer that sends the event again gets a new one.

Predicts: re-publishes (Genesys re-sending after an outage: same CorrelationId,
new envelope id) processed twice; and, as with every mark-before-effect design,
a record whose effect fails is lost on its retry (the key is already taken).
"""
from __future__ import annotations

from typing import Any

import orjson

from consumers import fields
from consumers.redis_nx import claim
from consumers.support import Handler, namespace, per_process, ttl_ms
from simulator.clients.api import ConsumerContext

TTL_S = 24 * 3600


def key_of(event: dict) -> str | None:
    return fields.envelope_id(event) or fields.conversation_id(event)


def make_handler(ctx: ConsumerContext) -> Handler:
    redis = ctx.redis()
    prefix = namespace(ctx)
    ttl = ttl_ms(ctx, TTL_S)

    def process(record: dict) -> None:
        event = orjson.loads(record["body"])
        if claim(redis, f"{prefix}{key_of(event)}", ttl):
            ctx.effect(event)

    def handler(event: dict, context: Any = None) -> dict:
        failures = []
        for record in event["Records"]:
            try:
                process(record)
            except Exception:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    return handler


handler = per_process(make_handler)
