"""Powertools idempotency on its Redis persistence layer (fakeredis, then the real
Redis), driven with real Lambda SQS batches: the same behaviour the DynamoDB
layer shows, from the layer Powertools ships for Redis."""
from __future__ import annotations

from collections import Counter

import pytest

from consumers import powertools_redis
from test_consumers_kit import (  # noqa: F401 (redis_contexts is a fixture)
    Crash, RecordingSink, crash_after_effects, genesys_event, message, redis_contexts, republish, sqs_batch,
)


class LambdaContext:
    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def cid(event: dict) -> str:
    return event["detail"]["metadata"]["CorrelationId"]


def test_copies_and_republishes_are_applied_once_across_instances(redis_contexts):
    sink, context = RecordingSink(), redis_contexts()
    event = genesys_event()
    first = powertools_redis.make_handler(context(sink))
    second = powertools_redis.make_handler(context(sink))  # another instance, same Redis
    assert first(sqs_batch([message(event)]), LambdaContext()) == {"batchItemFailures": []}
    assert second(sqs_batch([message(event), message(republish(event))]), LambdaContext()) == \
        {"batchItemFailures": []}
    assert sink.applied() == Counter({cid(event): 1})


def test_a_failed_record_is_reported_and_its_retry_applies(redis_contexts):
    sink, context = RecordingSink(), redis_contexts()
    handler = powertools_redis.make_handler(context(sink))
    failing, fine = message(genesys_event()), message(genesys_event())
    sink.fail_next()
    assert handler(sqs_batch([failing, fine]), LambdaContext()) == \
        {"batchItemFailures": [{"itemIdentifier": failing.message_id}]}
    assert handler(sqs_batch([failing]), LambdaContext()) == {"batchItemFailures": []}
    assert sorted(sink.applied().values()) == [1, 1]


def test_after_a_crash_mid_record_the_retry_fails_as_already_in_progress(redis_contexts):
    sink, context = RecordingSink(), redis_contexts()
    record = message(genesys_event())
    with pytest.raises(Crash):
        powertools_redis.make_handler(context(sink, after_effect=crash_after_effects(1)))(
            sqs_batch([record]), LambdaContext())
    restarted = powertools_redis.make_handler(context(sink))  # the key is still INPROGRESS
    assert restarted(sqs_batch([record, message(genesys_event())]), LambdaContext()) == \
        {"batchItemFailures": [{"itemIdentifier": record.message_id}]}
    assert [a.applied for a in sink.attempts] == [True, True]


def test_records_live_in_the_runs_namespace_with_a_ttl_on_the_scenario_clock(redis_contexts):
    sink, context = RecordingSink(), redis_contexts()
    ctx = context(sink, time_scale=3600)  # Powertools' 1 h is one real second
    powertools_redis.make_handler(ctx)(sqs_batch([message(genesys_event())]), LambdaContext())
    client = ctx.redis()
    keys = list(client.scan_iter(match=f"genesys-sim:*:{ctx.name}:*"))
    assert len(keys) == 1
    assert b'"COMPLETED"' in client.get(keys[0])
    assert 0 < client.ttl(keys[0]) <= 2
