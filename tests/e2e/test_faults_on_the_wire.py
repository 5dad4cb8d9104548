"""Each fault does on the wire what it says: the nemesis's plan goes through the
real SQS path of the embedded backend and is read back off the queue."""
from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from itertools import islice

import pytest

from simulator.clock import ScenarioClock
from simulator.transport.protocol import Listener
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


def on_the_wire(backend, deliveries, *, messages: bool = False) -> list:
    with create_topology(backend, run_id=f"wire{abs(hash(tuple(d.body for d in deliveries))) % 10**8}",
                         delivery="sqs") as topo:
        SqsInjector(backend, topo).run(deliveries, ScenarioClock(1e9), Listener())
        drained = drain_queue(backend, topo.queue_url)
        return drained if messages else [m.body for m in drained]


def test_redeliver_puts_two_messages_with_the_same_envelope_id(moto, events):
    """EventBridge's duplicate: a second SQS message (new MessageId) for one event."""
    p = plan(events, [{"redeliver": {"probability": 0.5}}], seed=1)
    messages = on_the_wire(moto, p.deliveries, messages=True)
    ids = Counter(json.loads(m.body)["id"] for m in messages)
    copies = sum(1 for d in p.deliveries if d.kind == "redeliver")
    assert copies > 0 and sum(n - 1 for n in ids.values()) == copies
    assert len(messages) == len(events) + copies
    assert len({m.message_id for m in messages}) == len(messages)  # every copy is its own message


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


def _replay_checks(events, planned, bodies, name):
    by_cid = {e.correlation_id: e.event for e in events}
    replayed = [json.loads(b) for b in bodies if "replay-name" in json.loads(b)]
    assert sorted(r["detail"]["metadata"]["CorrelationId"] for r in replayed) == sorted(
        d.correlation_id for d in planned)
    for r in replayed:
        archived = by_cid[r["detail"]["metadata"]["CorrelationId"]]
        assert list(r).index("replay-name") == list(r).index("region") + 1
        assert r["replay-name"] == name and r["time"] == archived["time"] and r["detail"] == archived["detail"]
    return replayed


def test_replay_resends_the_window_on_the_sqs_path(moto, events):
    p = plan(events, [{"replay": {"window_s": [60, 240], "delay_s": 30, "name": "incident-7"}}], seed=5)
    planned = [d for d in p.deliveries if d.kind == "replay"]
    bodies = on_the_wire(moto, p.deliveries)
    replayed = _replay_checks(events, planned, bodies, "incident-7")
    assert {r["id"] for r in replayed} == {d.envelope_id for d in planned}
    assert not {r["id"] for r in replayed} & {e.event["id"] for e in events}  # new ids


def test_replay_on_the_eventbridge_path_carries_the_replay_envelope(moto, events):
    """PutEvents cannot set replay-name: the replay reaches the rule's queue as
    EventBridge delivers a replayed event, the originals as PutEvents made them."""
    from simulator.transport import EventBridgeInjector

    sample = events[:60]
    p = plan(sample, [{"replay": {"window_s": [0, 120], "delay_s": 10, "name": "incident-8"}}], seed=6)
    planned = [d for d in p.deliveries if d.kind == "replay"]
    assert planned
    with create_topology(moto, run_id=f"wireeb{len(sample)}", delivery="eventbridge") as topo:
        EventBridgeInjector(moto, topo).run(p.deliveries, ScenarioClock(1e9), Listener())
        bodies = [m.body for m in drain_queue(moto, topo.queue_url)]
    replayed = _replay_checks(sample, planned, bodies, "incident-8")
    assert {r["id"] for r in replayed} == {d.envelope_id for d in planned}
    assert sum(1 for b in bodies if "replay-name" not in json.loads(b)) == len(sample)


def test_sqs_duplicate_hands_the_same_message_over_again(backend, events, tmp_path, monkeypatch):
    """SQS's own copy, made on the real queue by the consumer's poll loop: the
    same MessageId received again (new receipt handle, receive count 2), while
    the first receiver still has it."""
    import threading

    from simulator.clients.api import ConsumerContext, Sink
    from simulator.clients.faults import FaultInjector
    from simulator.clients.poll import PollLoop, class_dispatch
    from simulator.clients.receipts import ReceiptLog, read_receipts
    from simulator.model import SqsDuplicateFault

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    sample = plan(events[:30], [], seed=0).deliveries
    handled: list[tuple[str, str, int]] = []
    with create_topology(backend, run_id=f"wiredup{uuid.uuid4().hex[:8]}", delivery="sqs") as topo:
        SqsInjector(backend, topo).run(sample, ScenarioClock(1e9), Listener())
        ctx = ConsumerContext(name="c", sink=Sink("http://127.0.0.1:9"), region=backend.region,
                              endpoint_url=backend.endpoint_url, queue_url=topo.queue_url)
        faults = FaultInjector(crash=None, slow=None, time_scale=1.0, seed=1, instance=0,
                               sqs_duplicate=SqsDuplicateFault(1.0))
        loop = PollLoop(ctx, faults=faults, receipts=ReceiptLog(tmp_path / "r.jsonl", consumer="c", instance=0,
                                                                t0=0.0), wait_time_s=0)

        class Records:
            def handle(self, message):
                handled.append((message.message_id, message.receipt_handle, message.receive_count))
                if len(handled) >= 2 * len(sample):
                    loop.stopping.set()

        worker = threading.Thread(target=loop.run, args=(class_dispatch(loop, Records()),), daemon=True)
        worker.start()
        worker.join(60)
        loop.stopping.set()
        left = drain_queue(backend, topo.queue_url)
    counts = Counter(mid for mid, _, _ in handled)
    assert len(counts) == len(sample) and set(counts.values()) == {2}  # every message twice...
    for mid in counts:
        (h1, c1), (h2, c2) = [(h, c) for m, h, c in handled if m == mid]
        assert (c1, c2) == (1, 2) and h1 != h2  # ...as the same message, a new receipt handle
    assert left == []  # the second receiver's delete removed it
    receipts = read_receipts([tmp_path / "r.jsonl"])
    assert {r.faults for r in receipts if r.receive_count == 1} == {("sqs_duplicate",)}
