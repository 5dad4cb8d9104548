"""EventBridge -> Lambda, simulated: Lambda's asynchronous invocation retries a
function error twice (one, then two minutes later), keeps throttled events
queued, gives up at the maximum event age, then parks the event in the
function's DLQ or on-failure destination, or drops it; read back off the real
queue."""
from __future__ import annotations

import json
import random
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.transport import ApiDestination, EventBridgeTargetInvoker, LambdaAsync, drain_queue
from simulator.transport.targets import (COLD_START_RETRY_REAL_S, LAMBDA_THROTTLE_CAP_S, Answer,
                                         lambda_error)
from simulator.transport.testing import ScriptedTarget, delivery, genesys_envelope, invoke_all

SCALE = 300.0  # Lambda's 60 s + 120 s of retries = 0.6 s real
FAILED = (500, {"errorType": "RuntimeError", "errorMessage": "downstream validation failed"})


def invoke(invoker, deliveries, scale=SCALE):
    record, stats = invoke_all(invoker, deliveries, scale)
    record.attempts.sort(key=lambda a: (a.delivery.envelope_id, a.at))
    return record, stats


def lambda_target(backend, push_topology, url, **config):
    return EventBridgeTargetInvoker(backend, push_topology, [url], consumer="orders-fn", seed=5,
                                    policy=LambdaAsync(**config))


def test_a_function_error_is_retried_a_minute_then_two_minutes_later_then_parked_in_the_dlq(
        backend, push_topology):
    event = genesys_envelope(1)
    with ScriptedTarget(lambda call: FAILED) as target:
        record, stats = invoke(lambda_target(backend, push_topology, target.url), [delivery(event)])
    assert [c.body for c in target.calls] == [json.dumps(event)] * 3  # same event, same id
    first, second, third = (a.at_s for a in record.attempts)
    assert 60 <= second - first < 60 + 0.3 * SCALE  # scheduling lag on a loaded machine
    assert 120 <= third - second < 120 + 0.3 * SCALE
    assert [a.outcome for a in record.attempts] == ["retry", "retry", "failed"]
    (given_up,) = record.undelivered
    assert (given_up.attempts, given_up.exhausted, given_up.error_code) == (3, "RetriesExhausted", "RuntimeError")
    (parked,) = drain_queue(backend, push_topology.dlq_url)
    assert json.loads(parked.body) == event  # the function's DLQ gets the event as it was
    assert set(parked.message_attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
    assert parked.message_attributes["ErrorCode"]["DataType"] == "Number"
    assert parked.attribute("ErrorCode") == "200"
    assert parked.attribute("ErrorMessage") == "downstream validation failed"
    uuid.UUID(parked.attribute("RequestID"))
    assert stats.to_dlq == 1 and stats.delivered == 0


def test_lambda_semantics_give_up_where_eventbridge_s_api_destination_policy_does_not(backend, push_topology):
    """The same handler, failing its first three invocations: Lambda loses the
    event (two retries), EventBridge's 185-attempt policy delivers it."""
    answer = (lambda call: FAILED if call.attempt <= 3 else 200)
    with ScriptedTarget(answer) as lam:
        lam_record, _ = invoke(lambda_target(backend, push_topology, lam.url, on_failure="drop"),
                               [delivery(genesys_envelope(2))])
    with ScriptedTarget(answer) as api:
        api_record, api_stats = invoke(EventBridgeTargetInvoker(backend, push_topology, [api.url], seed=5,
                                                                policy=ApiDestination()),
                                       [delivery(genesys_envelope(2))], scale=20000)
    assert len(lam.calls) == 3 and lam_record.undelivered[0].dlq_message_id is None
    assert len(api.calls) == 4 and api_stats.delivered == 1
    assert drain_queue(backend, push_topology.dlq_url) == []


def test_no_retry_attempts_means_one_invocation(backend, push_topology):
    with ScriptedTarget(lambda call: FAILED) as target:
        record, _ = invoke(lambda_target(backend, push_topology, target.url, maximum_retry_attempts=0),
                           [delivery(genesys_envelope(3))])
    assert len(target.calls) == 1
    assert record.undelivered[0].exhausted == "RetriesExhausted"


def test_the_maximum_event_age_ends_retries_with_event_age_exceeded(backend, push_topology):
    with ScriptedTarget(lambda call: FAILED) as target:
        record, _ = invoke(lambda_target(backend, push_topology, target.url, maximum_event_age_s=100,
                                         on_failure="destination"),
                           [delivery(genesys_envelope(4))])
    assert len(target.calls) == 2  # the retry at +60 s is within 100 s of age; the one at +180 s is not
    (parked,) = drain_queue(backend, push_topology.dlq_url)
    record_ = json.loads(parked.body)
    assert record_["requestContext"]["condition"] == "EventAgeExceeded"
    assert record.undelivered[0].exhausted == "EventAgeExceeded"


def test_the_on_failure_destination_gets_lambda_s_invocation_record(backend, push_topology):
    event = genesys_envelope(5)
    with ScriptedTarget(lambda call: FAILED) as target:
        invoker = lambda_target(backend, push_topology, target.url, on_failure="destination")
        invoke(invoker, [delivery(event)])
    (parked,) = drain_queue(backend, push_topology.dlq_url)
    assert parked.message_attributes == {}
    record = json.loads(parked.body)
    assert set(record) == {"version", "timestamp", "requestContext", "requestPayload",
                           "responseContext", "responsePayload"}
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == invoker._target_arn + ":$LATEST"
    assert invoker._target_arn.startswith(f"arn:aws:lambda:{backend.region}:{push_topology.account}:function:")
    uuid.UUID(record["requestContext"]["requestId"])
    assert record["requestPayload"] == event
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"] == {"errorType": "RuntimeError",
                                         "errorMessage": "downstream validation failed"}


def test_drop_leaves_nothing_behind(backend, push_topology):
    with ScriptedTarget(lambda call: FAILED) as target:
        record, stats = invoke(lambda_target(backend, push_topology, target.url, on_failure="drop"),
                               [delivery(genesys_envelope(6))])
    assert stats.dropped == 1 and record.undelivered[0].dlq_message_id is None
    assert drain_queue(backend, push_topology.dlq_url) == []


def test_a_function_timeout_is_a_function_error(backend, push_topology):
    def slow(call):
        if call.attempt == 1:
            time.sleep(0.4)  # past the invoker's wait for the function
        return 200

    with ScriptedTarget(slow) as target:
        invoker = lambda_target(backend, push_topology, target.url)
        invoker.timeout_s = 0.1
        record, stats = invoke(invoker, [delivery(genesys_envelope(7))])
    assert [a.error_code for a in record.attempts] == ["Sandbox.Timedout", None]
    assert record.attempts[1].at_s - record.attempts[0].at_s >= 60  # a function error's retry
    assert stats.delivered == 1


def test_throttles_keep_the_event_queued_without_using_retry_attempts(backend, push_topology):
    with ScriptedTarget(lambda call: 429 if call.attempt <= 3 else 200) as target:
        record, stats = invoke(lambda_target(backend, push_topology, target.url, maximum_retry_attempts=0),
                               [delivery(genesys_envelope(8))], scale=20)
    assert len(target.calls) == 4 and stats.delivered == 1
    gaps = [b.at_s - a.at_s for a, b in zip(record.attempts, record.attempts[1:])]
    assert [round(g) >= d for g, d in zip(gaps, (1, 2, 4))] == [True] * 3  # exponential from 1 s
    assert {a.error_code for a in record.attempts[:3]} == {"TooManyRequestsException"}


def test_nothing_listening_is_a_cold_start_retried_soon(backend, push_topology):
    record, stats = invoke(lambda_target(backend, push_topology, "http://127.0.0.1:9/", maximum_event_age_s=60),
                           [delivery(genesys_envelope(9))], scale=300)
    assert {a.error_code for a in record.attempts} == {"ColdStart"}
    # retried every COLD_START_RETRY_REAL_S real seconds until the event is too old
    assert len(record.attempts) >= 0.5 * 60 / (COLD_START_RETRY_REAL_S * 300)
    assert record.undelivered[0].exhausted == "EventAgeExceeded"


def test_events_wait_for_an_instance_that_is_starting_and_only_one_probes_it(backend, push_topology):
    import threading

    from simulator.clients.supervisor import free_port

    port = free_port()
    deliveries = [delivery(genesys_envelope(n)) for n in range(20)]
    started = threading.Event()

    def start_late():
        time.sleep(0.6)  # the instance takes a while to come up, as after a crash
        with ScriptedTarget(port=port) as late:
            started.set()
            while len(late.calls) < len(deliveries):
                time.sleep(0.02)
            start_late.calls = late.calls

    starter = threading.Thread(target=start_late)
    starter.start()
    record, stats = invoke(lambda_target(backend, push_topology, f"http://127.0.0.1:{port}/"), deliveries, scale=60)
    starter.join(30)
    assert started.is_set() and stats.delivered == len(deliveries)
    cold = [a for a in record.attempts if a.error_code == "ColdStart"]
    # waiting is not failing: no retry attempt used, and not one refused call per event
    assert all(a.outcome == "retry" for a in cold) and 0 < len(cold) < len(deliveries)
    assert {a.error_code for a in record.attempts} <= {"ColdStart", None}


def test_a_body_that_is_not_json_is_refused_by_invoke_and_parked_by_eventbridge(backend, push_topology):
    from simulator.transport.testing import poison

    with ScriptedTarget() as target:
        invoker = lambda_target(backend, push_topology, target.url)
        record, _ = invoke(invoker, [poison("{not json")])
    assert target.calls == []  # Lambda never ran the function
    (parked,) = drain_queue(backend, push_topology.dlq_url)
    assert parked.body == "{not json"
    assert parked.attribute("RULE_ARN") == push_topology.rule_arn
    assert parked.attribute("TARGET_ARN") == invoker._target_arn
    assert "InvalidRequestContentException" in parked.attribute("ERROR_MESSAGE")


def test_lambda_may_invoke_a_function_twice_for_one_event(backend, push_topology):
    deliveries = [delivery(genesys_envelope(n), at_s=n) for n in range(5)]
    with ScriptedTarget() as target:
        record, stats = invoke(lambda_target(backend, push_topology, target.url, duplicate_probability=1.0),
                               deliveries)
    bodies = [c.body for c in target.calls]
    assert sorted(bodies) == sorted([d.body for d in deliveries] * 2)  # every event twice, same id
    assert [a.outcome for a in record.attempts].count("duplicate") == 5
    assert stats.delivered == 5 and record.pending == []


@pytest.mark.parametrize("config, where", [
    ({"maximum_retry_attempts": 3}, "lambda.maximum_retry_attempts"),
    ({"maximum_event_age_s": 59}, "lambda.maximum_event_age_s"),
    ({"maximum_event_age_s": 21601}, "lambda.maximum_event_age_s"),
    ({"on_failure": "sqs"}, "lambda.on_failure"),
    ({"duplicate_probability": 1.5}, "lambda.duplicate_probability"),
])
def test_lambda_limits_are_lambda_s(config, where):
    with pytest.raises(BadInput) as refused:
        LambdaAsync(**config)
    assert refused.value.where == where


# ---- the policy alone, for every sequence of answers ----

_answers = st.sampled_from([
    Answer(500, json.dumps({"errorType": "RuntimeError", "errorMessage": "x"})),
    Answer(None, "", "timeout"), Answer(None, "", "reset"), Answer(429), Answer(503, "bad gateway"),
])


@given(answers=st.lists(_answers, min_size=1, max_size=60), retries=st.integers(0, 2),
       age=st.integers(60, 21600), start=st.floats(0, 1e6), scale=st.floats(1, 5000))
def test_lambda_retries_stay_within_lambda_s_bounds(answers, retries, age, start, scale):
    policy = LambdaAsync(maximum_retry_attempts=retries, maximum_event_age_s=age)
    d = delivery(genesys_envelope(0), at_s=start)
    now, used, throttles, rng = start, 0, 0, random.Random(0)
    for answer in answers:
        verdict = policy.judge(answer, delivery=d, retries=used, throttles=throttles, now_s=now,
                               time_scale=scale, rng=rng)
        function_error = lambda_error(answer)[3]
        assert verdict.counted == function_error
        if verdict.retry_at_s is None:
            assert verdict.exhausted in ("RetriesExhausted", "EventAgeExceeded")
            assert verdict.exhausted != "RetriesExhausted" or (function_error and used == retries)
            break
        delay = verdict.retry_at_s - now
        assert verdict.retry_at_s - start <= age  # never tried past the maximum event age
        if function_error:
            assert delay == pytest.approx((60.0, 120.0)[used])  # one minute, then two
        else:
            assert 1.0 - 1e-9 <= delay <= LAMBDA_THROTTLE_CAP_S + 1e-9
        used += verdict.counted
        throttles += verdict.throttled
        now = verdict.retry_at_s
    assert used <= retries  # at most maximum_retry_attempts retries of function errors


@given(status=st.integers(500, 599), error_type=st.text(min_size=1, max_size=20))
def test_a_5xx_is_a_function_error_only_with_lambda_s_error_object(status, error_type):
    with_object = lambda_error(Answer(status, json.dumps({"errorType": error_type, "errorMessage": "m"})))
    bare = lambda_error(Answer(status, "<html>bad gateway</html>"))
    assert with_object[3] and with_object[0] == error_type and with_object[2] == 200
    assert not bare[3] and bare[2] == status
