"""Seed 003's SQL form on the real PostgreSQL: the dedup row and the state upsert
are one transaction in both forms (ON CONFLICT, FOR UPDATE), so copies, crashes,
downstream failures and racing instances leave exactly one applied effect per
event and the newest state in the table. Skipped without PostgreSQL (failed in CI)."""
from __future__ import annotations

import threading
import uuid
from collections import Counter

import psycopg
import pytest

from consumers import postgres_dedup
from consumers.correct import PoisonMessage
from simulator.clients.api import Message
from postgres_kit import database_url  # noqa: F401 (a fixture)
from test_consumers_kit import (
    Crash, RecordingSink, crash_after_effects, drive, genesys_event, memory_context, message, republish,
)

pytestmark = pytest.mark.postgres
FORMS = [postgres_dedup.OnConflictConsumer, postgres_dedup.ForUpdateConsumer]


@pytest.fixture
def store(database_url, monkeypatch):
    """``context(sink, **kw)`` for instances of one consumer run (one schema),
    dropped afterwards; ``rows(table)`` reads the run's tables."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    name, namespace = f"test-{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    schema = postgres_dedup.schema_name(memory_context(name=name, namespace=namespace))

    def context(sink, **kw):
        return memory_context(sink, name=name, namespace=namespace, **kw)

    def rows(table: str) -> list[tuple]:
        with psycopg.connect(database_url) as conn:
            return conn.execute(f'SELECT * FROM "{schema}".{table} ORDER BY 1').fetchall()

    context.rows = rows
    context.schema = schema
    yield context
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def cid(event: dict) -> str:
    return event["detail"]["metadata"]["CorrelationId"]


@pytest.mark.parametrize("form", FORMS)
def test_copies_and_republishes_are_applied_once(store, form):
    sink = RecordingSink()
    event = genesys_event()
    dlq = drive(lambda: form(store(sink)), [message(event), message(event), message(republish(event))])
    assert dlq == []
    assert len(sink.attempts) == 1  # the copies found the dedup row: no second call at all
    assert [r[0] for r in store.rows("processed_events")] == [cid(event)]


@pytest.mark.parametrize("form", FORMS)
def test_a_late_older_event_is_applied_without_overwriting_newer_state(store, form):
    sink = RecordingSink()
    conversation = str(uuid.uuid4())
    newer = genesys_event(conversation_id=conversation, event_time_ms=2_000, suffix="customer.end")
    older = genesys_event(conversation_id=conversation, event_time_ms=1_000, suffix="acd.end")
    drive(lambda: form(store(sink)), [message(newer), message(older)])
    assert sink.applied() == Counter({cid(newer): 1, cid(older): 1})
    assert [(a.correlation_id, a.upsert, a.idempotency_key) for a in sink.attempts] == \
        [(cid(newer), True, cid(newer)), (cid(older), False, cid(older))]
    (entity, time_ms, correlation_id, topic, _, _), = store.rows("entity_state")
    assert (entity, time_ms, correlation_id) == (conversation, 2_000, cid(newer))
    assert topic.endswith("customer.end")


@pytest.mark.parametrize("form", FORMS)
def test_a_failed_downstream_rolls_back_the_dedup_row_and_the_retry_applies(store, form):
    sink = RecordingSink()
    sink.fail_next()
    event = genesys_event()
    consumer = form(store(sink))
    with pytest.raises(Exception):
        consumer.handle(message(event))
    assert store.rows("processed_events") == [] and store.rows("entity_state") == []
    consumer.handle(message(event, receive_count=2))
    assert sink.applied() == Counter({cid(event): 1})
    assert len(store.rows("processed_events")) == 1


@pytest.mark.parametrize("form", FORMS)
def test_a_crash_after_the_effect_and_before_commit_is_redone_and_seen_once(store, form):
    sink = RecordingSink()
    event = genesys_event()
    crashing = form(store(sink, after_effect=crash_after_effects(1)))
    with pytest.raises(Crash):
        crashing.handle(message(event))
    crashing.conn.close()  # the process is gone: PostgreSQL rolls its transaction back
    assert store.rows("processed_events") == []
    form(store(sink)).handle(message(event, receive_count=2))
    assert [a.applied for a in sink.attempts] == [True, False]  # the redo is the same key
    assert sink.applied() == Counter({cid(event): 1})
    assert len(store.rows("processed_events")) == 1


@pytest.mark.parametrize("form", FORMS)
def test_instances_racing_on_copies_apply_one(store, form):
    sink = RecordingSink()
    events = [genesys_event() for _ in range(20)]
    consumers = [form(store(sink)) for _ in range(4)]
    start = threading.Barrier(len(consumers))

    def work(consumer):
        start.wait()
        for event in events:
            consumer.handle(message(event))

    threads = [threading.Thread(target=work, args=(c,)) for c in consumers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sink.applied() == Counter({cid(e): 1 for e in events})
    assert len(sink.attempts) == len(events)  # the losers never reached the downstream


@pytest.mark.parametrize("form", FORMS)
def test_poison_is_refused_and_nothing_is_written(store, form):
    consumer = form(store(RecordingSink()))
    unknown_topic = {**genesys_event(), "detail-type": "v2.analytics.{id}.metrics"}
    for body in ("{not json", '{"id": "x"}', message(unknown_topic).body):
        with pytest.raises(PoisonMessage):
            consumer.handle(Message(message_id="m", receipt_handle="r", body=body))
    assert store.rows("processed_events") == []


def test_each_consumer_run_has_its_own_schema():
    first = postgres_dedup.schema_name(memory_context(name="c", namespace="run-1"))
    second = postgres_dedup.schema_name(memory_context(name="c", namespace="run-2"))
    other = postgres_dedup.schema_name(memory_context(name="d", namespace="run-1"))
    assert len({first, second, other}) == 3
    assert all(s.startswith("gs_") and len(s) <= 63 for s in (first, second, other))


def test_state_key_is_the_entity_the_probe_scores():
    from simulator.events import generate

    keys: dict = {}
    for logical in generate(seed=2):
        keys.setdefault(postgres_dedup.state_key(logical.event), set()).add(logical.entity)
        if logical.seq > 2000:
            break
    assert all(len(entities) == 1 for entities in keys.values())
