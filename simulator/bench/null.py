"""The null consumer: one effect per message, no deduplication, no validation. What
the harness itself can carry (SQS poll loop, effect sink, ledger, emulator) with
the consumer's own work taken out: the ceiling a benchmarked consumer is measured
against. Run it as ``python:simulator.bench.null:NullConsumer``."""
from __future__ import annotations

from simulator.clients.api import ConsumerContext, Message

SPEC = "python:simulator.bench.null:NullConsumer"


class NullConsumer:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        self.ctx.effect(message.event())
