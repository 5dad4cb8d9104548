"""Runs started over HTTP (``POST /runs`` of ``genesys-sim serve``): each one goes
on in a background thread through the same runner as the command line, reporting
its progress to the app's run registry and, when it ends, closing its entry there
with the run's JSON report written beside its ledger: the registry keeps the
status, result and report path, and nothing of the run's history."""
from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from simulator.errors import SimError

log = logging.getLogger(__name__)


class RunService:
    def __init__(self, registry: Any, *, sink_base_url: str, out_dir: Path | str = "runs") -> None:
        self.registry = registry
        self.sink_base_url = sink_base_url
        self.out_dir = Path(out_dir)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, request: dict) -> str:
        """``request``: the app's validated ``{"scenario", "scenario_file", "consumers",
        "seed"?}``. Bad input is raised here, before the run is accepted."""
        from simulator.clients.interpreter import consumer_specs
        from simulator.scenario import load_scenario

        scenario = load_scenario(request["scenario_file"])
        specs = consumer_specs(request["consumers"], scenario)
        run_id = f"run-{uuid.uuid4().hex[:12]}"
        self.registry.open(run_id, status="starting")
        thread = threading.Thread(target=self._run, args=(run_id, scenario, specs, request.get("seed")),
                                  name=f"genesys-sim {run_id}", daemon=True)
        with self._lock:  # finished threads are dropped: a long-lived server keeps none
            self._threads = [t for t in self._threads if t.is_alive()]
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
            self.registry.close(run_id, status="failed", error=str(exc))
            return
        except Exception as exc:  # a bug of ours: keep the app serving, say what happened
            log.error("run %s failed", run_id, exc_info=exc)
            self.registry.close(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            return
        stopped = result.stop  # an incomplete run is "failed", saying why
        self.registry.close(run_id, status="failed" if stopped is not None else "done",
                            result=result.to_dict(), error=stopped.reason if stopped else None,
                            report_path=_write_report(result))

    def join(self, timeout_s: float | None = None) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)


def _write_report(result: Any) -> str | None:
    """The run's ``--report json`` beside its ledger; None when it cannot be written
    (the result is still in the registry)."""
    from simulator.report import render

    if not result.ledger_path:
        return None
    path = Path(result.ledger_path).with_name("report.json")
    try:
        path.write_text(render(result, "json"), encoding="utf-8")
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc)
        return None
    return str(path)
