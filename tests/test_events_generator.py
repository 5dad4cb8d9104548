"""The generator's contract: deterministic, lazy, true order, gap-free sequence,
subscriptions as a pure filter, bad input named."""
from __future__ import annotations

from itertools import islice

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.events import TOPICS, TrafficConfig, events_of, generate, producible_topics, resolve_topics
from simulator.events.centre import handle_time_scale

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(min_value=0, max_value=2**32)


def first(n: int, seed: int = 0, **kwargs) -> list:
    return list(islice(generate(seed, **kwargs), n))


def test_same_seed_same_events_byte_for_byte():
    a, b = first(800, seed=42), first(800, seed=42)
    assert [orjson.dumps(e.event) for e in a] == [orjson.dumps(e.event) for e in b]
    assert a == b


def test_different_seeds_differ():
    a, b = first(50, seed=1), first(50, seed=2)
    assert {e.correlation_id for e in a}.isdisjoint(e.correlation_id for e in b)
    assert a[0].event["source"] != b[0].event["source"]  # each seed is its own organisation


@SETTINGS
@given(seed=seeds)
def test_sequence_is_gap_free_and_in_true_order(seed):
    events = first(600, seed=seed)
    assert [e.seq for e in events] == list(range(len(events)))
    times = [e.time_ms for e in events]
    assert times == sorted(times)
    assert len({e.correlation_id for e in events}) == len(events)
    assert len({e.event["id"] for e in events}) == len(events)


@SETTINGS
@given(seed=seeds, chosen=st.sets(st.sampled_from([t.pattern for t in TOPICS]), min_size=1, max_size=5))
def test_a_subscription_is_a_filter_over_the_same_world(seed, chosen):
    traffic = TrafficConfig(duration_s=240)
    everything = [e for e in generate(seed, traffic=traffic) if e.topic in chosen]
    subscribed = list(generate(seed, topics=chosen, traffic=traffic))
    assert [e.event for e in subscribed] == [e.event for e in everything]
    assert [e.seq for e in subscribed] == list(range(len(subscribed)))


def test_generation_is_lazy_and_endless_without_a_duration():
    stream = generate(3, traffic=TrafficConfig(conversations_per_minute=600))
    assert iter(stream) is stream  # an iterator, not a list
    events = list(islice(stream, 30_000))
    assert len(events) == 30_000
    assert next(stream).seq == 30_000


def test_a_duration_ends_arrivals_and_lets_conversations_finish():
    traffic = TrafficConfig(duration_s=300)
    events = list(generate(5, traffic=traffic))
    starts = [e.event["detail"]["eventBody"]["eventTime"] for e in events
              if e.topic.endswith("customer.start")]
    ends = [e for e in events if e.topic.endswith("customer.end")]
    assert starts and max(starts) < traffic.start_ms + 300_000
    assert len(ends) == len(starts)  # nobody is left in the middle of a conversation


def test_events_of_returns_count_events_of_the_topics():
    events = events_of("acd.end", 7, seed=9)
    assert len(events) == 7 and {e.topic for e in events} == {"v2.detail.events.conversation.{id}.acd.end"}
    both = events_of(["presence", "v2.users.{id}.routingStatus"], 400, seed=9)
    assert {e.topic for e in both} == {"v2.users.{id}.presence", "v2.users.{id}.routingStatus"}


def test_every_topic_is_produced_by_default_traffic():
    assert len(TOPICS) >= 14
    assert producible_topics(TrafficConfig()) == {t.pattern for t in TOPICS}
    for topic in TOPICS:
        assert events_of(topic.pattern, 1, seed=4)[0].topic == topic.pattern


@pytest.mark.parametrize("name, pattern", [
    ("acd.end", "v2.detail.events.conversation.{id}.acd.end"),
    ("presence", "v2.users.{id}.presence"),
    ("v2.audits.entitytype.{id}.entityid.{id}", "v2.audits.entitytype.{id}.entityid.{id}"),
])
def test_topics_are_named_by_pattern_or_short_name(name, pattern):
    assert resolve_topics([name]) == {pattern}


def test_topic_globs_match_patterns():
    conversation = resolve_topics(["v2.detail.events.conversation.*"])
    assert len(conversation) == 11
    assert all(p.startswith("v2.detail.events.conversation.") for p in conversation)


@pytest.mark.parametrize("call, where", [
    (lambda: generate(0, topics=["v2.users.{id}.nope"]), "topics"),
    (lambda: generate(0, topics=["v9.*"]), "topics"),
    (lambda: generate("1"), "seed"),
    (lambda: events_of("acd.end", 0), "count"),
    (lambda: generate(0, topics=["transcription"], traffic=TrafficConfig(media_mix={"CHAT": 1})), "topics"),
    (lambda: TrafficConfig(agents=0), "traffic.agents"),
    (lambda: TrafficConfig(agents=2.5), "traffic.agents"),
    (lambda: TrafficConfig(conversations_per_minute=-1), "traffic.conversations_per_minute"),
    (lambda: TrafficConfig(duration_s=0), "traffic.duration_s"),
    (lambda: TrafficConfig(abandon_rate=1.5), "traffic.abandon_rate"),
    (lambda: TrafficConfig(abandon_rate=0.7, flow_out_rate=0.4), "traffic.abandon_rate"),
    (lambda: TrafficConfig(media_mix={"FAX": 1}), "traffic.media_mix.FAX"),
    (lambda: TrafficConfig(media_mix={"VOICE": 0}), "traffic.media_mix"),
    (lambda: TrafficConfig(topics=["nope"]), "traffic.topics"),
    (lambda: TrafficConfig(account="123"), "traffic.account"),
    (lambda: TrafficConfig(org_id="not-a-uuid"), "traffic.org_id"),
    (lambda: TrafficConfig.from_mapping({"agents": 3, "bogus": 1}), "traffic.bogus"),
    (lambda: TrafficConfig.from_mapping({"agents": "x"}, where="s.yaml:4 traffic"),
     "s.yaml:4 traffic.agents"),
])
def test_bad_input_names_where(call, where):
    with pytest.raises(BadInput) as info:
        call()
    assert info.value.where == where
    assert str(info.value).startswith(f"{where}: ") and "\n" not in str(info.value)


def test_scenario_traffic_block_maps_onto_the_config():
    traffic = TrafficConfig.from_mapping({"duration_s": 600, "conversations_per_minute": 30, "agents": 20,
                                          "media_mix": {"voice": 3, "chat": 1}})
    assert traffic.media_mix == {"VOICE": 3.0, "CHAT": 1.0} and traffic.agents == 20


def test_media_mix_is_respected():
    events = list(generate(2, traffic=TrafficConfig(duration_s=600, media_mix={"CHAT": 1})))
    media = {e.event["detail"]["eventBody"].get("mediaType") for e in events if ".conversation." in e.topic}
    assert media == {"CHAT", None}  # None: attributes events carry no mediaType


@pytest.mark.parametrize("cpm, agents", [(30, 20), (2, 20), (120, 10), (600, 5)])
def test_handle_times_fit_the_staffing_so_queues_stay_short(cpm, agents):
    traffic = TrafficConfig(duration_s=1800, conversations_per_minute=cpm, agents=agents,
                            abandon_rate=0, flow_out_rate=0)
    waits, handled, alerted = [], [], {}
    for e in generate(1, traffic=traffic):
        body = e.event["detail"]["eventBody"]
        if e.topic.endswith("acd.end"):
            waits.append(body["connectedDurationMs"])
        elif e.topic.endswith("user.start"):
            alerted[body["participantId"]] = body["eventTime"]
        elif e.topic.endswith(".acw"):
            handled.append(body["eventTime"] - alerted.pop(body["participantId"]))
    assert len(waits) > 20
    waits.sort()
    mean_handle = sum(handled) / len(handled)
    # An overloaded centre queues for ever longer; a fitted one waits a fraction of a handle time.
    assert waits[len(waits) // 2] < max(10_000, mean_handle / 4)
    assert 0 < handle_time_scale(traffic) <= 1


def test_explicit_handle_time_scale_is_used():
    assert handle_time_scale(TrafficConfig(handle_time_scale=0.5)) == 0.5
    assert handle_time_scale(TrafficConfig(conversations_per_minute=0.1)) == 1.0  # never stretched


def test_traffic_configs_are_values():
    a = TrafficConfig(media_mix={"voice": 1, "chat": 1})
    b = TrafficConfig(media_mix={"CHAT": 1.0, "VOICE": 1.0})
    assert a == b and hash(a) == hash(b)
    assert a != a.replace(agents=3)
