"""``outage``: EventBridge (or the link to it) is down from ``start_s`` for
``duration_s``. Nothing planned inside the window arrives during it; the backlog
is released in one burst when it ends (true order kept, so the burst itself is
not a reordering). A ``republish`` fraction of the held events is also re-sent by
Genesys ``republish_delay_s`` after the end, with new envelope ids: the "producer
re-publish after an outage" story, where a consumer sees the backlog copy and the
re-sent copy of the same logical event."""
from __future__ import annotations

import random
from dataclasses import replace

from pydantic import Field

from simulator.faults.params import Delay, Params, Probability, Seconds
from simulator.faults.republish import resend
from simulator.faults.wire import Context, draw
from simulator.model import Delivery

STAGE = 30  # holds whatever the producer sent, re-sends included


class OutageParams(Params):
    start_s: Seconds
    duration_s: float = Field(gt=0)
    republish: Probability = 0.0
    republish_delay_s: Delay = (300.0, 300.0)


def apply(deliveries: list[Delivery], rng: random.Random, params: OutageParams, ctx: Context) -> list[Delivery]:
    end = params.start_s + params.duration_s
    planned, again = [], []
    for delivery in deliveries:
        if delivery.kind == "poison" or not params.start_s <= delivery.at_s < end:
            planned.append(delivery)
            continue
        planned.append(replace(delivery, at_s=end))
        if delivery.kind == "original" and rng.random() < params.republish:
            again.append(resend(delivery, rng, end + draw(rng, params.republish_delay_s)))
    return planned + again
