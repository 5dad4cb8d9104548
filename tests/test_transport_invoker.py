"""EventBridge -> Lambda/HTTP targets, simulated: retries with the target's retry
policy on the scenario clock, then the DLQ with EventBridge's attributes."""
from __future__ import annotations

import json
import random
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.clock import ScenarioClock
from simulator.errors import BadInput
from simulator.transport import (ApiDestination, Backoff, EventBridgeTargetInvoker, Listener, RetryPolicy,
                                 drain_queue, make_injector)
from simulator.transport.targets import retryable
from simulator.transport.testing import ScriptedTarget, delivery, genesys_envelope, invoke_all, poison

SCALE = 2000.0  # 900 s of backoff cap = 0.45 s real


def invoke(invoker, deliveries, scale=SCALE):
    return invoke_all(invoker, deliveries, scale)


def test_retries_until_the_target_answers_with_the_same_event(backend, push_topology):
    with ScriptedTarget(lambda call: 500 if call.attempt <= 2 else 200) as target:
        d = delivery(genesys_envelope(1))
        record, stats = invoke(EventBridgeTargetInvoker(backend, push_topology, [target.url], seed=1), [d])
    assert [c.body for c in target.calls] == [d.body] * 3  # same body, same id
    assert [a.outcome for a in sorted(record.attempts, key=lambda a: a.number)] == [
        "retry", "retry", "delivered"]
    assert (stats.delivered, stats.attempts, stats.to_dlq) == (1, 3, 0)
    assert len(record.sent) == 1 and record.sent[0].envelope_id == d.envelope_id
    assert drain_queue(backend, push_topology.dlq_url) == []


def test_exhausted_retries_go_to_the_dlq_with_eventbridge_s_attributes(backend, push_topology):
    with ScriptedTarget(lambda call: 503) as target:
        d = delivery(genesys_envelope(2))
        invoker = EventBridgeTargetInvoker(backend, push_topology, [target.url], consumer="svc",
                                           policy=ApiDestination(RetryPolicy(maximum_retry_attempts=3)), seed=2)
        record, stats = invoke(invoker, [d])
    assert len(target.calls) == 4  # the first try and three retries
    (given_up,) = record.undelivered
    assert (given_up.attempts, given_up.exhausted) == (4, "MaximumRetryAttempts")
    (parked,) = drain_queue(backend, push_topology.dlq_url)
    assert parked.body == d.body and parked.message_id == given_up.dlq_message_id
    assert parked.attribute("RULE_ARN") == push_topology.rule_arn
    assert parked.attribute("TARGET_ARN") == invoker._target_arn and "svc" in invoker._target_arn
    assert parked.attribute("ERROR_CODE") == "SDK_CLIENT_ERROR"
    assert "503" in parked.attribute("ERROR_MESSAGE")
    assert parked.attribute("EXHAUSTED_RETRY_CONDITION") == "MaximumRetryAttempts"
    assert parked.attribute("RETRY_ATTEMPTS") == "3"
    assert stats.to_dlq == 1


def test_the_invoker_stops_at_the_maximum_event_age(backend, push_topology):
    with ScriptedTarget(lambda call: 500) as target:
        d = delivery(genesys_envelope(3), at_s=5.0)
        invoker = EventBridgeTargetInvoker(backend, push_topology, [target.url], seed=3,
                                           policy=ApiDestination(RetryPolicy(maximum_event_age_s=60)))
        record, _ = invoke(invoker, [d], scale=50)  # 60 s of age = 1.2 s real: room for retries on a loaded machine
    (given_up,) = record.undelivered
    assert given_up.exhausted == "MaximumEventAgeInSeconds"
    assert 1 < given_up.attempts < 186
    assert all(a.at_s - d.at_s <= 60 for a in record.attempts)
    assert drain_queue(backend, push_topology.dlq_url)[0].attribute(
        "EXHAUSTED_RETRY_CONDITION") == "MaximumEventAgeInSeconds"


def test_a_client_error_is_not_retried(backend, push_topology):
    with ScriptedTarget(lambda call: 400) as target:
        record, _ = invoke(EventBridgeTargetInvoker(backend, push_topology, [target.url]),
                           [delivery(genesys_envelope(4))])
    assert len(target.calls) == 1
    (given_up,) = record.undelivered
    assert given_up.exhausted is None and given_up.attempts == 1
    assert drain_queue(backend, push_topology.dlq_url)[0].attribute("RETRY_ATTEMPTS") == "0"


def test_throttling_and_timeouts_are_retried(backend, push_topology):
    def answer(call):
        if call.attempt == 1:
            return 429
        if call.attempt == 2:
            time.sleep(0.3)  # longer than the invoker's timeout
        return 200

    with ScriptedTarget(answer) as target:
        record, stats = invoke(EventBridgeTargetInvoker(backend, push_topology, [target.url],
                                                        timeout_s=0.1, seed=4),
                               [delivery(genesys_envelope(5))])
    codes = [a.error_code for a in sorted(record.attempts, key=lambda a: a.number)]
    assert codes == ["THROTTLING", "TIMEOUT", None]
    assert stats.delivered == 1


def test_an_unreachable_target_is_a_connection_failure_then_dropped_without_dlq(backend, push_topology):
    d = delivery(genesys_envelope(6))
    invoker = EventBridgeTargetInvoker(backend, push_topology, ["http://127.0.0.1:9/"], use_dlq=False,
                                       policy=ApiDestination(RetryPolicy(maximum_retry_attempts=1)))
    record, stats = invoke(invoker, [d])
    (given_up,) = record.undelivered
    assert given_up.error_code == "CONNECTION_FAILURE" and given_up.dlq_message_id is None
    assert stats.dropped == 1
    assert drain_queue(backend, push_topology.dlq_url) == []


def test_instances_take_turns_and_a_slow_one_does_not_stall_the_rest(backend, push_topology):
    release = threading.Event()

    def slow(call):
        release.wait(5)
        return 200

    with ScriptedTarget(slow) as stuck, ScriptedTarget() as quick:
        plan = [delivery(genesys_envelope(i), at_s=i * 0.1) for i in range(8)]
        invoker = EventBridgeTargetInvoker(backend, push_topology, [stuck.url, quick.url], workers=8)
        done = threading.Thread(target=invoke, args=(invoker, plan))
        done.start()
        deadline = time.monotonic() + 10
        while len(quick.calls) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        served_while_stuck = len(quick.calls)
        release.set()
        done.join()
    assert served_while_stuck == 4
    assert len(stuck.calls) == 4


def test_poison_is_posted_as_is(backend, push_topology):
    with ScriptedTarget(lambda call: 400) as target:
        invoke(EventBridgeTargetInvoker(backend, push_topology, [target.url]), [poison("{not json")])
    assert [c.body for c in target.calls] == ["{not json"]
    assert drain_queue(backend, push_topology.dlq_url)[0].body == "{not json"


def test_make_injector_builds_the_invoker_for_push(backend, push_topology):
    invoker = make_injector(backend, push_topology, "lambda", targets=["http://127.0.0.1:1/"],
                            policy=ApiDestination(RetryPolicy(maximum_retry_attempts=0)))
    assert isinstance(invoker, EventBridgeTargetInvoker)
    with pytest.raises(BadInput, match="target URL"):
        make_injector(backend, push_topology, "http")


@pytest.mark.parametrize("kwargs, where", [
    ({"maximum_retry_attempts": 186}, "retry_policy.maximum_retry_attempts"),
    ({"maximum_retry_attempts": -1}, "retry_policy.maximum_retry_attempts"),
    ({"maximum_event_age_s": 59}, "retry_policy.maximum_event_age_s"),
    ({"maximum_event_age_s": 86401}, "retry_policy.maximum_event_age_s"),
])
def test_retry_policy_limits_are_eventbridge_s(kwargs, where):
    with pytest.raises(BadInput) as refused:
        RetryPolicy(**kwargs)
    assert refused.value.where == where


@given(retry=st.integers(1, 500), seed=st.integers(0, 2**32))
def test_backoff_is_jittered_exponential_under_a_cap(retry, seed):
    backoff = Backoff()
    delay = backoff.delay_s(retry, random.Random(seed))
    assert 0.0 <= delay <= min(backoff.cap_s, backoff.base_s * 2 ** (retry - 1))


def test_default_policy_limits_meet_near_a_day():
    rng = random.Random(0)
    backoff = Backoff()
    total = sum(backoff.delay_s(n, rng) for n in range(1, 186))
    assert 15 * 3600 < total < 30 * 3600


@given(status=st.integers(100, 599))
def test_retried_statuses_are_eventbridge_s(status):
    assert retryable(status) == (status in (401, 407, 409, 429) or status >= 500)


def test_dlq_body_is_the_event(backend, push_topology):
    envelope = genesys_envelope(9)
    with ScriptedTarget(lambda call: 404) as target:
        invoke(EventBridgeTargetInvoker(backend, push_topology, [target.url]), [delivery(envelope)])
    assert json.loads(drain_queue(backend, push_topology.dlq_url)[0].body) == envelope


def test_a_failing_callback_is_raised_not_swallowed(backend, push_topology):
    class Broken(Listener):
        def sent(self, sent):
            raise RuntimeError("ledger is gone")

    broken = Broken()

    with ScriptedTarget() as target:
        invoker = EventBridgeTargetInvoker(backend, push_topology, [target.url])
        with pytest.raises(RuntimeError, match="ledger is gone"):
            invoker.run([delivery(genesys_envelope(1))], ScenarioClock(SCALE), broken)
