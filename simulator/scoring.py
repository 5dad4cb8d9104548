"""The checker: scores one consumer's part of a History against ground truth
(DESIGN.md "Scoring"). What the consumer was accountable for and what became of
each logical event is ``simulator.accounts``; this module turns those accounts into
counts, latency and throughput, and judges them against the scenario's ``expect``.

- latency of a logical event: first applied effect minus first sent delivery of
  that correlation id, in ms; percentiles by nearest rank.
- ``throughput_eps``: logical events with an applied effect divided by (last
  applied effect - first sent delivery), 0 when that span is not positive.
- A history that is not complete (the run stopped early) never passes: its score
  fails with "run incomplete", whatever the counts say.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, fields
from operator import attrgetter, sub
from typing import Any, Iterable, Mapping

from simulator.accounts import Accounts, accounts
from simulator.errors import BadInput
from simulator.model import History

_cid = attrgetter("correlation_id")
_at = attrgetter("at")
_consumer = attrgetter("consumer")
_status = attrgetter("status")


@dataclass(frozen=True, slots=True)
class Expect:
    """The scenario's ``expect:`` block: each threshold is "at most N"; None is not checked."""

    missed: int | None = 0
    duplicated: int | None = 0
    unexpected: int | None = 0
    # A logical event parked in a DLQ was not processed: a consumer that parks
    # everything must fail. Scenarios whose faults legitimately park events say so.
    dlq: int | None = 0
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
    left_on_queue: int = 0  # of the missed, still on the queue, in flight or being retried
    poison_sent: int = 0
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list, repr=False)  # sorted samples
    # Out of the consumer's scope (see simulator.accounts): not charged to it.
    refused: int = 0  # every delivery refused by the wire
    filtered: int = 0  # its EventBridge rule does not route them
    unsent: int = 0  # never sent: the run stopped first
    # The evidence: one story per counted anomaly (bounded; see simulator.evidence).
    anomalies: list[dict] = field(default_factory=list, repr=False)
    anomalies_omitted: dict[str, int] = field(default_factory=dict)
    accounts: Accounts | None = field(default=None, repr=False, compare=False)
    spec: str | None = None  # the consumer spec the run was given

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self, *, samples: bool = False) -> dict[str, Any]:
        """The DESIGN.md JSON object; ``samples`` adds the raw latency list."""
        out: dict[str, Any] = {
            "name": self.name,
            "spec": self.spec,
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
            "refused": self.refused,
            "filtered": self.filtered,
            "unsent": self.unsent,
            "complete": self.complete,
            "notes": list(self.notes),
            "anomalies": list(self.anomalies),
            "anomalies_omitted": dict(self.anomalies_omitted),
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
    (default: zero missed, duplicated, unexpected and DLQ'd)."""
    expect = expect or Expect()
    acc = accounts(history, consumer)
    statuses = Counter(map(_status, acc.attempts))
    latencies, throughput = _timing(acc)
    result = ConsumerScore(
        name=consumer,
        logical_events=len(acc.in_scope),
        effects=len(acc.applied),
        missed=len(acc.missed),
        duplicated=len(acc.duplicated),
        extra_effects=acc.extra_effects,
        unexpected=len(acc.unexpected),
        dlq=len(acc.dlq),
        poison_dropped=len(acc.poison_dropped),
        stale_entities=None if acc.stale is None else len(acc.stale),
        latency_ms={f"p{p}": percentile(latencies, p) for p in (50, 95, 99)},
        throughput_eps=throughput,
        effect_attempts=len(acc.attempts),
        failed_effects=sum(n for status, n in statuses.items() if not 200 <= status < 300),
        left_on_queue=len(acc.left),
        poison_sent=len(acc.poison_sent),
        complete=history.complete,
        latencies_ms=latencies,
        refused=len(acc.refused),
        filtered=len(acc.filtered),
        unsent=len(acc.unsent),
        accounts=acc,
    )
    if acc.unknown_upserts:
        result.notes.append(f"{acc.unknown_upserts} upsert effect(s) named no logical event; "
                            "ignored by the state probe")
    if result.unsent and history.complete:
        result.notes.append(f"{result.unsent} logical event(s) were never sent to this consumer")
    judge(result, expect, stopped=None if history.complete else (history.stopped or "stopped early"))
    return result


def score_run(history: History, expect: Expect | None = None, *,
              limit: int | None = None) -> list[ConsumerScore]:
    """Every consumer the run's description names (``history.meta``), scored and
    with the evidence of each anomaly attached (at most ``limit`` stories per kind;
    default ``evidence.DEFAULT_LIMIT``). What a run reports and what ``explain``
    reads back from its ledger are this same call."""
    from simulator import evidence

    meta = history.meta
    if expect is None:
        expect = Expect.from_mapping(meta.get("expect") or {})
    limit = evidence.DEFAULT_LIMIT if limit is None else limit
    scores = []
    for consumer in meta.get("consumers", []):
        result = score(history, consumer["name"], expect)
        result.spec = consumer.get("spec")
        command = reproduce_command(meta, result.spec)
        assert result.accounts is not None
        result.anomalies, result.anomalies_omitted = evidence.anomalies(
            history, result.accounts, limit=limit, reproduce=command)
        scores.append(result)
    return scores


def reproduce_command(meta: Mapping[str, Any], spec: str | None) -> str | None:
    """``genesys-sim run SCENARIO --seed N ... [--python PATH] --consumer SPEC``:
    reruns the run of ``meta`` (a ledger's run description) against one consumer,
    under the interpreter it ran under."""
    import shlex

    base = meta.get("reproduce")
    if not base or not spec:
        return None
    python = next((c.get("python") for c in meta.get("consumers", []) if c.get("spec") == spec), None)
    under = f" --python {shlex.quote(python)}" if python else ""
    return f"{base}{under} --consumer {shlex.quote(spec)}"


def score_all(history: History, consumers: Iterable[str] | None = None,
              expect: Expect | None = None) -> list[ConsumerScore]:
    """One score per consumer; by default every consumer the history saw sending or effecting."""
    if consumers is None:
        seen = dict.fromkeys(map(_consumer, history.sent))
        seen.update(dict.fromkeys(map(_consumer, history.effects)))
        consumers = list(seen)
    return [score(history, name, expect) for name in consumers]


def judge(result: ConsumerScore, expect: Expect, *, stopped: str | None = None) -> ConsumerScore:
    """Set ``verdict`` and ``failures`` from the thresholds. A threshold on something
    the run could not measure (no upserts to probe, no latency) is not checked and
    says so in ``notes``. A run that ``stopped`` early fails, saying why: its
    counts cover only what was observed."""
    failures: list[str] = [f"run incomplete: {stopped}"] if stopped else []
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


def _timing(acc: Accounts) -> tuple[list[float], float]:
    """Sorted latency samples (ms) of the logical events, and throughput (events/s)."""
    effect_at = list(map(_at, acc.applied))
    first_effect = _first(acc.effect_event, effect_at)
    done = len(first_effect)
    sent = acc.sent
    if not done or not sent:
        return [], 0.0
    first_sent = _first(list(map(acc.index.get, map(_cid, sent))), list(map(_at, sent)))
    timed = first_effect.keys() & first_sent.keys()  # effected, never sent to it: rare
    latencies = list(map(sub, map(first_effect.__getitem__, timed), map(first_sent.__getitem__, timed)))
    latencies = list(map((1000.0).__mul__, latencies))
    latencies.sort()
    span = effect_at[-1] - sent[0].at
    return latencies, (done / span if span > 0 else 0.0)


def _first(keys: list, values: list) -> dict:
    """key -> value at its first occurrence: a dict built from the reversed columns
    keeps exactly that one. On time-ordered columns, that is the earliest."""
    first = dict(zip(reversed(keys), reversed(values)))
    first.pop(None, None)
    return first
