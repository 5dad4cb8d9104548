"""The checker, one small story per definition (DESIGN.md "Scoring"), plus a
property test against a deliberately naive recount on random histories."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.model import DlqEntry, Effect, History, Leftover, LogicalEvent, Refused, Sent
from simulator.scoring import ConsumerScore, Expect, judge, percentile, score, score_all

ME = "ref:mine"
OTHER = "ref:other"


def ev(seq: int, entity: str = "conv-1", state: str | None = None, cid: str | None = None) -> LogicalEvent:
    return LogicalEvent(seq=seq, correlation_id=cid or f"c{seq}", topic="t", time_ms=seq,
                        entity=entity, state=state or f"s{seq}", event={})


def sent(cid: str | None, at: float = 0.0, *, consumer: str = ME, kind: str = "original",
         body: str | None = None) -> Sent:
    return Sent(consumer=consumer, at=at, kind=kind, correlation_id=cid, envelope_id=cid,
                body_key=body or f"body-{cid}")


def delivered(events: list[LogicalEvent], consumer: str = ME) -> list[Sent]:
    """One original delivery of each event: every event is in the consumer's scope."""
    return [sent(e.correlation_id, consumer=consumer) for e in events]


def poison(body: str, at: float = 0.0, consumer: str = ME) -> Sent:
    return sent(None, at, consumer=consumer, kind="poison", body=body)


def eff(cid: str | None, at: float = 1.0, *, consumer: str = ME, applied: bool = True,
        status: int = 200, upsert: bool = False) -> Effect:
    return Effect(consumer=consumer, at=at, correlation_id=cid, envelope_id=None,
                  idempotency_key=None, applied=applied, status=status, upsert=upsert)


def dlq(cid: str | None, body: str | None = None, consumer: str = ME) -> DlqEntry:
    return DlqEntry(consumer=consumer, at=5.0, body_key=body or f"body-{cid}",
                    correlation_id=cid, envelope_id=cid)


def left(cid: str | None, body: str | None = None, consumer: str = ME) -> Leftover:
    return Leftover(consumer=consumer, body_key=body or f"body-{cid}", correlation_id=cid,
                    envelope_id=cid)


@pytest.fixture
def three() -> list[LogicalEvent]:
    return [ev(0), ev(1), ev(2)]


# ---- one story per definition ----


def test_every_event_applied_once_passes(three):
    h = History(logical=three, sent=[sent(e.correlation_id) for e in three],
                effects=[eff(e.correlation_id) for e in three])
    s = score(h, ME)
    assert (s.missed, s.duplicated, s.unexpected, s.dlq) == (0, 0, 0, 0)
    assert s.logical_events == 3 and s.effects == 3
    assert s.verdict == "pass" and s.failures == []


def test_event_without_applied_effect_is_missed(three):
    # c1's only effect was refused by the sink (not applied): still missed.
    h = History(logical=three, sent=delivered(three), effects=[eff("c0"), eff("c1", applied=False, status=500), eff("c2")])
    s = score(h, ME)
    assert s.missed == 1
    assert s.failed_effects == 1 and s.effect_attempts == 3 and s.effects == 2
    assert s.verdict == "fail" and s.failures == ["missed 1 > 0"]


def test_unapplied_event_in_dlq_is_dlq_not_missed(three):
    h = History(logical=three, sent=delivered(three), effects=[eff("c0")], dlq=[dlq("c1")])
    s = score(h, ME)
    assert (s.dlq, s.missed) == (1, 1)


def test_dlq_entry_of_an_applied_event_counts_nothing(three):
    # Processed, then a copy went to the DLQ: visible, but not a lost event.
    h = History(logical=three, sent=delivered(three), effects=[eff(e.correlation_id) for e in three], dlq=[dlq("c0")])
    assert (score(h, ME).dlq, score(h, ME).missed) == (0, 0)


def test_leftover_event_is_still_missed_and_counted_as_on_queue(three):
    h = History(logical=three, sent=delivered(three), effects=[eff("c0")], leftovers=[left("c1")], dlq=[dlq("c2")])
    s = score(h, ME)
    assert s.missed == 1 and s.left_on_queue == 1 and s.dlq == 1


def test_two_applied_effects_make_a_duplicate(three):
    h = History(logical=three, sent=delivered(three), effects=[eff("c0"), eff("c0"), eff("c0"), eff("c1"), eff("c1"), eff("c2")])
    s = score(h, ME)
    assert s.duplicated == 2  # c0 and c1
    assert s.extra_effects == 3  # (3 - 1) + (2 - 1)


def test_repeat_refused_by_idempotency_key_is_not_a_duplicate(three):
    h = History(logical=three, sent=delivered(three), effects=[eff("c0"), eff("c0", applied=False, status=200),
                                        eff("c1"), eff("c2")])
    s = score(h, ME)
    assert s.duplicated == 0 and s.effect_attempts == 4 and s.failed_effects == 0


def test_effect_naming_no_logical_event_is_unexpected(three):
    h = History(logical=three, sent=delivered(three), effects=[eff(e.correlation_id) for e in three]
                + [eff("nope"), eff("nope"), eff(None)])
    s = score(h, ME)
    assert s.unexpected == 3 and s.duplicated == 0
    assert s.failures == ["unexpected 3 > 0"]


def test_poison_deleted_silently_is_dropped():
    h = History(sent=[poison("p1"), poison("p2"), poison("p3"), poison("p1")],
                dlq=[dlq(None, body="p2")], leftovers=[left(None, body="p3")])
    s = score(h, ME)
    assert s.poison_sent == 3  # distinct bodies
    assert s.poison_dropped == 1  # p1: neither parked nor left


def test_records_of_other_consumers_are_ignored(three):
    h = History(logical=three,
                sent=delivered(three) + delivered(three, OTHER) + [poison("p", consumer=OTHER)],
                effects=[eff(e.correlation_id) for e in three] + [eff("c0", consumer=OTHER)],
                dlq=[dlq("c1", consumer=OTHER)])
    mine, other = score(h, ME), score(h, OTHER)
    assert (mine.missed, mine.duplicated, mine.poison_dropped) == (0, 0, 0)
    assert (other.missed, other.dlq, other.poison_dropped) == (1, 1, 1)


def test_score_all_finds_every_consumer_in_the_history(three):
    h = History(logical=three, sent=[sent("c0", consumer=OTHER)], effects=[eff("c0")])
    assert [s.name for s in score_all(h)] == [OTHER, ME]


# ---- final-state probe ----


def test_no_upsert_effects_means_no_state_probe(three):
    h = History(logical=three, sent=delivered(three), effects=[eff(e.correlation_id) for e in three])
    s = score(h, ME, Expect(stale_entities=0))
    assert s.stale_entities is None
    assert s.verdict == "pass" and any("stale_entities not measured" in n for n in s.notes)


def test_last_upsert_in_time_wins_over_list_order():
    events = [ev(0, "a", "open"), ev(1, "a", "closed")]
    # Applied in the right order in time, recorded out of order in the list.
    h = History(logical=events, sent=delivered(events), effects=[eff("c1", at=2.0, upsert=True), eff("c0", at=1.0, upsert=True)])
    assert score(h, ME).stale_entities == 0


def test_older_event_applied_last_leaves_entity_stale():
    events = [ev(0, "a", "open"), ev(1, "a", "closed"), ev(2, "b", "open")]
    h = History(logical=events, sent=delivered(events), effects=[eff("c1", at=1.0, upsert=True), eff("c0", at=2.0, upsert=True),
                                         eff("c2", at=1.0, upsert=True)])
    assert score(h, ME).stale_entities == 1  # a reads "open", truth is "closed"


def test_equal_times_break_ties_by_list_order():
    events = [ev(0, "a", "open"), ev(1, "a", "closed")]
    later_wins = History(logical=events, sent=delivered(events), effects=[eff("c0", at=1.0, upsert=True), eff("c1", at=1.0, upsert=True)])
    earlier_wins = History(logical=events, sent=delivered(events), effects=[eff("c1", at=1.0, upsert=True), eff("c0", at=1.0, upsert=True)])
    assert score(later_wins, ME).stale_entities == 0
    assert score(earlier_wins, ME).stale_entities == 1


def test_a_write_redone_after_a_rollback_is_the_state_that_holds():
    # seed 003's SQL form: "closed" (c1) is applied, the process dies before COMMIT
    # (rolled back), the older "open" (c0) commits, then c1 is redone: the sink
    # answers its repeated key 200 and the row holds "closed" again.
    events = [ev(0, "a", "open"), ev(1, "a", "closed")]
    h = History(logical=events, sent=delivered(events), effects=[
        eff("c1", at=1.0, upsert=True), eff("c0", at=2.0, upsert=True),
        eff("c1", at=3.0, upsert=True, applied=False)])
    s = score(h, ME)
    assert (s.stale_entities, s.duplicated) == (0, 0)
    failed = History(logical=events, sent=delivered(events), effects=[
        eff("c1", at=1.0, upsert=True), eff("c0", at=2.0, upsert=True),
        eff("c1", at=3.0, upsert=True, applied=False, status=500)])
    assert score(failed, ME).stale_entities == 1  # a failed call holds nothing


def test_entity_never_upserted_is_stale():
    events = [ev(0, "a", "open"), ev(1, "b", "open")]
    h = History(logical=events, sent=delivered(events), effects=[eff("c0", upsert=True)])
    assert score(h, ME).stale_entities == 1


def test_expected_state_follows_seq_not_list_order():
    events = [ev(1, "a", "closed"), ev(0, "a", "open")]  # list order is not true order
    h = History(logical=events, sent=delivered(events), effects=[eff("c0", at=1.0, upsert=True), eff("c1", at=2.0, upsert=True)])
    assert score(h, ME).stale_entities == 0


def test_same_state_from_an_older_event_is_not_stale():
    events = [ev(0, "a", "open"), ev(1, "a", "open")]
    h = History(logical=events, sent=delivered(events), effects=[eff("c0", upsert=True)])
    assert score(h, ME).stale_entities == 0


# ---- latency and throughput ----


def test_latency_is_first_applied_effect_minus_first_sent(three):
    h = History(
        logical=three,
        sent=[sent("c0", 0.0), sent("c0", 0.5), sent("c1", 1.0), sent("c2", 2.0), sent("c2", 1.5, consumer=OTHER)],
        effects=[eff("c0", 0.25), eff("c0", 0.1), eff("c1", 1.0, applied=False), eff("c1", 1.5), eff("c2", 3.0)],
    )
    s = score(h, ME)
    assert s.latencies_ms == pytest.approx([100.0, 500.0, 1000.0])
    assert s.latency_ms == pytest.approx({"p50": 500.0, "p95": 1000.0, "p99": 1000.0})
    assert s.throughput_eps == pytest.approx(3 / (3.0 - 0.0))


def test_no_effects_no_latency_no_throughput(three):
    s = score(History(logical=three, sent=[sent("c0")]), ME)
    assert s.latency_ms == {"p50": None, "p95": None, "p99": None}
    assert s.throughput_eps == 0.0 and s.latencies_ms == []


def test_effect_for_event_never_sent_has_no_latency_sample(three):
    h = History(logical=three, sent=[sent("c0", 0.0)], effects=[eff("c0", 1.0), eff("c1", 1.0)])
    assert score(h, ME).latencies_ms == [1000.0]


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1), st.integers(1, 100))
def test_percentile_is_nearest_rank(samples, p):
    samples.sort()
    value = percentile(samples, p)
    n = len(samples)
    # Nearest rank: the smallest value with at least p% of samples at or below it.
    at_or_below = sum(1 for x in samples if x <= value)
    assert at_or_below * 100 >= p * n
    assert sum(1 for x in samples if x < value) * 100 < p * n


# ---- verdict and Expect ----


def test_incomplete_history_fails_saying_why_even_with_perfect_counts(three):
    h = History(logical=three, sent=delivered(three), effects=[eff(e.correlation_id) for e in three],
                complete=False, stopped="interrupted (Ctrl-C)")
    s = score(h, ME)
    assert (s.missed, s.duplicated) == (0, 0)
    assert s.complete is False and s.verdict == "fail"
    assert s.failures == ["run incomplete: interrupted (Ctrl-C)"]
    assert s.to_dict()["complete"] is False


def test_events_never_sent_are_unsent_not_missed(three):
    # The run stopped after c0 went out: c1 and c2 never reached the consumer.
    h = History(logical=three, sent=[sent("c0")], effects=[], complete=False, stopped="terminated")
    s = score(h, ME)
    assert (s.logical_events, s.missed, s.unsent) == (1, 1, 2)


def test_events_the_rule_does_not_route_are_out_of_scope(three):
    routed = [sent("c0"), sent("c1")]
    unrouted = Sent(ME, 0.0, "original", "c2", "c2", "body-c2", routed=False)
    h = History(logical=three, sent=routed + [unrouted], effects=[eff("c0"), eff("c1")])
    s = score(h, ME)
    assert (s.logical_events, s.missed, s.filtered) == (2, 0, 1)
    assert s.verdict == "pass"


def test_refused_deliveries_are_not_charged_to_the_consumer(three):
    refused = Refused(ME, 0.0, "original", "c2", "c2", "body-c2", "ValidationException", "too big")
    h = History(logical=three, sent=[sent("c0"), sent("c1")], refused=[refused],
                effects=[eff("c0"), eff("c1")])
    s = score(h, ME)
    assert (s.logical_events, s.missed, s.refused) == (2, 0, 1)


def test_an_event_refused_once_but_delivered_later_is_in_scope(three):
    refused = Refused(ME, 0.0, "original", "c2", "c2", "body-c2", "Throttled")
    h = History(logical=three, sent=delivered(three), refused=[refused], effects=[eff("c0"), eff("c1")])
    s = score(h, ME)
    assert (s.logical_events, s.missed, s.refused) == (3, 1, 0)


def test_a_consumer_that_parks_every_event_fails_by_default(three):
    h = History(logical=three, sent=delivered(three), dlq=[dlq(e.correlation_id) for e in three])
    s = score(h, ME)
    assert (s.missed, s.dlq, s.effects) == (0, 3, 0)
    assert s.verdict == "fail" and s.failures == ["dlq 3 > 0"]


def test_poison_put_through_eventbridge_is_matched_by_its_envelope_id():
    # PutEvents gave the poison an envelope id; the queue's body is EventBridge's
    # envelope, so the DLQ entry's body differs from the planned one.
    via_rule = Sent(ME, 0.0, "poison", None, "eb-id-1", "planned-body", poison="unknown_topic")
    h = History(sent=[via_rule], dlq=[DlqEntry(ME, 5.0, "queue-body", None, "eb-id-1")])
    assert score(h, ME).poison_dropped == 0


def _score_with(**values) -> ConsumerScore:
    base = dict(name="x", logical_events=10, effects=10, missed=0, duplicated=0, extra_effects=0,
                unexpected=0, dlq=0, poison_dropped=0, stale_entities=0,
                latency_ms={"p50": 1.0, "p95": 2.0, "p99": 3.0}, throughput_eps=1.0)
    base.update(values)
    return ConsumerScore(**base)


_METRICS = ("missed", "duplicated", "unexpected", "dlq", "poison_dropped", "stale_entities", "extra_effects")


@given(values=st.fixed_dictionaries({m: st.integers(0, 5) for m in _METRICS}),
       limits=st.fixed_dictionaries({m: st.none() | st.integers(0, 5) for m in _METRICS}),
       p99=st.floats(0, 100), p99_limit=st.none() | st.floats(0, 100))
def test_verdict_fails_exactly_on_broken_thresholds(values, limits, p99, p99_limit):
    result = _score_with(latency_ms={"p50": 0.0, "p95": 0.0, "p99": p99}, **values)
    judge(result, Expect(p99_ms=p99_limit, **limits))
    broken = {m for m in _METRICS if limits[m] is not None and values[m] > limits[m]}
    if p99_limit is not None and p99 > p99_limit:
        broken.add("p99_ms")
    assert {f.split()[0] for f in result.failures} == broken
    assert result.verdict == ("fail" if broken else "pass")


def test_failure_text_names_value_and_limit():
    result = judge(_score_with(missed=3, latency_ms={"p50": 1.0, "p95": 1.0, "p99": 250.5}),
                   Expect(p99_ms=200))
    assert result.failures == ["missed 3 > 0", "p99_ms 250.5 > 200"]


def test_default_expect_checks_missed_duplicated_unexpected_and_dlq():
    result = judge(_score_with(poison_dropped=2, stale_entities=9, extra_effects=0), Expect())
    assert result.verdict == "pass"
    assert [name for name, _ in Expect().checks()] == ["missed", "duplicated", "unexpected", "dlq"]
    assert judge(_score_with(dlq=1), Expect()).failures == ["dlq 1 > 0"]


def test_expect_from_mapping_keeps_defaults_for_absent_keys():
    e = Expect.from_mapping({"dlq": 2, "duplicated": None, "p99_ms": 1500})
    assert e == Expect(missed=0, duplicated=None, unexpected=0, dlq=2, p99_ms=1500.0)
    assert Expect.from_mapping({"dlq": None}).dlq is None  # a scenario may switch a default off
    assert Expect.from_mapping(None) == Expect()


@pytest.mark.parametrize("data, fragment", [
    ({"missd": 0}, "expect: unknown key 'missd'"),
    ({"missed": -1}, "expect.missed: must be a non-negative integer"),
    ({"missed": 1.5}, "expect.missed: must be a non-negative integer"),
    ({"duplicated": True}, "expect.duplicated: must be a non-negative integer"),
    ({"dlq": "0"}, "expect.dlq: must be a non-negative integer"),
    ({"p99_ms": "fast"}, "expect.p99_ms: must be a non-negative number"),
    ({"p99_ms": float("nan")}, "expect.p99_ms: must be a non-negative number"),
    ([1, 2], "expect: must be a mapping"),
])
def test_expect_from_mapping_rejects_bad_input(data, fragment):
    with pytest.raises(BadInput) as info:
        Expect.from_mapping(data)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_expect_error_names_where_it_came_from():
    with pytest.raises(BadInput, match=r"^scenarios/x.yaml: expect: unknown key 'bogus'"):
        Expect.from_mapping({"bogus": 1}, where="scenarios/x.yaml: expect")


def test_to_dict_has_design_fields_and_leaves_samples_out(three):
    h = History(logical=three, sent=[sent("c0")], effects=[eff("c0")])
    d = score(h, ME).to_dict()
    for key in ("name", "logical_events", "effects", "missed", "duplicated", "extra_effects",
                "unexpected", "dlq", "poison_dropped", "stale_entities", "latency_ms",
                "throughput_eps", "verdict"):
        assert key in d
    assert "latencies_ms" not in d
    assert score(h, ME).to_dict(samples=True)["latencies_ms"] == [1000.0]


def test_the_rerun_command_keeps_each_consumers_own_interpreter():
    from simulator.scoring import reproduce_command

    meta = {"reproduce": "genesys-sim run fifo --seed 21",
            "consumers": [{"name": "a", "spec": "python:m:C", "python": "/v/bin/python"},
                          {"name": "b", "spec": "http:http://127.0.0.1:9/"}]}
    assert reproduce_command(meta, "python:m:C") == \
        "genesys-sim run fifo --seed 21 --python /v/bin/python --consumer python:m:C"
    # an http: consumer takes no --python: its rerun would be refused
    assert reproduce_command(meta, "http:http://127.0.0.1:9/") == \
        "genesys-sim run fifo --seed 21 --consumer http:http://127.0.0.1:9/"
    assert reproduce_command({}, "python:m:C") is None
