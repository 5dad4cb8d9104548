"""The JSON Schemas (draft 2020-12) of every topic's event, shipped in
``simulator/schemas/``: ``validator_for(detail_type)`` checks a whole EventBridge
event (envelope, detail, eventBody) of that topic."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from simulator.errors import BadInput
from simulator.events.topics import BY_PATTERN


@lru_cache(maxsize=1)
def _schemas() -> dict[str, dict]:
    folder = resources.files("simulator") / "schemas"
    return {entry.name: json.loads(entry.read_text(encoding="utf-8"))
            for entry in folder.iterdir() if entry.name.endswith(".json")}


@lru_cache(maxsize=1)
def _registry() -> Registry:
    # Every $ref resolves inside the package: nothing is fetched from the network.
    return Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in _schemas().values())


def schema_for(detail_type: str) -> dict:
    """The schema of the topic named by ``detail_type`` (a topic pattern)."""
    topic = BY_PATTERN.get(detail_type)
    if topic is None:
        raise BadInput(f"no schema for detail-type {detail_type!r}", where="detail-type")
    return _schemas()[topic.schema]


@lru_cache(maxsize=None)
def validator_for(detail_type: str) -> Draft202012Validator:
    schema = schema_for(detail_type)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


def errors(event: dict) -> list[ValidationError]:
    """Every way ``event`` breaks its topic's schema (picked by its ``detail-type``),
    in document order; empty when it validates."""
    validator = validator_for(event.get("detail-type", ""))
    return sorted(validator.iter_errors(event), key=lambda e: list(map(str, e.absolute_path)))
