"""Runs started over HTTP (``POST /runs`` of ``genesys-sim serve``): each one goes
on in a background thread through the same runner as the command line, reporting
its progress and result to the app's run registry."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from simulator.errors import SimError


class RunService:
    def __init__(self, registry: Any, *, sink_base_url: str, out_dir: Path | str = "runs") -> None:
        self.registry = registry
        self.sink_base_url = sink_base_url
        self.out_dir = Path(out_dir)
        self._threads: list[threading.Thread] = []

    def start(self, request: dict) -> str:
        """``request``: the app's validated ``{"scenario", "scenario_file", "consumers",
        "seed"?}``. Bad input is raised here, before the run is accepted."""
        from simulator.clients.spec import parse_spec
        from simulator.scenario import load_scenario

        scenario = load_scenario(request["scenario_file"])
        specs = [parse_spec(raw) for raw in request["consumers"]]
        run_id = f"run-{uuid.uuid4().hex[:12]}"
        self.registry.open(run_id, status="starting")
        thread = threading.Thread(target=self._run, args=(run_id, scenario, specs, request.get("seed")),
                                  name=f"genesys-sim {run_id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return run_id

    def _run(self, run_id: str, scenario: Any, specs: list, seed: int | None) -> None:
        from simulator.harness import Harness
        from simulator.runner import RunOptions, run_scenario

        def progress(state: dict) -> None:
            self.registry.update(run_id, status="running", progress=state)

        try:
            with Harness(out_dir=self.out_dir, registry=self.registry,
                         sink_base_url=self.sink_base_url) as harness:
                result = run_scenario(harness, scenario, specs, options=RunOptions(seed=seed),
                                      progress=progress)
        except SimError as exc:
            self.registry.update(run_id, status="failed", error=str(exc))
            return
        except Exception as exc:  # a bug of ours: keep the app serving, say what happened
            self.registry.update(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            return
        abort = result.abort
        self.registry.update(run_id, status="failed" if abort is not None else "done",
                             result=result.to_dict(), error=str(abort) if abort is not None else None)

    def join(self, timeout_s: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout_s)
