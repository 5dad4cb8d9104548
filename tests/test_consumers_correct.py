"""The correct consumer: every logical event applied exactly once whatever the
delivery does, poison parked in the DLQ, nothing deleted before the effect."""
from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumers.correct import MAX_EVENT_BYTES, CorrectConsumer, PoisonMessage
from simulator.clients.api import DownstreamError
from test_consumers_kit import (
    _CAPTURE_FILES, RecordingSink, crash_after_effects, drive, genesys_event, memory_context, message,
    needs_captures, republish,
)


def cid(event: dict) -> str:
    return event["detail"]["metadata"]["CorrelationId"]


def _without(path: tuple[str, ...]) -> str:
    event = genesys_event()
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return json.dumps(event)


def _with(path: tuple[str, ...], value) -> str:
    event = genesys_event()
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(event)


POISON = {
    "invalid_json": '{"version": "0", "id": ',
    "not_an_object": json.dumps([genesys_event()]),
    "missing_detail": _without(("detail",)),
    "detail_not_object": _with(("detail",), "customer.end"),
    "no_correlation_id": _without(("detail", "metadata", "CorrelationId")),
    "empty_correlation_id": _with(("detail", "metadata", "CorrelationId"), ""),
    "unknown_topic": _with(("detail-type",), "v2.detail.events.conversation.{id}.customer.end.v9"),
    "not_genesys_topic": _with(("detail-type",), "Order Placed"),
    "oversize": _with(("detail", "eventBody", "padding"), "x" * MAX_EVENT_BYTES),
}


def test_every_effect_carries_the_correlation_id_as_idempotency_key():
    sink = RecordingSink()
    consumer = CorrectConsumer(memory_context(sink))
    events = [genesys_event() for _ in range(3)]
    for event in events:
        consumer.handle(message(event))
    assert [a.idempotency_key for a in sink.attempts] == [cid(e) for e in events]


@needs_captures
@pytest.mark.parametrize("path", _CAPTURE_FILES, ids=lambda p: p.stem)
def test_every_captured_topic_is_accepted(path):
    sink = RecordingSink()
    CorrectConsumer(memory_context(sink)).handle(message(path.read_text()))
    assert sink.applied() == Counter({json.loads(path.read_text())["detail"]["metadata"]["CorrelationId"]: 1})


@pytest.mark.parametrize("kind", POISON)
def test_poison_raises_naming_the_message_and_applies_nothing(kind):
    sink = RecordingSink()
    poison = message(POISON[kind])
    with pytest.raises(PoisonMessage, match=poison.message_id):
        CorrectConsumer(memory_context(sink)).handle(poison)
    assert sink.attempts == []


def test_downstream_error_propagates_so_the_message_is_not_deleted():
    sink = RecordingSink()
    sink.fail_next(status=429)
    with pytest.raises(DownstreamError):
        CorrectConsumer(memory_context(sink)).handle(message(genesys_event()))


def test_a_crash_between_effect_and_delete_is_harmless():
    sink = RecordingSink()
    ctx = memory_context(sink, after_effect=crash_after_effects(1))
    event = genesys_event()
    assert drive(lambda: CorrectConsumer(ctx), [message(event)]) == []
    assert len(sink.attempts) == 2 and sink.applied() == Counter({cid(event): 1})


@st.composite
def schedules(draw):
    """Deliveries of ``n`` events: each original once, plus copies and re-publishes,
    in any order, with poison mixed in; sink failures and crashes at any call."""
    events = [genesys_event() for _ in range(draw(st.integers(1, 6)))]
    extra = draw(st.lists(st.tuples(st.sampled_from(range(len(events))), st.booleans()), max_size=10))
    bodies = [message(e) for e in events]
    bodies += [message(republish(events[i]) if again else events[i]) for i, again in extra]
    poison = [message(POISON[k]) for k in draw(st.lists(st.sampled_from(sorted(POISON)), max_size=3))]
    order = draw(st.permutations(bodies + poison))
    calls = len(bodies) * 3
    failing = draw(st.sets(st.integers(1, calls), max_size=3))
    crashes = draw(st.sets(st.integers(1, calls), max_size=3))
    instances = draw(st.integers(1, 3))
    return events, poison, order, failing, crashes, instances


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_each_event_is_applied_exactly_once_and_poison_goes_to_the_dlq(schedule):
    events, poison, order, failing, crashes, instances = schedule
    sink = RecordingSink(failing_calls=failing)
    ctx = memory_context(sink, after_effect=crash_after_effects(*crashes))
    # more receives than failures and crashes in all: only poison reaches the DLQ
    dlq = drive(lambda: CorrectConsumer(ctx), order, instances=instances,
                max_receive=1 + len(failing) + len(crashes))
    assert sink.applied() == Counter({cid(e): 1 for e in events})
    assert Counter(m.body for m in dlq) == Counter(m.body for m in poison)


def test_accepts_every_topic_the_generator_publishes():
    topics = pytest.importorskip("simulator.events.topics")
    for pattern in topics.ALL_PATTERNS:
        event = genesys_event()
        event["detail-type"] = pattern
        sink = RecordingSink()
        CorrectConsumer(memory_context(sink)).handle(message(event))
        assert len(sink.attempts) == 1, pattern


@pytest.mark.parametrize("kind", ["invalid_json", "missing_detail", "unknown_topic", "oversize"])
def test_rejects_every_poison_the_nemesis_makes(kind):
    poison = pytest.importorskip("simulator.faults.poison")
    body, _ = poison.poison_body(kind, genesys_event(), random.Random(kind), MAX_EVENT_BYTES)
    sink = RecordingSink()
    with pytest.raises(PoisonMessage):
        CorrectConsumer(memory_context(sink)).handle(message(body))
    assert sink.attempts == []
