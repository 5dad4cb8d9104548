"""Inline SVG charts for the HTML report, drawn by hand so the page needs nothing
from the network: a horizontal bar chart and a histogram."""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from html import escape

_LABEL_W = 220
_BAR_W = 420
_ROW_H = 22


def bar_chart(title: str, bars: list[tuple[str, float, bool]], *, unit: str = "") -> str:
    """One ``rect.bar`` per (label, value, ok); bars scale to the largest value.
    ``ok`` colours the bar (green) or flags it (red)."""
    top = max((v for _, v, _ in bars), default=0) or 1
    height = _ROW_H * len(bars) + 10
    width = _LABEL_W + _BAR_W + 80
    out = [f'<svg class="chart" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">',
           f"<title>{escape(title)}</title>"]
    for i, (label, value, ok) in enumerate(bars):
        y = 5 + i * _ROW_H
        w = _BAR_W * value / top
        out.append(f'<text x="{_LABEL_W - 6}" y="{y + 15}" text-anchor="end">{escape(_clip(label))}</text>')
        out.append(f'<rect class="bar {"ok" if ok else "bad"}" data-consumer="{escape(label)}" '
                   f'x="{_LABEL_W}" y="{y + 2}" width="{w:.1f}" height="{_ROW_H - 6}"/>')
        out.append(f'<text x="{_LABEL_W + w + 6:.1f}" y="{y + 15}">{_num(value)}{escape(unit)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def histogram(title: str, sorted_samples: list[float], *, bins: int = 30, unit: str = "ms") -> str:
    """Histogram of an ascending sample list: ``bins`` equal-width buckets from the
    smallest to the largest sample (bucket counts by bisection, not a pass per sample)."""
    if not sorted_samples:
        return f'<p class="empty">{escape(title)}: no samples</p>'
    lo, hi = sorted_samples[0], sorted_samples[-1]
    step = (hi - lo) / bins or 1.0
    edges = [lo + step * i for i in range(1, bins)]
    cuts = [0] + [bisect_left(sorted_samples, e) for e in edges] + [len(sorted_samples)]
    counts = [b - a for a, b in zip(cuts, cuts[1:])]
    top = max(counts) or 1
    plot_w, plot_h, pad = 600, 160, 40
    col_w = plot_w / bins
    out = [f'<svg class="chart histogram" role="img" width="{plot_w + 2 * pad}" height="{plot_h + 2 * pad}" '
           f'viewBox="0 0 {plot_w + 2 * pad} {plot_h + 2 * pad}">',
           f"<title>{escape(title)}</title>"]
    for i, n in enumerate(counts):
        h = plot_h * n / top
        x = pad + i * col_w
        start = lo + step * i
        out.append(f'<rect class="bin" x="{x:.1f}" y="{pad + plot_h - h:.1f}" width="{col_w - 1:.1f}" '
                   f'height="{h:.1f}"><title>{_num(start)}–{_num(start + step)} {escape(unit)}: {n}</title></rect>')
    base = pad + plot_h
    out.append(f'<line x1="{pad}" y1="{base}" x2="{pad + plot_w}" y2="{base}" class="axis"/>')
    out.append(f'<text x="{pad}" y="{base + 16}">{_num(lo)} {escape(unit)}</text>')
    out.append(f'<text x="{pad + plot_w}" y="{base + 16}" text-anchor="end">{_num(hi)} {escape(unit)}</text>')
    out.append(f'<text x="{pad}" y="{pad - 8}">max {top} per bucket, {len(sorted_samples)} events</text>')
    out.append("</svg>")
    return "\n".join(out)


def _num(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def _ticks(low: float, high: float, log: bool) -> list[float]:
    """Round values strictly between ``low`` and ``high``: powers of ten on a log
    axis, else steps of 1, 2 or 5 times a power of ten (three to six of them)."""
    import math

    if high <= low:
        return []
    if log:
        first = math.ceil(math.log10(max(low, 1e-9)))
        return [10.0 ** e for e in range(first, math.floor(math.log10(high)) + 1) if low < 10.0 ** e < high]
    raw = (high - low) / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    ticks, value = [], math.floor(low / step + 1) * step
    while value < high - step * 0.2:  # keep clear of the labelled maximum
        ticks.append(value)
        value += step
    return ticks


def _clip(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else "…" + label[-(limit - 1):]


# ---- anomaly timelines ----

_LANE_H = 26
_TL_LEFT = 110
_TL_W = 900
_MIN_GAP = 13  # px between marks of one lane: steps a few ms apart stay apart
_MARK = {  # step -> (shape, css class)
    "sent": ("circle", "sent"), "refused": ("cross", "refused"), "attempt": ("circle", "attempt"),
    "receive": ("square", "receive"), "effect": ("diamond", "effect"), "crash": ("cross", "crash"),
    "timeout": ("cross", "crash"), "exit": ("cross", "crash"), "start": ("triangle", "start"),
    "stop": ("triangle", "stop"), "dlq": ("square", "dlq"), "leftover": ("square", "leftover"),
}


def timeline(title: str, steps: list[dict], *, time_scale: float = 1.0,
             describe: Callable[[dict], str] | None = None) -> str:
    """One anomaly's history on one time axis: a ``wire`` lane (deliveries, push
    attempts, DLQ, leftovers) and a lane per consumer instance (receives, effects,
    crashes, restarts). Every mark carries its step as a tooltip (``<title>``)."""
    if not steps:
        return f'<p class="empty">{escape(title)}: no recorded steps</p>'
    instances = sorted({s["instance"] for s in steps if s.get("instance") is not None})
    lanes = ["wire"] + [f"instance {i}" for i in instances]
    lo = min(s["at"] for s in steps)
    hi = max(s["at"] for s in steps)
    span = (hi - lo) or 1.0
    height = _LANE_H * len(lanes) + 34
    width = _TL_LEFT + _TL_W + _MIN_GAP * 8 + 30
    out = [f'<svg class="chart timeline" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">', f"<title>{escape(title)}</title>"]
    for i, lane in enumerate(lanes):
        y = 10 + i * _LANE_H + _LANE_H / 2
        out.append(f'<text class="lane" x="{_TL_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(lane)}</text>')
        out.append(f'<line class="lane" x1="{_TL_LEFT}" y1="{y:.1f}" x2="{_TL_LEFT + _TL_W}" y2="{y:.1f}"/>')
    last_x: dict[int, float] = {}
    for step in steps:  # in time order
        lane = 0 if step.get("instance") is None or step["what"] in ("sent", "attempt") else \
            1 + instances.index(step["instance"])
        x = _TL_LEFT + _TL_W * (step["at"] - lo) / span
        x = max(x, last_x.get(lane, -_MIN_GAP) + _MIN_GAP)
        last_x[lane] = x
        y = 10 + lane * _LANE_H + _LANE_H / 2
        shape, css = _MARK.get(step["what"], ("circle", "other"))
        if step["what"] == "effect":
            css += " applied" if step.get("applied") else " not-applied"
        tip = escape(f"{step['at']:.3f} s: {step['what']} {describe(step) if describe else ''}".strip())
        out.append(f'<g class="step {css}" data-what="{escape(step["what"])}">{_shape(shape, x, y)}'
                   f"<title>{tip}</title></g>")
    base = 10 + len(lanes) * _LANE_H
    out.append(f'<line class="axis" x1="{_TL_LEFT}" y1="{base}" x2="{_TL_LEFT + _TL_W}" y2="{base}"/>')
    for at, anchor in ((lo, "start"), (hi, "end")):
        x = _TL_LEFT + _TL_W * (at - lo) / span
        label = f"{at:.2f} s" + (f" (scenario {at * time_scale:.0f} s)" if time_scale != 1 else "")
        out.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="{anchor}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _shape(shape: str, x: float, y: float, r: float = 6) -> str:
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}"/>'
    if shape == "diamond":
        return (f'<polygon points="{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} '
                f'{x:.1f},{y + r + 1:.1f} {x - r - 1:.1f},{y:.1f}"/>')
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y + r:.1f} {x - r:.1f},{y + r:.1f}"/>'
    if shape == "cross":
        return (f'<path d="M{x - r:.1f},{y - r:.1f} L{x + r:.1f},{y + r:.1f} '
                f'M{x + r:.1f},{y - r:.1f} L{x - r:.1f},{y + r:.1f}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}"/>'


# ---- line charts (bench: achieved vs offered, latency vs offered) ----

_PALETTE = ("#1e88e5", "#e53935", "#43a047", "#8e24aa", "#fb8c00", "#00897b")


def line_chart(title: str, series: list[tuple[str, list[tuple[float, float]]]], *,
               x_label: str, y_label: str, diagonal: bool = False, log_y: bool = False) -> str:
    """Lines through (x, y) points, one per series, with a legend; ``diagonal``
    draws y = x (where achieved equals offered)."""
    points = [p for _, pts in series for p in pts]
    if not points:
        return f'<p class="empty">{escape(title)}: no data</p>'
    width, height, left, top, right, bottom = 780, 340, 70, 20, 240, 45
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max(x for x, _ in points) or 1.0
    y_values = [y for _, y in points if y is not None]
    y_max = max(y_values + ([x_max] if diagonal else [])) or 1.0
    y_min = min(v for v in y_values if v > 0) if log_y and any(v > 0 for v in y_values) else 0.0

    def sx(x: float) -> float:
        return left + plot_w * x / x_max

    def sy(y: float) -> float:
        if log_y:
            import math

            lo, hi = math.log10(max(y_min, 1e-9)), math.log10(max(y_max, y_min * 10))
            return top + plot_h * (1 - (math.log10(max(y, y_min)) - lo) / ((hi - lo) or 1))
        return top + plot_h * (1 - y / y_max)

    out = [f'<svg class="chart line" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">', f"<title>{escape(title)}</title>",
           f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
           f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
           f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>',
           f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
           f'text-anchor="middle">{escape(y_label)}</text>',
           f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_num(y_max)}</text>',
           f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">{_num(y_min)}</text>',
           f'<text x="{left + plot_w}" y="{top + plot_h + 16}" text-anchor="end">{_num(x_max)}</text>']
    # Grid lines at readable values in between, so a point can be read off the chart.
    for y in _ticks(y_min, y_max, log_y):
        out.append(f'<line class="grid" x1="{left}" y1="{sy(y):.1f}" x2="{left + plot_w}" y2="{sy(y):.1f}" '
                   f'stroke="#eee"/><text x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{_num(y)}</text>')
    for x in _ticks(0.0, x_max, False):
        out.append(f'<line class="grid" x1="{sx(x):.1f}" y1="{top}" x2="{sx(x):.1f}" y2="{top + plot_h}" '
                   f'stroke="#eee"/><text x="{sx(x):.1f}" y="{top + plot_h + 16}" '
                   f'text-anchor="middle">{_num(x)}</text>')
    if diagonal:
        out.append(f'<line class="diagonal" x1="{sx(0)}" y1="{sy(0)}" x2="{sx(x_max)}" '
                   f'y2="{sy(min(x_max, y_max))}" stroke="#bbb" stroke-dasharray="4 4"/>')
    for i, (label, pts) in enumerate(series):
        colour = _PALETTE[i % len(_PALETTE)]
        drawn = [(x, y) for x, y in sorted(pts) if y is not None]
        if drawn:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in drawn)
            out.append(f'<polyline class="series" data-series="{escape(label)}" fill="none" '
                       f'stroke="{colour}" stroke-width="2" points="{path}"/>')
            for x, y in drawn:
                out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}">'
                           f"<title>{escape(label)}: {_num(x)} → {_num(y)}</title></circle>")
        ly = top + 14 + 18 * i
        out.append(f'<rect x="{left + plot_w + 14}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{left + plot_w + 32}" y="{ly + 1}">{escape(_clip(label, 30))}</text>')
    out.append("</svg>")
    return "\n".join(out)
