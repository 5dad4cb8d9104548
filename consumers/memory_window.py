"""Strategy: an in-memory 5-minute dedup window on an SQS poller.

The guides keep a dict of "recently processed event ids" in the worker, skip a
message whose id is in it, and record the id once processing succeeded. They key
it on ``detail.eventId``; a Genesys event has no such field, so the verbatim
variant keys every event on None: the first event is processed and every other
event inside the next 5 minutes is skipped as its duplicate. The adapted variant
keys on the envelope ``id``.

Predicts (adapted): duplicates for copies arriving more than 5 minutes apart,
for producer re-publishes (new envelope id), after a crash between the effect and
the mark (the window dies with the process), and across instances (each has its
own window).
"""
from __future__ import annotations

import time
from typing import Callable

from consumers import fields
from simulator.clients.api import ConsumerContext, Message

WINDOW_S = 5 * 60


class _WindowConsumer:
    key: Callable[[dict], object]

    def __init__(self, ctx: ConsumerContext, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.window_s = ctx.ttl(WINDOW_S)
        self._clock = clock
        # key -> expiry; insertion order is expiry order (every mark gets the same TTL)
        self._seen: dict[object, float] = {}

    def handle(self, message: Message) -> None:
        event = message.event()
        key = self.key(event)
        now = self._clock()
        self._forget_expired(now)
        if key in self._seen:
            return
        self.ctx.effect(event)
        self._seen[key] = now + self.window_s  # marked after processing, as the guides do

    def _forget_expired(self, now: float) -> None:
        for key, expires in list(self._seen.items()):
            if expires > now:
                break
            del self._seen[key]


class VerbatimWindowConsumer(_WindowConsumer):
    key = staticmethod(fields.guide_event_id)


class AdaptedWindowConsumer(_WindowConsumer):
    key = staticmethod(fields.envelope_id)
