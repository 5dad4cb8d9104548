"""Turning a delivery plan into API calls on the scenario clock: wait until the next
delivery is due, then take every delivery already due with it, up to the call's
entry and byte limits. Shared by the SQS and EventBridge injectors."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

from simulator.clock import ScenarioClock
from simulator.model import Delivery


def wait_until(clock: ScenarioClock, at_s: float, stop: threading.Event | None = None) -> bool:
    """Sleep until scenario time ``at_s``; False if ``stop`` was set meanwhile."""
    if stop is None:
        clock.sleep_until(at_s)
        return True
    delay = clock.start + at_s / clock.time_scale - time.monotonic()
    return not stop.wait(delay) if delay > 0 else not stop.is_set()


def due_batches(deliveries: Iterable[Delivery], clock: ScenarioClock, *,
                size: Callable[[Delivery], int], max_entries: int = 10,
                max_bytes: int = 262144, linger_s: float = 0.0,
                stop: threading.Event | None = None) -> Iterator[list[Delivery]]:
    """Batches of deliveries in plan order, each sent once its first delivery is due.
    A batch holds at most ``max_entries`` deliveries and ``max_bytes`` by ``size``;
    a single delivery bigger than ``max_bytes`` comes alone (the service refuses it
    as it would). ``linger_s`` (real seconds): a batch that is not full waits that
    long past its first delivery's time for the next ones to fall due, as an
    SDK's batching producer does; without it, a busy plan goes out a call per
    delivery."""
    pending: Delivery | None = None
    source = iter(deliveries)
    linger = linger_s * clock.time_scale  # scenario seconds
    while True:
        first = pending if pending is not None else next(source, None)
        pending = None
        if first is None:
            return
        if not wait_until(clock, first.at_s, stop):
            return
        batch, total = [first], size(first)
        while len(batch) < max_entries:
            nxt = next(source, None)
            if nxt is None:
                break
            if total + size(nxt) > max_bytes or total > max_bytes:
                pending = nxt
                break
            if nxt.at_s > clock.now_s():
                if nxt.at_s > first.at_s + linger or not wait_until(clock, nxt.at_s, stop):
                    pending = nxt
                    break
            batch.append(nxt)
            total += size(nxt)
        yield batch
