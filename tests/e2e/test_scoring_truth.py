"""Consumers with bugs nobody planned for are scored by what they did, counted
independently from the plan (the bug is a function of the CorrelationId)."""
from __future__ import annotations

from e2e.buggy import BUGGY, touched


def _touched_events(plan_of, scenario, every=7):
    events, _ = plan_of(scenario)
    return sum(touched(e.correlation_id, every) for e in events), len(events)


def test_a_consumer_that_drops_events_is_scored_missed(scenario, run, plan_of):
    sc = scenario(faults="[{redeliver: {probability: 0.2}}]")
    expected, total = _touched_events(plan_of, sc)
    result, scores = run(sc, f"python:{BUGGY}:DropsSome")
    score = scores[f"python:{BUGGY}:DropsSome"]
    assert expected > 0
    assert score.logical_events == total
    assert score.missed == expected
    assert score.duplicated == 0 and score.unexpected == 0
    assert score.verdict == "fail" and result.exit_code == 1


def test_a_consumer_that_applies_twice_is_scored_duplicated(scenario, run, plan_of):
    sc = scenario()
    expected, _ = _touched_events(plan_of, sc)
    _, scores = run(sc, f"python:{BUGGY}:AppliesSomeTwice")
    score = next(iter(scores.values()))
    assert score.duplicated == expected
    assert score.extra_effects == expected
    assert score.missed == 0


def test_silently_acknowledged_poison_is_counted(scenario, run):
    sc = scenario(faults="[{poison: {count: 5}}]")
    _, scores = run(sc, f"python:{BUGGY}:AcksPoison", "ref:correct", parallel=2)
    buggy, correct = scores[f"python:{BUGGY}:AcksPoison"], scores["correct"]
    assert buggy.poison_dropped == 5 and buggy.missed == 0
    assert correct.poison_dropped == 0 and correct.verdict == "pass"


def test_effects_for_events_that_never_existed_are_unexpected(scenario, run, plan_of):
    sc = scenario()
    expected, _ = _touched_events(plan_of, sc)
    _, scores = run(sc, f"python:{BUGGY}:InventsEffects")
    score = next(iter(scores.values()))
    assert score.unexpected == expected
    assert score.missed == 0 and score.duplicated == 0
