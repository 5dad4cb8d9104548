"""The downstream effect sink over HTTP: the hot path, called once per effect by
every consumer process. Kept to a registry lookup, a JSON parse and ``apply``.

Not guarded by the API token: consumers on this machine call it with nothing but
the URL they were given. That URL carries the run's unguessable sink token, and
every miss (unknown run, wrong token, run ended) is the same 404."""
from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, Response

from simulator.app.context import app_context, read_json
from simulator.app.errors import ApiError, json_response

bp = Blueprint("effects", __name__)


# ``path:``: a consumer's name may be its raw spec ("http:http://host/x"), slashes
# and all; RunRegistry.sink_path percent-encodes it ("#" and "?" would cut the URL).
@bp.post("/runs/<run_id>/sink/<token>/consumers/<path:consumer>/effects")
def post_effect(run_id: str, token: str, consumer: str) -> Response:
    known, sink = app_context().registry.sink(run_id, token)
    if not known:
        raise ApiError(404, "no effect sink at this path: the run has ended or the path is wrong "
                            "(use the GENESYS_SIM_SINK_URL the run gave you)", "path")
    if sink is None:
        # Known run still starting: a retryable answer, as a real downstream would give.
        raise ApiError(503, f"run {run_id!r} has no effect sink open yet", "run_id")
    # A sink serving one consumer knows its name: the URL's segment is only a label
    # (servers differ in whether they decode an escaped "/" in it).
    status, body = sink.apply(sink.consumer or unquote(consumer), read_json())
    return json_response(body, status)
