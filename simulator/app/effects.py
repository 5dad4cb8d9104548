"""The downstream effect sink over HTTP: the hot path, called once per effect by
every consumer process. Kept to a registry lookup, a JSON parse and ``apply``."""
from __future__ import annotations

from flask import Blueprint, Response

from simulator.app.context import app_context, read_json
from simulator.app.errors import ApiError, json_response

bp = Blueprint("effects", __name__)


# ``path:``: a consumer's name may be its raw spec ("http:http://host/x"), slashes
# and all; the harness should still percent-encode it ("#" and "?" would cut the URL).
@bp.post("/runs/<run_id>/consumers/<path:consumer>/effects")
def post_effect(run_id: str, consumer: str) -> Response:
    registry = app_context().registry
    sink = registry.sink(run_id)
    if sink is None:
        if registry.get(run_id) is None:
            raise ApiError(404, f"unknown run {run_id!r}", "run_id")
        # Known run still starting: a retryable answer, as a real downstream would give.
        raise ApiError(503, f"run {run_id!r} has no effect sink open yet", "run_id")
    status, body = sink.apply(consumer, read_json())
    return json_response(body, status)
