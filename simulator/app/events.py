"""Generated events over HTTP, as NDJSON: the generator alone, for fixtures and for
feeding other tools. Streamed, so a large ``count`` never sits in memory."""
from __future__ import annotations

import itertools
from typing import Iterator

import orjson
from flask import Blueprint, Response, request

from simulator.app.context import app_context
from simulator.app.errors import ApiError
from simulator.errors import BadInput
from simulator.model import LogicalEvent

bp = Blueprint("events", __name__)

MAX_COUNT = 100_000  # the default limit of create_app(max_events=...)
DEFAULT_COUNT = 100
FORMATS = ("eventbridge", "logical")
_PARAMS = ("topic", "count", "seed", "format")
_LINES_PER_CHUNK = 256  # fewer, larger writes; one event per line still


@bp.get("/events")
def stream_events() -> Response:
    args = request.args
    for name in args:
        if name not in _PARAMS:
            raise ApiError(400, f"unknown query parameter {name!r} (expected {', '.join(_PARAMS)})", name)
    limit = app_context().max_events
    count = _int_param("count", min(DEFAULT_COUNT, limit), 1, limit)
    seed = _int_param("seed", 0, 0, 2**63 - 1)
    fmt = args.get("format", "eventbridge")
    if fmt not in FORMATS:
        raise ApiError(400, f"format must be one of {', '.join(FORMATS)}, got {fmt!r}", "format")
    topics = [t.strip() for value in args.getlist("topic") for t in value.split(",") if t.strip()]

    try:
        from simulator.events import generate
    except ImportError:
        raise ApiError(503, "the event generator (simulator.events) is not available") from None
    # Pull the first event now: a bad topic must be a 400, not a truncated 200 stream.
    try:
        events = iter(generate(seed, topics=topics or None))
        first = next(events, None)
    except (BadInput, ValueError) as exc:
        raise ApiError(400, str(exc), getattr(exc, "where", None) or "topic") from None
    if first is None:
        return Response(b"", mimetype="application/x-ndjson")
    chosen = itertools.islice(itertools.chain([first], events), count)
    return Response(_ndjson(chosen, fmt), mimetype="application/x-ndjson")


def _ndjson(events: Iterator[LogicalEvent], fmt: str) -> Iterator[bytes]:
    encode = _envelope if fmt == "eventbridge" else _logical
    while True:
        chunk = [encode(ev) for ev in itertools.islice(events, _LINES_PER_CHUNK)]
        if not chunk:
            return
        yield b"".join(chunk)


def _envelope(ev: LogicalEvent) -> bytes:
    return orjson.dumps(ev.event) + b"\n"


def _logical(ev: LogicalEvent) -> bytes:
    return orjson.dumps({"seq": ev.seq, "correlation_id": ev.correlation_id, "topic": ev.topic,
                         "time_ms": ev.time_ms, "entity": ev.entity, "state": ev.state,
                         "event": ev.event}) + b"\n"


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {raw!r}", name) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be within {low}..{high}, got {value}", name)
    return value

