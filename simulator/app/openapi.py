"""``GET /openapi.json``: the app's routes as an OpenAPI 3.0 document, for clients
and for the fuzz test that sends every route whatever it describes. Built from the
same constants the views check, so the two cannot drift apart silently; a test
holds the document's paths equal to the app's routes."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from simulator.app.context import app_context
from simulator.app.errors import json_response

bp = Blueprint("openapi", __name__)

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    said = {400: "bad request: the field that was wrong is named", 401: "missing or wrong bearer token",
            404: "not found", 413: "request body over the size limit",
            503: "not available (no runner, or a run still starting)"}
    return {str(code): _json(_ERROR, said[code]) for code in codes}


def document(*, guarded: bool, scenarios: list[str], references: list[str], max_consumers: int,
             max_count: int, formats: tuple[str, ...]) -> dict[str, Any]:
    security = [{"bearer": []}] if guarded else []
    control = {"security": security, "responses": _errors(401)} if guarded else {"responses": {}}

    def op(summary: str, responses: dict, **more: Any) -> dict:
        return {"summary": summary, **more, "security": control.get("security", []),
                "responses": {**responses, **control["responses"]}}

    run_request = {
        "type": "object", "additionalProperties": False, "required": ["scenario", "consumers"],
        "properties": {
            "scenario": {"type": "string", "description": "a scenario name from GET /scenarios",
                         **({"enum": scenarios} if scenarios else {})},
            "consumers": {"type": "array", "minItems": 1, "maxItems": max_consumers, "items": {"anyOf": [
                {"type": "string", "enum": [f"ref:{name}" for name in references],
                 "description": "a reference consumer (genesys-sim consumers)"},
                {"type": "string", "pattern": "^(http:)?https?://",
                 "description": "http:URL, URL on this machine or on a host serve was started "
                                "with --allow-target"}]}},
            "seed": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
        },
    }
    run_status = {
        "type": "object", "required": ["run_id", "status", "progress", "error"],
        "properties": {
            "run_id": {"type": "string"},
            "status": {"type": "string", "enum": ["starting", "running", "done", "failed"]},
            "progress": {"type": "object"},
            "error": {"type": "string", "nullable": True},
            "counts": {"type": "object"},
            "result": {"type": "object"},
            "report_path": {"type": "string"},
        },
    }
    effect = {
        "type": "object", "additionalProperties": False,
        "anyOf": [{"required": ["event"]}, {"required": ["correlation_id"]}],
        "properties": {
            "event": {"type": "object"}, "correlation_id": {"type": "string"},
            "idempotency_key": {"type": "string"}, "upsert": {"type": "boolean"},
            "consumer": {"type": "string"}, "instance": {"type": "integer", "minimum": 0},
        },
    }
    string_param = {"in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "genesys-sim", "version": "1",
                 "description": "Effect sink and run control API of `genesys-sim serve`."},
        "components": {
            "schemas": {"Error": {"type": "object", "required": ["error"],
                                  "properties": {"error": {"type": "string"}, "field": {"type": "string"}}}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "the server's GENESYS_SIM_API_TOKEN"}},
        },
        "paths": {
            "/health": {"get": {"summary": "liveness", "security": [], "responses": {
                "200": _json({"type": "object", "required": ["status"],
                              "properties": {"status": {"type": "string", "enum": ["ok"]}}}, "serving")}}},
            "/openapi.json": {"get": {"summary": "this document", "security": [], "responses": {
                "200": _json({"type": "object"}, "the OpenAPI document")}}},
            "/scenarios": {"get": op("the scenarios runs may name", {
                "200": _json({"type": "object", "required": ["scenarios"], "properties": {"scenarios": {
                    "type": "array", "items": {"type": "object", "required": ["name", "description"],
                                               "properties": {"name": {"type": "string"},
                                                              "description": {"type": "string",
                                                                              "nullable": True}}}}}},
                             "scenario names and descriptions")})},
            "/runs": {
                "get": op("runs this server knows", {
                    "200": _json({"type": "object", "required": ["runs"], "properties": {"runs": {
                        "type": "array", "items": {"type": "object", "required": ["run_id", "status"],
                                                   "properties": {"run_id": {"type": "string"},
                                                                  "status": {"type": "string"}}}}}},
                                 "run ids and statuses")}),
                "post": op("start a run of a scenario against ref: and http: consumers", {
                    "202": _json({"type": "object", "required": ["run_id", "status_url"],
                                  "properties": {"run_id": {"type": "string"}, "status_url": {"type": "string"}}},
                                 "accepted: the run goes on in the background"),
                    **_errors(400, 413, 503)},
                    requestBody={"required": True, "content": {"application/json": {"schema": run_request}}}),
            },
            "/runs/{run_id}": {"get": op("a run's status, counts and, once finished, result", {
                "200": _json(run_status, "the run"), **_errors(404)},
                parameters=[{"name": "run_id", **string_param}])},
            "/runs/{run_id}/sink/{token}/consumers/{consumer}/effects": {"post": {
                "summary": "report one business effect (the URL is the run's GENESYS_SIM_SINK_URL + /effects)",
                "security": [],
                "parameters": [{"name": name, **string_param} for name in ("run_id", "token", "consumer")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": effect}}},
                "responses": {
                    "200": _json({"type": "object", "required": ["applied"],
                                  "properties": {"applied": {"type": "boolean"},
                                                 "duplicate_key": {"type": "boolean"}}}, "recorded"),
                    "429": _json({"type": "object"}, "injected downstream throttling (scenario fault)"),
                    "500": _json({"type": "object"}, "injected downstream failure (scenario fault)"),
                    **_errors(400, 404, 413, 503)}}},
            "/events": {"get": op("generated events as NDJSON", {
                "200": {"description": "one event per line",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                **_errors(400, 503)},
                parameters=[
                    {"name": "topic", "in": "query", "style": "form", "explode": True,
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "count", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                "maximum": max_count}},
                    {"name": "seed", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                               "maximum": 2**63 - 1}},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": list(formats)}},
                ])},
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    from consumers import REFERENCES
    from simulator.app import events, runs

    ctx = app_context()
    return json_response(document(
        guarded=ctx.api_token is not None, scenarios=list(runs.shipped_scenarios(ctx.scenarios_dir)),
        references=[ref.name for ref in REFERENCES], max_consumers=runs.MAX_CONSUMERS,
        max_count=ctx.max_events, formats=events.FORMATS))
