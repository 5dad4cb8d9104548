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

from simulator import evidence
from simulator.model import DlqEntry, Effect, History, Leftover, LogicalEvent, Refused, Sent
from simulator.scoring import score

CONSUMERS = ("a", "b")
TIMES = st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.25])
BODIES = st.sampled_from(["p1", "p2", "p3", "x"])
ENVELOPES = st.sampled_from([None, "e1", "e2"])  # ids PutEvents gives, as the DLQ body shows them


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
    routed = st.sampled_from([True, True, True, False])
    poison = st.builds(Sent, consumers, TIMES, st.just("poison"), st.none(), ENVELOPES, BODIES,
                       routed=routed)
    delivery = cids.flatmap(lambda cid: st.builds(
        Sent, consumers, TIMES, kinds, st.just(cid), st.just(cid), st.just(f"body-{cid}"),
        routed=routed))
    sent = draw(st.lists(poison | delivery, max_size=12))
    refused = draw(st.lists(cids.flatmap(lambda cid: st.builds(
        Refused, consumers, TIMES, kinds, st.just(cid), st.just(cid), st.just(f"body-{cid}"),
        st.just("ValidationException"))), max_size=3))
    effects = draw(st.lists(st.builds(
        Effect, consumers, TIMES, cids, st.none(), st.none(), st.booleans(),
        st.sampled_from([200, 204, 429, 500]), st.booleans()), max_size=14))
    dlq = draw(st.lists(st.builds(DlqEntry, consumers, TIMES, BODIES, cids, ENVELOPES), max_size=4))
    leftovers = draw(st.lists(st.builds(Leftover, consumers, BODIES, cids, ENVELOPES), max_size=4))
    return History(logical=logical, sent=sent, refused=refused, effects=effects, dlq=dlq,
                   leftovers=leftovers, complete=draw(st.booleans()))


def naive(h: History, me: str) -> dict:
    ids = [e.correlation_id for e in h.logical]
    applied = [e for e in h.effects if e.consumer == me and e.applied]
    dlq_ids = [d.correlation_id for d in h.dlq if d.consumer == me]
    left_ids = [o.correlation_id for o in h.leftovers if o.consumer == me]

    def reached(cid):
        return any(s.consumer == me and s.correlation_id == cid and s.routed for s in h.sent)

    def went_out(cid):
        return any(s.consumer == me and s.correlation_id == cid for s in h.sent)

    def was_refused(cid):
        return any(r.consumer == me and r.correlation_id == cid for r in h.refused)

    in_scope = [cid for cid in ids if reached(cid)]
    filtered = sum(1 for cid in ids if went_out(cid) and not reached(cid))
    refused = sum(1 for cid in ids if was_refused(cid) and not went_out(cid))
    unsent = sum(1 for cid in ids if not went_out(cid) and not was_refused(cid))

    missed = dlq = duplicated = extra = on_queue = 0
    latencies = []
    for cid in ids:
        mine = [e for e in applied if e.correlation_id == cid]
        if not mine and cid in in_scope:
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

    poison = [s for s in h.sent if s.consumer == me and s.kind == "poison" and s.routed]
    parked = [(d.body_key, d.envelope_id) for d in h.dlq if d.consumer == me] + [
        (o.body_key, o.envelope_id) for o in h.leftovers if o.consumer == me]

    def is_parked(body):  # by its body, or by any envelope id a send of that body had
        ids = {s.envelope_id for s in poison if s.body_key == body} - {None}
        return any(body == b or eid in ids for b, eid in parked)

    bodies = {s.body_key for s in poison}
    dropped = [b for b in bodies if not is_parked(b)]

    stale = None
    claims = [e for e in h.effects if e.consumer == me and e.upsert and e.status == 200]  # applied or a repeated key
    if claims:
        expected = {}
        for e in sorted(h.logical, key=lambda e: e.seq):
            expected[e.entity] = e.state
        probed = {}
        order = sorted(range(len(claims)), key=lambda i: (claims[i].at, i))
        for i in order:
            e = claims[i]
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
        "logical_events": len(in_scope), "effects": len(applied), "missed": missed, "dlq": dlq,
        "duplicated": duplicated, "extra_effects": extra, "unexpected": unexpected,
        "poison_dropped": len(dropped), "poison_sent": len(bodies),
        "filtered": filtered, "refused": refused, "unsent": unsent,
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
    scope = {e.correlation_id for e in history.logical} & {
        x.correlation_id for x in history.sent if x.consumer == consumer and x.routed}
    done = len({e.correlation_id for e in history.effects
                if e.consumer == consumer and e.applied} & scope)
    assert done + s.missed + s.dlq == s.logical_events
    assert s.logical_events + s.filtered + s.refused + s.unsent == len(history.logical)
    assert s.duplicated <= s.extra_effects


@settings(max_examples=200, deadline=None)
@given(histories(), st.sampled_from(CONSUMERS))
def test_every_count_has_exactly_its_anomalies(history, consumer):
    s = score(history, consumer)
    stories, omitted = evidence.anomalies(history, s.accounts, limit=None)
    assert omitted == {}
    kinds = {kind: sum(1 for a in stories if a["kind"] == kind) for kind in evidence.KINDS}
    assert kinds == {"missed": s.missed, "duplicated": s.duplicated, "dlq": s.dlq,
                     "unexpected": s.unexpected, "poison_dropped": s.poison_dropped,
                     "stale": s.stale_entities or 0}
    assert len({a["id"] for a in stories}) == len(stories)  # stable, distinct ids
    for a in stories:
        assert a["why"]
        if a["kind"] == "duplicated":
            applied = [step for step in a["history"] if step["what"] == "effect" and step["applied"]]
            assert len(applied) >= 2
        assert [step["at"] for step in a["history"]] == sorted(step["at"] for step in a["history"])


@settings(max_examples=50, deadline=None)
@given(histories(), st.sampled_from(CONSUMERS), st.integers(0, 3))
def test_a_limit_keeps_the_first_stories_and_counts_the_rest(history, consumer, limit):
    s = score(history, consumer)
    every, _ = evidence.anomalies(history, s.accounts, limit=None)
    kept, omitted = evidence.anomalies(history, s.accounts, limit=limit)
    for kind in evidence.KINDS:
        mine = [a["id"] for a in every if a["kind"] == kind]
        assert [a["id"] for a in kept if a["kind"] == kind] == mine[:limit]
        assert omitted.get(kind, 0) == max(0, len(mine) - limit)
