"""Every answer that is not 2xx is JSON: ``{"error": "...", "field"?: "..."}``."""
from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """A refusal that names what was wrong (and which field, when there is one)."""

    def __init__(self, status: int, message: str, field: str | None = None, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description=message)
        self.code = status
        self.field = field
        self.headers = dict(headers or {})

    def get_headers(self, *args: object, **kwargs: object) -> list[tuple[str, str]]:
        return [*super().get_headers(*args, **kwargs), *self.headers.items()]


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    # orjson rather than flask.jsonify: the sink answers once per effect.
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype="application/json")


def error_response(status: int, message: str, field: str | None = None) -> Response:
    body = {"error": message}
    if field is not None:
        body["field"] = field
    return json_response(body, status)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if isinstance(exc, InternalServerError):
            return _internal(exc)
        resp = error_response(exc.code or 500, _message(exc), getattr(exc, "field", None))
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def _internal(exc: Exception) -> Response:
        original = getattr(exc, "original_exception", None) or exc
        log.error("unhandled error in request", exc_info=original)
        return error_response(500, "internal error")


def _message(exc: HTTPException) -> str:
    if isinstance(exc, ApiError):
        return exc.description or exc.name
    if exc.code == 404:
        return f"no such endpoint: {request.method} {request.path}"
    if exc.code == 405:
        return f"method {request.method} is not allowed on {request.path}"
    if exc.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return f"request body is larger than the limit of {limit} bytes" if limit else "request body too large"
    return exc.description or exc.name
