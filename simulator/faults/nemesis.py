"""``plan``: logical events in, a delivery plan out. Pure and deterministic: the
same events, faults and seed give the same Plan, byte for byte.

Delivery faults run in a fixed order that follows the path an event takes, not
the order they are listed in (so a scenario's fault list reads as a set):
producer clocks (clock_skew) -> producer re-sends (republish) -> the bus is down
(outage) -> arrival surges (burst) -> archive replays (replay) -> transport copies
(redeliver) -> transport reordering (reorder) -> poison placed on the finished
timeline. Several faults of
one kind run in list order. Each fault draws from its own random stream.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from simulator.faults.baseline import baseline
from simulator.faults.spec import FaultSpec, coerce
from simulator.faults.wire import Context, fault_rng
from simulator.model import (ConsumerFaults, CrashFault, Delivery, LogicalEvent, Plan, SlowFault,
                             SqsDuplicateFault, StallFault)


def delivery_order(delivery: Delivery) -> tuple[float, float]:
    """Sort key of ``Plan.deliveries``: time; ties in true (seq) order, poison last."""
    return (delivery.at_s, float("inf") if delivery.seq is None else delivery.seq)


def plan(
    events: Sequence[LogicalEvent],
    faults: Sequence[FaultSpec | dict[str, Any]],
    *,
    seed: int,
    fifo: bool = False,
    max_entry_bytes: int = 262144,
    start_ms: int | None = None,
) -> Plan:
    specs = coerce(list(faults))
    start = start_ms if start_ms is not None else (events[0].time_ms if events else 0)
    ctx = Context(fifo=fifo, max_entry_bytes=max_entry_bytes, start_ms=start)
    deliveries = baseline(events, start_ms=start, fifo=fifo)
    delivery_faults = [(i, s) for i, s in enumerate(specs) if s.fault.apply]
    for index, spec in sorted(delivery_faults, key=lambda pair: (pair[1].fault.stage, pair[0])):
        applied = spec.fault.apply(deliveries, fault_rng(seed, index, spec.name), spec.params, ctx)
        deliveries = _provenance(deliveries, applied, spec.name)
    deliveries.sort(key=delivery_order)  # stable: equal keys keep the order the faults left
    return Plan(deliveries=tuple(deliveries), consumer_faults=consumer_faults(specs))


def _provenance(before: list[Delivery], after: list[Delivery], name: str) -> list[Delivery]:
    """``after`` with ``name`` added to the faults of every delivery the fault made
    or changed. Fault modules stay pure and unaware of provenance: whatever they
    return that is not, by value, one of their inputs is their work."""
    unchanged = set(before)
    return [d if d in unchanged else replace(d, faults=(*d.faults, name)) for d in after]


def consumer_faults(specs: Sequence[FaultSpec]) -> ConsumerFaults:
    made = [spec.fault.consumer(spec.params) for spec in specs if spec.fault.consumer]
    return ConsumerFaults(
        crash=next((f for f in made if isinstance(f, CrashFault)), None),
        slow=next((f for f in made if isinstance(f, SlowFault)), None),
        sink=tuple(f for f in made if not isinstance(f, (CrashFault, SlowFault, SqsDuplicateFault, StallFault))),
        sqs_duplicate=next((f for f in made if isinstance(f, SqsDuplicateFault)), None),
        stall=next((f for f in made if isinstance(f, StallFault)), None),
    )
