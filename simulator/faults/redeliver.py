"""``redeliver``: EventBridge delivers an event to its target again (at-least-once
delivery; a retry after a target answer that was lost). Same body, same envelope
id; on an SQS target that is a second *message* (a new MessageId), so a consumer
keyed on the SQS messageId does not see it as a copy. SQS's own at-least-once
copy, the *same* message received again, is the ``sqs_duplicate`` consumer fault.

Delays may be long on purpose: a copy 400-900 s later is a *late duplicate* that a
5-minute dedup window has already forgotten; EventBridge retries reach 24 h."""
from __future__ import annotations

import random
from dataclasses import replace

from pydantic import Field

from simulator.faults.params import Delay, Params, Probability
from simulator.faults.wire import Context, draw
from simulator.model import Delivery

STAGE = 50  # after the producer and the burst decided when the first copy goes out


class RedeliverParams(Params):
    probability: Probability
    copies: int = Field(1, ge=1, le=100)
    delay_s: Delay = (1.0, 60.0)


def apply(deliveries: list[Delivery], rng: random.Random, params: RedeliverParams, ctx: Context) -> list[Delivery]:
    copies = []
    for delivery in deliveries:
        if delivery.kind == "poison":
            continue  # poison is scheduled on its own terms
        if rng.random() < params.probability:
            copies.extend(
                replace(delivery, kind="redeliver", at_s=delivery.at_s + draw(rng, params.delay_s))
                for _ in range(params.copies)
            )
    return deliveries + copies
