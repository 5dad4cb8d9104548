"""``--report html``: one self-contained page (inline CSS and SVG, nothing fetched),
so it can be attached to a CI job and opened offline. Per run: the figures table,
missed and duplicated per consumer as bar charts, and each consumer's latency
histogram. A matrix adds a scenarios x consumers grid on top."""
from __future__ import annotations

from html import escape

from simulator.report.columns import HEADERS, row, run_title
from simulator.report.results import MatrixResult, RunResult
from simulator.report.svg import bar_chart, histogram

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.fail td,td.fail{background:#fde2e2}
tr.pass td,td.pass{background:#e3f6e3}
.verdict-pass{color:#1a7f37}.verdict-fail{color:#c62828}
svg.chart text{font-size:12px;fill:#333}
rect.bar.ok{fill:#4caf50}rect.bar.bad{fill:#e53935}rect.bin{fill:#5c7cfa}
line.axis{stroke:#555}
.notes{color:#666}
"""


def render(result: RunResult | MatrixResult) -> str:
    if isinstance(result, MatrixResult):
        title = f"genesys-sim matrix: {result.verdict}"
        body = [_matrix(result)] + [_run(run) for run in result.runs]
    else:
        title = f"genesys-sim: {result.scenario}: {result.verdict}"
        body = [_run(result)]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _run(run: RunResult) -> str:
    head = escape(run_title(run.scenario, run.seed, run.backend, run.delivery, run.complete))
    parts = [f'<section class="run"><h2>{head}: <span class="verdict-{run.verdict}">'
             f"{run.verdict.upper()}</span></h2>", _table(run)]
    bars = [(s.name, s.missed, s.missed == 0) for s in run.consumers]
    parts.append(f"<h3>Missed per consumer</h3>\n{bar_chart('missed events per consumer', bars)}")
    bars = [(s.name, s.duplicated, s.duplicated == 0) for s in run.consumers]
    parts.append(f"<h3>Duplicated per consumer</h3>\n{bar_chart('duplicated events per consumer', bars)}")
    parts.append("<h3>Latency (first sent to first applied effect)</h3>")
    for s in run.consumers:
        parts.append(f"<h4>{escape(s.name)}</h4>\n"
                     + histogram(f"latency of {s.name}", s.latencies_ms))
    notes = run.notes + [f"{s.name}: {n}" for s in run.consumers for n in s.notes]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _table(run: RunResult) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS) + "<th>failures</th>"
    rows = []
    for s in run.consumers:
        cells = "".join(f"<td>{escape(c)}</td>" for c in row(s))
        cells += f"<td>{escape('; '.join(s.failures))}</td>"
        rows.append(f'<tr class="consumer {s.verdict}">{cells}</tr>')
    return f'<table class="scores"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _matrix(matrix: MatrixResult) -> str:
    consumers = matrix.consumer_names
    head = "<th>scenario</th>" + "".join(f"<th>{escape(c)}</th>" for c in consumers)
    rows = []
    for scenario in matrix.scenarios:
        cells = [f"<td>{escape(scenario)}</td>"]
        for name in consumers:
            s = matrix.cell(scenario, name)
            cells.append("<td>–</td>" if s is None else
                         f'<td class="{s.verdict}" title="{escape("; ".join(s.failures))}">'
                         f"{s.missed} / {s.duplicated}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<section class="matrix"><h1>Matrix: <span class="verdict-{matrix.verdict}">'
            f"{matrix.verdict.upper()}</span></h1><p>missed / duplicated per scenario and consumer</p>"
            f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>')
