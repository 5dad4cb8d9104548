"""score() against a brute-force recount on random histories.

``naive`` below is the definition in DESIGN.md written as plainly as possible:
nested loops over the records, no indexes, no fast paths. The checker is written
for speed; the two must agree on every history Hypothesis can find. Times are
drawn from a handful of values so that ties (and out-of-order lists) are common.
"""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.model import DlqEntry, Effect, History, Leftover, LogicalEvent, Sent
from simulator.scoring import score

CONSUMERS = ("a", "b")
TIMES = st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.25])
BODIES = st.sampled_from(["p1", "p2", "p3", "x"])


@st.composite
def histories(draw) -> History:
    n = draw(st.integers(0, 7))
    seqs = draw(st.permutations(range(n)))  # list order need not be true order
    logical = [
        LogicalEvent(seq=s, correlation_id=f"c{s}", topic="t", time_ms=s,
                     entity=draw(st.sampled_from(["e1", "e2", "e3"])),
                     state=draw(st.sampled_from(["open", "held", "closed"])), event={})
        for s in seqs
    ]
    cids = st.sampled_from([f"c{i}" for i in range(n)] + ["stray", None])
    consumers = st.sampled_from(CONSUMERS)

    kinds = st.sampled_from(["original", "redeliver", "republish"])
    poison = st.builds(Sent, consumers, TIMES, st.just("poison"), st.none(), st.none(), BODIES)
    delivery = cids.flatmap(lambda cid: st.builds(
        Sent, consumers, TIMES, kinds, st.just(cid), st.just(cid), st.just(f"body-{cid}")))
    sent = draw(st.lists(poison | delivery, max_size=12))
    effects = draw(st.lists(st.builds(
        Effect, consumers, TIMES, cids, st.none(), st.none(), st.booleans(),
        st.sampled_from([200, 204, 429, 500]), st.booleans()), max_size=14))
    dlq = draw(st.lists(st.builds(DlqEntry, consumers, TIMES, BODIES, cids, st.none()), max_size=4))
    leftovers = draw(st.lists(st.builds(Leftover, consumers, BODIES, cids, st.none()), max_size=4))
    return History(logical=logical, sent=sent, effects=effects, dlq=dlq, leftovers=leftovers,
                   complete=draw(st.booleans()))


def naive(h: History, me: str) -> dict:
    ids = [e.correlation_id for e in h.logical]
    applied = [e for e in h.effects if e.consumer == me and e.applied]
    dlq_ids = [d.correlation_id for d in h.dlq if d.consumer == me]
    left_ids = [o.correlation_id for o in h.leftovers if o.consumer == me]

    missed = dlq = duplicated = extra = on_queue = 0
    latencies = []
    for cid in ids:
        mine = [e for e in applied if e.correlation_id == cid]
        if not mine:
            if cid in dlq_ids:
                dlq += 1
            else:
                missed += 1
                on_queue += cid in left_ids
        if len(mine) > 1:
            duplicated += 1
            extra += len(mine) - 1
        sends = [s.at for s in h.sent if s.consumer == me and s.correlation_id == cid]
        if mine and sends:
            latencies.append((min(e.at for e in mine) - min(sends)) * 1000.0)
    unexpected = sum(1 for e in applied if e.correlation_id not in ids)

    poison = {s.body_key for s in h.sent if s.consumer == me and s.kind == "poison"}
    parked = {d.body_key for d in h.dlq if d.consumer == me} | {
        o.body_key for o in h.leftovers if o.consumer == me}

    stale = None
    if any(e.upsert for e in applied):
        expected = {}
        for e in sorted(h.logical, key=lambda e: e.seq):
            expected[e.entity] = e.state
        probed = {}
        order = sorted(range(len(applied)), key=lambda i: (applied[i].at, i))
        for i in order:
            e = applied[i]
            if e.upsert and e.correlation_id in ids:
                event = h.logical[ids.index(e.correlation_id)]
                probed[event.entity] = event.state
        stale = sum(1 for entity, state in expected.items() if probed.get(entity) != state)

    done = sum(1 for cid in ids if any(e.correlation_id == cid for e in applied))
    my_sent = [s.at for s in h.sent if s.consumer == me]
    throughput = 0.0
    if done and my_sent:
        span = max(e.at for e in applied) - min(my_sent)
        throughput = done / span if span > 0 else 0.0

    latencies.sort()

    def rank(p):
        return latencies[max(1, math.ceil(p * len(latencies) / 100)) - 1] if latencies else None

    return {
        "logical_events": len(ids), "effects": len(applied), "missed": missed, "dlq": dlq,
        "duplicated": duplicated, "extra_effects": extra, "unexpected": unexpected,
        "poison_dropped": len(poison - parked), "poison_sent": len(poison),
        "stale_entities": stale, "left_on_queue": on_queue,
        "effect_attempts": sum(1 for e in h.effects if e.consumer == me),
        "failed_effects": sum(1 for e in h.effects if e.consumer == me and not 200 <= e.status < 300),
        "latencies_ms": latencies, "throughput_eps": throughput,
        "latency_ms": {"p50": rank(50), "p95": rank(95), "p99": rank(99)},
        "complete": h.complete,
    }


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(CONSUMERS))
def test_score_agrees_with_brute_force_recount(history, consumer):
    got = score(history, consumer)
    want = naive(history, consumer)
    assert {k: getattr(got, k) for k in want} == want


@settings(max_examples=100, deadline=None)
@given(histories(), st.sampled_from(CONSUMERS))
def test_every_logical_event_is_exactly_one_of_done_missed_or_dlq(history, consumer):
    s = score(history, consumer)
    done = len({e.correlation_id for e in history.effects
                if e.consumer == consumer and e.applied} & {e.correlation_id for e in history.logical})
    assert done + s.missed + s.dlq == s.logical_events
    assert s.duplicated <= s.extra_effects
