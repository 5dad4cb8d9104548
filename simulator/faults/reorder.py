"""``reorder``: SQS standard queues and EventBridge do not keep order. Deliveries,
taken in time order, are cut into consecutive windows of ``window``; within each
window the arrival times are dealt out again at random, so an event can overtake
at most ``window - 1`` neighbours and nothing moves outside its window.
``jitter_s`` then adds an independent uniform delay in ``[0, jitter_s]`` to every
delivery (a softer, unbounded-neighbour reordering)."""
from __future__ import annotations

import random
from dataclasses import replace

from pydantic import Field

from simulator.faults.params import Params, Seconds
from simulator.faults.wire import Context
from simulator.model import Delivery

STAGE = 60  # last of the timing faults: it shuffles what the others produced


class ReorderParams(Params):
    window: int = Field(ge=1)
    jitter_s: Seconds = 0.0


def time_order(delivery: Delivery) -> tuple[float, float]:
    return (delivery.at_s, float("inf") if delivery.seq is None else delivery.seq)


def apply(deliveries: list[Delivery], rng: random.Random, params: ReorderParams, ctx: Context) -> list[Delivery]:
    ordered = sorted(deliveries, key=time_order)
    shuffled = []
    for start in range(0, len(ordered), params.window):
        chunk = ordered[start : start + params.window]
        times = [d.at_s for d in chunk]
        rng.shuffle(times)
        shuffled.extend(replace(d, at_s=t) for d, t in zip(chunk, times))
    if params.jitter_s:
        shuffled = [replace(d, at_s=d.at_s + rng.uniform(0, params.jitter_s)) for d in shuffled]
    return shuffled
