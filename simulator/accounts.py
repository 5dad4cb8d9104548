"""The accountable-events model: what one consumer was accountable for in a run, and
what became of each of those logical events. The checker's counts and the
evidence behind them are both read from one ``Accounts``, so they cannot disagree.

Scope. A consumer is accountable for a logical event when at least one of its
deliveries reached the consumer's target (a ``Sent`` with ``routed`` true). The
others are out of its scope, each for one reason:

- ``filtered``: it reached the bus but the consumer's EventBridge rule does not
  route its detail-type (``eventbridge.detail_types``);
- ``refused``: the wire refused every delivery of it (an oversize PutEvents entry);
- ``unsent``: none of its deliveries was attempted (the run stopped first).

Within scope (a logical event is identified by its correlation id):

- ``missed``: no applied effect and not in the consumer's DLQ; ``left`` are those
  still on its queue, in flight, or being retried when the run ended;
- ``dlq``: no applied effect, in the DLQ (parked, visible, not processed);
- ``duplicated``: more than one applied effect (``extra_effects`` the surplus);
- ``unexpected``: applied effects that name no logical event;
- ``poison_dropped``: poison that reached the consumer and is neither in its DLQ
  nor left on its queue: deleted silently. Poison is matched by what reached the
  queue: its body, or its envelope id (a PutEvents entry reaches the queue in an
  envelope EventBridge built, under the id PutEvents returned).
- ``stale``: entities whose final probed state differs from the true last one
  (only for consumers that upsert state).

Written columnar for speed (a million events in well under 3 s, measured by
benchmarks/bench_checker.py): each record is joined to its logical event's index
once, and every class is then a set or Counter operation over small ints.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from itertools import compress, islice
from operator import attrgetter, is_not, le, ne
from typing import Iterable

from simulator.model import Effect, History, Sent

_cid = attrgetter("correlation_id")
_at = attrgetter("at")
_consumer = attrgetter("consumer")
_applied = attrgetter("applied")
_upsert = attrgetter("upsert")
_kind = attrgetter("kind")
_routed = attrgetter("routed")
_body_key = attrgetter("body_key")
_envelope_id = attrgetter("envelope_id")
_seq = attrgetter("seq")
_entity = attrgetter("entity")
_state = attrgetter("state")


@dataclass(slots=True)
class Accounts:
    consumer: str
    index: dict[str, int]  # correlation id -> position in history.logical
    in_scope: set[int]
    filtered: set[int]
    refused: set[int]
    unsent: set[int]
    attempts: list[Effect]  # every sink call of the consumer, in ledger order
    applied: list[Effect]  # applied effects, in time order
    effect_event: list[int | None]  # per applied effect: its logical event, or None
    per_event: Counter  # logical index -> applied effects
    missed: set[int]
    dlq: set[int]
    left: set[int]  # of the missed: still on the queue, in flight or being retried
    duplicated: set[int]
    unexpected: list[int]  # positions in ``applied``
    sent: list[Sent]  # the consumer's deliveries, in time order (routed or not)
    poison_sent: dict[str, Sent]  # poison that reached the consumer, by body key
    poison_dropped: list[str]  # body keys, in send order
    stale: list[str] | None  # entities; None: the consumer upserts no state
    unknown_upserts: int = 0  # upserts naming no logical event (ignored by the probe)
    expected_state: dict[str, int] = field(default_factory=dict)  # entity -> logical index
    probed_state: dict[str, int] = field(default_factory=dict)

    @property
    def extra_effects(self) -> int:
        return sum(self.per_event[i] - 1 for i in self.duplicated)


def accounts(history: History, consumer: str) -> Accounts:
    logical = history.logical
    index = dict(zip(map(_cid, logical), range(len(logical))))

    sent = _in_time_order(_mine(history.sent, consumer))
    sent_event = list(map(index.get, map(_cid, sent)))
    routed_flags = list(map(_routed, sent))
    reached = _named(compress(sent_event, routed_flags))
    put_on_wire = _named(sent_event)
    refused = _named(map(index.get, map(_cid, _mine(history.refused, consumer)))) - put_on_wire
    filtered = put_on_wire - reached
    unsent = set(range(len(logical))) - put_on_wire - refused

    attempts = _mine(history.effects, consumer)
    applied = _in_time_order(list(compress(attempts, map(_applied, attempts))))
    effect_event = list(map(index.get, map(_cid, applied)))
    per_event = Counter(effect_event)
    per_event.pop(None, None)
    unexpected = [i for i, e in enumerate(effect_event) if e is None]
    duplicated = {e for e, n in per_event.items() if n > 1}

    dlq_entries = _mine(history.dlq, consumer)
    leftovers = _mine(history.leftovers, consumer)
    done = per_event.keys()
    in_dlq = (_named(map(index.get, map(_cid, dlq_entries))) & reached) - done
    missed = reached - done - in_dlq
    left = missed & _named(map(index.get, map(_cid, leftovers)))

    is_poison = list(map("poison".__eq__, map(_kind, sent)))
    poison_sent: dict[str, Sent] = {}
    poison_ids: dict[str, set] = {}
    for s in compress(sent, is_poison):
        if s.routed:
            poison_sent.setdefault(s.body_key, s)
            poison_ids.setdefault(s.body_key, set()).add(s.envelope_id)
    parked_bodies = set(map(_body_key, dlq_entries)) | set(map(_body_key, leftovers))
    parked_ids = set(map(_envelope_id, dlq_entries)) | set(map(_envelope_id, leftovers))
    parked_ids.discard(None)
    poison_dropped = [key for key in poison_sent
                      if key not in parked_bodies and not poison_ids[key] & parked_ids]

    result = Accounts(
        consumer=consumer, index=index, in_scope=reached, filtered=filtered, refused=refused,
        unsent=unsent, attempts=attempts, applied=applied, effect_event=effect_event,
        per_event=per_event, missed=missed, dlq=in_dlq, left=left, duplicated=duplicated,
        unexpected=unexpected, sent=sent, poison_sent=poison_sent, poison_dropped=poison_dropped,
        stale=None)
    _probe(result, history, _in_time_order(list(filter(_state_claim, attempts))))
    return result


def _state_claim(effect: Effect) -> bool:
    """An upsert the sink answered 200: applied, or a repeated idempotency key. The
    repeat counts too: a consumer whose state is its own database redoes a write
    that a crash rolled back (after the sink had answered), and its repeat is the
    write that holds, in commit order (consumers/postgres_dedup.py)."""
    return effect.upsert and effect.status == 200


def _probe(acc: Accounts, history: History, claims: list[Effect]) -> None:
    """The final-state probe over state claims in time order: each entity's
    expected state is that of its highest-seq logical event; the probed one is
    that of the event named by its last claim. Never upserted counts as stale (a
    missing row is stale)."""
    if not claims:
        return
    logical = history.logical
    entities = list(map(_entity, logical))
    seqs = list(map(_seq, logical))
    order = range(len(logical)) if _ascending(seqs) else sorted(range(len(seqs)), key=seqs.__getitem__)
    # Generators emit in seq order, so the last assignment per entity wins without a sort.
    expected = dict(zip(map(entities.__getitem__, order), order))
    upserted = list(map(acc.index.get, map(_cid, claims)))
    named = list(filter(partial(is_not, None), upserted))
    probed = dict(zip(map(entities.__getitem__, named), named))
    states = list(map(_state, logical))
    stale_flags = map(ne, (states[probed[e]] if e in probed else None for e in expected),
                      map(states.__getitem__, expected.values()))
    acc.stale = list(compress(expected, stale_flags))
    acc.unknown_upserts = len(upserted) - len(named)
    acc.expected_state = expected
    acc.probed_state = probed


# Column helpers: every pass over the records is a map/compress/dict in C.

def _mine(records: list, consumer: str) -> list:
    return list(compress(records, map(consumer.__eq__, map(_consumer, records))))


def _named(indexes: Iterable[int | None]) -> set[int]:
    named = set(indexes)
    named.discard(None)
    return named  # type: ignore[return-value]


def _ascending(values: list) -> bool:
    return all(map(le, values, islice(values, 1, None)))


def _in_time_order(records: list) -> list:
    """Records by ``at``, stable (ties keep list order). The ledger appends in time
    order, so this is usually one check and no sort; concurrent instances can
    interleave slightly, and then one C sort puts it right."""
    ats = list(map(_at, records))
    return records if _ascending(ats) else sorted(records, key=_at)
