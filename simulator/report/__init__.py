"""Reports of a run's scores: ``render(result, fmt)`` for the files and pipes
(``--report json|junit|markdown|html``), ``terminal`` for the screen.

Each format is its own small module taking a RunResult or MatrixResult and
returning text; nothing here computes a score (that is ``simulator.scoring``).
"""
from __future__ import annotations

from typing import Callable

from simulator.errors import BadInput
from simulator.report import html_report, json_report, junit, markdown, terminal
from simulator.report.results import MatrixResult, RunResult

_RENDERERS: dict[str, Callable[[RunResult | MatrixResult], str]] = {
    "json": json_report.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html_report.render,
    "terminal": terminal.render,
}
# What `--report` accepts, in --help order.
FORMATS: tuple[str, ...] = tuple(_RENDERERS)
# The file suffix each format is written with.
SUFFIX = {"json": ".json", "junit": ".xml", "markdown": ".md", "html": ".html", "terminal": ".txt"}


def render(result: RunResult | MatrixResult, fmt: str) -> str:
    """The report of ``result`` in format ``fmt`` (one of FORMATS)."""
    try:
        renderer = _RENDERERS[fmt]
    except (KeyError, TypeError):
        raise BadInput(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})",
                       where="--report") from None
    return renderer(result)


__all__ = ["FORMATS", "SUFFIX", "MatrixResult", "RunResult", "render", "terminal"]
