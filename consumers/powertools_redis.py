"""Strategy: AWS Lambda Powertools idempotency as consumers/powertools.py wires
it (``BatchProcessor`` + ``@idempotent_function`` per SQS record, keyed on
``powertools_json(body).detail.metadata.CorrelationId``), with Powertools' Redis
persistence layer (``CachePersistenceLayer``, the name Powertools gives
``RedisCachePersistenceLayer`` since 3.13: it deprecates the old one) on the
Redis the harness gives consumers (``REDIS_URL``) instead of DynamoDB. One small
file per store, as Powertools itself has.

The Redis layer claims a key with ``SET NX EX`` (INPROGRESS), overwrites it with
COMPLETED after the handler, deletes it when the handler raises; a record found
INPROGRESS with no in-progress expiry (``idempotent_function`` outside a Lambda
context) blocks retries until the whole record expires, one with an expired one
is an orphan it takes over under a lock. That is Powertools' behaviour and it is kept.

Predicts: none from copies while the record lives; duplicates for copies that
arrive after its expiry (Powertools' default 1 h: EventBridge retries hours
later); after a crash between the effect and COMPLETED, the record stays
INPROGRESS: retries fail with ``IdempotencyAlreadyInProgressError`` until it
expires, then the effect runs again (a duplicate) or the queue gives up first (the DLQ).
"""
from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency.persistence.cache import CachePersistenceLayer

from consumers.powertools import idempotent_batch_handler
from consumers.support import Handler, per_process
from simulator.clients.api import ConsumerContext


def make_handler(ctx: ConsumerContext) -> Handler:
    persistence = CachePersistenceLayer(client=ctx.redis())
    return idempotent_batch_handler(ctx, persistence)


handler = per_process(make_handler)
