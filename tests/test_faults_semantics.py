"""The delivery-semantics faults in the plan: ``replay`` (an EventBridge archive
replay) and ``sqs_duplicate`` (SQS's own copy, applied by the consumer's poll
loop), and how they differ from ``redeliver`` (EventBridge's copy)."""
from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.faults import plan
from simulator.faults.replay import replayed_envelope
from simulator.faults.wire import parse_iso_ms
from simulator.model import SqsDuplicateFault

from test_faults_support import START_MS, make_events


def replays(p):
    return [d for d in p.deliveries if d.kind == "replay"]


def test_a_replay_resends_every_event_of_its_window_with_eventbridge_s_replay_envelope():
    events = make_events(40, spacing_ms=10_000)  # one event every 10 s: 400 s of traffic
    p = plan(events, [{"replay": {"window_s": [60, 180], "delay_s": 600, "name": "after-incident-42"}}], seed=1)
    in_window = [e for e in events if 60_000 <= e.time_ms - START_MS < 180_000]
    again = replays(p)
    assert sorted(d.correlation_id for d in again) == sorted(e.correlation_id for e in in_window)
    by_cid = {e.correlation_id: e.event for e in events}
    for d in again:
        envelope, archived = orjson.loads(d.body), by_cid[d.correlation_id]
        assert list(envelope) == ["version", "id", "detail-type", "source", "account", "time", "region",
                                  "replay-name", "resources", "detail"]
        assert envelope["replay-name"] == "after-incident-42"
        assert envelope["id"] == d.envelope_id != archived["id"]  # EventBridge generates a new id
        assert {k: v for k, v in envelope.items() if k not in ("id", "replay-name")} == {
            k: v for k, v in archived.items() if k != "id"}  # time, detail... as archived
        assert d.faults == ("replay",)
    assert min(d.at_s for d in again) >= 180 + 600  # started after the window closed


def test_a_replay_goes_one_archived_minute_after_the_other_in_no_order_within_a_minute():
    events = make_events(60, spacing_ms=5_000)
    p = plan(events, [{"replay": {"window_s": [0, 300], "delay_s": 60, "minute_s": 2}}], seed=3)
    again = sorted(replays(p), key=lambda d: d.at_s)
    minute = [(parse_iso_ms(orjson.loads(d.body)["time"]) - START_MS) // 60_000 for d in again]
    assert minute == sorted(minute)  # minute k before minute k+1
    for k in set(minute):
        at = [d.at_s for d, m in zip(again, minute) if m == k]
        assert all(360 + 2 * k <= a < 360 + 2 * (k + 1) for a in at)
    seqs = [d.seq for d in again]
    assert seqs != sorted(seqs)  # not the archive's order


def test_the_archive_holds_the_bus_s_events_only():
    events = make_events(30, spacing_ms=4_000)
    faults = [{"redeliver": {"probability": 1.0, "delay_s": 1}}, {"republish": {"probability": 1.0, "delay_s": 2}},
              {"poison": {"count": 5}}, {"replay": {"window_s": [0, 200], "delay_s": 30}}]
    again = replays(plan(events, faults, seed=2))
    # each event's original and its re-publish were put on the bus; EventBridge's
    # duplicate delivery and poison were not
    assert len(again) == 2 * len(events)
    assert {d.poison for d in again} == {None}
    assert {frozenset(d.faults) for d in again} == {frozenset({"replay"}), frozenset({"republish", "replay"})}


def test_a_replay_selects_by_the_time_in_the_event_not_by_arrival():
    events = make_events(20, spacing_ms=10_000)
    # the bus was down for the first 100 s: the held events arrive at 100 s, but
    # their time says when they happened
    p = plan(events, [{"outage": {"start_s": 0, "duration_s": 100}},
                      {"replay": {"window_s": [0, 50], "delay_s": 200}}], seed=4)
    assert sorted(d.seq for d in replays(p)) == [0, 1, 2, 3, 4]


def test_events_archived_after_the_replay_started_are_not_replayed():
    events = make_events(20, spacing_ms=10_000)
    p = plan(events, [{"outage": {"start_s": 0, "duration_s": 150}},
                      {"replay": {"window_s": [0, 50], "delay_s": 10}}], seed=5)
    assert replays(p) == []  # held by the outage until 150 s; the replay ran at 60 s


def test_replayed_envelope_places_replay_name_after_region():
    envelope = {"version": "0", "id": "a", "detail-type": "t", "source": "s", "account": "1", "time": "x",
                "region": "r", "resources": [], "detail": {}}
    out = replayed_envelope(envelope, "r1", "b")
    assert list(out)[7] == "replay-name" and out["id"] == "b" and envelope["id"] == "a"
    assert replayed_envelope(out, "r2", "c")["replay-name"] == "r2"  # a replay of a replay: one field


@pytest.mark.parametrize("raw, message", [
    ({"replay": {"window_s": [100, 50]}}, "faults[0].replay.window_s: expected [start, end] with 0 <= start < end"),
    ({"replay": {"window_s": [0, 60], "name": "no spaces"}}, "faults[0].replay.name: expected a string matching"),
    ({"replay": {"window_s": [0, 60], "name": "x" * 65}}, "faults[0].replay.name: expected at most 64 characters"),
    ({"replay": {"window_s": [0, 60], "minute_s": 0}}, "faults[0].replay.minute_s: expected a number > 0"),
    ({"sqs_duplicate": {"probability": 2}}, "faults[0].sqs_duplicate.probability: expected a number between 0 and 1"),
])
def test_bad_semantics_faults_name_the_field(raw, message):
    with pytest.raises(BadInput) as caught:
        plan(make_events(3), [raw], seed=0)
    assert message in str(caught.value)


def test_sqs_duplicate_is_a_consumer_fault_not_a_plan_copy():
    events = make_events(30)
    p = plan(events, [{"sqs_duplicate": {"probability": 0.3}}], seed=0)
    assert p.deliveries == plan(events, [], seed=0).deliveries  # no second message is planned
    assert p.consumer_faults.sqs_duplicate == SqsDuplicateFault(0.3)


@settings(max_examples=40, deadline=None)
@given(low=st.floats(0, 300), span=st.floats(1, 600), delay=st.floats(0, 3600), seed=st.integers(0, 2**32),
       minute_s=st.floats(0.01, 30))
def test_every_replay_is_of_an_archived_event_of_its_window_once(low, span, delay, seed, minute_s):
    events = make_events(50, spacing_ms=7_000)
    p = plan(events, [{"replay": {"window_s": [low, low + span], "delay_s": delay, "minute_s": minute_s}}],
             seed=seed)
    expected = sorted(e.seq for e in events
                      if low <= (parse_iso_ms(e.event["time"]) - START_MS) / 1000 < low + span
                      and (e.time_ms - START_MS) / 1000 <= low + span + delay)
    again = replays(p)
    assert sorted(d.seq for d in again) == expected
    assert len({d.envelope_id for d in again}) == len(again)  # a new id each
    assert all(d.at_s >= low + span + delay for d in again)
    assert p == plan(events, [{"replay": {"window_s": [low, low + span], "delay_s": delay,
                                          "minute_s": minute_s}}], seed=seed)


def test_the_readme_says_what_every_fault_models():
    from pathlib import Path

    from simulator.faults import FAULTS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Faults and what they model", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `")}
    assert set(FAULTS) <= rows, f"faults missing from the README table: {set(FAULTS) - rows}"
    for line in section.splitlines():
        if line.startswith("| `") and line.split("|")[1].strip().strip("`") in FAULTS:
            assert len([c for c in line.split("|")[1:-1] if c.strip()]) >= 3, line  # what AWS does, what we do
