"""The per-consumer figures every human-readable report shows, in one order, with
one way of writing each (so the Markdown, terminal and HTML tables agree)."""
from __future__ import annotations

from typing import Callable

from simulator.scoring import ConsumerScore


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def count(value: int | None) -> str:
    return "n/a" if value is None else str(value)


# (header, formatter). `verdict` is first so a reader sees the answer before the why.
COLUMNS: list[tuple[str, Callable[[ConsumerScore], str]]] = [
    ("consumer", lambda s: s.name),
    ("verdict", lambda s: s.verdict),
    ("events", lambda s: str(s.logical_events)),
    ("effects", lambda s: str(s.effects)),
    ("missed", lambda s: str(s.missed)),
    ("duplicated", lambda s: str(s.duplicated)),
    ("extra effects", lambda s: str(s.extra_effects)),
    ("unexpected", lambda s: str(s.unexpected)),
    ("dlq", lambda s: str(s.dlq)),
    ("poison dropped", lambda s: str(s.poison_dropped)),
    ("stale", lambda s: count(s.stale_entities)),
    ("p50 ms", lambda s: ms(s.latency_ms.get("p50"))),
    ("p95 ms", lambda s: ms(s.latency_ms.get("p95"))),
    ("p99 ms", lambda s: ms(s.latency_ms.get("p99"))),
    ("events/s", lambda s: f"{s.throughput_eps:.1f}"),
]

HEADERS = [header for header, _ in COLUMNS]


def row(score: ConsumerScore) -> list[str]:
    return [fmt(score) for _, fmt in COLUMNS]


def run_title(scenario: str, seed: int, backend: str, delivery: str, complete: bool) -> str:
    tail = "" if complete else " — INCOMPLETE"
    return f"{scenario} (seed {seed}, {backend}, {delivery}){tail}"
