"""The Genesys notification topics the generator produces, and how a user names them.

A topic is named by its EventBridge ``detail-type``: the topic pattern with ``{id}``
placeholders left in. Users may also give the short name (``acd.end``, ``presence``)
or a shell-style glob over patterns (``v2.detail.events.conversation.*``).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Iterable

from simulator.errors import BadInput

CONVERSATION_PREFIX = "v2.detail.events.conversation.{id}."


@dataclass(frozen=True, slots=True)
class Topic:
    pattern: str  # detail-type
    name: str  # short name, unique
    schema: str  # file in simulator/schemas/
    # detail.timestamp - (the moment the event describes): Genesys publishes a few
    # hundred ms after the fact on detail events, almost at once on transcription.
    delay_ms: tuple[int, int]


def _conversation(name: str, delay: tuple[int, int] = (180, 480)) -> Topic:
    return Topic(CONVERSATION_PREFIX + name, name, f"conversation.{name}.json", delay)


CUSTOMER_START = _conversation("customer.start")
CUSTOMER_END = _conversation("customer.end")
FLOW_START = _conversation("flow.start")
FLOW_END = _conversation("flow.end")
FLOW_OUTCOME = _conversation("flow.outcome")
ACD_START = _conversation("acd.start")
ACD_END = _conversation("acd.end")
USER_START = _conversation("user.start")
USER_END = _conversation("user.end")
ACW = _conversation("acw")
ATTRIBUTES = _conversation("attributes", (1, 6))
PRESENCE = Topic("v2.users.{id}.presence", "presence", "users.presence.json", (40, 260))
ROUTING_STATUS = Topic("v2.users.{id}.routingStatus", "routingStatus",
                       "users.routingStatus.json", (40, 260))
AUDIT = Topic("v2.audits.entitytype.{id}.entityid.{id}", "audit", "audits.json", (250, 900))
TRANSCRIPTION = Topic("v2.conversations.{id}.transcription", "transcription",
                      "conversations.transcription.json", (0, 4))
QUEUE_CONVERSATIONS = Topic("v2.routing.queues.{id}.conversations", "queue.conversations",
                            "routing.queues.conversations.json", (30, 220))

TOPICS: tuple[Topic, ...] = (
    CUSTOMER_START, CUSTOMER_END, FLOW_START, FLOW_END, FLOW_OUTCOME, ACD_START, ACD_END,
    USER_START, USER_END, ACW, ATTRIBUTES, PRESENCE, ROUTING_STATUS, AUDIT, TRANSCRIPTION,
    QUEUE_CONVERSATIONS,
)
BY_PATTERN: dict[str, Topic] = {t.pattern: t for t in TOPICS}
BY_NAME: dict[str, Topic] = {t.name: t for t in TOPICS}
ALL_PATTERNS: frozenset[str] = frozenset(BY_PATTERN)


def resolve_topics(names: Iterable[str] | None, *, where: str = "topics") -> frozenset[str]:
    """The detail-type patterns meant by ``names`` (None: every topic).

    Each name is a pattern, a short name or a glob; anything that matches no topic
    is bad input, reported with ``where`` (the option or field it came from)."""
    if names is None:
        return ALL_PATTERNS
    if isinstance(names, str):  # one topic given where a list was expected
        names = [names]
    chosen: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise BadInput(f"topic must be a string, got {name!r}", where=where)
        if name in BY_PATTERN:
            chosen.add(name)
        elif name in BY_NAME:
            chosen.add(BY_NAME[name].pattern)
        elif any(c in name for c in "*?["):
            matched = fnmatch.filter(BY_PATTERN, name)
            if not matched:
                raise BadInput(f"topic glob {name!r} matches no topic", where=where)
            chosen.update(matched)
        else:
            known = ", ".join(t.pattern for t in TOPICS)
            raise BadInput(f"unknown topic {name!r} (known: {known})", where=where)
    if not chosen:
        raise BadInput("no topic given", where=where)
    return frozenset(chosen)


def state_name(topic: Topic) -> str:
    """The final-state label of a conversation detail event: the part after ``{id}.``."""
    return topic.pattern[len(CONVERSATION_PREFIX):]
