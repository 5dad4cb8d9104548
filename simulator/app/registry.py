"""Which runs this app knows about, how far each one is, and the effect sinks of
the runs still going.

The runner (started by ``POST /runs`` or by the harness directly) opens a run here,
with its effect sink or without one while it starts, updates it as it goes and
closes it when it ends. Closing drops the sink, and with it the run's ledger and
history, and keeps a small summary (status, counts, report path) for ``GET
/runs/<id>``; only the last ``keep_closed`` summaries are kept, so a long-lived
server or a long matrix holds no more than that whatever it has run.

Each run's sink is reached under its own unguessable path
(``sink_path``): knowing a run id is not enough to post effects into it."""
from __future__ import annotations

import dataclasses
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from simulator.sink import EffectSink

STATUSES = ("starting", "running", "done", "failed")
FINISHED = ("done", "failed")
KEEP_CLOSED = 1000
_TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters


@dataclass(slots=True)
class RunState:
    sink: EffectSink | None = None
    status: str = "starting"
    progress: dict = field(default_factory=dict)
    result: dict | None = None
    error: str | None = None
    counts: dict | None = None  # the sink's counts as they were when the run closed
    report_path: str | None = None
    closed: bool = False
    sink_token: str = field(default="", repr=False)


class RunRegistry:
    """Thread-safe map run_id -> RunState. ``get`` hands out copies, so a reader
    never sees a state half-way through an update."""

    def __init__(self, *, keep_closed: int = KEEP_CLOSED) -> None:
        if keep_closed < 0:
            raise ValueError("keep_closed must be >= 0")
        self.keep_closed = keep_closed
        self._lock = threading.Lock()
        self._runs: dict[str, RunState] = {}
        self._by_token: dict[str, str] = {}  # sink token -> run id, open runs only
        self._closed: OrderedDict[str, None] = OrderedDict()  # oldest first

    def open(self, run_id: str, sink: EffectSink | None = None, *, status: str | None = None) -> RunState:
        """Register a run. Without a status, a run with an open sink is "running"
        (it accepts effects) and one without is "starting"."""
        if status is None:
            status = "running" if sink is not None else "starting"
        _check_status(status)
        state = RunState(sink=sink, status=status, sink_token=secrets.token_urlsafe(_TOKEN_BYTES))
        with self._lock:
            if run_id in self._runs:
                raise KeyError(f"run {run_id!r} is already open")
            self._runs[run_id] = state
            self._by_token[state.sink_token] = run_id
        return _copy(state)

    def update(self, run_id: str, **fields: Any) -> RunState:
        _check_fields(fields)
        with self._lock:
            state = self._runs[run_id]
            if state.closed:
                raise KeyError(f"run {run_id!r} is closed")
            for name, value in fields.items():
                setattr(state, name, value)
            return _copy(state)

    def close(self, run_id: str, **fields: Any) -> RunState | None:
        """End a run: set ``fields`` (status, result, error, report_path...), keep
        the sink's counts, drop the sink. A run still starting or running is
        "done" unless ``status`` says otherwise. Closing twice changes nothing;
        an unknown run (or one already forgotten) is None."""
        _check_fields(fields)
        with self._lock:
            state = self._runs.get(run_id)
            if state is None or state.closed:
                return None if state is None else _copy(state)
            sink = state.sink
            for name, value in fields.items():
                setattr(state, name, value)
            if state.status not in FINISHED:
                state.status = "done"
            if sink is not None:
                state.counts = sink_counts(sink)
                if state.report_path is None and sink.ledger.path is not None:
                    state.report_path = str(sink.ledger.path)
            state.sink = None
            state.closed = True
            self._by_token.pop(state.sink_token, None)
            self._closed[run_id] = None
            while len(self._closed) > self.keep_closed:
                forgotten, _ = self._closed.popitem(last=False)
                self._runs.pop(forgotten, None)
            return _copy(state)

    def get(self, run_id: str) -> RunState | None:
        with self._lock:
            state = self._runs.get(run_id)
            return None if state is None else _copy(state)

    def sink(self, run_id: str, token: str) -> tuple[bool, EffectSink | None]:
        """(whether ``token`` is this open run's sink token, its sink if it has one
        yet): the per-effect fast path. An unknown run, a closed one and a wrong
        token are one answer, so a caller learns nothing of which runs exist."""
        owner = self._by_token.get(token)  # dict reads are atomic; no lock needed
        if owner != run_id:
            return False, None
        state = self._runs.get(run_id)
        return (True, state.sink) if state is not None and not state.closed else (False, None)

    def sink_path(self, run_id: str, consumer: str) -> str:
        """Where ``consumer`` reports this run's effects (``POST <path>/effects``).
        The consumer name is percent-encoded whole: "#" and "?" would cut the URL."""
        with self._lock:
            token = self._runs[run_id].sink_token
        return f"/runs/{quote(run_id, safe='')}/sink/{token}/consumers/{quote(consumer, safe='')}"

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._runs)


def sink_counts(sink: EffectSink) -> dict:
    """What a run has seen so far: ledger sizes and the sink's effect counts."""
    history = sink.ledger.history
    # len() of a list another thread appends to is safe; the counts are a snapshot.
    return {"logical": len(history.logical), "sent": len(history.sent),
            "receives": len(history.receives), "effects": sink.counts(), "dlq": len(history.dlq)}


_FIELDS = frozenset(f.name for f in dataclasses.fields(RunState)) - {"closed", "sink_token", "counts"}


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - _FIELDS
    if unknown:
        raise TypeError(f"RunState has no settable field(s) {', '.join(sorted(unknown))}")
    if "status" in fields:
        _check_status(fields["status"])


def _copy(state: RunState) -> RunState:
    return dataclasses.replace(state, progress=dict(state.progress))


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
