"""CI runs every reference consumer on ci-smoke: the correct one passes, and each
published strategy fails the way its guide's design predicts (the counts come
from this run, not from typing)."""
from __future__ import annotations

import pytest

from consumers import REFERENCES
from simulator.clients.spec import parse_spec
from simulator.runner import RunOptions, run_scenario
from simulator.scenario import load_scenario


@pytest.fixture(scope="module")
def smoke(harness):
    result = run_scenario(harness, load_scenario("ci-smoke"),
                          [parse_spec(f"ref:{r.name}") for r in REFERENCES],
                          options=RunOptions(parallel=2))
    assert result.complete, result.notes
    return {score.name: score for score in result.consumers}


def test_the_correct_consumer_passes(smoke):
    correct = smoke["correct"]
    assert correct.verdict == "pass", correct.failures
    assert correct.effects == correct.logical_events
    assert correct.effect_attempts > correct.effects  # it lived through sink failures and crashes


@pytest.mark.parametrize("name", [r.name for r in REFERENCES if r.name.endswith("-verbatim")
                                  and not r.name.startswith("powertools")])
def test_guides_that_read_missing_fields_drop_nearly_every_event(smoke, name):
    score = smoke[name]
    assert score.missed >= 0.9 * score.logical_events


@pytest.mark.parametrize("name,predicted", [
    ("memory-window", "duplicated"),           # re-publishes, crashes after the effect
    ("http-seen-set", "duplicated"),           # re-publishes; the set dies with the process
    ("check-then-set", "duplicated"),          # crash between the effect and the set
    ("powertools-verbatim", "duplicated"),     # keyed on the SQS messageId: every copy is new
    ("redis-nx-envelope", "duplicated"),       # re-publishes carry a new envelope id
    ("redis-nx-envelope", "missed"),           # marked before the effect, the effect failed
    ("redis-nx-conversation", "missed"),       # one key per conversation: later events skipped
    ("webhook-mark-first", "missed"),          # marked first, the downstream failed, 200 anyway
    ("webhook-mark-first", "poison_dropped"),  # always answers 200
    ("latest-timestamp-wins", "missed"),       # older timestamps skipped after reordering
])
def test_each_strategy_fails_where_its_design_predicts(smoke, name, predicted):
    score = smoke[name]
    assert getattr(score, predicted) > 0, score.to_dict()
    assert score.verdict == "fail"


def test_powertools_keyed_on_the_correlation_id_neither_misses_nor_repeats(smoke):
    score = smoke["powertools"]
    assert (score.missed, score.duplicated) == (0, 0)
