"""Entry point of one ``deno:`` instance: ``python -m simulator.clients.deno.launch``.

It reads the host configuration (``GENESYS_SIM_HOST``) the supervisor set, works
out the instance's permissions (the run's folder, the loopback hosts it talks
to) and the offset that puts Deno on the ledger's monotonic clock, and then
*becomes* Deno (``exec``): same process, same process group, same stdin (the
lifeline), so the supervisor sees and signals Deno itself.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from simulator.clients.api import ENV_ENDPOINT, ENV_SINK
from simulator.clients.deno import HOST_SCRIPT, QUIET_ENV, deno_binary, run_args, split_target
from simulator.clients.host import HostConfig

# Databases and caches a handler may reach; all of them are on this machine.
LOOPBACK = ["127.0.0.1", "localhost"]


def net_hosts(env: dict[str, str]) -> list[str]:
    """Loopback, plus the hosts of the sink and the AWS endpoint the harness gave
    (they are loopback too, unless the user pointed the harness elsewhere)."""
    hosts = list(LOOPBACK)
    for name in (ENV_SINK, ENV_ENDPOINT):
        url = urlparse(env.get(name) or "")
        if url.hostname:
            hosts.append(url.hostname if url.port is None else f"{url.hostname}:{url.port}")
    return hosts


def main() -> int:
    cfg = HostConfig.from_env()
    handler, export = split_target(cfg.target)
    run_dir = (Path(cfg.receipts_path).parent if cfg.receipts_path
               else Path(tempfile.mkdtemp(prefix="genesys-sim-deno-")))
    deno = deno_binary()
    env = {**os.environ, **QUIET_ENV,
           # one KV file per consumer run, shared by its instances (receipts live beside it)
           "GENESYS_SIM_KV_PATH": str(run_dir / "deno-kv.sqlite3")}
    cfg.target = f"{handler}:{export}"
    env["GENESYS_SIM_HOST"] = cfg.to_env()
    # Measured last, right before exec, so Deno's clock origin is as close as can be.
    env["GENESYS_SIM_DENO_WALL_MINUS_MONOTONIC"] = repr(time.time() - time.monotonic())
    argv = [deno, *run_args(handler, run_dir=run_dir, net=net_hosts(env)), str(HOST_SCRIPT)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(deno, argv, env)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
