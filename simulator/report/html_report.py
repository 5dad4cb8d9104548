"""``--report html``: one self-contained page (inline CSS and SVG, nothing fetched),
so it can be attached to a CI job and opened offline. Per run: the figures table,
whose anomaly counts link to the anomalies behind them; missed and duplicated per
consumer as bar charts; each consumer's latency histogram; and each anomaly as a
section that opens on its story and timeline (deliveries, receives, effects and
crashes on one time axis, a lane per instance). A matrix adds a scenarios x
consumers grid on top."""
from __future__ import annotations

import re
from html import escape

from simulator.report.columns import HEADERS, row, run_title
from simulator.report.results import MatrixResult, RunResult
from simulator.report.story import describe, step_line
from simulator.report.svg import bar_chart, histogram, timeline

# Table column -> anomaly kind whose stories that count links to.
_LINKED = {"missed": "missed", "duplicated": "duplicated", "dlq": "dlq", "unexpected": "unexpected",
           "poison dropped": "poison_dropped", "stale": "stale"}

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
details.anomaly{border:1px solid #ddd;border-radius:4px;margin:4px 0;padding:4px 8px}
details.anomaly[open]{background:#fafafa}
details.anomaly summary{cursor:pointer}
.why{margin:6px 0}.reproduce code{background:#eee;padding:1px 4px}
pre.steps{font-size:12px;overflow-x:auto}
svg.timeline line.lane{stroke:#ddd}svg.timeline text.lane{font-size:11px}
g.step.sent circle{fill:#1e88e5}g.step.attempt circle{fill:#90caf9}
g.step.receive rect{fill:#fb8c00}g.step.effect.applied polygon{fill:#43a047}
g.step.effect.not-applied polygon{fill:#fff;stroke:#43a047;stroke-width:2}
g.step.crash path,g.step.refused path{stroke:#d32f2f;stroke-width:3}
g.step.start polygon{fill:#8e24aa}g.step.stop polygon{fill:#999}
g.step.dlq rect{fill:#6d4c41}g.step.leftover rect{fill:#bdbdbd}
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
    scale = run.time_scale
    for s in run.consumers:
        if s.anomalies:
            parts.append(_anomalies(run, s, scale))
    notes = run.notes + [f"{s.name}: {n}" for s in run.consumers for n in s.notes]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _table(run: RunResult) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS) + "<th>failures</th>"
    rows = []
    for s in run.consumers:
        kinds = {a["kind"] for a in s.anomalies}
        cells = ""
        for header, text in zip(HEADERS, row(s)):
            kind = _LINKED.get(header)
            if kind in kinds:
                cells += (f'<td><a class="count" href="#{_anchor(run, s.name, kind)}">'
                          f"{escape(text)}</a></td>")
            else:
                cells += f"<td>{escape(text)}</td>"
        cells += f"<td>{escape('; '.join(s.failures))}</td>"
        rows.append(f'<tr class="consumer {s.verdict}">{cells}</tr>')
    return f'<table class="scores"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _anomalies(run: RunResult, s, scale: float) -> str:
    parts = [f'<section class="anomalies" data-consumer="{escape(s.name)}">'
             f"<h3>Anomalies of {escape(s.name)}</h3>"]
    by_kind: dict[str, list[dict]] = {}
    for anomaly in s.anomalies:
        by_kind.setdefault(anomaly["kind"], []).append(anomaly)
    for kind, found in by_kind.items():
        more = s.anomalies_omitted.get(kind, 0)
        parts.append(f'<h4 id="{_anchor(run, s.name, kind)}">{escape(kind.replace("_", " "))}: '
                     f"{len(found) + more}</h4>")
        for anomaly in found:
            parts.append(_anomaly(run, s.name, anomaly, scale))
        if more:
            hint = f"genesys-sim explain {run.run_dir} --consumer {s.name} --kind {kind}" if run.run_dir else ""
            parts.append(f'<p class="more">{more} more not shown: <code>{escape(hint)}</code></p>')
    parts.append("</section>")
    return "\n".join(parts)


def _anomaly(run: RunResult, consumer: str, anomaly: dict, scale: float) -> str:
    event = anomaly.get("event")
    label = (f"{event['topic']} {event['correlation_id'][:8]} (seq {event['seq']})" if event
             else anomaly["id"])
    steps = anomaly["history"]
    body = []
    if anomaly.get("faults"):
        body.append(f'<p class="faults">faults: {escape(", ".join(anomaly["faults"]))}</p>')
    if anomaly.get("reproduce"):
        body.append(f'<p class="reproduce">reproduce: <code>{escape(anomaly["reproduce"])}</code></p>')
    body.append(timeline(f"timeline of {label}", steps, time_scale=scale, describe=describe))
    body.append('<pre class="steps">' + escape("\n".join(step_line(st, scale) for st in steps)) + "</pre>")
    return (f'<details class="anomaly {escape(anomaly["kind"])}" id="{_anchor(run, consumer, anomaly["id"])}">'
            f'<summary>{escape(label)}: <span class="why">{escape(anomaly["why"])}</span></summary>'
            f"{''.join(body)}</details>")


def _anchor(run: RunResult, consumer: str, name: str) -> str:
    text = f"{run.scenario}-{consumer}-{name}"
    return "a-" + re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


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
