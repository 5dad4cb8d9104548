"""Strategy: check -> process -> set in a key-value store (Redis ``GET``, then the
effect, then ``SET`` with a 24 h TTL), the non-atomic "have I processed this?"
that the guides write before they reach for ``SET NX``.

The guides key it on ``detail.id``; a Genesys event has none, so the verbatim
variant stores ``...:None`` after the first event and skips every later one for
24 h. The adapted variant keys on ``detail.metadata.CorrelationId``, the real
identity of a Genesys event, so re-publishes are caught.

Predicts (adapted): duplicates when two instances race on copies of one event
(both GET before either SETs), and after a crash between the effect and the SET
(the redelivery finds no key).
"""
from __future__ import annotations

from typing import Callable

from consumers import fields
from consumers.support import RedisConsumer
from simulator.clients.api import Message



class _CheckThenSetConsumer(RedisConsumer):
    key: Callable[[dict], object]

    def handle(self, message: Message) -> None:
        event = message.event()
        key = f"{self.prefix}{self.key(event)}"
        if self.redis.get(key) is not None:
            return
        self.ctx.effect(event)
        self.redis.set(key, b"1", px=self.ttl_ms)


class VerbatimCheckThenSetConsumer(_CheckThenSetConsumer):
    key = staticmethod(fields.guide_detail_id)


class AdaptedCheckThenSetConsumer(_CheckThenSetConsumer):
    key = staticmethod(fields.correlation_id)
