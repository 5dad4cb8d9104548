"""The transport: puts a delivery plan on the wire.

Backends (``open_backend``: embedded moto, LocalStack, real AWS) give boto3
clients; ``create_topology`` builds the run's queues, bus and rule; injectors send
the plan on the scenario clock (``SqsInjector``, ``EventBridgeInjector``) or play
EventBridge's push targets with its retry policy (``EventBridgeTargetInvoker``);
``drain_queue`` reads the DLQ and leftovers at the end. Emulator fixes live in
``moto_patches`` and run only inside the embedded moto server.
"""
from simulator.transport.backend import Backend, open_backend
from simulator.transport.drain import drain_queue
from simulator.transport.eventbridge_injector import EventBridgeInjector
from simulator.transport.invoker import Backoff, EventBridgeTargetInvoker, RetryPolicy
from simulator.transport.paths import make_injector
from simulator.transport.records import (Attempt, DrainedMessage, InjectionStats, InvokerStats,
                                         Rejected, Undelivered)
from simulator.transport.sqs_injector import SqsInjector
from simulator.transport.topology import Topology, create_topology

__all__ = [
    "Attempt", "Backend", "Backoff", "DrainedMessage", "EventBridgeInjector",
    "EventBridgeTargetInvoker", "InjectionStats", "InvokerStats", "Rejected", "RetryPolicy",
    "SqsInjector", "Topology", "Undelivered", "create_topology", "drain_queue",
    "make_injector", "open_backend",
]
