"""The nemesis: turns logical events into a delivery plan with production faults
(EventBridge copies, re-sends, outages, bursts, archive replays, reordering,
clock skew, poison) and the consumer-side faults the run applies (crashes,
slowness, SQS's own copies, a failing sink).

Each fault is one module with a parameter model and a pure
``apply(deliveries, rng, params, ctx)``; ``plan`` composes them."""
from simulator.faults.nemesis import consumer_faults, delivery_order, plan
from simulator.faults.spec import FAULT_ENTRY, FAULTS, Fault, FaultSpec
from simulator.faults.wire import Context

__all__ = ["plan", "consumer_faults", "delivery_order", "FaultSpec", "Fault", "FAULTS", "FAULT_ENTRY", "Context"]
