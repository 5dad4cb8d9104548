from __future__ import annotations

from flask import Blueprint, Response

from simulator.app.errors import json_response

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    return json_response({"status": "ok"})
