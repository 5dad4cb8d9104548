"""Turning a plan into calls: order kept, call limits respected, nothing sent early."""
from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from simulator.clock import ScenarioClock
from simulator.model import Delivery
from simulator.transport.schedule import due_batches
from simulator.transport.sqs_injector import FifoDedup, split_by_bytes


def plan(times: list[float], sizes: list[int]) -> list[Delivery]:
    return [Delivery(at_s=t, kind="original", body="x" * n, correlation_id=str(i), envelope_id=str(i))
            for i, (t, n) in enumerate(zip(sorted(times), sizes))]


deliveries = st.integers(0, 60).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0, 1e6), min_size=n, max_size=n),
    st.lists(st.integers(1, 400), min_size=n, max_size=n))).map(lambda ts: plan(*ts))


@given(deliveries, st.integers(1, 10), st.integers(1, 2000))
def test_batches_keep_order_and_limits(items, max_entries, max_bytes):
    size = lambda d: len(d.body)  # noqa: E731
    batches = list(due_batches(items, ScenarioClock(1e12), size=size, max_entries=max_entries,
                               max_bytes=max_bytes))
    assert [d for batch in batches for d in batch] == items
    for batch in batches:
        assert 1 <= len(batch) <= max_entries
        assert len(batch) == 1 or sum(map(size, batch)) <= max_bytes


@given(deliveries)
def test_a_batch_waits_for_its_first_delivery(items):
    clock = ScenarioClock(1e12)
    for batch in due_batches(items, clock, size=lambda d: 1):
        assert clock.now_s() >= batch[0].at_s
        assert all(d.at_s <= batch[0].at_s or d.at_s <= clock.now_s() for d in batch)


def test_a_set_stop_ends_the_schedule():
    stop = threading.Event()
    stop.set()
    items = plan([1e9], [1])  # due in 1e9 scenario seconds at scale 1: never
    assert list(due_batches(items, ScenarioClock(1.0), size=lambda d: 1, stop=stop)) == []


@given(st.lists(st.integers(0, 300_000), min_size=1, max_size=10), st.integers(1, 300_000))
def test_sqs_calls_fit_the_batch_limit(sizes, limit):
    entries = [{"Id": str(i), "MessageBody": "y" * n} for i, n in enumerate(sizes)]
    calls = split_by_bytes(entries, limit)
    assert [e for call in calls for e in call] == entries
    for call in calls:
        assert len(call) == 1 or sum(len(e["MessageBody"]) for e in call) <= limit


@given(st.lists(st.tuples(st.sampled_from("ab"), st.floats(0, 2000)), max_size=30))
def test_fifo_dedup_ids_repeat_only_within_the_window(sends):
    dedup = FifoDedup(window_s=300)
    first_at: dict[str, float] = {}
    last_id: dict[str, str] = {}
    for body, at_s in sorted(sends, key=lambda s: s[1]):
        dedup_id = dedup.dedup_id(body, at_s)
        if body in first_at and at_s - first_at[body] < 300:
            assert dedup_id == last_id[body]  # the queue drops it, as SQS would
        else:
            assert dedup_id != last_id.get(body)  # a new interval: accepted
            first_at[body] = at_s
        last_id[body] = dedup_id
