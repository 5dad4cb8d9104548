"""The long-lived parts every run needs, started once and shared by the runs of a
command (a matrix runs many scenarios on one embedded backend): emulator backends,
the app that hosts the effect sink, and a Redis for consumers that want one."""
from __future__ import annotations

import os
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from simulator.errors import EnvironmentFailure


class EmbeddedRedis:
    """A fakeredis server over TCP, so consumer instances in separate processes
    share one store. Used only when no REDIS_URL is given."""

    def __init__(self) -> None:
        from fakeredis import TcpFakeServer

        self._server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
        host, port = self._server.server_address[:2]
        self.url = f"redis://{host}:{port}/0"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakeredis", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Harness:
    def __init__(self, *, out_dir: Path | str = "runs", endpoint_url: str | None = None,
                 allow_aws: bool = False, registry: Any = None, sink_base_url: str | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.endpoint_url = endpoint_url
        self.allow_aws = allow_aws
        self._stack = ExitStack()
        self._backends: dict[str, Any] = {}
        self._redis_url: str | None = os.environ.get("REDIS_URL") or None
        self.registry = registry
        self.sink_base_url = sink_base_url
        self.sink_socket: str | None = None  # host:port of the sink's framed socket

    def __enter__(self) -> "Harness":
        if self.registry is None:
            # Our own app, serving only the sink, on a free loopback port.
            from simulator.app import RunRegistry, create_app, serve_in_thread

            self.registry = RunRegistry()
            server = serve_in_thread(create_app(registry=self.registry))
            self._stack.callback(server.stop)
            self.sink_base_url = server.url
        if self.sink_socket is None:
            # The same sinks on a framed socket, for the harness's own Python hosts.
            from simulator.app.sink_socket import SinkSocketServer

            framed = SinkSocketServer(self.registry)
            self._stack.callback(framed.close)
            self.sink_socket = framed.spec
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def open_sink(self, key: str, sink: Any, *, consumer: str) -> str:
        """Register ``sink`` under ``key`` and return the URL ``consumer`` reports
        effects to (its GENESYS_SIM_SINK_URL), unguessable past the key. Closed by
        ``close_sink``, or at the latest when the harness closes."""
        self.registry.open(key, sink)
        self._stack.callback(self.registry.close, key)  # a no-op once close_sink ran
        return f"{self.sink_base_url}{self.registry.sink_path(key, consumer)}"

    def close_sink(self, key: str) -> None:
        """Release the sink (its ledger and history); the registry keeps its counts."""
        self.registry.close(key)

    def backend(self, name: str) -> Any:
        if name not in self._backends:
            from simulator.transport import open_backend

            try:
                backend = open_backend(name, endpoint_url=self.endpoint_url, allow_aws=self.allow_aws)
            except OSError as exc:
                raise EnvironmentFailure(f"could not start backend {name!r}: {exc}") from exc
            self._stack.callback(backend.close)
            self._backends[name] = backend
        return self._backends[name]

    @property
    def redis_url(self) -> str:
        if self._redis_url is None:
            redis = EmbeddedRedis()
            self._stack.callback(redis.close)
            self._redis_url = redis.url
        return self._redis_url
