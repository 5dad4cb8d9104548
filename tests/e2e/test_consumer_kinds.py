"""Every consumer spec kind runs for real: separate processes, the real poll loop
or EventBridge push semantics, effects through the sink."""
from __future__ import annotations

import sys
import threading
from collections import Counter

import pytest

from e2e.buggy import BUGGY, touched


def test_lambda_sqs_partial_batch_failures_are_redelivered(scenario, run):
    _, scores = run(scenario(), f"lambda-sqs:{BUGGY}:partial_batch_handler")
    score = next(iter(scores.values()))
    assert (score.missed, score.duplicated, score.dlq) == (0, 0, 0)
    assert score.verdict == "pass"


def test_lambda_eb_failures_are_retried_then_parked_in_the_dlq(scenario, run, plan_of):
    from simulator.ledger import load

    sc = scenario(extra="lambda: {maximum_retry_attempts: 1, maximum_event_age_s: 3600}\n")
    events, _ = plan_of(sc)
    always_failing = sum(touched(e.correlation_id) for e in events)
    result, scores = run(sc, f"lambda-eb:{BUGGY}:eventbridge_handler")
    score = next(iter(scores.values()))
    assert score.dlq == always_failing > 0
    assert score.missed == 0 and score.duplicated == 0
    history = load(result.ledger_path)
    tries = Counter(a.correlation_id for a in history.attempts)
    assert {tries[e.correlation_id] for e in events if touched(e.correlation_id)} == {2}  # one retry
    assert {d.attributes["ErrorMessage"] for d in history.dlq} == {"downstream validation failed"}


def test_wsgi_endpoint_is_made_whole_by_eventbridge_retries(scenario, run):
    _, scores = run(scenario(), f"wsgi:{BUGGY}:create_app")
    score = next(iter(scores.values()))
    assert (score.missed, score.duplicated, score.dlq) == (0, 0, 0)
    assert score.effect_attempts == score.effects  # the 503s happened before any effect


def test_http_endpoint_run_by_the_user(scenario, run):
    from simulator.app import serve_in_thread

    received: list[dict] = []
    lock = threading.Lock()

    def app(environ, start_response):  # a user's endpoint that keeps what it gets
        import json
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with lock:
            received.append(json.loads(body))
        start_response("200 OK", [("content-type", "application/json")])
        return [b"{}"]

    with serve_in_thread(app) as server:
        _, scores = run(scenario(), f"http:{server.url}/")
    score = next(iter(scores.values()))
    # The endpoint reports no effects, so every event is missed: and it did receive them all.
    assert score.missed == score.logical_events == len({e["detail"]["metadata"]["CorrelationId"] for e in received})


def test_cmd_consumer_any_program(scenario, run):
    _, scores = run(scenario(faults="[{redeliver: {probability: 0.3}}]"), f"cmd:{sys.executable} {BUGGY}")
    score = next(iter(scores.values()))
    assert (score.missed, score.duplicated, score.unexpected) == (0, 0, 0)


@pytest.mark.parametrize("delivery", ["eventbridge", "sqs"])
def test_both_queue_paths_deliver_every_event(scenario, run, delivery):
    _, scores = run(scenario(delivery=delivery), "ref:correct")
    score = scores["correct"]
    assert score.effects == score.logical_events > 0
    assert score.verdict == "pass"
