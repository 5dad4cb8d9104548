"""``burst``: the deliveries planned in ``[at_s, at_s + duration_s)`` arrive
``factor`` times faster: squeezed into the first ``duration_s / factor`` seconds of
the span, followed by a quiet gap until the span ends. The same events, the same
order, a ``factor``-fold arrival rate: what a consumer sees when a contact centre
opens, or when a stalled pipeline catches up. Traffic volume itself is the
generator's business (``traffic.conversations_per_minute``)."""
from __future__ import annotations

import random
from dataclasses import replace

from pydantic import Field

from simulator.faults.params import Params, Seconds
from simulator.faults.wire import Context
from simulator.model import Delivery

STAGE = 40  # shapes first arrivals; copies and reordering follow from it


class BurstParams(Params):
    at_s: Seconds
    duration_s: float = Field(gt=0)
    factor: float = Field(gt=1)


def apply(deliveries: list[Delivery], rng: random.Random, params: BurstParams, ctx: Context) -> list[Delivery]:
    start, end = params.at_s, params.at_s + params.duration_s
    return [
        replace(d, at_s=start + (d.at_s - start) / params.factor) if start <= d.at_s < end else d
        for d in deliveries
    ]
