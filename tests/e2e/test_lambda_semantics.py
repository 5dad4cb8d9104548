"""Lambda consumers get Lambda's semantics, end to end: a lambda-eb consumer is
invoked asynchronously (two retries within three minutes, then its DLQ or
nowhere), and both Lambda kinds are held to their function timeout."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from e2e.buggy import touched
from simulator.evidence import anomalies
from simulator.accounts import accounts
from simulator.ledger import load

HANDLERS = Path(__file__).with_name("lambda_handlers.py")
NODE_SHAPES = Path(__file__).parents[1] / "node_handlers" / "shapes.mjs"


def _ledger(result):
    return load(result.ledger_path)


def test_a_lambda_eb_consumer_failing_longer_than_its_retry_window_loses_those_events(scenario, run, plan_of):
    sc = scenario(extra="lambda: {on_failure: drop}\n")
    events, _ = plan_of(sc)
    failing = sum(touched(e.correlation_id) for e in events)
    result, scores = run(sc, f"lambda-eb:{HANDLERS}:fails_three_times_handler")
    score = next(iter(scores.values()))
    # EventBridge's own policy would have made these whole on the fourth attempt
    assert score.missed == failing > 0
    assert score.dlq == 0 and score.duplicated == 0
    history = _ledger(result)
    tries = Counter(a.correlation_id for a in history.attempts)
    assert {tries[e.correlation_id] for e in events if touched(e.correlation_id)} == {3}
    stories, _ = anomalies(history, accounts(history, score.name), kinds=["missed"], limit=None)
    assert len(stories) == failing
    assert all("gave up" in s["why"] and "3 attempts" in s["why"] for s in stories), stories[0]["why"]


def test_by_default_lambda_parks_them_in_the_function_s_dlq(scenario, run, plan_of):
    sc = scenario()
    events, _ = plan_of(sc)
    failing = sum(touched(e.correlation_id) for e in events)
    result, scores = run(sc, f"lambda-eb:{HANDLERS}:fails_three_times_handler")
    score = next(iter(scores.values()))
    assert score.dlq == failing > 0 and score.missed == 0
    history = _ledger(result)
    assert {tuple(sorted(d.attributes)) for d in history.dlq} == {("ErrorCode", "ErrorMessage", "RequestID")}
    stories, _ = anomalies(history, accounts(history, score.name), kinds=["dlq"], limit=1)
    assert "function's DLQ" in stories[0]["why"]


def test_the_on_failure_destination_is_scored_from_the_invocation_record(scenario, run, plan_of):
    sc = scenario(extra="lambda: {on_failure: destination}\n")
    events, _ = plan_of(sc)
    _, scores = run(sc, f"lambda-eb:{HANDLERS}:fails_three_times_handler")
    score = next(iter(scores.values()))
    assert score.dlq == sum(touched(e.correlation_id) for e in events) > 0


# function_timeout_s 30 is 1 real s at time_scale 30; a stalled invocation (3x) always
# times out. An ordinary one may too on a loaded CI machine (one did at 0.5 s): Lambda
# would time it out as well, and it is retried like the others, so the test asks only
# that every stalled event timed out, and that no timed-out invocation left an effect.
def test_lambda_eb_function_timeout(scenario, run, plan_of, tmp_path, monkeypatch):
    monkeypatch.setenv("GENESYS_SIM_TEST_MARKS", str(tmp_path))
    sc = scenario(extra="lambda: {function_timeout_s: 30}\n")
    stalled = {e.correlation_id for e in plan_of(sc)[0] if touched(e.correlation_id)}
    result, scores = run(sc, f"lambda-eb:{HANDLERS}:times_out_once_handler")
    score = next(iter(scores.values()))
    history = _ledger(result)
    timed_out = {a.correlation_id for a in history.attempts if a.error_code == "Sandbox.Timedout"}
    assert stalled and stalled <= timed_out
    assert Counter(c.event for c in history.lifecycle)["timeout"] >= 1
    # retried and applied once: nothing the timed-out invocation did reached the sink
    assert (score.missed, score.duplicated, score.dlq) == (0, 0, 0)
    assert score.verdict == "pass"


def test_lambda_sqs_function_timeout_leaves_the_batch_on_the_queue(scenario, run, tmp_path, monkeypatch):
    monkeypatch.setenv("GENESYS_SIM_TEST_MARKS", str(tmp_path))
    result, scores = run(scenario(extra="lambda: {function_timeout_s: 15}\n"),
                         f"lambda-sqs:{HANDLERS}:sqs_times_out_once_handler")
    score = next(iter(scores.values()))
    history = _ledger(result)
    assert Counter(c.event for c in history.lifecycle)["timeout"] >= 1
    again = {r.message_id for r in history.receives if r.receive_count >= 2}
    assert again  # the timed-out batch came back
    assert (score.missed, score.duplicated, score.dlq) == (0, 0, 0)
    stories, _ = anomalies(history, accounts(history, score.name), limit=None)
    assert stories == []


@pytest.mark.parametrize("target", [f"{HANDLERS}:correct_handler", f"{NODE_SHAPES}:effectByHelper"],
                         ids=["python", "node"])
def test_a_crash_ends_only_its_own_invocation(scenario, run, target):
    """The lambda-eb instance runs several invocations, each Lambda's own
    environment: a planned crash answers Runtime.ExitError for the invocation
    that crashed; the others finish, and the events wait for the new instance."""
    result, scores = run(scenario(faults="[{crash: {point: after_effect, every: 15, restart_after_s: 3}}]"),
                         f"lambda-eb:{target}")
    score = next(iter(scores.values()))
    history = _ledger(result)
    crashes = sum(1 for c in history.lifecycle if c.event == "crash")
    answered = [a for a in history.attempts if a.error_code == "Runtime.ExitError" and a.status == 500]
    assert crashes >= 3 and len(answered) == crashes
    assert (score.missed, score.duplicated, score.dlq) == (0, 0, 0)


def test_a_retry_policy_longer_than_the_run_is_scored_as_still_being_retried(scenario, run):
    """An API destination nobody answers: EventBridge would retry for 24 h; the
    run ends ``timeout_s`` after the last first attempt, and every event is
    missed as still being retried, not silently."""
    result, scores = run(scenario().model_copy(update={"timeout_s": 2.0}), "http:http://127.0.0.1:9/")
    score = next(iter(scores.values()))
    assert result.complete and score.missed == score.logical_events > 0
    history = _ledger(result)
    assert {o.where for o in history.leftovers} == {"retrying"}
    stories, _ = anomalies(history, accounts(history, score.name), kinds=["missed"], limit=1)
    assert "still retrying" in stories[0]["why"]


def test_ci_smoke_with_a_lambda_eb_consumer_ends_within_its_time_limits(harness):
    from simulator.clients.spec import parse_spec
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario

    result = run_scenario(harness, load_scenario("ci-smoke"),
                          [parse_spec(f"lambda-eb:{HANDLERS}:correct_handler")])
    (score,) = result.consumers
    assert result.complete, result.notes
    assert (score.missed, score.duplicated, score.unexpected, score.poison_dropped) == (0, 0, 0, 0), score
    history = _ledger(result)
    assert [o for o in history.leftovers if o.where == "retrying"] == []  # nothing cut off
    # poison exhausted Lambda's retries and went to the function's DLQ, within the run
    assert {d.attributes.get("ErrorCode") for d in history.dlq if d.correlation_id is None} <= {"200", None}
    assert history.dlq
    # An event is parked only as Lambda gives up: three failed invocations (with a
    # downstream failing 5% of calls that can happen, and crashes fall where the run's timing puts them).
    tries = Counter(a.correlation_id for a in history.attempts if a.error_code not in (None, "ColdStart"))
    events = {e.correlation_id for e in history.logical}
    assert all(tries[d.correlation_id] >= 3 for d in history.dlq if d.correlation_id in events)  # copies add theirs


@pytest.mark.parametrize("timeout, expected", [(2.0, 2000), (0.5, 500)])
def test_remaining_time_counts_down_from_the_function_timeout(timeout, expected):
    import time

    from simulator.clients.lambda_runtime import LambdaContext

    context = LambdaContext("fn", "us-east-1", timeout)
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    assert expected - 50 <= first <= expected
    assert context.get_remaining_time_in_millis() < first
