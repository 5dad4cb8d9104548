"""The emitter control API: list the shipped scenarios, start a run, watch it.

A request can only name things that ship with the simulator (a scenario by name, a
``ref:`` consumer) or an HTTP endpoint to deliver to; it can never name code to
import or a command to run, and the endpoint must be on this machine or on a host
the server was started with ``--allow-target`` (simulator.app.targets)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, url_for

from simulator.app.context import app_context, read_json
from simulator.app.errors import ApiError, json_response
from simulator.app.registry import sink_counts
from simulator.app.targets import TargetPolicy
from simulator.errors import BadInput, EnvironmentFailure

log = logging.getLogger(__name__)
bp = Blueprint("runs", __name__)

MAX_CONSUMERS = 32
REQUEST_FIELDS = ("scenario", "consumers", "seed")
_REF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# Spec kinds that load code or start a process: accepted by the CLI, never over HTTP.
_CODE_KINDS = ("python", "lambda-sqs", "lambda-eb", "cmd", "wsgi", "deno")


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    name: str
    description: str | None
    path: Path


def shipped_scenarios(directory: Path) -> dict[str, ScenarioInfo]:
    """Scenario files in ``directory`` by name: only their ``name`` and
    ``description`` are read here (the full loader is simulator.scenario)."""
    found: dict[str, ScenarioInfo] = {}
    if not directory.is_dir():
        return found
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            log.warning("skipping scenario file %s: %s", path, exc)
            continue
        doc = doc if isinstance(doc, dict) else {}
        name = doc.get("name") if isinstance(doc.get("name"), str) else path.stem
        description = doc.get("description")
        found.setdefault(name, ScenarioInfo(name, description if isinstance(description, str) else None, path))
    return found


@bp.get("/scenarios")
def list_scenarios() -> Response:
    scenarios = shipped_scenarios(app_context().scenarios_dir)
    return json_response({"scenarios": [{"name": s.name, "description": s.description}
                                        for s in scenarios.values()]})


@bp.post("/runs")
def start_run() -> Response:
    ctx = app_context()
    if ctx.start_run is None:
        raise ApiError(503, "this server was started without a runner; it cannot start runs")
    request = _validate_run_request(read_json(), shipped_scenarios(ctx.scenarios_dir), ctx.targets)
    try:
        run_id = ctx.start_run(request)
    except BadInput as exc:
        raise ApiError(400, str(exc), exc.where) from None
    except EnvironmentFailure as exc:
        raise ApiError(503, str(exc)) from None
    status_url = url_for("runs.get_run", run_id=run_id, _external=True)
    return json_response({"run_id": run_id, "status_url": status_url}, 202, {"Location": status_url})


@bp.get("/runs")
def list_runs() -> Response:
    registry = app_context().registry
    runs = []
    for run_id in registry.ids():
        state = registry.get(run_id)
        if state is not None:
            runs.append({"run_id": run_id, "status": state.status})
    return json_response({"runs": runs})


@bp.get("/runs/<run_id>")
def get_run(run_id: str) -> Response:
    state = app_context().registry.get(run_id)
    if state is None:
        raise ApiError(404, f"unknown run {run_id!r}", "run_id")
    body: dict[str, Any] = {"run_id": run_id, "status": state.status, "progress": state.progress,
                            "error": state.error}
    counts = sink_counts(state.sink) if state.sink is not None else state.counts
    if counts is not None:
        body["counts"] = counts
    if state.status in ("done", "failed") and state.result is not None:
        body["result"] = state.result
    if state.report_path is not None:
        body["report_path"] = state.report_path
    return json_response(body)


def _validate_run_request(body: Any, scenarios: dict[str, ScenarioInfo], targets: TargetPolicy) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "run request must be a JSON object", "body")
    for name in body:
        if name not in REQUEST_FIELDS:
            raise ApiError(400, f"unknown field {name!r} (expected {', '.join(REQUEST_FIELDS)})", name)

    scenario = body.get("scenario")
    if not isinstance(scenario, str):
        raise ApiError(400, "'scenario' must be the name of a shipped scenario (GET /scenarios)", "scenario")
    if scenario not in scenarios:
        known = ", ".join(scenarios) or "none"
        raise ApiError(400, f"unknown scenario {scenario!r}; shipped scenarios: {known}", "scenario")

    consumers = body.get("consumers")
    if not isinstance(consumers, list) or not consumers:
        raise ApiError(400, "'consumers' must be a non-empty list of consumer specs", "consumers")
    if len(consumers) > MAX_CONSUMERS:
        raise ApiError(400, f"at most {MAX_CONSUMERS} consumers per run", "consumers")
    specs = [_check_consumer_spec(spec, f"consumers[{i}]", targets) for i, spec in enumerate(consumers)]

    request: dict[str, Any] = {"scenario": scenario, "consumers": specs,
                               "scenario_file": str(scenarios[scenario].path)}
    if "seed" in body:
        from simulator.options import RunOptions

        try:  # checked as every front door checks it
            RunOptions.checked(seed=body["seed"])
        except BadInput as exc:
            raise ApiError(400, str(exc), "seed") from None
        request["seed"] = body["seed"]
    return request


def _check_consumer_spec(spec: Any, where: str, targets: TargetPolicy) -> str:
    """The spec as the runner should get it (a bare URL becomes ``http:URL``)."""
    if not isinstance(spec, str):
        raise ApiError(400, f"{where} must be a consumer spec string", where)
    kind, _, rest = spec.partition(":")
    if kind == "ref":
        if not _REF_NAME.fullmatch(rest):
            raise ApiError(400, f"{where}: {spec!r} is not ref:NAME with a reference consumer name", where)
        return spec
    if kind in ("http", "https"):
        # The contract spells it http:URL; a bare http(s) URL is accepted too.
        url = rest if kind == "http" and rest.lower().startswith(("http://", "https://")) else spec
        refusal = targets.refusal(url)
        if refusal is not None:
            raise ApiError(400, f"{where}: {spec!r}: {refusal}", where)
        return f"http:{url}"
    if kind in _CODE_KINDS or kind.startswith("lambda"):
        raise ApiError(400, f"{where}: {kind}: consumers run code named in the request, which the app "
                            f"never does; over HTTP only ref:NAME and http:URL are accepted "
                            f"(run {kind}: consumers with the genesys-sim CLI)", where)
    raise ApiError(400, f"{where}: unknown consumer spec {spec!r}; expected ref:NAME or http:URL", where)
