"""The terminal report: rich tables. ``table`` for one run (rows = consumers),
``matrix_table`` for scenarios x consumers with "missed / duplicated" per cell,
green where the verdict passed and red where it failed."""
from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from simulator.report.columns import COLUMNS, run_title
from simulator.report.results import MatrixResult, RunResult

_NUMERIC = {"events", "effects", "missed", "duplicated", "extra effects", "unexpected", "dlq",
            "poison dropped", "stale", "p50 ms", "p95 ms", "p99 ms", "events/s"}
_BAD_WHEN_NONZERO = {"missed", "duplicated", "extra effects", "unexpected", "poison dropped", "stale"}


def _style(passed: bool) -> str:
    return "green" if passed else "bold red"


def table(run: RunResult) -> Table:
    title = run_title(run.scenario, run.seed, run.backend, run.delivery, run.complete)
    t = Table(title=title, title_justify="left")
    for header, _ in COLUMNS:
        # Names are what a reader scans for: never cut them; let numbers wrap first.
        t.add_column(header, justify="right" if header in _NUMERIC else "left",
                     no_wrap=header in ("verdict", "consumer"), min_width=len(header) if header == "consumer" else None)
    for score in run.consumers:
        cells = []
        for header, fmt in COLUMNS:
            text = fmt(score)
            style = ""
            if header == "verdict":
                style = _style(score.verdict == "pass")
            elif header in _BAD_WHEN_NONZERO and text not in ("0", "n/a"):
                style = "yellow"
            cells.append(Text(text, style=style))
        t.add_row(*cells)
    return t


def matrix_table(matrix: MatrixResult) -> Table:
    t = Table(title=f"matrix: {matrix.verdict.upper()}", caption="cells: missed / duplicated",
              title_justify="left", caption_justify="left")
    t.add_column("scenario")
    consumers = matrix.consumer_names
    for name in consumers:
        t.add_column(name, justify="center")
    for scenario in matrix.scenarios:
        cells = [Text(scenario)]
        for name in consumers:
            s = matrix.cell(scenario, name)
            cells.append(Text("–", style="dim") if s is None else
                         Text(f"{s.missed} / {s.duplicated}", style=_style(s.verdict == "pass")))
        t.add_row(*cells)
    return t


ANOMALIES_SHOWN = 3  # per kind and consumer, after the table


def renderable(result: RunResult | MatrixResult, *, anomalies: bool = True) -> Group:
    """Everything the terminal shows for ``result``, failures, notes and the first
    anomalies of each kind included (a matrix shows its grid and failures only)."""
    runs = result.runs if isinstance(result, MatrixResult) else [result]
    parts: list = [matrix_table(result)] if isinstance(result, MatrixResult) else []
    show = anomalies and not isinstance(result, MatrixResult)
    for run in runs:
        parts.append(table(run))
        for note in run.notes:
            parts.append(Text(f"  note: {note}", style="dim"))
        for s in run.consumers:
            if s.failures:
                parts.append(Text(f"  {s.name}: FAIL: {'; '.join(s.failures)}", style="red"))
            for note in s.notes:
                parts.append(Text(f"  {s.name}: {note}", style="dim"))
            if show:
                parts += anomaly_lines(run, s)
    return Group(*parts)


def anomaly_lines(run: RunResult, score: Any) -> list[Text]:
    """The first few anomalies of each kind, one line each, and how to see them all."""
    lines: list[Text] = []
    by_kind: dict[str, list[dict]] = {}
    for anomaly in score.anomalies:
        by_kind.setdefault(anomaly["kind"], []).append(anomaly)
    for kind, found in by_kind.items():
        total = len(found) + score.anomalies_omitted.get(kind, 0)
        lines.append(Text(f"  {score.name}: {total} {kind.replace('_', ' ')}:", style="bold"))
        for anomaly in found[:ANOMALIES_SHOWN]:
            lines.append(Text(f"    {one_line(anomaly)}"))
        if total > ANOMALIES_SHOWN and run.run_dir:
            lines.append(Text(f"    ... {total - ANOMALIES_SHOWN} more: genesys-sim explain {run.run_dir} "
                              f"--consumer {score.name} --kind {kind}", style="dim"))
    if by_kind and run.run_dir:
        first = score.anomalies[0]
        if first.get("reproduce"):
            lines.append(Text(f"    reproduce: {first['reproduce']}", style="dim"))
    return lines


def one_line(anomaly: dict) -> str:
    """``acd.end 1a2b3c4d (seq 52): why``: what the anomaly is about, and why."""
    event = anomaly.get("event")
    if event:
        topic = event["topic"].split("{id}.")[-1] if "{id}." in event["topic"] else event["topic"]
        head = f"{topic} {event['correlation_id'][:8]} (seq {event['seq']})"
    elif anomaly["kind"] == "unexpected":
        head = f"effect #{anomaly['id'].split(':', 1)[-1]}"
    else:
        head = anomaly["id"].split(":", 1)[-1][:12]
    return f"{head}: {anomaly['why']}"


def print_result(result: RunResult | MatrixResult, console: Console | None = None) -> None:
    (console or Console()).print(renderable(result))


def render(result: RunResult | MatrixResult, *, width: int = 160, color: bool = False) -> str:
    """The terminal report as text (ANSI colours only when ``color``)."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None)
    console.print(renderable(result))
    return buf.getvalue()
