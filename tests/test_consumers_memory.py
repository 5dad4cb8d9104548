"""The consumers that keep their memory in the process: the 5-minute window on the
SQS poller and the set of envelope ids behind an HTTP endpoint."""
from __future__ import annotations

from collections import Counter

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers import http_seen_set
from consumers.memory_window import AdaptedWindowConsumer, VerbatimWindowConsumer
from test_consumers_kit import (
    RecordingSink, crash_after_effects, drive, genesys_event, memory_context, message, republish,
)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


# ---- memory window ----


@given(st.integers(min_value=1, max_value=20))
def test_verbatim_window_collapses_every_real_event_into_the_first(count):
    sink = RecordingSink()
    consumer = VerbatimWindowConsumer(memory_context(sink))
    events = [genesys_event() for _ in range(count)]
    for event in events:
        consumer.handle(message(event))
    assert [a.correlation_id for a in sink.attempts] == [events[0]["detail"]["metadata"]["CorrelationId"]]


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=30))
def test_adapted_window_applies_each_envelope_once_within_the_window(picks):
    sink = RecordingSink()
    consumer = AdaptedWindowConsumer(memory_context(sink), clock=ManualClock())
    events = [genesys_event() for _ in range(6)]
    for pick in picks:  # copies of the same body, in any order
        consumer.handle(message(events[pick]))
    assert Counter(a.envelope_id for a in sink.attempts) == Counter({events[p]["id"]: 1 for p in picks})


def test_adapted_window_applies_a_republish_again(sink):
    consumer = AdaptedWindowConsumer(memory_context(sink))
    event = genesys_event()
    for delivery in (event, event, republish(event)):
        consumer.handle(message(delivery))
    assert sink.applied() == Counter({event["detail"]["metadata"]["CorrelationId"]: 2})


def test_window_is_five_scenario_minutes_on_the_scenario_clock(sink):
    clock = ManualClock()
    consumer = AdaptedWindowConsumer(memory_context(sink, time_scale=60), clock=clock)
    event = genesys_event()
    consumer.handle(message(event))
    clock.now += 4.9  # 294 scenario seconds later: inside the window
    consumer.handle(message(event))
    clock.now += 0.2  # 306 scenario seconds after the first: the window forgot it
    consumer.handle(message(event))
    assert [a.envelope_id for a in sink.attempts] == [event["id"], event["id"]]


def test_window_marks_after_processing_so_a_failed_effect_is_retried(sink):
    consumer = AdaptedWindowConsumer(memory_context(sink))
    event = genesys_event()
    sink.fail_next()
    dlq = drive(lambda: consumer, [message(event)])
    assert dlq == []
    assert [a.applied for a in sink.attempts] == [False, True]


def test_window_dies_with_the_process_crash_after_effect_duplicates(sink):
    ctx = memory_context(sink, after_effect=crash_after_effects(1))
    event = genesys_event()
    drive(lambda: AdaptedWindowConsumer(ctx), [message(event)])
    assert sink.applied()[event["detail"]["metadata"]["CorrelationId"]] == 2


def test_each_instance_has_its_own_window(sink):
    ctx = memory_context(sink)
    event = genesys_event()
    drive(lambda: AdaptedWindowConsumer(ctx), [message(event), message(event)], instances=2)
    assert sink.applied()[event["detail"]["metadata"]["CorrelationId"]] == 2


# ---- in-memory set behind an HTTP endpoint ----


@pytest.fixture
def seen_set_app(sink):
    def make():
        app = http_seen_set.create_app(memory_context(sink))
        return app.test_client()
    return make


def test_seen_set_answers_200_and_applies_an_envelope_once(sink, seen_set_app):
    client = seen_set_app()
    event = genesys_event()
    assert [client.post("/", json=event).status_code for _ in range(3)] == [200, 200, 200]
    assert len(sink.attempts) == 1
    client.post("/", json=republish(event))
    assert sink.applied()[event["detail"]["metadata"]["CorrelationId"]] == 2


def test_seen_set_is_per_instance_and_gone_after_restart(sink, seen_set_app):
    event = genesys_event()
    first, second = seen_set_app(), seen_set_app()
    first.post("/", json=event)
    second.post("/", json=event)  # another instance, or the same one restarted
    assert sink.applied()[event["detail"]["metadata"]["CorrelationId"]] == 2


def test_seen_set_answers_500_on_downstream_failure_and_the_retry_applies(sink, seen_set_app):
    client = seen_set_app()
    event = genesys_event()
    sink.fail_next()
    assert client.post("/", json=event).status_code == 500
    assert client.post("/", json=event).status_code == 200
    assert [a.applied for a in sink.attempts] == [False, True]


def test_seen_set_rejects_invalid_json_and_grows_with_every_event(seen_set_app):
    client = seen_set_app()
    assert client.post("/", data=b"{not json", content_type="application/json").status_code == 400
    for _ in range(5):
        client.post("/", data=orjson.dumps(genesys_event()), content_type="application/json")
    assert client.get("/seen").get_json() == {"seen": 5}
