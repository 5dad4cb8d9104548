"""The options of a run, checked in one place for every front door (the command
line, the pytest plugin, the app's ``POST /runs``): each caller says how its user
spells an option, so the error names it as the user wrote it (``--instances``,
``genesys_run(instances=...)``, ``seed``)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable

from simulator.errors import BadInput

BACKENDS = ("moto", "localstack", "aws")
MAX_INSTANCES = 64  # as a scenario's consumers.instances
MAX_PARALLEL = 64
_INT64 = (-(2**63), 2**63 - 1)


def as_given(name: str) -> str:
    return name


def cli_flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What a run may override of its scenario. None keeps the scenario's value."""

    seed: int | None = None
    instances: int | None = None
    backend: str | None = None
    # Consumers of one scenario run side by side (each on its own queue) up to this
    # many at a time; 1 runs them one after another.
    parallel: int = 1

    def __post_init__(self) -> None:
        _check(self.seed, self.instances, self.backend, self.parallel, as_given)

    @classmethod
    def checked(cls, spelled: Callable[[str], str] = as_given, *,
                backends: tuple[str, ...] = BACKENDS, **values: Any) -> "RunOptions":
        """Options from a caller's raw values (None: not given); BadInput naming
        the option as ``spelled(name)`` when one is wrong, unknown names included.
        ``backends``: the ones this front door offers (the pytest plugin has no
        ``--allow-aws``, so no ``aws``)."""
        known = [f.name for f in fields(cls)]
        for name in values:
            if name not in known:
                raise BadInput(f"unknown run option (expected {', '.join(known)})", where=spelled(name))
        given = {k: v for k, v in values.items() if v is not None}
        draft = {f.name: given.get(f.name, f.default) for f in fields(cls)}
        _check(draft["seed"], draft["instances"], draft["backend"], draft["parallel"], spelled, backends)
        return cls(**given)


def _check(seed: Any, instances: Any, backend: Any, parallel: Any, spelled: Callable[[str], str],
           backends: tuple[str, ...] = BACKENDS) -> None:
    _integer("seed", seed, *_INT64, spelled, optional=True)
    _integer("instances", instances, 1, MAX_INSTANCES, spelled, optional=True)
    _integer("parallel", parallel, 1, MAX_PARALLEL, spelled, optional=False)
    if backend is not None and backend not in backends:
        raise BadInput(f"unknown backend {backend!r}; choose one of {', '.join(backends)}",
                       where=spelled("backend"))


def _integer(name: str, value: Any, low: int, high: int, spelled: Callable[[str], str], *,
             optional: bool) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"expected a whole number, got {value!r}", where=spelled(name))
    if not low <= value <= high:
        bounds = f">= {low}" if high >= _INT64[1] else f"between {low} and {high}"
        raise BadInput(f"expected a number {bounds}, got {value}", where=spelled(name))
