"""Strategy: a webhook (EventBridge API destination) that marks the event as seen
in Redis with a 24 h TTL *first*, then processes it, and always answers 200 so
that EventBridge never retries ("acknowledge fast, never get the same event twice").

The guides mark ``detail.id``; a Genesys event has none, so the verbatim variant
marks ``...:None`` once and acknowledges every later event unprocessed for 24 h.
The adapted variant marks the envelope ``id``.

Predicts (adapted): an event is missed whenever the downstream fails after the
mark (the 200 tells EventBridge it was delivered, and the mark would skip a retry
anyway); invalid bodies are acknowledged and dropped silently; re-publishes (new
envelope id) are processed twice.
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import Flask, request

from consumers import fields
from consumers.redis_nx import claim
from consumers.support import namespace, ttl_ms
from simulator.clients.api import ConsumerContext

TTL_S = 24 * 3600
log = logging.getLogger(__name__)


def _build(ctx: ConsumerContext, key_of: Callable[[dict], object]) -> Flask:
    app = Flask(__name__)
    redis = ctx.redis()
    prefix = namespace(ctx)
    ttl = ttl_ms(ctx, TTL_S)

    @app.post("/")
    def receive() -> tuple[str, int]:
        event = request.get_json(force=True, silent=True)
        if not isinstance(event, dict):
            return "", 200
        if claim(redis, f"{prefix}{key_of(event)}", ttl):
            try:
                ctx.effect(event)
            except Exception:
                log.exception("processing failed; acknowledged anyway")
        return "", 200

    return app


def create_app(ctx: ConsumerContext) -> Flask:
    return _build(ctx, fields.envelope_id)


def create_verbatim_app(ctx: ConsumerContext) -> Flask:
    return _build(ctx, fields.guide_detail_id)
