"""Turn a pydantic validation error into what a scenario author needs: the field
path as they wrote it (``faults[2].redeliver.probability``), the node it points at
(for the line number), and one sentence ("expected a number between 0 and 1, got
1.5"). Used for fault specs and whole scenario files alike."""
from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Callable, Union, get_args, get_origin

from pydantic import BaseModel, Tag

_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "tuple_type": "a list",
}
ABSENT = object()  # ``walk``: no such key or index in the input
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _shown(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return repr(value) if isinstance(value, str) else str(value)


def reason(error: dict, *, allowed: list[str] | None = None) -> str:
    """The "expected ..., got ..." sentence for one pydantic error. ``allowed`` is
    the keys valid where an unknown key was found (to suggest the intended one)."""
    kind, ctx, got = error["type"], error.get("ctx") or {}, error.get("input")
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {_shown(got)}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"expected a number {_BOUNDS[kind]} {bound}, got {_shown(got)}"
    if kind == "finite_number":
        return f"expected a finite number, got {_shown(got)}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {_shown(got)}"
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1]) if error.get("loc") else "?"
        if not allowed:
            return f"unknown key '{key}'"
        close = difflib.get_close_matches(key, allowed, n=1)
        return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})")
    if kind == "string_pattern_mismatch":
        return f"expected a string matching {ctx.get('pattern')}, got {_shown(got)}"
    if kind in ("string_too_short", "string_too_long"):
        limit = ctx.get("min_length", ctx.get("max_length"))
        return f"expected {'at least' if kind == 'string_too_short' else 'at most'} {limit} characters, got {_shown(got)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {_shown(got)}"
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} item(s), got {_shown(got)}"
    return error["msg"].removeprefix("Value error, ")


def walk(loc: tuple, root: Any, child: Callable[[Any, Any], Any]) -> tuple[list, list]:
    """Follow ``loc`` through the input as written, via ``child(node, part)``
    (``ABSENT`` when there is no such key or index). Returns the path parts as the user wrote them and the nodes
    visited (root first). Parts not present in the input are pydantic's union tags
    and are dropped, except a last one: a missing or unknown key, worth naming."""
    parts, nodes = [], [root]
    for i, part in enumerate(loc):
        found = child(nodes[-1], part)
        if found is not ABSENT:
            parts.append(part)
            nodes.append(found)
        elif i == len(loc) - 1:
            parts.append(part)
    return parts, nodes


def dotted(parts: list) -> str:
    """``["faults", 2, "redeliver", "probability"]`` -> ``faults[2].redeliver.probability``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _unwrap(tp: Any) -> Any:
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, types.UnionType):
            rest = [a for a in get_args(tp) if a is not type(None)]
            if len(rest) != 1:
                return tp
            tp = rest[0]
        else:
            return tp


def _step(tp: Any, part: Any) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = _fields_as_written(tp).get(part)
        return field.annotation if field else None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):  # a tagged union: pick the member by tag
        for member in get_args(tp):
            if get_origin(member) is Annotated and any(
                isinstance(m, Tag) and m.tag == part for m in get_args(member)[1:]
            ):
                return get_args(member)[0]
        return None
    if origin in (list, tuple) and isinstance(part, int):
        return get_args(tp)[0]
    if origin is dict:
        return get_args(tp)[1]
    return None


def keys_at(root_type: Any, loc: tuple) -> list[str] | None:
    """The keys a model at ``loc`` (pydantic's loc, tags included) accepts."""
    tp = root_type
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return None
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(_fields_as_written(tp))
    return None


def _fields_as_written(model: type[BaseModel]) -> dict:
    """A model's fields by the key a file uses for them (the alias, when the
    Python name could not be the key: ``lambda``)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def plain_child(node: Any, part: Any) -> Any:
    """``walk`` over plain Python data (dicts and lists)."""
    if isinstance(node, dict):
        return node.get(part, ABSENT)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return ABSENT
