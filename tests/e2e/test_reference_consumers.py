"""CI runs every reference consumer on ci-smoke: the correct one passes, and each
published strategy fails the way its guide's design predicts (the counts come
from this run, not from typing)."""
from __future__ import annotations

import pytest

from consumers import REFERENCES
from postgres_kit import database_url  # noqa: F401 (a fixture)
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
    ("deno-seen-set", "missed"),               # added to the Set first: the failed effect's retry is a "duplicate"
    ("deno-seen-set", "duplicated"),           # re-publishes; the Set dies with the isolate
    ("deno-kv-two-tier", "missed"),            # reordered conversation events skipped as stale
    ("deno-kv-two-tier", "duplicated"),        # get, process, set: a crash in between repeats it
    ("deno-latest-map", "missed"),             # older timestamps skipped after reordering
    ("deno-latest-map", "duplicated"),         # the Map dies with the isolate
])
def test_each_strategy_fails_where_its_design_predicts(smoke, name, predicted):
    score = smoke[name]
    assert getattr(score, predicted) > 0, score.to_dict()
    assert score.verdict == "fail"


@pytest.mark.parametrize("name", ["powertools", "powertools-redis"])
def test_powertools_keyed_on_the_correlation_id_neither_misses_nor_repeats(smoke, name):
    score = smoke[name]
    assert (score.missed, score.duplicated) == (0, 0)


@pytest.mark.parametrize("name", ["postgres-on-conflict", "postgres-for-update"])
def test_the_dedup_row_in_the_business_transaction_is_correct_state_included(database_url, smoke, name):
    score = smoke[name]
    assert score.verdict == "pass", score.failures
    assert score.effects == score.logical_events and score.stale_entities == 0
    assert score.effect_attempts > score.effects  # through sink failures and crashes before COMMIT


@pytest.mark.slow
def test_the_sql_form_goes_stale_only_where_producer_clocks_disagree(database_url, harness):
    result = run_scenario(harness, load_scenario("clock-skew"),
                          [parse_spec("ref:postgres-on-conflict")], options=RunOptions())
    score, = result.consumers
    assert (score.missed, score.duplicated) == (0, 0)
    assert score.stale_entities > 0  # the newest eventTime is not the true last event
