"""The downstream effect sink of one run (DESIGN.md "Effects").

Consumers report every business effect here; the sink answers like a downstream
API would (idempotent on ``idempotency_key``, sometimes failing or slow when the
scenario says so) and records every call in the ledger as an ``Effect``, applied
or not, so the checker sees each attempt.

``apply`` is plain Python and knows nothing of HTTP beyond the status it answers:
the Flask view is a thin wrapper and Python consumers can be wired to it directly.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any, Sequence

from simulator.clock import ScenarioClock
from simulator.ledger import Ledger
from simulator.model import Effect, SinkFault

_FIELDS = frozenset({"event", "correlation_id", "idempotency_key", "upsert", "consumer", "instance"})
_FAULT_STATUSES = frozenset({200, 429, 500})


@dataclass(frozen=True, slots=True)
class _Request:
    """A validated payload."""

    correlation_id: str | None
    envelope_id: str | None
    idempotency_key: str | None
    upsert: bool
    instance: int | None


class _Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class EffectSink:
    """Thread-safe: the app serves it from many threads at once."""

    def __init__(self, ledger: Ledger, *, clock: ScenarioClock | None = None,
                 faults: Sequence[SinkFault] = (), seed: int = 0, consumer: str | None = None) -> None:
        for i, fault in enumerate(faults):
            if not 0.0 <= fault.probability <= 1.0:
                raise ValueError(f"faults[{i}].probability must be within [0, 1]")
            if fault.status not in _FAULT_STATUSES:
                raise ValueError(f"faults[{i}].status must be one of 200, 429, 500")
            if fault.delay_s < 0:
                raise ValueError(f"faults[{i}].delay_s must be >= 0")
        self.ledger = ledger
        # The one consumer this sink serves (a run gives each consumer its own sink),
        # or None for a sink shared by several, named per call.
        self.consumer = consumer
        self.clock = clock
        self.faults = tuple(faults)
        self.seed = seed
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str | None], int] = {}  # effect calls per logical event
        self._applied_keys: set[tuple[str, str]] = set()
        self._counts = {"attempts": 0, "applied": 0, "duplicates": 0, "failed": 0, "rejected": 0}

    def apply(self, consumer: str, payload: Any, *, instance: int | None = None) -> tuple[int, dict]:
        """Apply one effect reported by ``consumer``; answer (HTTP status, JSON body).
        Exactly one Effect is recorded per call."""
        try:
            req = _validate(consumer, payload)
        except _Invalid as exc:
            self._record_rejected(consumer, payload, instance)
            return 400, {"error": str(exc), "field": exc.field}
        if instance is None:
            instance = req.instance

        fault = self._draw_fault(consumer, req.correlation_id)
        if fault is not None and fault.delay_s > 0:
            # Slow downstream: the consumer's call blocks, nothing else does.
            time.sleep(fault.delay_s / self._time_scale())
        failing = fault is not None and fault.status != 200

        with self._lock:
            self._counts["attempts"] += 1
            if failing:
                applied, status = False, fault.status
                self._counts["failed"] += 1
                body: dict = {"error": f"injected downstream failure (HTTP {status})", "applied": False}
            elif req.idempotency_key is not None and (consumer, req.idempotency_key) in self._applied_keys:
                applied, status = False, 200
                self._counts["duplicates"] += 1
                body = {"applied": False, "duplicate_key": True}
            else:
                if req.idempotency_key is not None:
                    self._applied_keys.add((consumer, req.idempotency_key))
                applied, status = True, 200
                self._counts["applied"] += 1
                body = {"applied": True}
            # Recorded under our lock so ledger order is the order keys were decided.
            self.ledger.record(Effect(
                consumer=consumer, at=self.ledger.now(), correlation_id=req.correlation_id,
                envelope_id=req.envelope_id, idempotency_key=req.idempotency_key,
                applied=applied, status=status, upsert=req.upsert, instance=instance,
            ))
        return status, body

    def counts(self) -> dict[str, int]:
        """attempts (every call), applied, duplicates (key applied before), failed
        (injected faults), rejected (invalid payloads, answered 400)."""
        with self._lock:
            return dict(self._counts)

    def _draw_fault(self, consumer: str, correlation_id: str | None) -> SinkFault | None:
        """The first fault that fires for this call, if any.

        The draws are a function of the seed, the logical event and how many
        calls this consumer's effect of it has had: a seed replays the same
        decisions for every event however its calls interleave with the others'
        (instances, retries and the machine's load reorder them), so a run's
        verdict does not hang on timing. The consumer's name is not in it (it may
        hold a file's path): every consumer meets the same downstream, on any
        machine. Every fault draws on every call, in or out of its window:
        windows only mask the draws."""
        if not self.faults:
            return None
        with self._lock:
            calls = self._calls[(consumer, correlation_id)] = self._calls.get((consumer, correlation_id), 0) + 1
        base = f"{self.seed}:{correlation_id}:{calls}:".encode("utf-8", "surrogatepass")
        draws = [_uniform(base + str(i).encode()) for i in range(len(self.faults))]
        now_s: float | None = None
        for fault, draw in zip(self.faults, draws):
            if draw >= fault.probability:
                continue
            if fault.window_s is not None:
                if now_s is None:
                    now_s = self.clock.now_s() if self.clock else self.ledger.now()
                start, end = fault.window_s
                if not start <= now_s < end:
                    continue
            return fault
        return None

    def _time_scale(self) -> float:
        return self.clock.time_scale if self.clock else 1.0

    def _record_rejected(self, consumer: str, payload: Any, instance: int | None) -> None:
        # Kept in the ledger like any other attempt: a consumer sending garbage
        # downstream is behaviour worth seeing, and nothing observed is dropped.
        correlation_id, envelope_id = _identity(payload) if isinstance(payload, dict) else (None, None)
        with self._lock:
            self._counts["attempts"] += 1
            self._counts["rejected"] += 1
            self.ledger.record(Effect(
                consumer=consumer, at=self.ledger.now(), correlation_id=correlation_id,
                envelope_id=envelope_id, idempotency_key=None, applied=False, status=400,
                instance=instance,
            ))


def _uniform(text: bytes) -> float:
    """A draw in [0, 1) fixed by ``text``."""
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2.0**64


def _validate(consumer: str, payload: Any) -> _Request:
    if not isinstance(payload, dict):
        raise _Invalid("body", f"effect must be a JSON object, got {_json_type(payload)}")
    for name in payload:
        if name not in _FIELDS:
            raise _Invalid(name, f"unknown field {name!r} (expected {', '.join(sorted(_FIELDS))})")
    event = payload.get("event")
    if event is not None and not isinstance(event, dict):
        raise _Invalid("event", f"'event' must be an object, got {_json_type(event)}")
    given_cid = payload.get("correlation_id")
    if given_cid is not None and not isinstance(given_cid, str):
        raise _Invalid("correlation_id", f"'correlation_id' must be a string, got {_json_type(given_cid)}")
    if event is None and given_cid is None:
        raise _Invalid("event", "effect needs 'event' (the EventBridge event) or 'correlation_id'")
    key = payload.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        raise _Invalid("idempotency_key", f"'idempotency_key' must be a string, got {_json_type(key)}")
    upsert = payload.get("upsert", False)
    if upsert is None:
        upsert = False
    if not isinstance(upsert, bool):
        raise _Invalid("upsert", f"'upsert' must be a boolean, got {_json_type(upsert)}")
    named = payload.get("consumer")
    if named is not None and named != consumer:
        raise _Invalid("consumer", f"'consumer' is {named!r} but this sink URL is for {consumer!r}")
    instance = payload.get("instance")
    if instance is not None and (not isinstance(instance, int) or isinstance(instance, bool)
                                 or not 0 <= instance < 2**31):
        raise _Invalid("instance", f"'instance' must be a non-negative integer, got {instance!r}")
    correlation_id, envelope_id = _identity(payload)
    return _Request(correlation_id, envelope_id, key, upsert, instance)


def _identity(payload: dict) -> tuple[str | None, str | None]:
    """(correlation id, envelope id). The event's own CorrelationId wins over a given
    one: it is what the consumer actually received."""
    event = payload.get("event")
    correlation_id = envelope_id = None
    if isinstance(event, dict):
        envelope_id = event.get("id") if isinstance(event.get("id"), str) else None
        detail = event.get("detail")
        metadata = detail.get("metadata") if isinstance(detail, dict) else None
        cid = metadata.get("CorrelationId") if isinstance(metadata, dict) else None
        correlation_id = cid if isinstance(cid, str) else None
    if correlation_id is None and isinstance(payload.get("correlation_id"), str):
        correlation_id = payload["correlation_id"]
    return correlation_id, envelope_id


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
