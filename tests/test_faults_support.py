"""Hand-built logical events shaped like the captures in genesys-captures/, so the
nemesis and scenario tests do not depend on the generator. (No tests here.)"""
from __future__ import annotations

import uuid

from simulator.faults.wire import iso_ms, iso_s
from simulator.model import LogicalEvent

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SOURCE = "aws.partner/genesys.com/cloud/6f2b1a52-0c8e-4e55-9a3c-0d3f1c0b7e11/genesys_acme"

# (detail-type, eventTime is epoch ms?) a conversation's life, then other kinds of topic
TOPICS = (
    ("v2.detail.events.conversation.{id}.customer.start", True),
    ("v2.detail.events.conversation.{id}.acd.start", True),
    ("v2.detail.events.conversation.{id}.acd.end", True),
    ("v2.conversations.{id}.transcription", False),
    ("v2.detail.events.conversation.{id}.user.end", True),
    ("v2.detail.events.conversation.{id}.customer.end", True),
    ("v2.audits.entitytype.{id}.entityid.{id}", False),
)


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def envelope(topic: str, entity: str, time_ms: int, correlation_id: str, envelope_id: str, numeric_time: bool) -> dict:
    event_time = time_ms - 7 if numeric_time else iso_ms(time_ms - 1)  # eventTime a little before timestamp
    return {
        "version": "0",
        "id": envelope_id,
        "detail-type": topic,
        "source": SOURCE,
        "account": "123456789012",
        "time": iso_s(time_ms),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "topicName": topic.replace("{id}", entity),
            "version": "2",
            "eventBody": {"eventTime": event_time, "conversationId": entity, "mediaType": "VOICE", "direction": "INBOUND"},
            "metadata": {"CorrelationId": correlation_id},
            "timestamp": iso_ms(time_ms),
        },
    }


def make_events(n: int, *, spacing_ms: int = 250, start_ms: int = START_MS, conversations: int = 3) -> list[LogicalEvent]:
    events = []
    for seq in range(n):
        topic, numeric = TOPICS[seq % len(TOPICS)]
        entity = _uuid("conversation", seq % conversations)
        time_ms = start_ms + seq * spacing_ms
        correlation_id, envelope_id = _uuid("correlation", seq), _uuid("envelope", seq)
        events.append(
            LogicalEvent(
                seq=seq,
                correlation_id=correlation_id,
                topic=topic,
                time_ms=time_ms,
                entity=entity,
                state=topic.rsplit(".", 1)[-1],
                event=envelope(topic, entity, time_ms, correlation_id, envelope_id, numeric),
            )
        )
    return events
