"""Each fault does on the wire what it says: the nemesis's plan goes through the
real SQS path of the embedded backend and is read back off the queue."""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from itertools import islice

import pytest

from simulator.clock import ScenarioClock
from simulator.events import TrafficConfig, generate
from simulator.faults import plan
from simulator.transport import SqsInjector, create_topology, drain_queue, open_backend


@pytest.fixture(scope="module")
def moto():
    with open_backend("moto") as backend:
        yield backend


@pytest.fixture(scope="module")
def events():
    return list(islice(generate(9, traffic=TrafficConfig(duration_s=600, conversations_per_minute=6, agents=4)), 200))


def on_the_wire(backend, deliveries) -> list[str]:
    with create_topology(backend, run_id=f"wire{abs(hash(tuple(d.body for d in deliveries))) % 10**8}",
                         delivery="sqs") as topo:
        SqsInjector(backend, topo).run(deliveries, ScenarioClock(1e9), lambda sent: None)
        return [m.body for m in drain_queue(backend, topo.queue_url)]


def test_redeliver_puts_two_messages_with_the_same_envelope_id(moto, events):
    p = plan(events, [{"redeliver": {"probability": 0.5}}], seed=1)
    bodies = on_the_wire(moto, p.deliveries)
    ids = Counter(json.loads(b)["id"] for b in bodies)
    copies = sum(1 for d in p.deliveries if d.kind == "redeliver")
    assert copies > 0 and sum(n - 1 for n in ids.values()) == copies
    assert len(bodies) == len(events) + copies


def test_republish_puts_new_envelope_ids_with_the_same_correlation_id(moto, events):
    p = plan(events, [{"republish": {"probability": 0.5, "delay_s": 60}}], seed=2)
    by_cid: dict[str, set] = defaultdict(set)
    for body in on_the_wire(moto, p.deliveries):
        event = json.loads(body)
        by_cid[event["detail"]["metadata"]["CorrelationId"]].add(event["id"])
    republished = sum(1 for d in p.deliveries if d.kind == "republish")
    assert republished > 0
    assert sum(len(ids) - 1 for ids in by_cid.values()) == republished


def test_clock_skew_makes_timestamp_order_differ_from_true_order(moto, events):
    p = plan(events, [{"clock_skew": {"nodes": 3, "offset_s": [-8, 8], "drift_ppm": 200, "jitter_ms": 50}}], seed=3)
    received = [json.loads(b) for b in on_the_wire(moto, p.deliveries)]
    true_order = {e.correlation_id: e.seq for e in events}
    received.sort(key=lambda ev: true_order[ev["detail"]["metadata"]["CorrelationId"]])
    stamps = [ev["detail"]["timestamp"] for ev in received]
    assert stamps != sorted(stamps)  # the producers' clocks lie
    for ev in received:  # ...consistently across the three time fields of each event
        assert ev["time"] == ev["detail"]["timestamp"][:19] + "Z"


def test_poison_arrives_as_planned(moto, events):
    p = plan(events, [{"poison": {"count": 8}}], seed=4)
    planned = Counter(d.body for d in p.deliveries if d.kind == "poison")
    received = Counter(on_the_wire(moto, p.deliveries))
    assert sum(planned.values()) == 8
    assert all(received[body] == n for body, n in planned.items())
