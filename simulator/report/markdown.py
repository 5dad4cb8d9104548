"""``--report markdown``: a table per run (rows = consumers), and for a matrix a
scenarios x consumers summary first. Fits a pull-request comment or job summary."""
from __future__ import annotations

from simulator.report.columns import HEADERS, row, run_title
from simulator.report.results import MatrixResult, RunResult
from simulator.report.terminal import one_line


def render(result: RunResult | MatrixResult) -> str:
    if isinstance(result, MatrixResult):
        parts = [_matrix(result)] + [_run(run, level="###") for run in result.runs]
    else:
        parts = [_run(result, level="##")]
    return "\n\n".join(parts) + "\n"


def _cell(text: str) -> str:
    # A pipe would end the cell; a newline would end the row.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(map(_cell, headers)) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(map(_cell, r)) + " |" for r in rows]
    return "\n".join(lines)


def _run(run: RunResult, *, level: str) -> str:
    title = run_title(run.scenario, run.seed, run.backend, run.delivery, run.complete)
    out = [f"{level} {_cell(title)}: **{run.verdict.upper()}**", "",
           _table(HEADERS, [row(s) for s in run.consumers])]
    failures = [f"- `{s.name}`: {'; '.join(s.failures)}" for s in run.consumers if s.failures]
    notes = [f"- {n}" for n in run.notes] + [f"- `{s.name}`: {n}" for s in run.consumers for n in s.notes]
    if failures:
        out += ["", "Failures:", *failures]
    anomalies = _anomalies(run)
    if anomalies:
        out += ["", "Anomalies (the first of each kind; `genesys-sim explain` shows all):", *anomalies]
    if notes:
        out += ["", "Notes:", *notes]
    return "\n".join(out)


def _anomalies(run: RunResult, per_kind: int = 3) -> list[str]:
    lines = []
    for s in run.consumers:
        shown: dict[str, int] = {}
        for a in s.anomalies:
            if shown.get(a["kind"], 0) < per_kind:
                shown[a["kind"]] = shown.get(a["kind"], 0) + 1
                lines.append(f"- `{s.name}` {a['kind']}: {_cell(one_line(a))}")
    return lines


def _matrix(matrix: MatrixResult) -> str:
    consumers = matrix.consumer_names
    rows = []
    for scenario in matrix.scenarios:
        cells = [scenario]
        for name in consumers:
            s = matrix.cell(scenario, name)
            cells.append("–" if s is None else
                         f"{s.missed} / {s.duplicated}{'' if s.verdict == 'pass' else ' ✗'}")
        rows.append(cells)
    return "\n".join([f"## Matrix: **{matrix.verdict.upper()}** (missed / duplicated; ✗ = verdict failed)",
                      "", _table(["scenario", *consumers], rows)])
