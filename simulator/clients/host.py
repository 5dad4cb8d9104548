"""Entry point of one consumer instance process: ``python -m simulator.clients.host``.

The supervisor starts it with the DESIGN.md environment (``AWS_ENDPOINT_URL``,
``AWS_REGION``, ``QUEUE_URL``, ``GENESYS_SIM_SINK_URL``, ``GENESYS_SIM_TIME_SCALE``...)
plus ``GENESYS_SIM_HOST`` (JSON: what to run and how). Each instance is its own
process so that in-memory state dies with a crash and races between instances are
real.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field

import orjson

from simulator.clients.api import ConsumerContext, install_context
from simulator.clients.faults import FaultInjector
from simulator.clients.lifeline import watch_stdin
from simulator.clients.receipts import ReceiptLog
from simulator.clients.spec import load_target
from simulator.model import CrashFault, SlowFault, SqsDuplicateFault, StallFault

ENV_HOST = "GENESYS_SIM_HOST"


@dataclass
class HostConfig:
    kind: str  # python | lambda-sqs | lambda-eb | wsgi
    target: str
    seed: int = 0
    batch_size: int = 10
    wait_time_s: int = 1
    queue_arn: str = ""
    listen_port: int = 0
    receipts_path: str | None = None
    t0: float = 0.0
    crash: dict | None = None
    slow: dict | None = None
    sqs_duplicate: dict | None = None  # the poll loop makes chosen messages visible again
    stall: dict | None = None  # the handler stalls after an effect (simulator/faults/stall.py)
    # Lambda's function timeout, real seconds (None: no limit), for lambda-sqs and
    # lambda-eb. A handler still running when it is up fails its invocation and
    # the host exits with faults.TIMEOUT_EXIT: Lambda throws the execution
    # environment away (lambda_runtime.py).
    function_timeout_s: float | None = None
    extra: dict = field(default_factory=dict)

    def to_env(self) -> str:
        return orjson.dumps(self.__dict__).decode()

    @classmethod
    def from_env(cls) -> "HostConfig":
        return cls(**orjson.loads(os.environ[ENV_HOST]))


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s[%(process)d] %(message)s")
    watch_stdin()  # the harness is gone (however it went): so are we
    cfg = HostConfig.from_env()
    ctx = ConsumerContext.from_env(dict(os.environ))
    faults = FaultInjector(
        crash=CrashFault(**cfg.crash) if cfg.crash else None,
        slow=SlowFault(**cfg.slow) if cfg.slow else None,
        sqs_duplicate=SqsDuplicateFault(**cfg.sqs_duplicate) if cfg.sqs_duplicate else None,
        stall=StallFault(**cfg.stall) if cfg.stall else None,
        time_scale=ctx.time_scale, seed=cfg.seed, instance=ctx.instance)
    ctx.after_effect = faults.after_effect
    install_context(ctx)
    receipts = ReceiptLog(cfg.receipts_path, consumer=ctx.name, instance=ctx.instance, t0=cfg.t0)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    target = load_target(cfg.target)
    if cfg.kind in ("python", "lambda-sqs"):
        from simulator.clients import poll

        loop = poll.PollLoop(ctx, faults=faults, receipts=receipts, batch_size=cfg.batch_size,
                             wait_time_s=cfg.wait_time_s, queue_arn=cfg.queue_arn,
                             function_timeout_s=cfg.function_timeout_s if cfg.kind == "lambda-sqs" else None)
        loop.stopping = stopping
        if cfg.kind == "python":
            consumer = target(ctx)
            try:
                loop.run(poll.class_dispatch(loop, consumer))
                if faults.before_exit is not None:
                    faults.before_exit()  # the deletes still on their way
            finally:
                close = getattr(consumer, "close", None)
                if callable(close):
                    close()
        else:
            loop.run(poll.lambda_sqs_dispatch(loop, target))
    elif cfg.kind in ("lambda-eb", "wsgi"):
        from simulator.clients import push

        if cfg.kind == "lambda-eb":  # faults inside each invocation (its own environment)
            app = push.lambda_eb_app(ctx, target, faults=faults, receipts=receipts,
                                     timeout_s=cfg.function_timeout_s)
        else:
            app = push.with_faults(target(ctx), faults=faults, receipts=receipts)
        push.serve(app, cfg.listen_port, stopping)
    else:
        print(f"genesys-sim host: kind {cfg.kind!r} is not hosted", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
