"""The fault catalogue and ``FaultSpec``: a fault name with validated parameters.

A scenario's ``faults:`` list item is a mapping with exactly one key, the fault
name: ``- redeliver: {probability: 0.2}``. ``FAULT_ENTRY`` is that shape as a
pydantic type (a tagged union on the key), so the scenario loader and
``FaultSpec.from_mapping`` validate with the same rules and report the same paths.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Mapping, Union

from pydantic import ConfigDict, Discriminator, Tag, TypeAdapter, ValidationError, create_model

from simulator.errors import BadInput
from simulator.faults import (burst, clock_skew, consumer, outage, poison, redeliver, reorder, replay,
                              republish, stall)
from simulator.faults.explain import dotted, keys_at, plain_child, reason, walk
from simulator.faults.params import Params


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    params: type[Params]
    stage: int = 0  # delivery faults run in stage order (producer -> network)
    apply: Callable | None = None  # (deliveries, rng, params, ctx) -> deliveries
    consumer: Callable | None = None  # params -> CrashFault | SlowFault | SqsDuplicateFault | StallFault | SinkFault
    once: bool = False  # at most one per plan


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault("clock_skew", clock_skew.ClockSkewParams, clock_skew.STAGE, clock_skew.apply),
        Fault("republish", republish.RepublishParams, republish.STAGE, republish.apply),
        Fault("outage", outage.OutageParams, outage.STAGE, outage.apply),
        Fault("burst", burst.BurstParams, burst.STAGE, burst.apply),
        Fault("replay", replay.ReplayParams, replay.STAGE, replay.apply),
        Fault("redeliver", redeliver.RedeliverParams, redeliver.STAGE, redeliver.apply),
        Fault("reorder", reorder.ReorderParams, reorder.STAGE, reorder.apply),
        Fault("poison", poison.PoisonParams, poison.STAGE, poison.apply),
        Fault("crash", consumer.CrashParams, consumer=consumer.crash, once=True),
        Fault("slow", consumer.SlowParams, consumer=consumer.slow, once=True),
        Fault("sqs_duplicate", consumer.SqsDuplicateParams, consumer=consumer.sqs_duplicate, once=True),
        Fault("stall", stall.StallParams, consumer=stall.stall, once=True),
        Fault("sink_failure", consumer.SinkFailureParams, consumer=consumer.sink_failure),
    )
}


def _fault_name(value: Any) -> str | None:
    if isinstance(value, Mapping) and len(value) == 1:
        (name,) = value
        return name if name in FAULTS else None
    names = [n for n in FAULTS if hasattr(value, n)]  # an already-validated entry
    return names[0] if len(names) == 1 else None


FAULT_ENTRY = Annotated[
    Union[
        tuple(
            Annotated[
                create_model(
                    f"{name}_entry",
                    __config__=ConfigDict(extra="forbid", strict=True, frozen=True),
                    **{name: (fault.params, ...)},
                ),
                Tag(name),
            ]
            for name, fault in FAULTS.items()
        )
    ],
    Discriminator(_fault_name, custom_error_type="fault_shape", custom_error_message="not a fault"),
]
_ENTRY = TypeAdapter(FAULT_ENTRY)


def shape_problem(value: Any) -> str:
    """Why a ``faults:`` item is not ``{<fault name>: {...}}``."""
    known = ", ".join(FAULTS)
    if not isinstance(value, Mapping):
        return f"expected a mapping with one fault name ({known}), got {value!r}"
    if not value:
        return f"expected one fault name ({known}), got an empty mapping"
    if len(value) > 1:
        return f"expected one fault per list item, got {len(value)}: {', '.join(map(str, value))} (give each its own '- name: ...' item)"
    (name,) = value
    close = difflib.get_close_matches(str(name), list(FAULTS), n=1)
    return f"unknown fault '{name}'" + (f" (did you mean '{close[0]}'?)" if close else f" (known: {known})")


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault of a plan: ``FaultSpec("redeliver", RedeliverParams(probability=0.2))``."""

    name: str
    params: Params

    @property
    def fault(self) -> Fault:
        return FAULTS[self.name]

    @classmethod
    def from_entry(cls, entry: Any) -> FaultSpec:
        """From a validated ``FAULT_ENTRY`` model."""
        name = _fault_name(entry)
        return cls(name, getattr(entry, name))

    @classmethod
    def from_mapping(cls, raw: Any, *, where: str = "fault") -> FaultSpec:
        """From ``{"redeliver": {"probability": 0.2}}``; BadInput naming the field."""
        try:
            return cls.from_entry(_ENTRY.validate_python(raw))
        except ValidationError as exc:
            raise BadInput(describe(exc.errors()[0], raw, where)) from None

    def to_mapping(self) -> dict:
        return {self.name: self.params.model_dump(mode="json")}


def describe(error: dict, raw: Any, where: str) -> str:
    """``faults[2].redeliver.probability: expected ...`` for one error about ``raw``."""
    parts, nodes = walk(error["loc"], raw, plain_child)
    path = dotted([where, *parts]) if parts else where
    if error["type"] == "fault_shape":
        return f"{path}: {shape_problem(nodes[-1])}"
    return f"{path}: {reason(error, allowed=keys_at(FAULT_ENTRY, error['loc'][:-1]))}"


def combination_problems(specs: list[FaultSpec]) -> list[tuple[int, str]]:
    """(index, reason) for faults that cannot be combined: two crashes, two slows."""
    seen: dict[str, int] = {}
    problems = []
    for index, spec in enumerate(specs):
        if spec.fault.once and spec.name in seen:
            problems.append((index, f"only one '{spec.name}' fault is allowed (another at faults[{seen[spec.name]}])"))
        seen.setdefault(spec.name, index)
    return problems


def coerce(faults: list[Any]) -> list[FaultSpec]:
    specs = [
        f if isinstance(f, FaultSpec) else FaultSpec.from_mapping(f, where=f"faults[{i}]") for i, f in enumerate(faults)
    ]
    for index, reason in combination_problems(specs):
        raise BadInput(f"faults[{index}].{specs[index].name}: {reason}")
    return specs
