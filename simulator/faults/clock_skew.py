"""``clock_skew``: Genesys runs many producer nodes and their clocks disagree.
Each logical event is stamped by one of ``nodes`` nodes; a node's clock is off by a
fixed ``offset_s`` (drawn per node from ``[lo, hi]``), drifts by up to
``drift_ppm`` parts per million of the time elapsed since the first event
(drawn per node from ``[-drift_ppm, +drift_ppm]``), and each stamp has up to
``jitter_ms`` of noise.

The skew is applied to the three time fields together, so they still agree with
each other (envelope ``time`` is the skewed ``detail.timestamp`` truncated to the
second; ``eventBody.eventTime`` keeps its type and its distance from
``detail.timestamp``); only their agreement with the true order is lost. Arrival
times do not change: it is the producer's clock that lies, not the network. Other
time-like fields in the body (durations, ``sessionStartTimeMs``) are left alone.

``by`` picks the node: ``event`` (each notification independently, as when
different services emit a conversation's events), ``entity`` (all events of one
conversation or user on one node), or ``topic`` (one node per topic)."""
from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from typing import Literal

from pydantic import Field

from simulator.faults.params import Params, SignedRange
from simulator.faults.wire import Context, dump, iso_ms, iso_s, load, parse_iso_ms
from simulator.model import Delivery

STAGE = 10  # the producer stamps the event before anything copies it


class ClockSkewParams(Params):
    nodes: int = Field(ge=1, le=1000)
    offset_s: SignedRange = (-1.0, 1.0)
    drift_ppm: float = Field(0.0, ge=0, le=1_000_000)
    jitter_ms: float = Field(0.0, ge=0)
    by: Literal["event", "entity", "topic"] = "event"


def true_stamp_ms(envelope: dict) -> int | None:
    detail = envelope.get("detail") or {}
    if isinstance(detail.get("timestamp"), str):
        return parse_iso_ms(detail["timestamp"])
    if isinstance(envelope.get("time"), str):
        return parse_iso_ms(envelope["time"])
    return None


def _entity_key(envelope: dict) -> str:
    detail = envelope.get("detail") or {}
    body = detail.get("eventBody") or {}
    return str(body.get("conversationId") or body.get("userId") or detail.get("topicName") or envelope.get("id"))


def _stable_node(key: str, nodes: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % nodes


def skew_envelope(envelope: dict, skew_ms: int) -> dict:
    """The envelope as a producer whose clock is ``skew_ms`` off would stamp it."""
    out = dict(envelope)
    detail = dict(out.get("detail") or {})
    stamp = true_stamp_ms(envelope)
    if isinstance(detail.get("timestamp"), str):
        detail["timestamp"] = iso_ms(stamp + skew_ms)
    if stamp is not None and "time" in out:
        out["time"] = iso_s(stamp + skew_ms)
    body = detail.get("eventBody")
    if isinstance(body, dict) and "eventTime" in body:
        body = dict(body)
        event_time = body["eventTime"]
        if isinstance(event_time, str):  # audit and transcription topics
            body["eventTime"] = iso_ms(parse_iso_ms(event_time) + skew_ms)
        elif isinstance(event_time, (int, float)) and not isinstance(event_time, bool):  # v2.detail.events.*
            body["eventTime"] = int(event_time) + skew_ms
        detail["eventBody"] = body
    if "detail" in out:
        out["detail"] = detail
    return out


def apply(deliveries: list[Delivery], rng: random.Random, params: ClockSkewParams, ctx: Context) -> list[Delivery]:
    offsets_ms = [rng.uniform(*params.offset_s) * 1000 for _ in range(params.nodes)]
    drifts = [rng.uniform(-params.drift_ppm, params.drift_ppm) / 1e6 for _ in range(params.nodes)]
    envelopes = [None if d.kind == "poison" else load(d.body) for d in deliveries]
    stamps = [true_stamp_ms(e) for e in envelopes if e is not None]
    first = min((s for s in stamps if s is not None), default=0)

    skew_of: dict[int | str | None, int] = {}  # one skew per logical event, shared by its copies

    def skew_for(delivery: Delivery, envelope: dict) -> int:
        key = delivery.seq if delivery.seq is not None else delivery.correlation_id
        if key not in skew_of:
            if params.by == "event":
                node = rng.randrange(params.nodes)
            else:
                key_of = _entity_key if params.by == "entity" else lambda e: str(e.get("detail-type"))
                node = _stable_node(key_of(envelope), params.nodes)
            stamp = true_stamp_ms(envelope)
            elapsed = 0 if stamp is None else stamp - first
            jitter = rng.uniform(-params.jitter_ms, params.jitter_ms) if params.jitter_ms else 0.0
            skew_of[key] = round(offsets_ms[node] + drifts[node] * elapsed + jitter)
        return skew_of[key]

    return [
        d if envelope is None else replace(d, body=dump(skew_envelope(envelope, skew_for(d, envelope))))
        for d, envelope in zip(deliveries, envelopes)
    ]
