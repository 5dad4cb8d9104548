"""The Flask app: the downstream effect sink consumers report to, and the emitter
control API (scenarios, runs, generated events). App-factory style: every
``create_app`` call builds an independent app around its own registry."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from flask import Flask

from simulator.app import effects, events, health, openapi, runs
from simulator.app.auth import TOKEN_ENV, require_token
from simulator.app.context import EXTENSION, AppContext
from simulator.app.errors import ApiError, register_error_handlers
from simulator.app.registry import RunRegistry, RunState
from simulator.app.server import ServerHandle, make_threaded_server, serve_in_thread
from simulator.app.targets import AllowedTarget, TargetPolicy

__all__ = ["TOKEN_ENV", "AllowedTarget", "ApiError", "RunRegistry", "RunState", "ServerHandle",
           "TargetPolicy", "create_app", "default_scenarios_dir", "make_threaded_server",
           "serve_in_thread"]


def default_scenarios_dir() -> Path:
    from simulator.scenario import SHIPPED_SCENARIOS

    return SHIPPED_SCENARIOS


def create_app(*, registry: RunRegistry | None = None,
               start_run: Callable[[dict], str] | None = None,
               scenarios_dir: Path | None = None,
               max_content_length: int = 2 * 1024 * 1024,
               allowed_targets: Iterable[AllowedTarget] = (),
               api_token: str | None = None,
               max_events: int = events.MAX_COUNT) -> Flask:
    """``start_run`` receives the validated run request ``{"scenario", "consumers",
    "scenario_file", "seed"?}`` and returns the new run's id; it must not block
    (the run goes on in the background, reporting through ``registry``).

    ``http:`` consumers may target loopback and the hosts in ``allowed_targets``;
    with an ``api_token`` every control route needs ``Authorization: Bearer``."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_content_length
    app.extensions[EXTENSION] = AppContext(
        registry=registry if registry is not None else RunRegistry(),
        start_run=start_run,
        scenarios_dir=Path(scenarios_dir) if scenarios_dir is not None else default_scenarios_dir(),
        targets=TargetPolicy(allowed_targets),
        api_token=api_token or None,
        max_events=max_events,
    )
    if api_token:
        require_token(app, api_token)
    for blueprint in (health.bp, openapi.bp, effects.bp, runs.bp, events.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    return app
