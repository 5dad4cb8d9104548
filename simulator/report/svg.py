"""Inline SVG charts for the HTML report, drawn by hand so the page needs nothing
from the network: a horizontal bar chart and a histogram."""
from __future__ import annotations

from bisect import bisect_left
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


def _clip(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else "…" + label[-(limit - 1):]
