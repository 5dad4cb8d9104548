"""The nemesis: plan-level behaviour of each fault, and the rules every plan keeps."""
from __future__ import annotations

import random
from collections import Counter, defaultdict

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.faults import FaultSpec, plan
from simulator.faults import burst, outage, poison, redeliver, reorder
from simulator.faults.wire import Context, parse_iso_ms
from simulator.model import CrashFault, SinkFault, SlowFault

from test_faults_support import START_MS, make_events


@pytest.fixture
def events():
    return make_events(40)


def by_seq(p, kind=None):
    groups = defaultdict(list)
    for d in p.deliveries:
        if d.seq is not None and (kind is None or d.kind == kind):
            groups[d.seq].append(d)
    return groups


# ---- the baseline ----


def test_no_faults_delivers_each_event_once_when_it_happened(events):
    p = plan(events, [], seed=0)
    assert [d.seq for d in p.deliveries] == [e.seq for e in events]
    for d, e in zip(p.deliveries, events):
        assert d.kind == "original"
        assert d.at_s == (e.time_ms - events[0].time_ms) / 1000
        assert orjson.loads(d.body) == e.event and " " not in d.body[:40]
        assert (d.correlation_id, d.envelope_id, d.group) == (e.correlation_id, e.event["id"], None)


def test_start_ms_shifts_the_timeline_and_fifo_sets_the_group(events):
    p = plan(events, [], seed=0, start_ms=START_MS - 10_000, fifo=True)
    assert p.deliveries[0].at_s == 10.0
    assert all(d.group == e.entity for d, e in zip(p.deliveries, events))


def test_event_before_start_is_refused(events):
    with pytest.raises(ValueError, match="before start_ms"):
        plan(events, [], seed=0, start_ms=START_MS + 1)


# ---- one fault at a time ----


def test_redeliver_copies_the_exact_message(events):
    p = plan(events, [{"redeliver": {"probability": 1.0, "copies": 2, "delay_s": [400, 900]}}], seed=3)
    for seq, copies in by_seq(p).items():
        original = next(d for d in copies if d.kind == "original")
        again = [d for d in copies if d.kind == "redeliver"]
        assert len(again) == 2
        for d in again:
            assert (d.body, d.envelope_id, d.correlation_id) == (original.body, original.envelope_id, original.correlation_id)
            assert 400 <= d.at_s - original.at_s <= 900  # a late duplicate: beyond a 5-minute window


def test_redeliver_probability_is_a_fraction():
    events = make_events(2000, spacing_ms=10)
    p = plan(events, [{"redeliver": {"probability": 0.2}}], seed=11)
    copies = sum(d.kind == "redeliver" for d in p.deliveries)
    assert 300 < copies < 500  # 400 expected; binomial sd ~18


def test_republish_is_the_same_notification_under_a_new_envelope_id(events):
    p = plan(events, [{"republish": {"probability": 1.0, "delay_s": 3600}}], seed=5)
    ids = set()
    for seq, copies in by_seq(p).items():
        original, again = sorted(copies, key=lambda d: d.kind != "original")
        assert again.kind == "republish" and again.at_s == original.at_s + 3600
        assert again.envelope_id != original.envelope_id and again.correlation_id == original.correlation_id
        first, second = orjson.loads(original.body), orjson.loads(again.body)
        assert second["id"] == again.envelope_id
        assert second["detail"] == first["detail"] and second["time"] == first["time"]
        ids.add(again.envelope_id)
    assert len(ids) == len(events)


def test_outage_holds_the_window_then_releases_a_backlog_and_resends(events):
    fault = {"outage": {"start_s": 2.0, "duration_s": 4.0, "republish": 1.0, "republish_delay_s": [60, 120]}}
    base = {d.seq: d for d in plan(events, [], seed=0).deliveries}
    p = plan(events, [fault], seed=2)
    held = {s for s, d in base.items() if 2.0 <= d.at_s < 6.0}
    assert held
    for seq, copies in by_seq(p).items():
        original = next(d for d in copies if d.kind == "original")
        if seq in held:
            assert original.at_s == 6.0
            (again,) = [d for d in copies if d.kind == "republish"]
            assert 66.0 <= again.at_s <= 126.0 and again.envelope_id != original.envelope_id
        else:
            assert original.at_s == base[seq].at_s and len(copies) == 1
    backlog = [d.seq for d in p.deliveries if d.seq in held and d.kind == "original"]
    assert backlog == sorted(held)  # released together, in true order


def test_burst_squeezes_its_span(events):
    p = plan(events, [{"burst": {"at_s": 2.0, "duration_s": 4.0, "factor": 4}}], seed=0)
    for d, e in zip(p.deliveries, events):
        true_s = (e.time_ms - START_MS) / 1000
        assert d.at_s == (2.0 + (true_s - 2.0) / 4 if 2.0 <= true_s < 6.0 else true_s)


def test_reorder_permutes_only_within_windows(events):
    p = plan(events, [{"reorder": {"window": 5}}], seed=9)
    true_s = {e.seq: (e.time_ms - START_MS) / 1000 for e in events}
    moved = 0
    for d in p.deliveries:
        window = d.seq // 5
        assert d.at_s in {true_s[s] for s in range(window * 5, window * 5 + 5)}
        moved += d.at_s != true_s[d.seq]
    assert moved and [d.seq for d in p.deliveries] != list(range(len(events)))


def test_reorder_jitter_only_delays(events):
    p = plan(events, [{"reorder": {"window": 1, "jitter_s": 2.0}}], seed=9)
    for d in p.deliveries:
        assert 0 <= d.at_s - (events[d.seq].time_ms - START_MS) / 1000 <= 2.0


def _times(body: str) -> tuple[int, int, int | str]:
    envelope = orjson.loads(body)
    return parse_iso_ms(envelope["time"]), parse_iso_ms(envelope["detail"]["timestamp"]), envelope["detail"]["eventBody"]["eventTime"]


def test_clock_skew_makes_timestamps_lie_consistently(events):
    fault = {"clock_skew": {"nodes": 3, "offset_s": [-5, 5], "drift_ppm": 200, "jitter_ms": 50}}
    p = plan(events, [fault], seed=4)
    truth = {e.seq: e.event for e in events}
    stamps = []
    for d in p.deliveries:
        time_ms, stamp, event_time = _times(d.body)
        true_event = truth[d.seq]
        true_stamp = parse_iso_ms(true_event["detail"]["timestamp"])
        true_event_time = true_event["detail"]["eventBody"]["eventTime"]
        assert time_ms == stamp // 1000 * 1000  # envelope time: the skewed timestamp, truncated
        assert type(event_time) is type(true_event_time)  # epoch ms stays a number, ISO a string
        shift = stamp - true_stamp
        as_ms = event_time if isinstance(event_time, int) else parse_iso_ms(event_time)
        true_ms = true_event_time if isinstance(true_event_time, int) else parse_iso_ms(true_event_time)
        assert as_ms - true_ms == shift  # all three fields moved together
        assert d.at_s == (events[d.seq].time_ms - START_MS) / 1000  # arrival unchanged
        stamps.append(stamp)
    assert stamps != sorted(stamps)  # timestamp order disagrees with true order


def test_skew_is_shared_by_every_copy_of_an_event(events):
    faults = [{"redeliver": {"probability": 1.0}}, {"clock_skew": {"nodes": 4, "offset_s": [-30, 30]}}]
    for copies in by_seq(plan(events, faults, seed=8)).values():
        assert len({d.body for d in copies}) == 1


def test_skew_by_entity_puts_a_conversation_on_one_node(events):
    p = plan(events, [{"clock_skew": {"nodes": 5, "offset_s": [-60, 60], "by": "entity"}}], seed=1)
    shifts = defaultdict(set)
    for d in p.deliveries:
        shifts[events[d.seq].entity].add(_times(d.body)[1] - events[d.seq].time_ms)
    assert all(len(s) == 1 for s in shifts.values())


def test_poison_arrives_as_planned(events):
    p = plan(events, [{"poison": {"count": 9, "kinds": ["invalid_json", "missing_detail", "unknown_topic"]}}], seed=6, fifo=True)
    bad = [d for d in p.deliveries if d.kind == "poison"]
    assert Counter(d.poison for d in bad) == {"invalid_json": 3, "missing_detail": 3, "unknown_topic": 3}
    assert len({d.body for d in bad}) == 9
    last = max(d.at_s for d in p.deliveries if d.kind == "original")
    for d in bad:
        assert d.correlation_id is None and d.seq is None and d.group == "poison" and 0 <= d.at_s <= last
        if d.poison == "invalid_json":
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(d.body)
        elif d.poison == "missing_detail":
            assert "detail" not in orjson.loads(d.body) and orjson.loads(d.body)["id"] == d.envelope_id
        else:
            envelope = orjson.loads(d.body)
            assert not envelope["detail-type"].startswith(("v2.detail.events.", "v2.conversations.", "v2.audits."))


def test_oversize_poison_is_valid_json_over_the_entry_limit(events):
    p = plan(events, [{"poison": {"count": 2, "kinds": ["oversize"]}}], seed=6, max_entry_bytes=1_048_576)
    for d in (d for d in p.deliveries if d.kind == "poison"):
        assert len(d.body.encode()) > 1_048_576
        assert orjson.loads(d.body)["detail"]["metadata"]["CorrelationId"]


def test_consumer_faults_go_to_the_plan_not_the_deliveries(events):
    faults = [
        {"crash": {"point": "after_effect", "every": 50, "restart_after_s": 3}},
        {"slow": {"probability": 0.1, "delay_s": 45}},
        {"sink_failure": {"probability": 0.2, "status": 429, "window_s": [10, 20]}},
        {"sink_failure": {"probability": 0.05}},
    ]
    p = plan(events, faults, seed=0)
    assert p.deliveries == plan(events, [], seed=0).deliveries
    assert p.consumer_faults.crash == CrashFault("after_effect", 50, 3.0)
    assert p.consumer_faults.slow == SlowFault(0.1, 45.0)
    assert p.consumer_faults.sink == (SinkFault(0.2, 429, 0.0, (10.0, 20.0)), SinkFault(0.05, 500))


def test_two_crashes_are_refused(events):
    crash = {"crash": {"point": "after_receive", "every": 5}}
    with pytest.raises(BadInput, match=r"faults\[1\]\.crash: only one 'crash'"):
        plan(events, [crash, crash], seed=0)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"redeliver": {"probability": 1.5}}, "faults[0].redeliver.probability: expected a number between 0 and 1, got 1.5"),
        ({"reorder": {"window": 0}}, "faults[0].reorder.window: expected a number >= 1, got 0"),
        ({"redeliver": {"probability": 0.1, "delay_s": -1}}, "faults[0].redeliver.delay_s: expected seconds >= 0"),
        ({"redelivr": {"probability": 0.1}}, "faults[0]: unknown fault 'redelivr' (did you mean 'redeliver'?)"),
        ({"redeliver": {}, "reorder": {}}, "faults[0]: expected one fault per list item, got 2"),
        ({"poison": {"count": 1, "kinds": ["nope"]}}, "faults[0].poison.kinds[0]: expected one of"),
        ({"sink_failure": {"probability": 0.1, "stauts": 500}}, "unknown key 'stauts' (did you mean 'status'?)"),
    ],
)
def test_bad_fault_specs_name_the_field(events, raw, message):
    with pytest.raises(BadInput) as caught:
        plan(events, [raw], seed=0)
    assert message in str(caught.value)


# ---- each fault alone, on hand-made deliveries ----


@pytest.fixture
def deliveries(events):
    return list(plan(events, [], seed=0).deliveries)


def test_fault_modules_work_alone(deliveries):
    ctx, rng = Context(), random.Random(0)
    assert len(redeliver.apply(deliveries, rng, redeliver.RedeliverParams(probability=1.0), ctx)) == 2 * len(deliveries)
    squeezed = burst.apply(deliveries, rng, burst.BurstParams(at_s=0, duration_s=100, factor=10), ctx)
    assert max(d.at_s for d in squeezed) == pytest.approx(max(d.at_s for d in deliveries) / 10)
    held = outage.apply(deliveries, rng, outage.OutageParams(start_s=0, duration_s=100), ctx)
    assert {d.at_s for d in held} == {100.0}
    shuffled = reorder.apply(deliveries, rng, reorder.ReorderParams(window=len(deliveries)), ctx)
    assert sorted(d.at_s for d in shuffled) == sorted(d.at_s for d in deliveries)
    assert len(poison.apply([], rng, poison.PoisonParams(count=4), ctx)) == 4  # no events to imitate: a template


# ---- rules every plan keeps ----

probability = st.floats(0, 1)
fault_specs = st.lists(
    st.one_of(
        st.builds(lambda p, c, lo, span: {"redeliver": {"probability": p, "copies": c, "delay_s": [lo, lo + span]}},
                  probability, st.integers(1, 3), st.floats(0, 1000), st.floats(0, 1000)),
        st.builds(lambda p, d: {"republish": {"probability": p, "delay_s": d}}, probability, st.floats(0, 345600)),
        st.builds(lambda s, d, p: {"outage": {"start_s": s, "duration_s": d, "republish": p}},
                  st.floats(0, 10), st.floats(0.1, 10), probability),
        st.builds(lambda w, j: {"reorder": {"window": w, "jitter_s": j}}, st.integers(1, 30), st.floats(0, 5)),
        st.builds(lambda n, o, d, j: {"clock_skew": {"nodes": n, "offset_s": [-o, o], "drift_ppm": d, "jitter_ms": j}},
                  st.integers(1, 5), st.floats(0, 60), st.floats(0, 1000), st.floats(0, 500)),
        st.builds(lambda a, d, f: {"burst": {"at_s": a, "duration_s": d, "factor": f}},
                  st.floats(0, 10), st.floats(0.1, 10), st.floats(1.01, 50)),
        st.builds(lambda n: {"poison": {"count": n}}, st.integers(0, 6)),
        st.builds(lambda p: {"sink_failure": {"probability": p}}, probability),
        st.builds(lambda lo, span, d: {"replay": {"window_s": [lo, lo + span], "delay_s": d}},
                  st.floats(0, 5), st.floats(0.1, 10), st.floats(0, 100)),
    ),
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(faults=fault_specs, seed=st.integers(0, 2**32), n=st.integers(0, 30), fifo=st.booleans())
def test_plans_are_deterministic_sorted_and_lose_nothing(faults, seed, n, fifo):
    events = make_events(n)
    first = plan(events, faults, seed=seed, fifo=fifo)
    assert first == plan(events, faults, seed=seed, fifo=fifo)
    keys = [(d.at_s, float("inf") if d.seq is None else d.seq) for d in first.deliveries]
    assert keys == sorted(keys)
    originals = [d.seq for d in first.deliveries if d.kind == "original"]
    assert sorted(originals) == list(range(n))  # every logical event still goes out exactly once as itself
    for d in first.deliveries:
        if d.kind != "poison":
            assert orjson.loads(d.body)["detail"]["metadata"]["CorrelationId"] == d.correlation_id
            assert d.at_s >= 0 and (d.group is not None) == fifo


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_adding_a_fault_leaves_the_others_decisions_alone(seed):
    events = make_events(30)
    copies = lambda p: sorted((d.seq, d.at_s) for d in p.deliveries if d.kind == "redeliver")
    alone = plan(events, [{"redeliver": {"probability": 0.3}}], seed=seed)
    with_more = plan(events, [{"redeliver": {"probability": 0.3}}, {"poison": {"count": 3}}], seed=seed)
    assert copies(alone) == copies(with_more)


def test_fault_spec_round_trips():
    spec = FaultSpec.from_mapping({"clock_skew": {"nodes": 2, "offset_s": 3}})
    assert spec.to_mapping()["clock_skew"]["offset_s"] == [3.0, 3.0]
    assert FaultSpec.from_mapping(spec.to_mapping()) == spec
