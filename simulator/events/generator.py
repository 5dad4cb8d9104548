"""The generator's public face: logical events in true order, wrapped in the
EventBridge envelope exactly as Genesys' partner event source delivers them."""
from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator

from simulator.errors import BadInput
from simulator.events import topics as T
from simulator.events.centre import ContactCentre
from simulator.events.config import TrafficConfig
from simulator.events.pools import IsoClock, uuid_from_bits
from simulator.events.topics import resolve_topics
from simulator.model import LogicalEvent


def generate(seed: int = 0, *, topics: Iterable[str] | None = None,
             traffic: TrafficConfig | None = None) -> Iterator[LogicalEvent]:
    """Logical events of ``seed`` in true (publication) order, lazily.

    ``topics`` (patterns, short names or globs) overrides ``traffic.topics``; the
    events of other topics are still modelled, just not emitted, so a subscription
    is a filter over the same world. Endless when ``traffic.duration_s`` is None;
    otherwise arrivals stop at the duration and conversations in progress finish.
    Bad input (an unknown topic, a topic this traffic never produces in an endless
    stream) raises ``BadInput`` here, not at the first ``next()``."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise BadInput(f"seed must be an integer, got {seed!r}", where="seed")
    traffic = traffic if traffic is not None else TrafficConfig()
    wanted = resolve_topics(topics if topics is not None else traffic.topics,
                            where="topics" if topics is not None else "traffic.topics")
    if traffic.duration_s is None and not wanted & producible_topics(traffic):
        raise BadInput(f"this traffic never produces {', '.join(sorted(wanted))}: "
                       "the stream would never yield", where="topics")
    centre = ContactCentre(seed, traffic, wanted)
    return _envelopes(centre, traffic)


def events_of(topic: str | Iterable[str], count: int = 1, seed: int = 0,
              traffic: TrafficConfig | None = None) -> list[LogicalEvent]:
    """The first ``count`` events of ``topic`` (or of those topics) in an endless stream."""
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise BadInput(f"count must be an integer > 0, got {count!r}", where="count")
    traffic = (traffic or TrafficConfig()).replace(duration_s=None)
    names = [topic] if isinstance(topic, str) else list(topic)
    return list(islice(generate(seed, topics=names, traffic=traffic), count))


def producible_topics(traffic: TrafficConfig) -> frozenset[str]:
    """The topics this traffic can emit at all (an endless stream of anything else
    would never yield)."""
    mix = {m for m, w in traffic.media_mix.items() if w > 0}
    has_ivr = bool(mix - {"CALLBACK"})
    reaches_queue = "CALLBACK" in mix or (has_ivr and traffic.self_service_rate < 1)
    answered = reaches_queue and traffic.abandon_rate + traffic.flow_out_rate < 1
    out = {T.CUSTOMER_START, T.CUSTOMER_END}
    if traffic.audits_per_hour > 0:  # administrators' configuration changes
        out.add(T.AUDIT)
    if has_ivr:
        out |= {T.FLOW_START, T.FLOW_END, T.ATTRIBUTES}
        if traffic.flow_outcome_rate > 0:
            out.add(T.FLOW_OUTCOME)
    if reaches_queue:
        out |= {T.ACD_START, T.ACD_END, T.QUEUE_CONVERSATIONS}
    if answered:
        out |= {T.USER_START, T.USER_END, T.ACW, T.ROUTING_STATUS}
        if traffic.break_rate > 0:
            out |= {T.PRESENCE, T.AUDIT}
        if "VOICE" in mix and traffic.transcription_rate > 0:
            out.add(T.TRANSCRIPTION)
    return frozenset(t.pattern for t in out)


def _envelopes(centre: ContactCentre, traffic: TrafficConfig) -> Iterator[LogicalEvent]:
    source = f"aws.partner/genesys.com/cloud/{centre.org.id}/{traffic.source_suffix}"
    account, region = traffic.account, traffic.region
    clock = IsoClock()
    uid = uuid_from_bits
    seq = 0
    last_second, prefix, envelope_time = -1, "", ""
    for batch in centre.run():
        for emit, _, topic, name, body, entity, state, id_bits, corr_bits in batch:
            second, milli = divmod(emit, 1000)
            if second != last_second:  # events come in time order: the second rarely changes
                last_second, prefix = second, clock.second(second)
                envelope_time = prefix + "Z"
            timestamp = f"{prefix}.{milli:03d}Z"
            correlation_id = uid(corr_bits)
            pattern = topic.pattern
            event = {
                "version": "0",
                "id": uid(id_bits),
                "detail-type": pattern,
                "source": source,
                "account": account,
                "time": envelope_time,
                "region": region,
                "resources": [],
                "detail": {
                    "topicName": name,
                    "version": "2",
                    "eventBody": body,
                    "metadata": {"CorrelationId": correlation_id},
                    "timestamp": timestamp,
                },
            }
            yield LogicalEvent(seq, correlation_id, pattern, emit, entity, state, event)
            seq += 1
