"""The plan before any fault: every logical event delivered once, when it happened."""
from __future__ import annotations

from typing import Sequence

from simulator.faults.wire import dump
from simulator.model import Delivery, LogicalEvent


def baseline(events: Sequence[LogicalEvent], *, start_ms: int | None = None, fifo: bool = False) -> list[Delivery]:
    """One ``original`` delivery per event at its true time, in scenario seconds
    since ``start_ms`` (default: the first event's time)."""
    if not events:
        return []
    start = events[0].time_ms if start_ms is None else start_ms
    deliveries = []
    for event in events:
        if event.time_ms < start:
            raise ValueError(f"event seq {event.seq} at {event.time_ms} ms is before start_ms {start}")
        deliveries.append(
            Delivery(
                at_s=(event.time_ms - start) / 1000,
                kind="original",
                body=dump(event.event),
                correlation_id=event.correlation_id,
                envelope_id=event.event.get("id"),
                group=event.entity if fifo else None,
                seq=event.seq,
            )
        )
    return deliveries
