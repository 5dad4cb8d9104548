"""The registry: every strategy module is listed, every spec runs as what its kind
promises, unknown names are bad input."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from flask import Flask

import consumers
from consumers import REFERENCES, get
from simulator.errors import EXIT_BAD_INPUT, BadInput
from test_consumers_kit import memory_context

SUPPORT_MODULES = {"fields", "support"}


def resolve(spec: str):
    kind, module, attr = spec.rsplit(":", 2) if spec.startswith("deno:") else spec.split(":")
    if kind == "deno":  # a TypeScript file and its export, checked under Deno below
        return kind, (Path(module.removeprefix("deno:")), attr)
    return kind, getattr(importlib.import_module(module), attr)


def test_names_are_unique_short_kebab_case():
    names = [ref.name for ref in REFERENCES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in names)


def test_every_strategy_module_is_registered():
    modules = {m.name for m in pkgutil.iter_modules(consumers.__path__)} - SUPPORT_MODULES
    registered = {ref.spec.split(":")[1].removeprefix("consumers.") for ref in REFERENCES
                  if not ref.spec.startswith("deno:")}
    assert modules == registered
    shipped = {p.name for p in (Path(consumers.__file__).parent / "deno").glob("*.ts")} - {"downstream.ts"}
    assert shipped == {resolve(ref.spec)[1][0].name for ref in REFERENCES if ref.spec.startswith("deno:")}


def test_every_verbatim_variant_has_an_adapted_twin_with_the_same_mechanism():
    by_name = {ref.name: ref for ref in REFERENCES}
    verbatim = [name for name in by_name if name.endswith("-verbatim")]
    assert verbatim
    for name in verbatim:
        twin = by_name[name.removesuffix("-verbatim")]
        kind, left = resolve(by_name[name].spec)
        _, right = resolve(twin.spec)
        assert left is not right and left.__module__ == right.__module__
        if kind == "python":  # the pair differs in the key function only
            assert left.__mro__[1] is right.__mro__[1] is not object
            assert left.__dict__.keys() - {"__doc__", "__module__", "__qualname__"} == {"key"}


@pytest.mark.parametrize("ref", REFERENCES, ids=lambda r: r.name)
def test_spec_resolves_to_what_its_kind_runs(ref):
    assert ref.strategy and ref.predicts and "\n" not in ref.predicts
    kind, target = resolve(ref.spec)
    if kind == "python":
        consumer = target(memory_context())  # Redis-backed ones get an in-process fakeredis
        assert callable(consumer.handle)
    elif kind in ("lambda-sqs", "lambda-eb"):
        inspect.signature(target).bind({"Records": []}, None)
    elif kind == "wsgi":
        assert isinstance(target(memory_context()), Flask)
    elif kind == "deno":
        from simulator.clients.deno import check_handler

        check_handler(*target)  # imports it under Deno: the export is a fetch handler
    else:
        pytest.fail(f"unexpected kind {kind}")


def test_get_returns_the_reference():
    assert get("correct").spec == "python:consumers.correct:CorrectConsumer"


def test_unknown_name_is_bad_input_listing_the_known_ones():
    with pytest.raises(BadInput) as info:
        get("redis-nx")
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert "ref:redis-nx" in str(info.value)
    assert all(ref.name in str(info.value) for ref in REFERENCES)


def test_ref_specs_parse_with_the_harness_parser():
    spec = pytest.importorskip("simulator.clients.spec")
    for ref in REFERENCES:
        parsed = spec.parse_spec(f"ref:{ref.name}")
        assert (parsed.kind, parsed.name) == (ref.spec.split(":")[0], ref.name)
