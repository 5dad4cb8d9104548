"""What ``genesys-sim bench`` found, and its reports: a table per consumer (one row
per step of offered load), the harness's ceiling beside it, and as JSON,
Markdown or a self-contained HTML page with charts (achieved vs offered, latency
vs offered)."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from html import escape
from typing import Any

import orjson

from simulator.bench.ladder import Ladder, harness_bound
from simulator.bench.rawloop import RawLoop
from simulator.errors import BadInput


@dataclass
class BenchResult:
    scenario: str
    backend: str
    instances: int
    step_s: float
    faults: bool
    ladders: list[Ladder]
    null: Ladder | None = None
    raw: RawLoop | None = None
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    complete: bool = True

    def ratio(self) -> float | None:
        """First consumer's ceiling over the second's (two consumers given)."""
        if len(self.ladders) < 2 or not self.ladders[1].ceiling_eps:
            return None
        return self.ladders[0].ceiling_eps / self.ladders[1].ceiling_eps

    def verdict_of(self, ladder: Ladder) -> str:
        if harness_bound(ladder, self.null):
            return (f"harness-bound: its ceiling ({ladder.ceiling_eps:.0f} events/s) is the harness's "
                    f"own ({self.null.ceiling_eps:.0f}, null consumer); the consumer may carry more")
        at = ladder.fell_behind_at
        if at is None:
            return f"kept up with every step (ceiling not reached; --max-rate to go higher)"
        return f"consumer-bound: fell behind at {at:.0f} events/s offered; carried {ladder.ceiling_eps:.0f}"

    def to_dict(self) -> dict[str, Any]:
        def ladder(l: Ladder) -> dict:
            return {"consumer": l.consumer, "spec": l.spec, "ceiling_eps": round(l.ceiling_eps, 1),
                    "fell_behind_at_eps": l.fell_behind_at, "harness_bound": harness_bound(l, self.null),
                    "verdict": self.verdict_of(l), "steps": [s.to_dict() for s in l.steps]}

        return {"scenario": self.scenario, "backend": self.backend, "instances": self.instances,
                "step_s": self.step_s, "faults": self.faults, "complete": self.complete,
                "elapsed_s": round(self.elapsed_s, 1), "notes": list(self.notes),
                "raw_loop": self.raw.to_dict() if self.raw else None,
                "harness": ladder(self.null) if self.null else None,
                "consumers": [ladder(l) for l in self.ladders], "ratio": self.ratio()}


_HEAD = ("offered/s", "achieved/s", "p50 ms", "p95 ms", "p99 ms", "backlog", "missed", "dup", "verdict", "behind")


def _row(step: Any) -> list[str]:
    lat = step.latency_ms
    ms = lambda v: "–" if v is None else f"{v:.0f}"  # noqa: E731
    return [f"{step.offered_eps:.0f}", f"{step.achieved_eps:.0f}", ms(lat.get("p50")), ms(lat.get("p95")),
            ms(lat.get("p99")), str(step.backlog), str(step.missed), str(step.duplicated), step.verdict,
            "; ".join(step.reasons) or "no"]


def _ladders(result: BenchResult) -> list[Ladder]:
    return ([result.null] if result.null else []) + result.ladders


def render_terminal(result: BenchResult, *, width: int = 160) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True)
    console.print(_summary(result))
    for ladder in _ladders(result):
        table = Table(title=f"{ladder.consumer}: {result.verdict_of(ladder) if ladder is not result.null else 'the harness ceiling'}",
                      title_justify="left")
        for h in _HEAD:
            table.add_column(h, justify="right" if h not in ("verdict", "behind") else "left")
        for step in ladder.steps:
            table.add_row(*_row(step))
        console.print(table)
    return buf.getvalue()


def _summary(result: BenchResult) -> str:
    lines = [f"bench {result.scenario} on {result.backend}, {result.instances} instance(s), "
             f"{result.step_s:g} s per step, faults {'kept' if result.faults else 'dropped'}"]
    if result.raw:
        lines.append(f"raw emulator loop: {result.raw.loop_mps:.0f} msg/s (send {result.raw.send_mps:.0f}, "
                     f"receive+delete {result.raw.drain_mps:.0f})")
    if result.null:
        ratio = f" = {result.null.ceiling_eps / result.raw.loop_mps:.2f}x the raw loop" if result.raw else ""
        lines.append(f"harness ceiling (null consumer): {result.null.ceiling_eps:.0f} events/s{ratio}")
    for ladder in result.ladders:
        lines.append(f"{ladder.consumer}: {result.verdict_of(ladder)}")
    if result.ratio() is not None:
        lines.append(f"{result.ladders[0].consumer} / {result.ladders[1].consumer}: {result.ratio():.2f}x")
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)


def render(result: BenchResult, fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "markdown":
        return _markdown(result)
    if fmt == "html":
        return _html(result)
    if fmt == "terminal":
        return render_terminal(result)
    raise BadInput(f"unknown report format {fmt!r} for bench (json, markdown, html)", where="--report")


def _markdown(result: BenchResult) -> str:
    out = ["## genesys-sim bench", "", *[f"- {line}" for line in _summary(result).splitlines()]]
    for ladder in _ladders(result):
        name = ladder.consumer if ladder is not result.null else f"{ladder.consumer} (harness ceiling)"
        out += ["", f"### {name}", "", "| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in _row(s)) + " |" for s in ladder.steps]
    return "\n".join(out) + "\n"


def _html(result: BenchResult) -> str:
    from simulator.report.svg import line_chart

    ladders = _ladders(result)
    achieved = [(l.consumer, [(s.offered_eps, s.achieved_eps) for s in l.steps]) for l in ladders]
    p99 = [(f"{l.consumer} p99", [(s.offered_eps, s.latency_ms.get("p99")) for s in l.steps]) for l in ladders]
    p50 = [(f"{l.consumer} p50", [(s.offered_eps, s.latency_ms.get("p50")) for s in l.steps]) for l in ladders]
    tables = []
    for ladder in ladders:
        head = "".join(f"<th>{escape(h)}</th>" for h in _HEAD)
        rows = "".join(f'<tr class="{"behind" if s.behind else "kept"}">'
                       + "".join(f"<td>{escape(c)}</td>" for c in _row(s)) + "</tr>" for s in ladder.steps)
        title = result.verdict_of(ladder) if ladder is not result.null else "the harness ceiling"
        tables.append(f"<h3>{escape(ladder.consumer)}</h3><p>{escape(title)}</p>"
                      f'<table class="steps"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>')
    css = ("body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
           "margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}tr.behind td"
           "{background:#fde2e2}svg.chart text{font-size:12px;fill:#333}line.axis{stroke:#555}")
    summary = "".join(f"<li>{escape(line)}</li>" for line in _summary(result).splitlines())
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>genesys-sim bench</title>"
            f"<style>{css}</style></head><body><h1>genesys-sim bench: {escape(result.scenario)}</h1>"
            f"<ul class=\"summary\">{summary}</ul>"
            "<h2>Achieved vs offered</h2>"
            + line_chart("achieved vs offered", achieved, x_label="offered events/s",
                         y_label="achieved events/s", diagonal=True)
            + "<h2>Latency vs offered</h2>"
            + line_chart("p99 latency vs offered", p99 + p50, x_label="offered events/s",
                         y_label="latency ms (log)", log_y=True)
            + "".join(tables) + "</body></html>\n")
