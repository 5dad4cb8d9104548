"""Strategy: an HTTP handler (EventBridge API destination) that keeps a Python
``set`` of the envelope ids it has processed and answers 200 without processing
when it sees one again.

It reads the real envelope ``id``, so there is no verbatim variant. A failed
effect answers 500 and is not recorded, so EventBridge's retry processes it.

Predicts: duplicates across instances (each process has its own set) and after
every restart (the set is gone); re-publishes (new envelope id) processed twice;
memory that grows with every event ever seen (nothing is ever evicted).
"""
from __future__ import annotations

from flask import Flask, request

from consumers import fields
from simulator.clients.api import ConsumerContext


def create_app(ctx: ConsumerContext) -> Flask:
    app = Flask(__name__)
    seen: set[str] = set()

    @app.post("/")
    def receive() -> tuple[str, int]:
        event = request.get_json(force=True)  # invalid JSON: 400, EventBridge retries
        event_id = fields.envelope_id(event)
        if event_id in seen:
            return "", 200
        ctx.effect(event)  # DownstreamError: Flask answers 500, EventBridge retries
        seen.add(event_id)
        return "", 200

    @app.get("/seen")
    def seen_count() -> dict:
        return {"seen": len(seen)}

    return app
