"""Which runs this app knows about, and how far each one is.

The runner (started by ``POST /runs`` or by the harness directly) opens a run here
with its effect sink and updates it as it goes; the views only read it."""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

from simulator.sink import EffectSink

STATUSES = ("starting", "running", "done", "failed")


@dataclass(slots=True)
class RunState:
    sink: EffectSink | None = None
    status: str = "starting"
    progress: dict = field(default_factory=dict)
    result: dict | None = None
    error: str | None = None


class RunRegistry:
    """Thread-safe map run_id -> RunState. ``get`` hands out copies, so a reader
    never sees a state half-way through an update."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunState] = {}

    def open(self, run_id: str, sink: EffectSink | None = None, *, status: str | None = None) -> RunState:
        """Register a run. Without a status, a run with an open sink is "running"
        (it accepts effects) and one without is "starting"."""
        if status is None:
            status = "running" if sink is not None else "starting"
        _check_status(status)
        state = RunState(sink=sink, status=status)
        with self._lock:
            if run_id in self._runs:
                raise KeyError(f"run {run_id!r} is already open")
            self._runs[run_id] = state
        return dataclasses.replace(state)

    def update(self, run_id: str, **fields: Any) -> RunState:
        unknown = set(fields) - {f.name for f in dataclasses.fields(RunState)}
        if unknown:
            raise TypeError(f"RunState has no field(s) {', '.join(sorted(unknown))}")
        if "status" in fields:
            _check_status(fields["status"])
        with self._lock:
            state = self._runs[run_id]
            for name, value in fields.items():
                setattr(state, name, value)
            return dataclasses.replace(state, progress=dict(state.progress))

    def get(self, run_id: str) -> RunState | None:
        with self._lock:
            state = self._runs.get(run_id)
            return None if state is None else dataclasses.replace(state, progress=dict(state.progress))

    def sink(self, run_id: str) -> EffectSink | None:
        """The run's sink, without copying the state: the per-effect fast path."""
        state = self._runs.get(run_id)  # a dict read is atomic; no lock needed
        return None if state is None else state.sink

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._runs)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
