"""``--report json``: the machine-readable result (schema in ``schema.py``)."""
from __future__ import annotations

import orjson

from simulator.report.results import MatrixResult, RunResult


def render(result: RunResult | MatrixResult, *, samples: bool = False) -> str:
    return orjson.dumps(result.to_dict(samples=samples), option=orjson.OPT_INDENT_2).decode() + "\n"
