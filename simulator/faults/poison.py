"""``poison``: messages no consumer can process, spread over the run. They are not
logical events (``correlation_id`` None); each body carries a fresh nonce so the
checker can follow it by body. A consumer must park or reject them visibly
(DLQ, error), and silently deleting one is counted against it.

Kinds:
- ``invalid_json``: a real-looking envelope cut off half-way;
- ``missing_detail``: a well-formed envelope without ``detail``;
- ``unknown_topic``: a well-formed envelope on a topic Genesys does not publish;
- ``oversize``: a valid-looking conversation event whose body exceeds the
  PutEvents per-entry limit (``eventbridge.max_entry_bytes``).
"""
from __future__ import annotations

import copy
import random
from typing import Literal

from pydantic import Field

from simulator.faults.params import Params
from simulator.faults.wire import Context, dump, load, new_uuid
from simulator.model import Delivery

STAGE = 70  # placed on the finished timeline, untouched by the other faults

PoisonKind = Literal["invalid_json", "missing_detail", "unknown_topic", "oversize"]
KINDS: tuple[str, ...] = ("invalid_json", "missing_detail", "unknown_topic", "oversize")
UNKNOWN_TOPIC = "v2.genesys-sim.{id}.unknown"
FIFO_GROUP = "poison"

# Used when the plan has no event to imitate (a plan of poison only).
_TEMPLATE = {
    "version": "0",
    "id": "",
    "detail-type": "v2.detail.events.conversation.{id}.customer.start",
    "source": "aws.partner/genesys.com/cloud/00000000-0000-0000-0000-000000000000/genesys-sim",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "topicName": "",
        "version": "2",
        "eventBody": {"eventTime": 1767225600000, "conversationId": "", "mediaType": "VOICE", "direction": "INBOUND"},
        "metadata": {"CorrelationId": ""},
        "timestamp": "2026-01-01T00:00:00.000Z",
    },
}


class PoisonParams(Params):
    count: int = Field(ge=0, le=100_000)
    kinds: list[PoisonKind] = Field(default_factory=lambda: list(KINDS), min_length=1)


def _template(deliveries: list[Delivery]) -> dict:
    for delivery in deliveries:
        if delivery.kind == "original":
            envelope = load(delivery.body)
            if isinstance(envelope.get("detail"), dict):
                return envelope
    return copy.deepcopy(_TEMPLATE)


def _well_formed(template: dict, rng: random.Random) -> tuple[dict, str]:
    nonce = new_uuid(rng)
    envelope = copy.deepcopy(template)
    envelope["id"] = nonce
    detail = envelope["detail"]
    detail["metadata"] = {"CorrelationId": new_uuid(rng)}
    detail["eventBody"] = dict(detail.get("eventBody") or {})
    if "conversationId" in detail["eventBody"]:
        detail["eventBody"]["conversationId"] = nonce
    return envelope, nonce


def poison_body(kind: str, template: dict, rng: random.Random, max_entry_bytes: int) -> tuple[str, str | None]:
    """(body, envelope id or None) for one poison message of ``kind``."""
    envelope, nonce = _well_formed(template, rng)
    if kind == "invalid_json":
        text = dump(envelope)
        # cut after the nonce so the body stays unique; a strict prefix of a JSON
        # object is never valid JSON
        cut = max(len(text) // 2, text.index(nonce) + len(nonce))
        return text[:cut], None
    if kind == "missing_detail":
        del envelope["detail"]
        return dump(envelope), nonce
    if kind == "unknown_topic":
        envelope["detail-type"] = UNKNOWN_TOPIC
        envelope["detail"]["topicName"] = UNKNOWN_TOPIC.replace("{id}", nonce)
        return dump(envelope), nonce
    # oversize: participant data is where real conversation events grow large
    envelope["detail-type"] = "v2.detail.events.conversation.{id}.attributes"
    envelope["detail"]["topicName"] = f"v2.detail.events.conversation.{nonce}.attributes"
    envelope["detail"]["eventBody"]["attributes"] = {"notes": ""}
    short = len(dump(envelope).encode())
    envelope["detail"]["eventBody"]["attributes"]["notes"] = "x" * (max_entry_bytes - short + 1024)
    return dump(envelope), nonce


def apply(deliveries: list[Delivery], rng: random.Random, params: PoisonParams, ctx: Context) -> list[Delivery]:
    if params.count == 0:
        return list(deliveries)
    span = max((d.at_s for d in deliveries), default=0.0)
    kinds = [params.kinds[i % len(params.kinds)] for i in range(params.count)]
    rng.shuffle(kinds)
    template = _template(deliveries)
    poison = []
    for i, kind in enumerate(kinds):
        body, envelope_id = poison_body(kind, template, rng, ctx.max_entry_bytes)
        poison.append(
            Delivery(
                at_s=span * (i + rng.random()) / params.count,  # one per slice of the run
                kind="poison",
                body=body,
                correlation_id=None,
                envelope_id=envelope_id,
                group=FIFO_GROUP if ctx.fifo else None,
                poison=kind,
            )
        )
    return deliveries + poison
