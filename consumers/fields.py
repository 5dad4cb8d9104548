"""Where each key lives in a Genesys EventBridge event: the real fields, and the
fields the published guides read instead.

Every reference consumer picks its dedup or ordering key with one of these
functions; a verbatim/adapted pair differs in nothing else. Readers never raise
on a missing field: they return None, exactly as the guides' ``dict.get`` chains
do, so a consumer that keys on None behaves the way the guide's code would.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def _path(event: Any, *keys: str) -> Any:
    value = event
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# ---- real Genesys fields (DESIGN.md "Facts: the Genesys EventBridge wire format") ----


def envelope_id(event: dict) -> str | None:
    """EventBridge's ``id``: kept by EventBridge retries, new on every PutEvents."""
    return _path(event, "id")


def correlation_id(event: dict) -> str | None:
    """``detail.metadata.CorrelationId``: one per logical event, kept by re-publishes."""
    return _path(event, "detail", "metadata", "CorrelationId")


def conversation_id(event: dict) -> str | None:
    return _path(event, "detail", "eventBody", "conversationId")


def first_resource(event: dict) -> str | None:
    resources = _path(event, "resources")
    return resources[0] if isinstance(resources, list) and resources else None


def entity_key(event: dict) -> str | None:
    """The interaction an event is about: its conversation, else its concrete topic
    (``v2.users.<id>.presence`` names the user the way a conversation id would)."""
    return conversation_id(event) or _path(event, "detail", "topicName")


def event_time_ms(event: dict) -> int | None:
    """When Genesys says the event happened, in epoch ms: ``eventBody.eventTime``
    (a number on detail-event topics, an ISO string on audit and transcription
    topics), else ``detail.timestamp``."""
    value = _path(event, "detail", "eventBody", "eventTime")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return parse_iso_ms(value)
    stamp = _path(event, "detail", "timestamp")
    return parse_iso_ms(stamp) if isinstance(stamp, str) else None


def parse_iso_ms(text: str) -> int:
    """``2025-12-12T15:01:53.761Z`` -> epoch milliseconds. Raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MS


# ---- what the guides read (none of it exists on a real Genesys event) ----


def guide_detail_id(event: dict) -> str | None:
    return _path(event, "detail", "id")


def guide_event_id(event: dict) -> str | None:
    return _path(event, "detail", "eventId")


def guide_conversation_id(event: dict) -> str | None:
    return _path(event, "detail", "conversationId")
