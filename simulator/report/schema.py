"""JSON Schema of ``--report json``: the contract CI jobs and dashboards read
(DESIGN.md "Machine-readable results"). Extra fields are allowed; these are not
optional."""
from __future__ import annotations

_COUNT = {"type": "integer", "minimum": 0}
_MS = {"type": ["number", "null"]}

_STEP = {
    "type": "object",
    "required": ["at", "what"],
    "properties": {
        "at": {"type": "number"},
        "what": {"enum": ["sent", "refused", "receive", "effect", "attempt", "start", "crash",
                          "exit", "timeout", "stop", "dlq", "leftover"]},
        "instance": {"type": ["integer", "null"]},
    },
}

ANOMALY_SCHEMA: dict = {
    "type": "object",
    "required": ["id", "kind", "event", "faults", "why", "history", "reproduce"],
    "properties": {
        "id": {"type": "string"},
        "kind": {"enum": ["missed", "duplicated", "dlq", "unexpected", "poison_dropped", "stale"]},
        "event": {"type": ["object", "null"],
                  "required": ["correlation_id", "topic", "entity", "seq", "state"]},
        "faults": {"type": "array", "items": {"type": "string"}},
        "why": {"type": "string", "minLength": 1},
        "history": {"type": "array", "items": _STEP},
        "reproduce": {"type": ["string", "null"]},
    },
}

CONSUMER_SCHEMA: dict = {
    "type": "object",
    "required": [
        "name", "logical_events", "effects", "missed", "duplicated", "extra_effects",
        "unexpected", "dlq", "poison_dropped", "stale_entities", "latency_ms",
        "throughput_eps", "verdict", "failures",
    ],
    "properties": {
        "name": {"type": "string"},
        "logical_events": _COUNT,
        "effects": _COUNT,
        "missed": _COUNT,
        "duplicated": _COUNT,
        "extra_effects": _COUNT,
        "unexpected": _COUNT,
        "dlq": _COUNT,
        "poison_dropped": _COUNT,
        "stale_entities": {"type": ["integer", "null"], "minimum": 0},
        "latency_ms": {
            "type": "object",
            "required": ["p50", "p95", "p99"],
            "properties": {"p50": _MS, "p95": _MS, "p99": _MS},
        },
        "throughput_eps": {"type": "number", "minimum": 0},
        "verdict": {"enum": ["pass", "fail"]},
        "failures": {"type": "array", "items": {"type": "string"}},
        "effect_attempts": _COUNT,
        "failed_effects": _COUNT,
        "left_on_queue": _COUNT,
        "refused": _COUNT,
        "filtered": _COUNT,
        "unsent": _COUNT,
        "complete": {"type": "boolean"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "anomalies": {"type": "array", "items": ANOMALY_SCHEMA},
        "anomalies_omitted": {"type": "object", "additionalProperties": _COUNT},
    },
}

RUN_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "genesys-sim run result",
    "type": "object",
    "required": ["scenario", "seed", "backend", "delivery", "complete", "elapsed_s",
                 "verdict", "consumers"],
    "properties": {
        "scenario": {"type": "string"},
        "seed": {"type": "integer"},
        "backend": {"type": "string"},
        "delivery": {"type": "string"},
        "complete": {"type": "boolean"},
        "stopped": {"type": ["string", "null"]},
        "exit_code": {"type": "integer"},
        "elapsed_s": {"type": "number", "minimum": 0},
        "verdict": {"enum": ["pass", "fail"]},
        "notes": {"type": "array", "items": {"type": "string"}},
        "run_dir": {"type": ["string", "null"]},
        "reproduce": {"type": ["string", "null"]},
        "consumers": {"type": "array", "items": CONSUMER_SCHEMA},
    },
}

MATRIX_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "genesys-sim matrix result",
    "type": "object",
    "required": ["verdict", "complete", "runs"],
    "properties": {
        "verdict": {"enum": ["pass", "fail"]},
        "complete": {"type": "boolean"},
        "runs": {"type": "array", "items": {k: v for k, v in RUN_SCHEMA.items() if k != "$schema"}},
    },
}
