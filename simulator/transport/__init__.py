"""The transport: puts a delivery plan on the wire.

Backends (``open_backend``: embedded moto, LocalStack, real AWS) give boto3
clients; ``create_topology`` builds the run's queues, bus and rule; injectors send
the plan on the scenario clock (``SqsInjector``, ``EventBridgeInjector``) or play
EventBridge's push targets (``EventBridgeTargetInvoker``) with the target's policy
(``ApiDestination``: EventBridge's retry policy; ``LambdaAsync``: Lambda's
asynchronous invocation); every one of them is an ``Injector`` reporting to a
``DeliveryListener``; ``collect_ends`` reads the queue and then the DLQ at the end
of a run. Emulator fixes live in ``moto_patches`` and run only inside the embedded
moto server.
"""
from simulator.transport.backend import Backend, open_backend
from simulator.transport.collect import QueueEnds, collect_ends, pending_messages, wait_until_drained
from simulator.transport.drain import drain_queue
from simulator.transport.eventbridge_injector import EventBridgeInjector
from simulator.transport.invoker import EventBridgeTargetInvoker
from simulator.transport.paths import make_injector
from simulator.transport.protocol import DeliveryListener, DeliveryLog, Injector, Listener
from simulator.transport.records import (Attempt, DrainedMessage, InjectionStats, InvokerStats,
                                         Rejected, Undelivered)
from simulator.transport.sqs_injector import SqsInjector
from simulator.transport.targets import ApiDestination, Backoff, LambdaAsync, RetryPolicy, TargetPolicy
from simulator.transport.topology import Topology, create_topology

__all__ = [
    "ApiDestination", "Attempt", "Backend", "Backoff", "DeliveryListener", "DeliveryLog",
    "DrainedMessage", "EventBridgeInjector", "EventBridgeTargetInvoker", "InjectionStats",
    "Injector", "InvokerStats", "LambdaAsync", "Listener", "QueueEnds", "Rejected", "RetryPolicy",
    "SqsInjector", "TargetPolicy", "Topology", "Undelivered", "collect_ends", "create_topology",
    "drain_queue", "make_injector", "open_backend", "pending_messages", "wait_until_drained",
]
