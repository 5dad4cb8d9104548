"""EffectSink: idempotency, identity resolution, validation, injected faults."""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator.sink as sink_module
from simulator.ledger import Ledger
from simulator.model import SinkFault
from simulator.sink import EffectSink


@dataclass
class FakeClock:
    """A scenario clock the test moves by hand."""

    now: float = 0.0
    time_scale: float = 1.0

    def now_s(self) -> float:
        return self.now


def envelope(correlation_id: str | None = None, envelope_id: str | None = None) -> dict:
    return {
        "version": "0",
        "id": envelope_id or str(uuid.uuid4()),
        "detail-type": "v2.detail.events.conversation.{id}.customer.end",
        "detail": {"topicName": "v2.detail.events.conversation.c1.customer.end", "version": "2",
                   "eventBody": {}, "metadata": {"CorrelationId": correlation_id or str(uuid.uuid4())}},
    }


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
def sink(ledger: Ledger) -> EffectSink:
    return EffectSink(ledger)


# ---- idempotency ----

def test_effect_without_key_is_always_applied(sink: EffectSink, ledger: Ledger) -> None:
    for _ in range(3):
        assert sink.apply("c", {"correlation_id": "x"}) == (200, {"applied": True})
    assert [e.applied for e in ledger.history.effects] == [True, True, True]


def test_repeated_key_answers_duplicate_and_is_recorded_unapplied(sink: EffectSink, ledger: Ledger) -> None:
    assert sink.apply("c", {"correlation_id": "x", "idempotency_key": "k"}) == (200, {"applied": True})
    assert sink.apply("c", {"correlation_id": "x", "idempotency_key": "k"}) == (
        200, {"applied": False, "duplicate_key": True})
    first, second = ledger.history.effects
    assert (first.applied, first.status, first.idempotency_key) == (True, 200, "k")
    assert (second.applied, second.status, second.idempotency_key) == (False, 200, "k")


def test_keys_are_scoped_per_consumer(sink: EffectSink, ledger: Ledger) -> None:
    sink.apply("a", {"correlation_id": "x", "idempotency_key": "k"})
    sink.apply("b", {"correlation_id": "x", "idempotency_key": "k"})
    assert [(e.consumer, e.applied) for e in ledger.history.effects] == [("a", True), ("b", True)]


calls = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]),
                           st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3", "k4"]))),
                 max_size=60)


@given(calls)
def test_applied_exactly_at_first_use_of_each_key(seq: list[tuple[str, str | None]]) -> None:
    ledger = Ledger()
    sink = EffectSink(ledger)
    for consumer, key in seq:
        payload = {"correlation_id": "x"} | ({"idempotency_key": key} if key else {})
        sink.apply(consumer, payload)
    seen: set[tuple[str, str]] = set()
    expected = []
    for consumer, key in seq:
        expected.append(key is None or (consumer, key) not in seen)
        if key is not None:
            seen.add((consumer, key))
    assert [e.applied for e in ledger.history.effects] == expected
    counts = sink.counts()
    assert counts["attempts"] == len(seq)
    assert counts["applied"] + counts["duplicates"] == len(seq)


def test_many_threads_one_key_exactly_one_applied(sink: EffectSink, ledger: Ledger) -> None:
    threads_n, per_thread = 16, 50
    barrier = threading.Barrier(threads_n)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        for _ in range(per_thread):
            status, _ = sink.apply("c", {"correlation_id": "x", "idempotency_key": "same"})
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    effects = ledger.history.effects
    assert len(effects) == threads_n * per_thread
    assert sum(e.applied for e in effects) == 1
    assert set(statuses) == {200}
    assert sink.counts() == {"attempts": threads_n * per_thread, "applied": 1,
                             "duplicates": threads_n * per_thread - 1, "failed": 0, "rejected": 0}


# ---- identity ----

def test_identity_from_event(sink: EffectSink, ledger: Ledger) -> None:
    sink.apply("c", {"event": envelope("cid-1", "env-1"), "upsert": True}, instance=2)
    effect = ledger.history.effects[0]
    assert (effect.correlation_id, effect.envelope_id, effect.upsert, effect.instance) == (
        "cid-1", "env-1", True, 2)


def test_event_correlation_id_wins_over_given_one(sink: EffectSink, ledger: Ledger) -> None:
    sink.apply("c", {"event": envelope("from-event"), "correlation_id": "given"})
    assert ledger.history.effects[0].correlation_id == "from-event"


def test_event_without_metadata_falls_back_then_to_none(sink: EffectSink, ledger: Ledger) -> None:
    sink.apply("c", {"event": {"id": "e", "detail": {"id": "wrong-field"}}, "correlation_id": "given"})
    sink.apply("c", {"event": {"detail": "not an object"}})
    first, second = ledger.history.effects
    assert (first.correlation_id, first.envelope_id) == ("given", "e")
    assert (second.correlation_id, second.envelope_id, second.applied) == (None, None, True)


def test_instance_argument_overrides_payload(sink: EffectSink, ledger: Ledger) -> None:
    sink.apply("c", {"correlation_id": "x", "instance": 1})
    sink.apply("c", {"correlation_id": "x", "instance": 1}, instance=3)
    assert [e.instance for e in ledger.history.effects] == [1, 3]


# ---- validation ----

@pytest.mark.parametrize(("payload", "field"), [
    ([1, 2], "body"),
    ("text", "body"),
    ({}, "event"),
    ({"event": "not an object"}, "event"),
    ({"correlation_id": 7}, "correlation_id"),
    ({"correlation_id": "x", "idempotency_key": 5}, "idempotency_key"),
    ({"correlation_id": "x", "upsert": "yes"}, "upsert"),
    ({"correlation_id": "x", "instance": "1"}, "instance"),
    ({"correlation_id": "x", "instance": True}, "instance"),
    ({"correlation_id": "x", "instance": -1}, "instance"),
    ({"correlation_id": "x", "instance": 2**64}, "instance"),
    ({"correlation_id": "x", "consumer": "someone-else"}, "consumer"),
    ({"correlation_id": "x", "colour": "red"}, "colour"),
])
def test_invalid_payload_is_400_naming_the_field(sink: EffectSink, ledger: Ledger, payload, field) -> None:
    status, body = sink.apply("c", payload)
    assert status == 400
    assert body["field"] == field
    assert isinstance(body["error"], str) and body["error"]
    (effect,) = ledger.history.effects
    assert (effect.applied, effect.status) == (False, 400)
    assert sink.counts()["rejected"] == 1


def test_matching_consumer_field_is_accepted(sink: EffectSink) -> None:
    assert sink.apply("c", {"correlation_id": "x", "consumer": "c"})[0] == 200


def test_rejected_call_does_not_consume_its_key(sink: EffectSink) -> None:
    sink.apply("c", {"correlation_id": "x", "idempotency_key": "k", "upsert": "bad"})
    assert sink.apply("c", {"correlation_id": "x", "idempotency_key": "k"}) == (200, {"applied": True})


@pytest.mark.parametrize("fault", [SinkFault(probability=1.5), SinkFault(probability=0.1, status=404),
                                   SinkFault(probability=0.1, delay_s=-1)])
def test_impossible_faults_are_refused(ledger: Ledger, fault: SinkFault) -> None:
    with pytest.raises(ValueError):
        EffectSink(ledger, faults=[fault])


# ---- faults ----

def statuses(sink: EffectSink, consumer: str, n: int) -> list[int]:
    return [sink.apply(consumer, {"correlation_id": str(i)})[0] for i in range(n)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), probability=st.floats(0.05, 0.95))
def test_faults_replay_for_a_seed(seed: int, probability: float) -> None:
    faults = [SinkFault(probability=probability, status=500), SinkFault(probability=0.2, status=429)]
    first = EffectSink(Ledger(), faults=faults, seed=seed)
    second = EffectSink(Ledger(), faults=faults, seed=seed)
    # Interleaving consumers differently must not change each consumer's sequence.
    a1 = statuses(first, "a", 40)
    b1 = statuses(first, "b", 40)
    b2 = statuses(second, "b", 40)
    a2 = statuses(second, "a", 40)
    assert (a1, b1) == (a2, b2)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), order=st.randoms(use_true_random=False))
def test_each_events_decisions_do_not_depend_on_how_calls_interleave(seed: int, order) -> None:
    """Instances, retries and a loaded machine reorder the calls: the k-th call of
    an event's effect is decided the same way whatever came before it."""
    faults = [SinkFault(probability=0.3, status=500)]
    calls = [(str(event), k) for event in range(30) for k in range(3)]
    shuffled = calls[:]
    order.shuffle(shuffled)
    shuffled.sort(key=lambda call: call[1])  # an event's own calls stay in their order
    decided = []
    for sequence in (calls, shuffled):
        sink = EffectSink(Ledger(), faults=faults, seed=seed)
        decided.append({call: sink.apply("a", {"correlation_id": call[0]})[0] for call in sequence})
    assert decided[0] == decided[1]


def test_every_consumer_meets_the_same_downstream_wherever_it_lives(ledger: Ledger) -> None:
    """A consumer's name may hold its file's path: the draws must not, or a rerun
    from another checkout would fail other calls."""
    sink = EffectSink(Ledger(), faults=[SinkFault(probability=0.3, status=500)], seed=3)
    here, there = "lambda-eb:/home/a/app.ts:handler", "lambda-eb:/ci/b/app.ts:handler"
    assert statuses(sink, here, 100) == statuses(sink, there, 100)
    assert 0 < statuses(sink, here, 100).count(500) < 100


def test_different_seeds_fail_different_calls(ledger: Ledger) -> None:
    fault = [SinkFault(probability=0.5)]
    assert statuses(EffectSink(Ledger(), faults=fault, seed=1), "a", 200) != \
        statuses(EffectSink(Ledger(), faults=fault, seed=2), "a", 200)


def test_failure_rate_follows_probability(ledger: Ledger) -> None:
    sink = EffectSink(ledger, faults=[SinkFault(probability=0.3, status=500)], seed=7)
    results = statuses(sink, "a", 2000)
    failed = results.count(500)
    assert 0.25 * 2000 <= failed <= 0.35 * 2000
    assert set(results) == {200, 500}
    assert sink.counts()["failed"] == failed
    assert [e.applied for e in ledger.history.effects] == [s == 200 for s in results]
    assert all(e.status == s for e, s in zip(ledger.history.effects, results))


def test_failed_call_answers_status_and_does_not_consume_key(ledger: Ledger) -> None:
    clock = FakeClock(now=0.0)
    sink = EffectSink(ledger, clock=clock, faults=[SinkFault(probability=1.0, status=429, window_s=(0, 10))])
    status, body = sink.apply("c", {"correlation_id": "x", "idempotency_key": "k"})
    assert status == 429 and body["applied"] is False
    clock.now = 10.0  # the outage is over: the retry goes through
    assert sink.apply("c", {"correlation_id": "x", "idempotency_key": "k"}) == (200, {"applied": True})
    assert [(e.applied, e.status) for e in ledger.history.effects] == [(False, 429), (True, 200)]


@pytest.mark.parametrize(("now", "fails"), [(0.0, False), (9.99, False), (10.0, True), (19.9, True),
                                            (20.0, False), (500.0, False)])
def test_window_is_half_open_in_scenario_time(ledger: Ledger, now: float, fails: bool) -> None:
    sink = EffectSink(ledger, clock=FakeClock(now=now),
                      faults=[SinkFault(probability=1.0, status=500, window_s=(10, 20))])
    assert sink.apply("c", {"correlation_id": "x"})[0] == (500 if fails else 200)


def test_first_firing_fault_decides(ledger: Ledger) -> None:
    sink = EffectSink(ledger, faults=[SinkFault(probability=1.0, status=429),
                                      SinkFault(probability=1.0, status=500)])
    assert sink.apply("c", {"correlation_id": "x"})[0] == 429


def test_slow_fault_sleeps_scaled_real_time_then_applies(ledger: Ledger, monkeypatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(sink_module.time, "sleep", slept.append)
    sink = EffectSink(ledger, clock=FakeClock(time_scale=60.0),
                      faults=[SinkFault(probability=1.0, status=200, delay_s=30.0)])
    assert sink.apply("c", {"correlation_id": "x"}) == (200, {"applied": True})
    assert slept == [0.5]
    assert ledger.history.effects[0].applied is True
