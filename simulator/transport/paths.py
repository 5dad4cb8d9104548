"""Choosing the delivery path for a scenario's ``delivery`` setting."""
from __future__ import annotations

import inspect
from typing import Any

from simulator.errors import BadInput
from simulator.transport.backend import Backend
from simulator.transport.eventbridge_injector import EventBridgeInjector
from simulator.transport.invoker import EventBridgeTargetInvoker
from simulator.transport.protocol import Injector
from simulator.transport.sqs_injector import SqsInjector
from simulator.transport.topology import DELIVERIES, Topology


def make_injector(backend: Backend, topology: Topology, path: str, **options: Any) -> Injector:
    """``path``: sqs | eventbridge | push (lambda and http mean push). ``options`` go
    to the injector's constructor (``consumer``, ``targets`` and ``retry`` for push,
    ``max_entry_bytes`` for eventbridge, ...); options the chosen injector does not
    take are left out, so a caller can pass a scenario's settings for every path."""
    shape = DELIVERIES.get(path)
    if shape is None:
        raise BadInput(f"unknown delivery {path!r}; choose one of {', '.join(DELIVERIES)}",
                       where="delivery")
    if shape != topology.delivery:
        raise BadInput(f"delivery {path!r} does not fit the run's {topology.delivery} topology",
                       where="delivery")
    if shape == "sqs":
        return SqsInjector(backend, topology, **_taken(SqsInjector, options))
    if shape == "eventbridge":
        return EventBridgeInjector(backend, topology, **_taken(EventBridgeInjector, options))
    targets = options.pop("targets", None) or []
    return EventBridgeTargetInvoker(backend, topology, targets,
                                    **_taken(EventBridgeTargetInvoker, options))


def _taken(cls: type, options: dict[str, Any]) -> dict[str, Any]:
    accepted = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in options.items() if k in accepted}
