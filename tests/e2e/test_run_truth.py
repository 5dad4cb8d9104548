"""Every count of a verdict is true (issue: "Verdicts a team can trust"): a
consumer that processes nothing fails; a consumer is charged only with what could
reach it; poison that travelled an EventBridge rule is matched by what reached
the queue; whatever ends a run early ends it as incomplete, never as a pass."""
from __future__ import annotations

import pytest

from e2e.buggy import BUGGY
from simulator.scenario import load_scenario, shipped_scenarios
from simulator.scoring import Expect


def test_a_consumer_that_parks_every_event_fails_ci_smoke(run):
    result, scores = run(load_scenario("ci-smoke"), f"lambda-sqs:{BUGGY}:parks_everything")
    score = next(iter(scores.values()))
    assert score.effects == 0
    assert score.dlq == score.logical_events > 0 and score.missed == 0
    assert score.verdict == "fail" and f"dlq {score.dlq} > 0" in score.failures
    assert result.exit_code == 1
    assert sum(1 for a in score.anomalies if a["kind"] == "dlq") + score.anomalies_omitted.get("dlq", 0) == score.dlq


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_no_shipped_scenario_lets_a_consumer_park_everything(path):
    scenario = load_scenario(path)
    limit = Expect.from_mapping(scenario.expect or {}).dlq
    assert limit is not None and limit < 20, f"{path.name}: expect.dlq {limit} lets parked events pass"


def test_events_the_rule_filters_out_are_out_of_scope(scenario, run, plan_of):
    wanted = ["v2.detail.events.conversation.{id}.customer.start",
              "v2.detail.events.conversation.{id}.customer.end"]
    sc = scenario(delivery="eventbridge", extra=f"eventbridge: {{detail_types: {wanted}}}\n")
    events, _ = plan_of(sc)
    routed = sum(e.topic in wanted for e in events)
    result, scores = run(sc, "ref:correct")
    score = scores["correct"]
    assert 0 < routed < len(events)
    assert score.logical_events == routed and score.filtered == len(events) - routed
    assert score.missed == 0 and score.verdict == "pass", score.failures
    assert result.passed


def test_deliveries_the_wire_refuses_are_recorded_and_not_charged(scenario, run, plan_of):
    sc = scenario(delivery="eventbridge", extra="eventbridge: {max_entry_bytes: 1500}\n")
    result, scores = run(sc, "ref:correct")
    score = scores["correct"]
    from simulator.ledger import load

    history = load(result.ledger_path)
    refused = {r.correlation_id for r in history.refused if r.correlation_id}
    assert score.refused == len(refused) > 0
    assert score.logical_events + score.refused == len(history.logical)
    assert score.missed == 0 and score.verdict == "pass", score.failures
    assert all(r.error_code == "ValidationException" for r in history.refused)


@pytest.mark.parametrize("kind", ["invalid_json", "missing_detail", "unknown_topic", "oversize"])
def test_poison_parked_after_an_eventbridge_rule_is_not_dropped(scenario, run, kind):
    sc = scenario(delivery="eventbridge", faults=f"[{{poison: {{count: 3, kinds: [{kind}]}}}}]")
    _, scores = run(sc, "ref:correct", f"python:{BUGGY}:AcksPoison", parallel=2)
    correct, careless = scores["correct"], scores[f"python:{BUGGY}:AcksPoison"]
    assert correct.poison_dropped == 0 and correct.verdict == "pass", correct.failures
    if kind == "oversize":  # PutEvents refuses it: it never reaches either consumer
        assert correct.poison_sent == careless.poison_sent == 0
    else:
        assert correct.poison_sent == 3
        assert careless.poison_dropped == 3  # and the one that deletes it is caught


def test_a_drain_that_times_out_ends_the_run_incomplete(scenario, run):
    sc = scenario(extra="", faults="[]").model_copy(update={"timeout_s": 2.0})
    result, scores = run(sc, f"python:{BUGGY}:Hangs")
    assert not result.complete and not result.passed
    assert result.exit_code == 3
    assert "did not drain" in result.stop.reason
    score = next(iter(scores.values()))
    assert score.verdict == "fail" and score.failures[0].startswith("run incomplete")
    assert score.left_on_queue == score.missed > 0  # held, not lost from the history


def test_a_backend_that_dies_mid_run_ends_it_incomplete_with_what_was_observed(tmp_path, scenario):
    import os
    import signal
    import threading

    from simulator.clients.spec import parse_spec
    from simulator.harness import Harness
    from simulator.runner import run_scenario

    sc = scenario()
    with Harness(out_dir=tmp_path) as harness:
        backend = harness.backend("moto")
        threading.Timer(2.0, os.kill, (backend.pid, signal.SIGKILL)).start()
        result = run_scenario(harness, sc, [parse_spec("ref:correct")])
    assert not result.complete and not result.passed and result.exit_code == 3
    assert "backend" in result.stop.reason.lower()
    score = result.consumers[0]
    assert score.logical_events > 0  # what went out before it died is in the history
    assert score.unsent > 0 and score.logical_events + score.unsent == len(
        __import__("simulator.ledger", fromlist=["load"]).load(result.ledger_path).logical)
