"""Parameter types shared by the fault modules.

Every fault's parameters are a strict, frozen pydantic model: a YAML ``"0.5"`` is
not silently read as 0.5, and an unknown key is an error rather than a fault that
quietly does nothing.
"""
from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _bare_name_means_defaults(cls, value: Any) -> Any:
        # ``- reorder:`` in YAML gives None; read it as "all defaults".
        return {} if value is None else value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _probability(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise PydanticCustomError(
            "probability", "expected a number between 0 and 1, got {value}", {"value": f"{value:g}"}
        )
    return value


def _non_negative(value: float) -> float:
    if value < 0:
        raise PydanticCustomError("non_negative", "expected a number >= 0, got {value}", {"value": f"{value:g}"})
    return value


def _pair(value: Any, *, signed: bool) -> tuple[float, float]:
    """A number ``x`` (meaning exactly x) or a ``[min, max]`` pair."""
    what = "seconds" if signed else "seconds >= 0"
    if _number(value):
        pair = (float(value), float(value))
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_number, value)):
        pair = (float(value[0]), float(value[1]))
    else:
        raise PydanticCustomError(
            "range", "expected {what} as a number or [min, max], got {value}", {"what": what, "value": repr(value)}
        )
    if pair[0] > pair[1]:
        raise PydanticCustomError("range", "expected [min, max] with min <= max, got {value}", {"value": repr(value)})
    if not signed and pair[0] < 0:
        raise PydanticCustomError("range", "expected seconds >= 0, got {value}", {"value": repr(value)})
    return pair


def _window(value: Any) -> tuple[float, float]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_number, value))):
        raise PydanticCustomError("window", "expected [start, end] in seconds, got {value}", {"value": repr(value)})
    start, end = float(value[0]), float(value[1])
    if not 0 <= start < end:
        raise PydanticCustomError("window", "expected [start, end] with 0 <= start < end, got {value}", {"value": repr(value)})
    return start, end


Probability = Annotated[float, AfterValidator(_probability)]
Seconds = Annotated[float, AfterValidator(_non_negative)]
#: a delay: ``900`` or ``[400, 900]`` (uniform between), scenario seconds, >= 0
Delay = Annotated[tuple[float, float], BeforeValidator(lambda v: _pair(v, signed=False))]
#: like Delay but may be negative (clock offsets)
SignedRange = Annotated[tuple[float, float], BeforeValidator(lambda v: _pair(v, signed=True))]
#: ``[start, end)`` in scenario seconds
Window = Annotated[tuple[float, float], BeforeValidator(_window)]
