"""How fast does the checker score a big run?

Builds a deterministic history (default: 1,000,000 logical events, 1,100,000
applied effects, every one an upsert so the final-state probe runs too) and times
``score()`` against the floor measured in the same run: one
``collections.Counter`` pass over the effects' correlation ids, the least any
duplicate count can cost. Prints both times and the ratio; the goal is < 3 s.

    .venv/bin/python benchmarks/bench_checker.py [--events N] [--unordered] [--json PATH]

``--unordered`` leaves sent deliveries and effects slightly out of time order, as
concurrent instances can record them, which takes the checker off its
already-in-time-order fast path (one sort each). ``--json PATH`` also writes the
figures as JSON (the shape benchmarks/run_all.py reads).
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import time
from collections import Counter
from operator import attrgetter

from simulator.model import DlqEntry, Effect, History, Leftover, LogicalEvent, Sent
from simulator.scoring import score

CONSUMER = "ref:bench"
GOAL_S = 3.0


def build(events: int, *, unordered: bool, seed: int = 7) -> History:
    rng = random.Random(seed)
    empty: dict = {}
    entities = [f"conv-{i}" for i in range(max(1, events // 8))]
    states = ("start", "flow", "acd", "user", "acw", "end")
    logical = [
        LogicalEvent(i, f"c{i:08d}", "v2.detail.events.conversation.{id}.customer.end",
                     1_700_000_000_000 + i, entities[i % len(entities)], states[i % 6], empty)
        for i in range(events)
    ]
    sent: list[Sent] = []
    effects: list[Effect] = []
    dlq: list[DlqEntry] = []
    t = 0.0
    for ev in logical:
        t += 0.0001
        cid = ev.correlation_id
        sent.append(Sent(CONSUMER, t, "original", cid, cid, cid))
        roll = rng.random()
        if roll < 0.001:  # missed
            continue
        if roll < 0.002:  # parked
            dlq.append(DlqEntry(CONSUMER, t, cid, cid, cid))
            continue
        at = t + 0.05 + (rng.random() * 0.01 if unordered else 0.0)
        effects.append(Effect(CONSUMER, at, cid, cid, None, True, 200, True))
        if roll < 0.1:  # redelivered and applied again: 10% extra effects
            sent.append(Sent(CONSUMER, t + 0.01, "redeliver", cid, cid, cid))
            effects.append(Effect(CONSUMER, at + 0.02, cid, cid, None, True, 200, True))
    for i in range(100):
        sent.append(Sent(CONSUMER, t, "poison", None, None, f"poison-{i}", poison="invalid_json"))
    leftovers = [Leftover(CONSUMER, f"poison-{i}", None, None) for i in range(50)]
    if not unordered:  # as the ledger appends them: in time order
        effects.sort(key=attrgetter("at"))
        sent.sort(key=attrgetter("at"))
    return History(logical=logical, sent=sent, effects=effects, dlq=dlq, leftovers=leftovers)


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--unordered", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args()

    t0 = time.perf_counter()
    history = build(args.events, unordered=args.unordered)
    print(f"history: {len(history.logical):,} logical events, {len(history.sent):,} sent, "
          f"{len(history.effects):,} effects (built in {time.perf_counter() - t0:.1f} s)")

    cid = attrgetter("correlation_id")
    floor = min(timed(lambda: Counter(map(cid, history.effects))) for _ in range(args.repeat))
    results = []
    checker = min(timed(lambda: results.append(score(history, CONSUMER))) for _ in range(args.repeat))
    s = results[-1]
    print(f"score: missed={s.missed} dlq={s.dlq} duplicated={s.duplicated} "
          f"stale={s.stale_entities} p99={s.latency_ms['p99']:.1f} ms")
    print(f"floor  (Counter over effect ids): {floor:.3f} s")
    print(f"checker (score):                  {checker:.3f} s   "
          f"ratio {checker / floor:.1f}x floor   goal < {GOAL_S:.0f} s: "
          f"{'met' if checker < GOAL_S else 'MISSED'}")
    if args.json:
        order = "unordered" if args.unordered else "in time order"
        figure = {"name": "checker", "value": checker, "unit": "s",
                  "baseline": floor, "baseline_label": "Counter over effect ids",
                  "goal": f"< {GOAL_S:.0f} s", "met": checker < GOAL_S,
                  "note": f"{len(history.logical):,} logical events, {len(history.effects):,} effects "
                          f"({order}), best of {args.repeat}"}
        with open(args.json, "w") as out:
            json.dump({"benchmark": "checker", "figures": [figure]}, out, indent=2)


if __name__ == "__main__":
    main()
