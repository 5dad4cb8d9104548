"""How fast does the generator write events, and does a long stream stay flat?

Every figure is measured in this run:

1. Throughput: N complete events (default 200,000) generated and written as JSON
   lines (orjson) to a file, timed in CPU seconds of this one process (one core;
   wall time printed too). Goal: >= 50,000 events/s.
2. Against a naive generator measured in the same run: the same events, field for
   field, but every field of every event drawn from Faker (uuid4, name, phone
   number, words, dates...) and the event copied from a template, as a first
   implementation would. Goal: the generator is >= 15x faster.
3. Memory: a stream of M events (default 1,000,000) written to /dev/null; peak RSS
   after 100,000 and after M events. Goal: flat (growth of a few MB at most).

    .venv/bin/python benchmarks/bench_generate.py [--events N] [--naive N] [--stream M] [--seed S]
                                                  [--json PATH]

``--json PATH`` also writes the figures as JSON (the shape benchmarks/run_all.py reads).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import resource
import sys
import tempfile
import time
from itertools import islice

import orjson

from simulator.events import generate
from simulator.events.pools import pools_for

GOAL_EPS = 50_000
GOAL_RATIO = 15.0
GOAL_GROWTH_MB = 16.0

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


def timed(fn) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``fn()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


WRITE_BUFFER = 1 << 20  # bytes; fixture files are written the same way by ``genesys-sim fixtures --out``


def fast(seed: int, n: int, path: str) -> None:
    with open(path, "wb", buffering=WRITE_BUFFER) as out:
        write = out.write
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        for event in islice(generate(seed), n):
            write(dumps(event.event, option=newline))


class NaiveGenerator:
    """Faker for every field of every event: the baseline the generator is measured against.
    It rebuilds each event from a template of the same shape, so both write the same mix."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)

    def value(self, key: str, template):
        fake = self.fake
        if isinstance(template, bool):
            return fake.pybool()
        if isinstance(template, int):
            return fake.random_int(0, max(template, 1))
        if isinstance(template, float):
            return fake.pyfloat(min_value=0, max_value=1)
        if not isinstance(template, str):
            return template
        if UUID.match(template):
            return fake.uuid4()
        if template.startswith("tel:"):
            return "tel:+1" + re.sub(r"\D", "", fake.basic_phone_number())[-10:]
        if ISO.match(template):
            return fake.iso8601() + ".000Z"
        if key in ("name", "callbackUserName"):
            return fake.name()
        if key in ("transcript", "decoratedTranscript", "wrapupNotes", "subject"):
            return fake.sentence()
        if key == "word":
            return fake.word()
        if key == "addressFrom":
            return fake.email()
        if template.isupper() or template.islower():  # an enumeration value
            return fake.random_element([template])
        return fake.pystr()

    def fill(self, node, key: str = ""):
        if isinstance(node, dict):
            return {k: self.fill(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [self.fill(v, key) for v in node]
        return self.value(key, node)

    def event(self, template: dict) -> dict:
        event = copy.deepcopy(template)  # per-event copy of the template, as naive code does
        event["detail"]["eventBody"] = self.fill(event["detail"]["eventBody"])
        event["id"] = self.fake.uuid4()
        event["detail"]["metadata"]["CorrelationId"] = self.fake.uuid4()
        event["detail"]["timestamp"] = self.fake.iso8601() + ".000Z"
        event["time"] = event["detail"]["timestamp"][:19] + "Z"
        return event


def naive(templates: list[dict], seed: int, path: str) -> None:
    generator = NaiveGenerator(seed)
    with open(path, "wb", buffering=WRITE_BUFFER) as out:
        for template in templates:
            out.write(orjson.dumps(generator.event(template), option=orjson.OPT_APPEND_NEWLINE))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def stream(seed: int, total: int, checkpoint: int) -> tuple[float, float]:
    """Peak RSS (MB) after ``checkpoint`` and after ``total`` events streamed to /dev/null."""
    at_checkpoint = 0.0
    with open(os.devnull, "wb") as out:
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        for event in islice(generate(seed), total):
            out.write(dumps(event.event, option=newline))
            if event.seq + 1 == checkpoint:
                at_checkpoint = peak_rss_mb()
    return at_checkpoint, peak_rss_mb()


def verdict(ok: bool) -> str:
    return "goal met" if ok else "GOAL MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events for the throughput run")
    parser.add_argument("--naive", type=int, default=4_000, help="events for the naive baseline")
    parser.add_argument("--stream", type=int, default=1_000_000, help="events for the memory run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)

    pools_for(args.seed)  # Faker's one-off import and the per-seed pools are set-up, not throughput
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "events.jsonl")
        fast(args.seed, 1000, path)  # warm up
        cpu, wall = timed(lambda: fast(args.seed, args.events, path))
        size_mb = os.path.getsize(path) / 2**20
        eps = args.events / cpu
        print(f"generator: {args.events:,} events ({size_mb:.0f} MB of JSON lines) in {cpu:.2f} s CPU "
              f"({wall:.2f} s wall): {eps:,.0f} events/s on one core "
              f"[goal >= {GOAL_EPS:,}: {verdict(eps >= GOAL_EPS)}]")

        templates = [e.event for e in islice(generate(args.seed), args.naive)]
        naive_cpu, naive_wall = timed(lambda: naive(templates, args.seed, path))
        naive_eps = args.naive / naive_cpu
        ratio = eps / naive_eps
        print(f"naive (Faker per field): {args.naive:,} events in {naive_cpu:.2f} s CPU "
              f"({naive_wall:.2f} s wall): {naive_eps:,.0f} events/s")
        print(f"ratio: {ratio:.1f}x faster than the naive generator [goal >= {GOAL_RATIO:.0f}x: "
              f"{verdict(ratio >= GOAL_RATIO)}]")

    checkpoint = min(100_000, args.stream)
    before, after = stream(args.seed, args.stream, checkpoint)
    growth = after - before
    print(f"memory: peak RSS {before:.1f} MB after {checkpoint:,} events, {after:.1f} MB after "
          f"{args.stream:,}: {growth:+.1f} MB [goal: flat, < {GOAL_GROWTH_MB:.0f} MB: "
          f"{verdict(growth < GOAL_GROWTH_MB)}]")
    if args.json:
        write_json(args.json, [
            {"name": "fixture generation", "value": eps, "unit": "events/s",
             "baseline": naive_eps, "baseline_label": "naive Faker per field",
             "goal": f">= {GOAL_EPS:,} events/s and >= {GOAL_RATIO:.0f}x naive",
             "met": eps >= GOAL_EPS and ratio >= GOAL_RATIO,
             "note": f"{args.events:,} events, {args.naive:,} naive; CPU time of one process"},
            {"name": "generator memory (peak RSS)", "value": after, "unit": "MB",
             "baseline": before, "baseline_label": f"after {checkpoint:,} events",
             "goal": f"flat: < {GOAL_GROWTH_MB:.0f} MB growth", "met": growth < GOAL_GROWTH_MB,
             "note": f"{args.stream:,} events streamed"},
        ])
    return 0


def write_json(path: str, figures: list[dict]) -> None:
    with open(path, "w") as out:
        json.dump({"benchmark": "generate", "figures": figures}, out, indent=2)


if __name__ == "__main__":
    sys.exit(main())
