"""What a consumer instance was handed, written as it happens (one JSON line per
receive) so the ledger can include receives even from an instance that crashed.
The harness merges the files into the ledger at the end of the run."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

import orjson

from simulator.model import Receive
from simulator.wire import envelope_ids


class ReceiptLog:
    def __init__(self, path: str | Path | None, *, consumer: str, instance: int, t0: float) -> None:
        self.consumer = consumer
        self.instance = instance
        self.t0 = t0  # the ledger's monotonic origin: CLOCK_MONOTONIC is system-wide
        self._fh = open(path, "ab", buffering=0) if path else None

    def received(self, items: Iterable[tuple]) -> None:
        """items: (message id, body, receive count[, faults applied to the receive])."""
        if not self._fh:
            return
        at = time.monotonic() - self.t0
        lines = []
        for message_id, body, count, *faults in items:
            envelope_id, correlation_id = envelope_ids(body)
            rec = Receive(consumer=self.consumer, instance=self.instance, at=at,
                          message_id=message_id, envelope_id=envelope_id,
                          correlation_id=correlation_id, receive_count=count,
                          faults=tuple(faults[0]) if faults else ())
            lines.append(orjson.dumps(rec))
        self._fh.write(b"\n".join(lines) + b"\n")


def read_receipts(paths: Iterable[Path]) -> list[Receive]:
    out: list[Receive] = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_bytes().splitlines():
            try:
                fields = orjson.loads(line)
                fields["faults"] = tuple(fields.get("faults", ()))
                out.append(Receive(**fields))
            except Exception:
                break  # torn last line of a crashed instance
    return out
