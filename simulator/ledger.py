"""The ledger: the history of one run, kept in memory for the checker and appended
to a JSON-lines file as it happens, so that a run killed half-way still leaves a
readable record (``load`` reads it back, marked incomplete unless the run closed it).

One line per record: ``{"r": "<kind>", ...fields}`` where kind is one of
``run`` (first: the run's description), ``logical``, ``sent``, ``refused``,
``receive``, ``effect``, ``attempt``, ``lifecycle``, ``dlq``, ``leftover``, ``end``.
The logical event's envelope is not repeated in the file (``event`` is omitted);
the generator can reproduce it from the scenario and seed.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import IO

import orjson

from simulator.model import (DlqEntry, Effect, History, Leftover, Lifecycle, LogicalEvent,
                             PushAttempt, Receive, Refused, Sent)

_KINDS: dict[str, type] = {
    "logical": LogicalEvent,
    "sent": Sent,
    "refused": Refused,
    "receive": Receive,
    "effect": Effect,
    "attempt": PushAttempt,
    "lifecycle": Lifecycle,
    "dlq": DlqEntry,
    "leftover": Leftover,
}
_FIELD_OF = {cls: kind for kind, cls in _KINDS.items()}
_LIST_OF = {
    LogicalEvent: "logical",
    Sent: "sent",
    Refused: "refused",
    Receive: "receives",
    Effect: "effects",
    PushAttempt: "attempts",
    Lifecycle: "lifecycle",
    DlqEntry: "dlq",
    Leftover: "leftovers",
}
# Fields written as JSON lists that the records keep as tuples.
_TUPLES = ("faults",)


FLUSH_EVERY_S = 0.5  # a run killed outright (SIGKILL) loses at most this much of its history


class Ledger:
    """Thread-safe, append-only. ``record`` takes any history record. Appends are
    buffered and flushed in the background every FLUSH_EVERY_S, so recording
    stays off the I/O path of whoever records."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.history = History(complete=False)
        self._lock = threading.Lock()
        # CLOCK_MONOTONIC is system-wide: consumer processes stamp receives against it too.
        self.t0 = time.monotonic()
        self._file: IO[bytes] | None = None
        self.path = Path(path) if path else None
        self._closed = threading.Event()
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab", buffering=1 << 16)
            threading.Thread(target=self._flush_often, name="ledger-flush", daemon=True).start()

    def _flush_often(self) -> None:
        while not self._closed.wait(FLUSH_EVERY_S):
            self.flush()

    def describe(self, meta: dict) -> None:
        """The run's own description, written before any record: what ``explain``
        and a later re-score need to know about the run (scenario, seed, consumers)."""
        with self._lock:
            self.history.meta = dict(meta)
            if self._file:
                self._file.write(orjson.dumps({"r": "run", **meta}) + b"\n")

    def now(self) -> float:
        """Real seconds since the ledger opened: the ``at`` of observed records."""
        return time.monotonic() - self.t0

    def record(self, rec: object) -> None:
        attr = _LIST_OF[type(rec)]
        with self._lock:
            getattr(self.history, attr).append(rec)
            if self._file:
                self._file.write(_encode(rec))

    def record_many(self, recs: list) -> None:
        with self._lock:
            for rec in recs:
                getattr(self.history, _LIST_OF[type(rec)]).append(rec)
                if self._file:
                    self._file.write(_encode(rec))

    def flush(self) -> None:
        with self._lock:
            if self._file:
                self._file.flush()

    def close(self, *, complete: bool = True, stopped: str | None = None) -> History:
        """Mark the history complete or not (``stopped`` says why it ended early)
        and close the file. Idempotent: a second close changes nothing."""
        self._closed.set()
        with self._lock:
            if self._file is None and self.history.elapsed_s:
                return self.history
            self.history.complete = complete
            self.history.stopped = stopped
            self.history.elapsed_s = self.now()
            if self._file:
                self._file.write(
                    orjson.dumps({"r": "end", "complete": complete, "elapsed_s": self.history.elapsed_s,
                                  "stopped": stopped})
                    + b"\n"
                )
                self._file.close()
                self._file = None
        return self.history


def _encode(rec: object) -> bytes:
    kind = type(rec)
    data = {"r": _FIELD_OF[kind]}
    for f in dataclasses.fields(rec):  # type: ignore[arg-type]
        if kind is LogicalEvent and f.name == "event":
            continue  # the envelope: the generator reproduces it from the seed
        data[f.name] = getattr(rec, f.name)
    return orjson.dumps(data) + b"\n"


def load(path: Path | str) -> History:
    """Read a ledger file back. A file without an ``end`` line (the run was killed)
    gives a history marked incomplete; a torn last line is ignored."""
    history = History(complete=False)
    with open(path, "rb") as fh:
        for line in fh:
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                break  # torn write at the moment the process died
            kind = data.pop("r")
            if kind == "run":
                history.meta = data
                continue
            if kind == "end":
                history.complete = bool(data.get("complete"))
                history.elapsed_s = float(data.get("elapsed_s", 0.0))
                history.stopped = data.get("stopped")
                continue
            cls = _KINDS.get(kind)
            if cls is None:
                continue  # a record kind of a newer version: skip, keep reading
            if cls is LogicalEvent:
                data["event"] = {}
            for name in _TUPLES:
                if name in data:
                    data[name] = tuple(data[name])
            getattr(history, _LIST_OF[cls]).append(cls(**data))
    if not history.complete and history.stopped is None:
        history.stopped = "the ledger ends without an end record (the run was killed)"
    return history
