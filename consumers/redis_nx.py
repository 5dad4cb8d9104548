"""Strategy: Redis ``SET key NX EX ttl`` before the downstream call, keyed on the
conversation (else the resource, else the event id).

The guides claim the key atomically and process only when the claim succeeded,
so two instances never both process: "lock, then work". They build the key from
``detail.conversationId``, ``resources[0]`` or ``detail.eventId``; a Genesys
event has none of these (``resources`` is ``[]``), so the verbatim variant claims
the same key ``...:None`` for every event and processes one event per TTL. The
adapted variant reads ``detail.eventBody.conversationId``, then ``resources[0]``,
then the envelope ``id``.

Predicts (adapted): every event of a conversation after the first is skipped
(missed: customer.start claims the key and acd.end, user.end, customer.end...
collapse into it); and, because the mark comes before the effect, an event whose
effect fails (or whose process crashes in between) is lost: its redelivery finds
the key taken.
"""
from __future__ import annotations

from typing import Any, Callable

from consumers import fields
from consumers.support import RedisConsumer
from simulator.clients.api import Message



def claim(redis: Any, key: str, ttl_ms: int) -> bool:
    """``SET key 1 NX PX ttl``: True for the one caller that set it first."""
    return bool(redis.set(key, b"1", nx=True, px=ttl_ms))


def adapted_key(event: dict) -> str | None:
    return fields.conversation_id(event) or fields.first_resource(event) or fields.envelope_id(event)


def verbatim_key(event: dict) -> str | None:
    return fields.guide_conversation_id(event) or fields.first_resource(event) or fields.guide_event_id(event)


class _SetNxConsumer(RedisConsumer):
    key: Callable[[dict], object]

    def handle(self, message: Message) -> None:
        event = message.event()
        if not claim(self.redis, f"{self.prefix}{self.key(event)}", self.ttl_ms):
            return  # someone processed it (or is processing it)
        self.ctx.effect(event)


class VerbatimSetNxConsumer(_SetNxConsumer):
    key = staticmethod(verbatim_key)


class AdaptedSetNxConsumer(_SetNxConsumer):
    key = staticmethod(adapted_key)
