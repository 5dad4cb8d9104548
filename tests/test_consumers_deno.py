"""Seed 004's three Deno handlers, served by the real Deno host with a recording
downstream: each behaves as its guide writes it, including where that loses or
repeats events."""
from __future__ import annotations

import sqlite3
import time
import uuid

import pytest

from consumers import get
from deno_kit import deno, sink, start_instance  # noqa: F401 (fixtures)
from test_consumers_kit import genesys_event, republish

pytestmark = pytest.mark.deno


def ref_target(name: str) -> str:
    return get(name).spec.removeprefix("deno:")


def cid(event: dict) -> str:
    return event["detail"]["metadata"]["CorrelationId"]


def applied(sink) -> list[str]:
    return [cid(e["event"]) for e in sink.effects]


def no_conversation(event: dict) -> dict:
    """An event with no conversation (as user presence events have none)."""
    del event["detail"]["eventBody"]["conversationId"]
    return event


@pytest.fixture
def serve(tmp_path, sink):
    started = []

    def start(name: str, *, instance: int = 0, **host):
        inst = start_instance(ref_target(name), tmp_path / "run", sink.url, instance=instance, **host)
        started.append(inst)
        return inst
    yield start
    for inst in started:
        inst.stop()


def test_seen_set_marks_first_so_a_failed_effect_is_lost_on_its_retry(deno, serve, sink):
    inst = serve("deno-seen-set")
    event = genesys_event()
    sink.statuses = [500]
    assert inst.post(event).status_code == 500  # EventBridge will retry it...
    retry = inst.post(event)
    assert (retry.status_code, retry.text) == (200, "duplicate")  # ...and the Set says done
    assert applied(sink) == []


def test_seen_set_repeats_events_across_instances_and_for_republishes(deno, serve, sink):
    first, second = serve("deno-seen-set"), serve("deno-seen-set", instance=1)
    event = genesys_event()
    assert first.post(event).text == "OK"
    assert first.post(event).text == "duplicate"
    assert second.post(event).text == "OK"  # its own Set
    assert first.post(republish(event)).text == "OK"  # a new envelope id
    assert applied(sink) == [cid(event)] * 3


def test_kv_two_tier_shares_one_kv_between_instances(deno, serve, sink, tmp_path):
    first, second = serve("deno-kv-two-tier"), serve("deno-kv-two-tier", instance=1)
    event = genesys_event()
    assert first.post(event).text == "OK"
    assert second.post(event).text == "duplicate"
    assert (tmp_path / "run" / "deno-kv.sqlite3").is_file()  # the KV lives in the run's folder
    assert applied(sink) == [cid(event)]


def test_kv_two_tier_skips_an_older_event_of_the_conversation_as_stale(deno, serve, sink):
    inst = serve("deno-kv-two-tier")
    conversation = str(uuid.uuid4())
    newer = genesys_event(conversation_id=conversation, event_time_ms=2_000, suffix="customer.end")
    older = genesys_event(conversation_id=conversation, event_time_ms=1_000, suffix="acd.end")
    assert inst.post(newer).text == "OK"
    assert inst.post(older).text == "stale"  # never applied: missed
    assert inst.post(republish(newer)).text == "stale"  # tier 2 catches this re-publish
    assert applied(sink) == [cid(newer)]


@pytest.mark.parametrize("time_scale, expire_ms", [(60.0, 5000), (90.0, 3333)])
def test_kv_two_tier_sets_the_envelope_id_to_expire_in_five_scenario_minutes(deno, serve, sink, tmp_path,
                                                                             time_scale, expire_ms):
    # 5 scenario minutes in whole real milliseconds: Deno KV throws on a fraction (300000 / 90)
    inst = serve("deno-kv-two-tier", time_scale=time_scale)
    event = no_conversation(genesys_event())
    before = time.time() * 1000
    assert inst.post(event).text == "OK"
    after = time.time() * 1000
    assert inst.post(event).text == "duplicate"
    # Deno KV keeps the expiry beside the key; its SQLite backend deletes expired keys
    # in a sweep about once a minute (real time), so a read can still see one a while.
    with sqlite3.connect(tmp_path / "run" / "deno-kv.sqlite3") as db:
        expiries = [ms for key, ms in db.execute("SELECT k, expiration_ms FROM kv")
                    if event["id"].encode() in key]
    assert len(expiries) == 1 and before + expire_ms - 1 <= expiries[0] <= after + expire_ms + 1


def test_kv_two_tier_repeats_the_effect_after_a_crash_before_the_set(deno, serve, sink):
    crashing = serve("deno-kv-two-tier", crash={"point": "after_effect", "every": 1, "restart_after_s": 1})
    event = genesys_event()
    with pytest.raises(Exception):
        crashing.post(event)
    assert crashing.process.wait(5) == 86
    assert serve("deno-kv-two-tier").post(event).text == "OK"  # nothing was set: applied again
    assert applied(sink) == [cid(event)] * 2


def test_latest_map_upserts_only_newer_events_per_interaction(deno, serve, sink):
    inst = serve("deno-latest-map")
    conversation = str(uuid.uuid4())
    newer = genesys_event(conversation_id=conversation, event_time_ms=2_000, suffix="customer.end")
    older = genesys_event(conversation_id=conversation, event_time_ms=1_000, suffix="acd.end")
    other = genesys_event(event_time_ms=1_000)
    assert [inst.post(e).text for e in (newer, older, other)] == ["OK", "stale", "OK"]
    assert applied(sink) == [cid(newer), cid(other)]
    assert all(e["upsert"] is True for e in sink.effects)


def test_latest_map_forgets_everything_on_restart(deno, serve, sink):
    event = genesys_event()
    first = serve("deno-latest-map")
    assert first.post(event).text == "OK"
    assert first.post(event).text == "stale"
    assert first.stop() == 0
    assert serve("deno-latest-map").post(event).text == "OK"
    assert applied(sink) == [cid(event)] * 2
