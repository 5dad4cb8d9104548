"""What several reference consumers need from their surroundings: a key
namespace, TTLs on the scenario clock, and Lambda handlers built once per process."""
from __future__ import annotations

import math
import threading
from typing import Any, Callable

from simulator.clients.api import ConsumerContext

Handler = Callable[[dict, Any], Any]


def namespace(ctx: ConsumerContext) -> str:
    """Prefix for every key a consumer writes to a shared store: all instances of
    one consumer share it, different consumers (and runs) do not — the harness
    gives each consumer run its own ``ctx.namespace``, so a rerun with the same
    seed (same ids) on a long-lived Redis or table never finds the last run's marks."""
    return f"genesys-sim:{ctx.namespace or '-'}:{ctx.name}:"


def ttl_ms(ctx: ConsumerContext, scenario_seconds: float) -> int:
    """A strategy's real-world TTL on the scenario clock, in whole milliseconds
    (Redis ``PX``): at a large time scale a 5-minute TTL is well under a second."""
    return max(1, math.ceil(ctx.ttl(scenario_seconds) * 1000))


def per_process(build: Callable[[ConsumerContext], Handler]) -> Handler:
    """A Lambda handler built on its first invocation from this process's context
    (``ConsumerContext.from_env()``), as a Lambda builds its clients at cold start."""
    built: list[Handler] = []
    lock = threading.Lock()

    def handler(event: dict, context: Any = None) -> Any:
        if not built:
            with lock:
                if not built:
                    built.append(build(ConsumerContext.from_env()))
        return built[0](event, context)

    return handler


class RedisConsumer:
    """Base of the SQS-poller consumers that keep their marks in Redis: the client,
    this run's key prefix and the strategy's TTL (``ttl_s``, real-world seconds,
    shrunk by the scenario clock)."""

    ttl_s: float = 24 * 3600

    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx
        self.redis = ctx.redis()
        self.prefix = namespace(ctx)
        self.ttl_ms = ttl_ms(ctx, self.ttl_s)

    def close(self) -> None:
        self.redis.close()
