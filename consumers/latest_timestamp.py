"""Strategy: latest-timestamp-wins per interaction. The consumer keeps, per
conversation, the event time of the newest event it applied, skips any event
that is not newer, and writes the entity's state (an upsert) for the rest.

It reads the real fields: the key is ``detail.eventBody.conversationId`` (the
concrete ``detail.topicName`` for events that are not about a conversation), the
time is ``eventBody.eventTime`` (epoch ms, or ISO on audit and transcription
topics), else ``detail.timestamp``. So there is no verbatim variant.

The high-water mark is advanced atomically (WATCH/MULTI) after the effect, so a
failed effect is retried and two instances never lower it.

Predicts: missed events whenever the producers' clocks disagree or events arrive
out of order (an event older than one already applied is skipped although it was
never applied: acd.end after user.start, a skewed node's events), two distinct
events with the same eventTime (the second is dropped), and stale final state
when the skipped event was the true last one.
"""
from __future__ import annotations

from typing import Any

from consumers import fields
from consumers.support import RedisConsumer
from simulator.clients.api import Message



def advance(redis: Any, key: str, time_ms: int, ttl: int) -> None:
    """Raise the stored high-water mark at ``key`` to ``time_ms``; never lower it."""

    def update(pipe: Any) -> None:
        current = pipe.get(key)
        if current is not None and int(current) >= time_ms:
            return
        pipe.multi()
        pipe.set(key, time_ms, px=ttl)

    redis.transaction(update, key)


class LatestTimestampConsumer(RedisConsumer):
    def handle(self, message: Message) -> None:
        event = message.event()
        time_ms = fields.event_time_ms(event)
        if time_ms is None:
            raise ValueError("event has neither detail.eventBody.eventTime nor detail.timestamp")
        key = f"{self.prefix}{fields.entity_key(event)}"
        latest = self.redis.get(key)
        if latest is not None and time_ms <= int(latest):
            return  # not newer than what we applied: stale, skip
        self.ctx.effect(event, upsert=True)
        advance(self.redis, key, time_ms, self.ttl_ms)
