"""The consumers that keep their marks in Redis, each run against fakeredis and
against the real server, with the instances of one consumer sharing one store."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers import redis_envelope, webhook_mark_first
from consumers.check_then_set import AdaptedCheckThenSetConsumer, VerbatimCheckThenSetConsumer
from consumers.latest_timestamp import LatestTimestampConsumer
from consumers.redis_nx import AdaptedSetNxConsumer, VerbatimSetNxConsumer
from consumers.support import per_process
from simulator.clients.api import ConsumerContext
from test_consumers_kit import (  # noqa: F401  (redis_contexts is a fixture)
    RecordingSink, crash_after_effects, drive, genesys_event, message, redis_contexts, republish, sqs_batch,
)

shared_fixture = settings(max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])


def cid(event: dict) -> str:
    return event["detail"]["metadata"]["CorrelationId"]


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def store(redis_contexts):
    """Contexts sharing one fresh namespace: ``store(sink)``."""
    return redis_contexts()


# ---- SET NX before the effect, on the conversation ----


def test_verbatim_set_nx_claims_one_key_for_every_real_event(store, sink):
    consumer = VerbatimSetNxConsumer(store(sink))
    events = [genesys_event() for _ in range(5)]
    for event in events:
        consumer.handle(message(event))
    assert sink.applied() == Counter({cid(events[0]): 1})


@shared_fixture
@given(conversations=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=15))
def test_set_nx_collapses_a_conversation_into_its_first_event(redis_contexts, conversations):
    sink = RecordingSink()
    ctx_of = redis_contexts()
    instances = [AdaptedSetNxConsumer(ctx_of(sink)) for _ in range(2)]
    events = [genesys_event(conversation_id=f"conv-{n}") for n in conversations]
    for i, event in enumerate(events):
        instances[i % 2].handle(message(event))
    first_of_each = {}
    for event in events:
        first_of_each.setdefault(event["detail"]["eventBody"]["conversationId"], cid(event))
    assert sink.applied() == Counter(first_of_each.values())


def test_set_nx_marks_before_the_effect_so_a_failed_effect_is_lost(store, sink):
    event = genesys_event()
    sink.fail_next()
    ctx = store(sink)
    dlq = drive(lambda: AdaptedSetNxConsumer(ctx), [message(event)])
    assert dlq == [] and sink.applied()[cid(event)] == 0  # deleted on the retry, never applied
    assert [a.applied for a in sink.attempts] == [False]


# ---- SET NX on the envelope id, as a Lambda on SQS ----


def test_envelope_lambda_skips_copies_but_applies_republishes(store, sink):
    handler = redis_envelope.make_handler(store(sink))
    event = genesys_event()
    assert handler(sqs_batch([message(event), message(event), message(republish(event))])) == \
        {"batchItemFailures": []}
    assert sink.applied() == Counter({cid(event): 2})


def test_envelope_lambda_reports_a_failed_record_and_its_retry_is_lost(store, sink):
    handler = redis_envelope.make_handler(store(sink))
    failing, fine = message(genesys_event()), message(genesys_event())
    sink.fail_next()
    assert handler(sqs_batch([failing, fine])) == {"batchItemFailures": [{"itemIdentifier": failing.message_id}]}
    assert handler(sqs_batch([failing])) == {"batchItemFailures": []}  # the retry: key taken
    assert sorted(sink.applied().values()) == [1]


def test_lambda_handler_is_built_once_per_process_from_its_context(store, sink, monkeypatch):
    ctx = store(sink)
    builds = []
    monkeypatch.setattr(ConsumerContext, "from_env", classmethod(lambda cls, environ=None: ctx))
    handler = per_process(lambda c: builds.append(c) or redis_envelope.make_handler(c))
    handler(sqs_batch([message(genesys_event())]), None)
    handler(sqs_batch([message(genesys_event())]), None)
    assert builds == [ctx] and len(sink.attempts) == 2


# ---- mark-first webhook, always 200 ----


def test_verbatim_webhook_acknowledges_every_real_event_but_processes_one(store, sink):
    client = webhook_mark_first.create_verbatim_app(store(sink)).test_client()
    events = [genesys_event() for _ in range(4)]
    assert {client.post("/", json=e).status_code for e in events} == {200}
    assert sink.applied() == Counter({cid(events[0]): 1})


def test_webhook_answers_200_when_the_downstream_fails_and_the_event_is_lost(store, sink):
    client = webhook_mark_first.create_app(store(sink)).test_client()
    event = genesys_event()
    sink.fail_next()
    assert client.post("/", json=event).status_code == 200
    assert client.post("/", json=event).status_code == 200  # even a copy finds the mark
    assert sink.applied()[cid(event)] == 0 and len(sink.attempts) == 1


def test_webhook_instances_share_the_mark_but_republishes_pass(store, sink):
    first, second = (webhook_mark_first.create_app(store(sink)).test_client() for _ in range(2))
    event = genesys_event()
    first.post("/", json=event)
    second.post("/", json=event)
    second.post("/", json=republish(event))
    assert sink.applied() == Counter({cid(event): 2})


def test_webhook_drops_invalid_json_silently(store, sink):
    client = webhook_mark_first.create_app(store(sink)).test_client()
    assert client.post("/", data=b"{oops", content_type="application/json").status_code == 200
    assert sink.attempts == []


# ---- check, process, set ----


class RacingSink(RecordingSink):
    """Runs ``meanwhile`` (another instance's work) inside the first effect call:
    the first instance has done its GET and not yet its SET."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile = None

    def effect(self, event=None, **kw):
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile:
            meanwhile()
        super().effect(event, **kw)


def test_verbatim_check_then_set_skips_every_real_event_after_the_first(store, sink):
    consumer = VerbatimCheckThenSetConsumer(store(sink))
    events = [genesys_event() for _ in range(4)]
    for event in events:
        consumer.handle(message(event))
    assert sink.applied() == Counter({cid(events[0]): 1})


def test_check_then_set_skips_copies_and_republishes_in_sequence(store, sink):
    consumer = AdaptedCheckThenSetConsumer(store(sink))
    event = genesys_event()
    for delivery in (event, event, republish(event)):
        consumer.handle(message(delivery))
    assert sink.applied() == Counter({cid(event): 1})


def test_check_then_set_duplicates_when_two_instances_race(store):
    sink = RacingSink()
    a, b = AdaptedCheckThenSetConsumer(store(sink)), AdaptedCheckThenSetConsumer(store(sink))
    event = genesys_event()
    sink.meanwhile = lambda: b.handle(message(event))
    a.handle(message(event))
    assert sink.applied() == Counter({cid(event): 2})


def test_check_then_set_duplicates_after_a_crash_before_the_set(store, sink):
    ctx = store(sink, after_effect=crash_after_effects(1))
    event = genesys_event()
    drive(lambda: AdaptedCheckThenSetConsumer(ctx), [message(event)])
    assert sink.applied() == Counter({cid(event): 2})


def test_check_then_set_retries_a_failed_effect(store, sink):
    ctx = store(sink)
    event = genesys_event()
    sink.fail_next()
    drive(lambda: AdaptedCheckThenSetConsumer(ctx), [message(event)])
    assert sink.applied() == Counter({cid(event): 1})


# ---- latest timestamp wins ----


@shared_fixture
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10)), min_size=1, max_size=20))
def test_latest_timestamp_applies_exactly_the_events_newer_than_all_applied(redis_contexts, deliveries):
    sink = RecordingSink()
    consumer = LatestTimestampConsumer(redis_contexts()(sink))
    newest: dict[int, int] = {}
    expected = []
    for conversation, t in deliveries:
        event = genesys_event(conversation_id=f"conv-{conversation}", event_time_ms=1_765_551_713_000 + t)
        consumer.handle(message(event))
        if t > newest.get(conversation, -1):
            newest[conversation] = t
            expected.append(cid(event))
    assert [a.correlation_id for a in sink.attempts] == expected
    assert all(a.upsert for a in sink.attempts)


def test_latest_timestamp_misses_an_event_a_skewed_clock_made_look_older(store, sink):
    consumer = LatestTimestampConsumer(store(sink))
    t = 1_765_551_713_000
    # true order: acd.end then user.start; the node that stamped acd.end runs 2 s fast
    acd_end = genesys_event(conversation_id="c", event_time_ms=t + 2000, suffix="acd.end")
    user_start = genesys_event(conversation_id="c", event_time_ms=t + 500, suffix="user.start")
    consumer.handle(message(acd_end))
    consumer.handle(message(user_start))
    assert sink.applied() == Counter({cid(acd_end): 1})  # user.start missed: state stays "acd.end"


def test_latest_timestamp_reads_iso_event_times_and_retries_failed_effects(store, sink):
    ctx = store(sink)
    event = genesys_event()
    event["detail"]["eventBody"]["eventTime"] = "2025-12-12T15:01:53.383Z"
    sink.fail_next()
    drive(lambda: LatestTimestampConsumer(ctx), [message(event), message(event)])
    assert sink.applied() == Counter({cid(event): 1})
