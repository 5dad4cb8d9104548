"""One run: scenario -> generator -> nemesis -> transport -> consumer -> sink ->
ledger -> checker. Each consumer gets its own queue (or push target), its own
instances and the same plan (``ConsumerRun``), and is scored on its own.

The runner only sequences: it makes the plan, opens the ledger with the run's
description, runs the consumers (side by side up to ``parallel``), applies the
one failure policy of ``simulator.stopping`` and hands the history to the
checker. A run that stops half-way still closes the ledger, scores what was
observed and returns a result marked incomplete.
"""
from __future__ import annotations

import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from simulator.clients.spec import ConsumerSpec
from simulator.consumer_run import ConsumerRun, Progress, slug
from simulator.ledger import Ledger
from simulator.model import Plan
from simulator.options import RunOptions
from simulator.stopping import RunStop

__all__ = ["RunOptions", "make_plan", "run_scenario", "slug"]


def make_plan(scenario: Any, seed: int) -> tuple[list, Plan]:
    from simulator import faults
    from simulator.events import generate

    events = list(generate(seed, traffic=scenario.traffic_config()))
    plan = faults.plan(events, scenario.fault_specs(), seed=seed,
                       fifo=scenario.queue.type == "fifo",
                       max_entry_bytes=scenario.eventbridge.max_entry_bytes)
    return events, plan


def run_scenario(harness: Any, scenario: Any, specs: list[ConsumerSpec], *,
                 options: RunOptions | None = None, progress: Progress | None = None) -> Any:
    from simulator.report import RunResult
    from simulator.scoring import score_run

    options = options or RunOptions()
    seed = scenario.seed if options.seed is None else options.seed
    backend_name = options.backend or scenario.backend
    instances = options.instances or scenario.consumers.instances
    events, plan = make_plan(scenario, seed)
    run_id = f"{slug(scenario.name)}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    run_dir = harness.out_dir / run_id
    names = _unique_names(specs)
    ledger = Ledger(run_dir / "ledger.jsonl")
    reproduce = _reproduce(scenario, seed, options)
    ledger.describe(_meta(scenario, seed, backend_name, instances, specs, names, run_id, reproduce))
    ledger.record_many(events)
    notes: list[str] = []
    stop = RunStop()

    def one(index: int, spec: ConsumerSpec, name: str) -> None:
        if stop.is_set():
            return  # the run stopped before this consumer's turn
        consumer = ConsumerRun(harness, backend, scenario, plan, spec, name, ledger,
                               run_id=f"{run_id[-20:]}-{index}", run_dir=run_dir, seed=seed,
                               instances=instances, stop=stop, progress=progress)
        try:
            consumer.run()
        finally:
            notes.extend(consumer.notes)

    try:
        backend = harness.backend(backend_name)
        with ThreadPoolExecutor(max_workers=max(1, options.parallel)) as pool:
            futures = [pool.submit(one, i, spec, name) for i, (spec, name) in enumerate(zip(specs, names))]
            try:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=0.2)
                    for future in done:
                        if future.exception() is not None:
                            stop.set(future.exception())
            except BaseException as exc:  # Ctrl-C, SIGTERM: every consumer winds down
                stop.set(exc)
                wait(futures)
    except BaseException as exc:  # the backend could not be opened; or a signal before
        stop.set(exc)
    stopped = stop.stop
    if stopped is not None:
        notes.append(f"run stopped: {stopped.reason}")
        _keep_traceback(run_dir, stopped.error)
    history = ledger.close(complete=stopped is None, stopped=stopped.reason if stopped else None)
    return RunResult(scenario=scenario.name, seed=seed, backend=backend_name,
                     delivery=scenario.delivery, consumers=score_run(history),
                     complete=stopped is None, elapsed_s=history.elapsed_s, notes=notes,
                     ledger_path=str(ledger.path), abort=stopped.error if stopped else None,
                     stop=stopped, run_dir=str(run_dir), reproduce=reproduce,
                     time_scale=scenario.clock.time_scale)


def _unique_names(specs: list[ConsumerSpec]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for spec in specs:
        seen[spec.name] = seen.get(spec.name, 0) + 1
        names.append(spec.name if seen[spec.name] == 1 else f"{spec.name}#{seen[spec.name]}")
    return names


def _meta(scenario: Any, seed: int, backend: str, instances: int, specs: list[ConsumerSpec],
          names: list[str], run_id: str, reproduce: str) -> dict:
    return {
        "run_id": run_id, "scenario": scenario.name, "reproduce": reproduce,
        "scenario_path": str(scenario.path) if scenario.path else None,
        "seed": seed, "backend": backend, "delivery": scenario.delivery, "instances": instances,
        "time_scale": scenario.clock.time_scale, "expect": dict(scenario.expect or {}),
        # each consumer's interpreter, when it has its own: its rerun needs it
        "consumers": [{"name": n, "spec": s.raw, **({"python": s.python} if s.python else {})}
                      for n, s in zip(names, specs)],
    }


def _reproduce(scenario: Any, seed: int, options: RunOptions) -> str:
    """The command that reruns this scenario (``--consumer SPEC`` goes after it)."""
    where = scenario.path
    from simulator.scenario import SHIPPED_SCENARIOS

    shipped = where is not None and where.resolve().parent == SHIPPED_SCENARIOS.resolve()
    target = scenario.name if shipped or where is None else str(where)
    parts = ["genesys-sim", "run", target, "--seed", str(seed)]
    if options.instances:
        parts += ["--instances", str(options.instances)]
    if options.backend:
        parts += ["--backend", options.backend]
    return " ".join(parts)


def _keep_traceback(run_dir: Any, error: BaseException | None) -> None:
    """A bug of ours is told in one line; its traceback goes to the run's folder."""
    from simulator.errors import SimError
    from simulator.stopping import Terminated

    if error is None or isinstance(error, (KeyboardInterrupt, Terminated, SimError)):
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "error.txt").write_text("".join(traceback.format_exception(error)))
    except OSError:
        pass
