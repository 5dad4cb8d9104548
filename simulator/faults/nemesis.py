"""``plan``: logical events in, a delivery plan out. Pure and deterministic: the
same events, faults and seed give the same Plan, byte for byte.

Delivery faults run in a fixed order that follows the path an event takes, not
the order they are listed in (so a scenario's fault list reads as a set):
producer clocks (clock_skew) -> producer re-sends (republish) -> the bus is down
(outage) -> arrival surges (burst) -> transport copies (redeliver) -> transport
reordering (reorder) -> poison placed on the finished timeline. Several faults of
one kind run in list order. Each fault draws from its own random stream.
"""
from __future__ import annotations

from typing import Any, Sequence

from simulator.faults.baseline import baseline
from simulator.faults.spec import FaultSpec, coerce
from simulator.faults.wire import Context, fault_rng
from simulator.model import ConsumerFaults, CrashFault, Delivery, LogicalEvent, Plan, SlowFault


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
    ctx = Context(fifo=fifo, max_entry_bytes=max_entry_bytes)
    deliveries = baseline(events, start_ms=start_ms, fifo=fifo)
    delivery_faults = [(i, s) for i, s in enumerate(specs) if s.fault.apply]
    for index, spec in sorted(delivery_faults, key=lambda pair: (pair[1].fault.stage, pair[0])):
        deliveries = spec.fault.apply(deliveries, fault_rng(seed, index, spec.name), spec.params, ctx)
    deliveries.sort(key=delivery_order)  # stable: equal keys keep the order the faults left
    return Plan(deliveries=tuple(deliveries), consumer_faults=consumer_faults(specs))


def consumer_faults(specs: Sequence[FaultSpec]) -> ConsumerFaults:
    made = [spec.fault.consumer(spec.params) for spec in specs if spec.fault.consumer]
    return ConsumerFaults(
        crash=next((f for f in made if isinstance(f, CrashFault)), None),
        slow=next((f for f in made if isinstance(f, SlowFault)), None),
        sink=tuple(f for f in made if not isinstance(f, (CrashFault, SlowFault))),
    )
