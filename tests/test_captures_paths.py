"""Every key path of every real capture is generated for its topic, with the same JSON
type: a consumer written against a capture finds in the fixtures every field it
reads, of the type it expects. (Values are the schemas' business, in test_schemas.)"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from simulator.events import events_of

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "genesys-captures"
# Maps whose keys are data, not fields: conversation attributes, an audit's context.
FREE_FORM = {"attributes", "context"}
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null",
              dict: "object", list: "array"}


def typed_paths(node, path: str = "") -> set[tuple[str, str]]:
    """(path, JSON type) of every node; list items as ``[]``, free-form keys as ``*``."""
    out = {(path or "/", JSON_TYPES[type(node)])}
    if isinstance(node, dict):
        free = path.rsplit("/", 1)[-1] in FREE_FORM
        for key, value in node.items():
            out |= typed_paths(value, f"{path}/{'*' if free else key}")
    elif isinstance(node, list):
        for value in node:
            out |= typed_paths(value, f"{path}/[]")
    return out


def captures() -> list[Path]:
    assert CAPTURES.is_dir(), f"the Genesys captures are missing: {CAPTURES}"
    return sorted(CAPTURES.glob("*.json"))


@lru_cache(maxsize=None)
def generated(topic: str) -> dict[str, set[str]]:
    """path -> the JSON types it takes, over enough default-traffic events of ``topic``
    for the rarer shapes (a known contact's external organisation, an OAuth client's
    audit) to turn up."""
    types: dict[str, set[str]] = {}
    for event in events_of(topic, 1500, seed=1):
        for path, kind in typed_paths(event.event):
            types.setdefault(path, set()).add(kind)
    return types


def test_the_paths_of_a_capture_are_read_as_a_consumer_reads_them():
    event = {"detail": {"eventBody": {"attributes": {"ANI": "1"}, "transcripts": [{"isFinal": True}]}}}
    assert typed_paths(event) == {
        ("/", "object"), ("/detail", "object"), ("/detail/eventBody", "object"),
        ("/detail/eventBody/attributes", "object"), ("/detail/eventBody/attributes/*", "string"),
        ("/detail/eventBody/transcripts", "array"), ("/detail/eventBody/transcripts/[]", "object"),
        ("/detail/eventBody/transcripts/[]/isFinal", "boolean")}


@pytest.mark.parametrize("path", captures(), ids=lambda p: p.name)
def test_every_key_path_of_the_capture_is_generated_with_its_type(path):
    capture = json.loads(path.read_text())
    ours = generated(capture["detail-type"])
    missing = sorted(p for p, _ in typed_paths(capture) if p not in ours)
    assert not missing, f"{path.name}: never generated: {missing}"
    mistyped = sorted((p, kind, sorted(ours[p])) for p, kind in typed_paths(capture) if ours[p] != {kind})
    assert not mistyped, f"{path.name}: (path, captured type, generated types): {mistyped}"
