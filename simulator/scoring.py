"""The checker: scores one consumer's part of a History against ground truth
(DESIGN.md "Scoring").

Scope is every logical event of the run; sent deliveries, effects, DLQ entries and
leftovers are filtered by consumer. A logical event is identified by its
correlation id.

- *applied* effect: ``Effect.applied`` is True; it names its logical event by
  ``Effect.correlation_id``.
- ``missed``: logical events with no applied effect that are not in the consumer's
  DLQ. ``left_on_queue`` says how many of those were still on the queue at the end
  (not lost yet, but not processed either: still missed).
- ``dlq``: logical events with no applied effect that are in the DLQ.
- ``duplicated``: logical events with more than one applied effect;
  ``extra_effects`` is the surplus, sum(n - 1).
- ``unexpected``: applied effects naming no logical event (a None id included).
- ``poison_dropped``: distinct poison bodies sent to the consumer that are neither
  in its DLQ nor left on its queue: deleted silently.
- ``stale_entities``: the final-state probe. Expected state of an entity is the
  state of its logical event with the highest seq; the probed state is the state
  of the logical event named by the last applied *upsert* effect for that entity
  (by ``at``, ties by list order). An entity whose probed state differs counts, and
  an entity that was never upserted counts too (a missing row is stale). None when
  the consumer made no upsert effect at all: it keeps no state to probe.
- latency of a logical event: first applied effect minus first sent delivery of
  that correlation id, in ms; percentiles by nearest rank.
- ``throughput_eps``: logical events with an applied effect divided by (last
  applied effect - first sent delivery), 0 when that span is not positive.

Written columnar for speed (goal: a million events in under 3 s, measured by
benchmarks/bench_checker.py): records are read into parallel columns with
``attrgetter``/``map``, each record is joined to its logical event's index once,
and every count is then a dict, Counter or set operation over int columns.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, fields
from functools import partial
from itertools import compress, islice
from operator import attrgetter, is_not, le, ne, sub
from typing import Any, Iterable, Mapping

from simulator.errors import BadInput
from simulator.model import History

_cid = attrgetter("correlation_id")
_at = attrgetter("at")
_consumer = attrgetter("consumer")
_applied = attrgetter("applied")
_status = attrgetter("status")
_upsert = attrgetter("upsert")
_kind = attrgetter("kind")
_body_key = attrgetter("body_key")
_seq = attrgetter("seq")
_entity = attrgetter("entity")
_state = attrgetter("state")


@dataclass(frozen=True, slots=True)
class Expect:
    """The scenario's ``expect:`` block: each threshold is "at most N"; None is not checked."""

    missed: int | None = 0
    duplicated: int | None = 0
    unexpected: int | None = 0
    dlq: int | None = None
    poison_dropped: int | None = None
    stale_entities: int | None = None
    extra_effects: int | None = None
    p99_ms: float | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, *, where: str = "expect") -> "Expect":
        """Build from a parsed ``expect:`` mapping; keys left out keep their defaults.
        ``where`` prefixes error messages (e.g. ``"scenario.yaml: expect"``)."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise BadInput(f"must be a mapping of thresholds, got {type(data).__name__}", where=where)
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise BadInput(
                    f"unknown key {key!r} (known: {', '.join(sorted(known))})", where=where
                )
            values[key] = _threshold(key, value, where)
        return cls(**values)

    def checks(self) -> Iterable[tuple[str, int | float]]:
        """(field, limit) for every threshold that is set."""
        for f in fields(self):
            limit = getattr(self, f.name)
            if limit is not None:
                yield f.name, limit


def _threshold(key: str, value: Any, where: str) -> int | float | None:
    if value is None:
        return None
    # bool is an int subclass; `missed: yes` is a typo, not a threshold.
    if key == "p99_ms":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        if not ok or math.isnan(value):
            raise BadInput(f"must be a non-negative number of milliseconds, got {value!r}",
                           where=f"{where}.{key}")
        return float(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadInput(f"must be a non-negative integer, got {value!r}", where=f"{where}.{key}")
    return value


@dataclass(slots=True)
class ConsumerScore:
    name: str
    logical_events: int
    effects: int  # applied effects, unexpected ones included
    missed: int
    duplicated: int
    extra_effects: int
    unexpected: int
    dlq: int
    poison_dropped: int
    stale_entities: int | None
    latency_ms: dict[str, float | None]
    throughput_eps: float
    verdict: str = "pass"
    failures: list[str] = field(default_factory=list)
    effect_attempts: int = 0  # every sink call, applied or not
    failed_effects: int = 0  # sink calls answered non-2xx
    left_on_queue: int = 0  # of the missed, still on the queue when the run ended
    poison_sent: int = 0
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list, repr=False)  # sorted samples

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self, *, samples: bool = False) -> dict[str, Any]:
        """The DESIGN.md JSON object; ``samples`` adds the raw latency list."""
        out: dict[str, Any] = {
            "name": self.name,
            "logical_events": self.logical_events,
            "effects": self.effects,
            "missed": self.missed,
            "duplicated": self.duplicated,
            "extra_effects": self.extra_effects,
            "unexpected": self.unexpected,
            "dlq": self.dlq,
            "poison_dropped": self.poison_dropped,
            "stale_entities": self.stale_entities,
            "latency_ms": {k: _round(v) for k, v in self.latency_ms.items()},
            "throughput_eps": round(self.throughput_eps, 3),
            "verdict": self.verdict,
            "failures": list(self.failures),
            "effect_attempts": self.effect_attempts,
            "failed_effects": self.failed_effects,
            "left_on_queue": self.left_on_queue,
            "poison_sent": self.poison_sent,
            "complete": self.complete,
            "notes": list(self.notes),
        }
        if samples:
            out["latencies_ms"] = list(self.latencies_ms)
        return out


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def percentile(sorted_samples: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None when it is empty."""
    if not sorted_samples:
        return None
    rank = max(1, math.ceil(p * len(sorted_samples) / 100))  # p * n is exact for integer p
    return sorted_samples[rank - 1]


def score(history: History, consumer: str, expect: Expect | None = None) -> ConsumerScore:
    """Score ``consumer``'s part of ``history`` and judge it against ``expect``
    (default: zero missed, zero duplicated, zero unexpected)."""
    expect = expect or Expect()
    logical = history.logical
    # Every record is joined to its logical event's index once; after that, counts
    # and joins run on small ints instead of hashing uuid strings again.
    index = dict(zip(map(_cid, logical), range(len(logical))))

    attempts = _mine(history.effects, consumer)
    statuses = Counter(map(_status, attempts))
    applied = _in_time_order(list(compress(attempts, map(_applied, attempts))))
    effect_event = list(map(index.get, map(_cid, applied)))  # None: names no logical event
    effect_at = list(map(_at, applied))

    per_event = Counter(effect_event)
    unexpected = per_event.pop(None, 0)
    multiplicity = Counter(per_event.values())  # n applied effects -> how many events
    duplicated = sum(k for n, k in multiplicity.items() if n > 1)
    extra = sum((n - 1) * k for n, k in multiplicity.items() if n > 1)

    dlq_entries = _mine(history.dlq, consumer)
    leftovers = _mine(history.leftovers, consumer)
    in_dlq = _events(dlq_entries, index) - per_event.keys()
    on_queue = _events(leftovers, index) - per_event.keys() - in_dlq

    sent = _in_time_order(_mine(history.sent, consumer))
    poison = set(compress(map(_body_key, sent), map("poison".__eq__, map(_kind, sent))))
    parked = set(map(_body_key, dlq_entries)) | set(map(_body_key, leftovers))

    latencies, throughput = _timing(sent, index, effect_event, effect_at)
    stale, stale_note = _stale_entities(logical, effect_event, list(map(_upsert, applied)))

    result = ConsumerScore(
        name=consumer,
        logical_events=len(index),
        effects=len(applied),
        missed=len(index) - len(per_event) - len(in_dlq),
        duplicated=duplicated,
        extra_effects=extra,
        unexpected=unexpected,
        dlq=len(in_dlq),
        poison_dropped=len(poison - parked),
        stale_entities=stale,
        latency_ms={f"p{p}": percentile(latencies, p) for p in (50, 95, 99)},
        throughput_eps=throughput,
        effect_attempts=len(attempts),
        failed_effects=sum(n for status, n in statuses.items() if not 200 <= status < 300),
        left_on_queue=len(on_queue),
        poison_sent=len(poison),
        complete=history.complete,
        latencies_ms=latencies,
    )
    if stale_note:
        result.notes.append(stale_note)
    if not history.complete:
        result.notes.append("history incomplete: the run ended early; counts cover what was observed")
    judge(result, expect)
    return result


def score_all(history: History, consumers: Iterable[str] | None = None,
              expect: Expect | None = None) -> list[ConsumerScore]:
    """One score per consumer; by default every consumer the history saw sending or effecting."""
    if consumers is None:
        seen = dict.fromkeys(map(_consumer, history.sent))
        seen.update(dict.fromkeys(map(_consumer, history.effects)))
        consumers = list(seen)
    return [score(history, name, expect) for name in consumers]


def judge(result: ConsumerScore, expect: Expect) -> ConsumerScore:
    """Set ``verdict`` and ``failures`` from the thresholds. A threshold on something
    the run could not measure (no upserts to probe, no latency) is not checked and
    says so in ``notes``."""
    failures: list[str] = []
    for name, limit in expect.checks():
        value = result.latency_ms.get("p99") if name == "p99_ms" else getattr(result, name)
        if value is None:
            result.notes.append(f"{name} not measured; threshold {limit} not checked")
        elif value > limit:
            failures.append(f"{name} {_fmt(value)} > {_fmt(limit)}")
    result.failures = failures
    result.verdict = "fail" if failures else "pass"
    return result


def _fmt(v: float) -> str:
    return str(v) if isinstance(v, int) else f"{v:g}"


# Column helpers: every pass over the records is a map/compress/dict in C, so a
# million records cost a few hundred milliseconds, not seconds.

def _mine(records: list, consumer: str) -> list:
    return list(compress(records, map(consumer.__eq__, map(_consumer, records))))


def _ascending(values: list) -> bool:
    return all(map(le, values, islice(values, 1, None)))


def _in_time_order(records: list) -> list:
    """Records by ``at``, stable (ties keep list order). The ledger appends in time
    order, so this is usually one check and no sort; concurrent instances can
    interleave slightly, and then one C sort puts it right."""
    ats = list(map(_at, records))
    return records if _ascending(ats) else sorted(records, key=_at)


def _events(records: list, index: dict) -> set[int]:
    """Indexes of the logical events that ``records`` name (few records: DLQ, leftovers)."""
    named = set(map(index.get, map(_cid, records)))
    named.discard(None)
    return named


def _first(keys: list, values: list) -> dict:
    """key -> value at its first occurrence: a dict built from the reversed columns
    keeps exactly that one. On time-ordered columns, that is the earliest."""
    first = dict(zip(reversed(keys), reversed(values)))
    first.pop(None, None)
    return first


def _timing(sent: list, index: dict, effect_event: list, effect_at: list) -> tuple[list[float], float]:
    """Sorted latency samples (ms) of the logical events, and throughput (events/s)."""
    first_effect = _first(effect_event, effect_at)
    done = len(first_effect)
    if not done or not sent:
        return [], 0.0
    first_sent = _first(list(map(index.get, map(_cid, sent))), list(map(_at, sent)))
    unsent = first_effect.keys() - first_sent.keys()  # effected, never sent to it: rare
    timed = first_effect.keys() - unsent if unsent else first_effect.keys()
    latencies = list(map(sub, map(first_effect.__getitem__, timed), map(first_sent.__getitem__, timed)))
    latencies = list(map((1000.0).__mul__, latencies))
    latencies.sort()
    span = effect_at[-1] - sent[0].at
    return latencies, (done / span if span > 0 else 0.0)


def _stale_entities(logical: list, effect_event: list,
                    upsert: list[bool]) -> tuple[int | None, str | None]:
    """The final-state probe, over applied effects in time order."""
    if not any(upsert):
        return None, None
    entities = list(map(_entity, logical))
    states = list(map(_state, logical))
    seqs = list(map(_seq, logical))
    # Expected: each entity's highest-seq state. Generators emit in seq order, so
    # the last assignment per entity wins without a sort.
    order = range(len(logical)) if _ascending(seqs) else sorted(range(len(seqs)), key=seqs.__getitem__)
    expected = dict(zip(map(entities.__getitem__, order), map(states.__getitem__, order)))

    upserted = list(compress(effect_event, upsert))
    named = list(filter(partial(is_not, None), upserted))
    probed = dict(zip(map(entities.__getitem__, named), map(states.__getitem__, named)))
    stale = sum(map(ne, map(probed.get, expected), expected.values()))
    unknown = len(upserted) - len(named)
    note = (f"{unknown} upsert effect(s) named no logical event; ignored by the state probe"
            if unknown else None)
    return stale, note
