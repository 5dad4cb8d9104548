"""What every fault needs from the wire: the context of the run, envelope text in
and out, Genesys' time formats, and deterministic randomness."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Context:
    """Facts about the run that some faults need and none may change."""

    fifo: bool = False  # deliveries need a MessageGroupId
    max_entry_bytes: int = 262144  # the PutEvents per-entry limit (oversize poison exceeds it)
    start_ms: int = 0  # the simulated world's epoch ms at scenario second 0 (reading envelope times)


def fault_rng(seed: int, index: int, name: str) -> random.Random:
    """One independent stream per fault in the list, so adding a fault does not
    change what the others decide. (A str seed is hashed with SHA-512, stable
    across processes, unlike ``hash()``.)"""
    return random.Random(f"genesys-sim/{seed}/{index}/{name}")


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def draw(rng: random.Random, span: tuple[float, float]) -> float:
    low, high = span
    return low if low == high else rng.uniform(low, high)


def load(body: str) -> dict:
    return orjson.loads(body)


def dump(envelope: dict) -> str:
    """Compact JSON, keys in the order the producer wrote them."""
    return orjson.dumps(envelope).decode()


def parse_iso_ms(text: str) -> int:
    """``2025-12-12T15:01:53.761Z`` -> epoch milliseconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MS


def iso_ms(epoch_ms: int) -> str:
    """``detail.timestamp`` style: milliseconds and ``Z``."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{epoch_ms % 1000:03d}Z"


def iso_s(epoch_ms: int) -> str:
    """Envelope ``time`` style: truncated to the second, ``Z``."""
    return datetime.fromtimestamp(epoch_ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
