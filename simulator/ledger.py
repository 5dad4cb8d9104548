"""The ledger: the history of one run, kept in memory for the checker and appended
to a JSON-lines file as it happens, so that a run killed half-way still leaves a
readable record (``load`` reads it back, marked incomplete unless the run closed it).

One line per record: ``{"r": "<kind>", ...fields}`` where kind is one of
``logical``, ``sent``, ``receive``, ``effect``, ``dlq``, ``leftover``, ``end``.
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

from simulator.model import DlqEntry, Effect, History, Leftover, LogicalEvent, Receive, Sent

_KINDS: dict[str, type] = {
    "logical": LogicalEvent,
    "sent": Sent,
    "receive": Receive,
    "effect": Effect,
    "dlq": DlqEntry,
    "leftover": Leftover,
}
_FIELD_OF = {cls: kind for kind, cls in _KINDS.items()}
_LIST_OF = {
    LogicalEvent: "logical",
    Sent: "sent",
    Receive: "receives",
    Effect: "effects",
    DlqEntry: "dlq",
    Leftover: "leftovers",
}


class Ledger:
    """Thread-safe, append-only. ``record`` takes any history record."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.history = History(complete=False)
        self._lock = threading.Lock()
        # CLOCK_MONOTONIC is system-wide: consumer processes stamp receives against it too.
        self.t0 = time.monotonic()
        self._file: IO[bytes] | None = None
        self.path = Path(path) if path else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab", buffering=1 << 16)

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

    def close(self, *, complete: bool = True) -> History:
        with self._lock:
            self.history.complete = complete
            self.history.elapsed_s = self.now()
            if self._file:
                self._file.write(
                    orjson.dumps({"r": "end", "complete": complete, "elapsed_s": self.history.elapsed_s})
                    + b"\n"
                )
                self._file.close()
                self._file = None
        return self.history


def _encode(rec: object) -> bytes:
    data = {"r": _FIELD_OF[type(rec)]}
    for f in dataclasses.fields(rec):  # type: ignore[arg-type]
        if f.name == "event":
            continue
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
            if kind == "end":
                history.complete = bool(data.get("complete"))
                history.elapsed_s = float(data.get("elapsed_s", 0.0))
                continue
            cls = _KINDS[kind]
            if cls is LogicalEvent:
                data["event"] = {}
            if cls is DlqEntry:
                data.setdefault("attributes", {})
            getattr(history, _LIST_OF[cls]).append(cls(**data))
    return history
