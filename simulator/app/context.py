"""What the views need from the app that created them, and the JSON body reader."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import orjson
from flask import current_app, request

from simulator.app.errors import ApiError
from simulator.app.registry import RunRegistry
from simulator.app.targets import TargetPolicy

EXTENSION = "genesys_sim"


@dataclass(frozen=True, slots=True)
class AppContext:
    registry: RunRegistry
    start_run: Callable[[dict], str] | None
    scenarios_dir: Path
    targets: TargetPolicy
    api_token: str | None
    max_events: int


def app_context() -> AppContext:
    return current_app.extensions[EXTENSION]


def read_json() -> Any:
    """The request body as JSON, whatever the content type says (consumers in other
    languages forget the header). Over the size limit werkzeug raises 413 here."""
    data = request.get_data(cache=False)
    if not data:
        raise ApiError(400, "request body is empty; expected a JSON object", "body")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", "body") from None
