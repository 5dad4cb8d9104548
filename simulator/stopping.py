"""The one failure policy of a run. Whatever ends a run early (Ctrl-C, SIGTERM from
a CI job's timeout, bad input met half-way, a backend that dies, a botocore error
escaping an injector, a drain that times out, a bug of ours) ends it the same
way: every consumer winds down, the ledger is closed, the report is written and
marked incomplete, and the exit status says what kind of stop it was (DESIGN.md:
2 bad input, 3 environment, 130 Ctrl-C). An incomplete run never passes.

``RunStop`` is the run's stop flag, set once with the first reason; ``classify``
turns an exception into that reason; ``stop_signals`` turns SIGTERM (and SIGINT)
into exceptions the runner catches in its main thread.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from botocore.exceptions import BotoCoreError, ClientError

from simulator.errors import EXIT_ENVIRONMENT, EnvironmentFailure, SimError

EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class Terminated(BaseException):
    """SIGTERM arrived (a CI job timeout, ``kill``): stop as Ctrl-C does."""


class DrainTimeout(EnvironmentFailure):
    """The consumer's queue did not drain within the scenario's ``timeout_s``."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Why a run ended early, and the exit status that says so."""

    reason: str
    exit_code: int
    error: BaseException | None = None


def classify(exc: BaseException) -> Stop:
    if isinstance(exc, KeyboardInterrupt):
        return Stop("interrupted (Ctrl-C)", EXIT_INTERRUPTED, exc)
    if isinstance(exc, Terminated):
        return Stop("terminated (SIGTERM)", EXIT_ENVIRONMENT, exc)
    if isinstance(exc, SimError):
        return Stop(str(exc) or type(exc).__name__, exc.exit_code, exc)
    if isinstance(exc, (ClientError, BotoCoreError, OSError)):
        return Stop(f"the backend failed: {type(exc).__name__}: {exc}", EXIT_ENVIRONMENT, exc)
    return Stop(f"internal error: {type(exc).__name__}: {exc}", EXIT_ENVIRONMENT, exc)


class RunStop:
    """Set once, by the first failure or signal; every part of the run polls it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self.stop: Stop | None = None

    def set(self, exc: BaseException) -> Stop:
        with self._lock:
            if self.stop is None:
                self.stop = classify(exc)
            self.event.set()
            return self.stop

    def is_set(self) -> bool:
        return self.event.is_set()


@contextmanager
def stop_signals() -> Iterator[None]:
    """In the main thread: SIGTERM raises ``Terminated`` and SIGINT
    ``KeyboardInterrupt``, once each; while the run winds down, repeats are ignored
    so the report still gets written. Elsewhere (a worker thread) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised: set[int] = set()

    def handler(signum: int, frame: object) -> None:
        if raised:
            return  # already stopping: let the wind-down finish
        raised.add(signum)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
