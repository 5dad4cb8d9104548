"""Strategy: seed 003's SQL form. The dedup row and the business write are one
PostgreSQL transaction, so the database, not the consumer, decides "seen": a
copy, a redelivery after a crash or a second instance either finds the committed
row or waits on the uncommitted one, and a transaction that fails takes its
dedup row with it (nothing is marked that was not done). Run by the SQS poll
loop; the message is deleted only after COMMIT.

Two forms, as the guide gives them:

* ``OnConflictConsumer``: ``INSERT INTO processed_events ... ON CONFLICT DO
  NOTHING RETURNING``: no row back means the event was applied already.
* ``ForUpdateConsumer``: ``SELECT ... FOR UPDATE`` on the entity's row first
  (every event of one entity is serialized on it), then look for the dedup row
  and insert it.

The business write is an upsert of the entity's state (``entity_state``, one row
per conversation, user topic, queue or audit) that only moves forward in
``eventBody.eventTime``, so a late older event is applied (its dedup row and its
effect) without overwriting newer state. The key is
``detail.metadata.CorrelationId`` (the real identity: re-publishes keep it), so
there is no verbatim variant; poison is refused as the correct consumer refuses it.

How the harness sees it: the effect lives in the database, so the sink call is
the harness's view of the transaction, made inside it after the business write
and before COMMIT: a sink failure is a failed write (rolled back: dedup row and
state together, the message comes back); ``upsert`` says whether the state row
now holds this event (the probe's last upsert per entity is then the row's
content, in commit order, since the entity's row lock is held until COMMIT); and
``idempotency_key=CorrelationId`` covers the one gap left, a crash after the sink
answered and before COMMIT (rolled back, redone, seen once).

Predicts: zero missed, zero duplicated, poison parked in the DLQ. Final state is
the newest eventTime's, which is the true last state unless the producers'
clocks disagree (clock skew): then stale entities, as for any timestamp order.
Tables live in a schema per consumer run (``gs_`` + a hash of its namespace),
created on start; ``DATABASE_URL`` names the server.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

import orjson
import psycopg

from consumers import fields
from consumers.correct import validate
from consumers.support import namespace
from simulator.clients.api import ConsumerContext, Message

ENV_DATABASE = "DATABASE_URL"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONVERSATION_TOPICS = "v2.detail.events.conversation."


def schema_name(ctx: ConsumerContext) -> str:
    """One schema per consumer run: a PostgreSQL identifier (at most 63 bytes)
    derived from the run's key namespace, so reruns never see old rows."""
    return "gs_" + hashlib.sha256(namespace(ctx).encode()).hexdigest()[:24]


def state_key(event: dict) -> str | None:
    """The entity whose state an event writes: the conversation of a conversation
    detail event, else the concrete topic (``v2.users.<id>.presence``,
    ``v2.routing.queues.<id>.conversations``, a transcription's own topic)."""
    topic = event.get("detail-type")
    if isinstance(topic, str) and topic.startswith(CONVERSATION_TOPICS) and fields.conversation_id(event):
        return fields.conversation_id(event)
    detail = event.get("detail")
    return detail.get("topicName") if isinstance(detail, dict) else None


def create_tables(conn: psycopg.Connection, schema: str) -> None:
    """The dedup table and the state table, unless they exist. Instances start
    together: an advisory lock makes one create them while the others wait."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'''CREATE TABLE IF NOT EXISTS "{schema}".processed_events (
            correlation_id text PRIMARY KEY,
            envelope_id text,
            processed_at timestamptz NOT NULL DEFAULT now())''')
        conn.execute(f'''CREATE TABLE IF NOT EXISTS "{schema}".entity_state (
            entity text PRIMARY KEY,
            event_time_ms bigint,
            correlation_id text,
            topic text,
            event_body jsonb,
            updated_at timestamptz NOT NULL DEFAULT now())''')


class _TransactionalConsumer:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx
        self.schema = schema_name(ctx)
        # autocommit: each ``transaction()`` block below is exactly one transaction
        self.conn = psycopg.connect(os.environ.get(ENV_DATABASE) or DEFAULT_DATABASE_URL, autocommit=True)
        create_tables(self.conn, self.schema)

    def handle(self, message: Message) -> None:
        event, correlation_id = validate(message)  # poison raises: it stays, then the DLQ
        entity = state_key(event)
        event_time = fields.event_time_ms(event)
        with self.conn.transaction():
            wrote = self.apply(event, correlation_id, entity, event_time)
            if wrote is None:
                return  # applied before: the dedup row says so
            self.ctx.effect(event, idempotency_key=correlation_id, upsert=wrote)
        # COMMIT happened when the block left; only now does the poll loop delete the message

    def apply(self, event: dict, correlation_id: str, entity: str | None,
              event_time: int | None) -> bool | None:
        """Inside the open transaction: take the dedup row and write the state.
        None: a duplicate; else whether the state row now holds this event."""
        raise NotImplementedError

    def write_state(self, event: dict, correlation_id: str, entity: str | None, event_time: int | None) -> bool:
        """Upsert the entity's state when this event is newer than what the row
        holds (a row without a time holds nothing yet)."""
        row = self.conn.execute(f'''
            INSERT INTO "{self.schema}".entity_state AS s
                (entity, event_time_ms, correlation_id, topic, event_body)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (entity) DO UPDATE SET
                event_time_ms = EXCLUDED.event_time_ms, correlation_id = EXCLUDED.correlation_id,
                topic = EXCLUDED.topic, event_body = EXCLUDED.event_body, updated_at = now()
            WHERE s.event_time_ms IS NULL OR s.event_time_ms < EXCLUDED.event_time_ms
            RETURNING 1''', (entity, event_time, correlation_id, event.get("detail-type"),
                             _jsonb(event))).fetchone()
        return row is not None

    def close(self) -> None:
        self.conn.close()


class OnConflictConsumer(_TransactionalConsumer):
    def apply(self, event: dict, correlation_id: str, entity: str | None,
              event_time: int | None) -> bool | None:
        # A concurrent transaction holding the same key makes this INSERT wait for
        # its outcome: committed, no row back (a duplicate); rolled back, ours.
        taken = self.conn.execute(f'''
            INSERT INTO "{self.schema}".processed_events (correlation_id, envelope_id)
            VALUES (%s, %s) ON CONFLICT (correlation_id) DO NOTHING RETURNING 1''',
            (correlation_id, fields.envelope_id(event))).fetchone()
        if taken is None:
            return None
        return self.write_state(event, correlation_id, entity, event_time)


class ForUpdateConsumer(_TransactionalConsumer):
    def apply(self, event: dict, correlation_id: str, entity: str | None,
              event_time: int | None) -> bool | None:
        # The entity's row is the lock: make sure it exists, then hold it until
        # COMMIT, so the look-up of the dedup row below cannot race another copy.
        self.conn.execute(f'''INSERT INTO "{self.schema}".entity_state (entity) VALUES (%s)
                              ON CONFLICT (entity) DO NOTHING''', (entity,))
        self.conn.execute(f'SELECT event_time_ms FROM "{self.schema}".entity_state '
                          'WHERE entity = %s FOR UPDATE', (entity,))
        seen = self.conn.execute(f'SELECT 1 FROM "{self.schema}".processed_events '
                                 'WHERE correlation_id = %s', (correlation_id,)).fetchone()
        if seen is not None:
            return None
        self.conn.execute(f'''INSERT INTO "{self.schema}".processed_events (correlation_id, envelope_id)
                              VALUES (%s, %s)''', (correlation_id, fields.envelope_id(event)))
        return self.write_state(event, correlation_id, entity, event_time)


def _jsonb(event: dict) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb((event.get("detail") or {}).get("eventBody"), dumps=lambda v: orjson.dumps(v).decode())
