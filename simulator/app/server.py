"""Serving the app: in a daemon thread for the harness (the sink during a run), or
in the foreground for ``genesys-sim serve``.

The server is cheroot (CherryPy's WSGI server), not werkzeug's development
server: the sink is called once per effect by every consumer process, and
werkzeug closes the connection after every response (and starts a thread per
connection), so each effect paid for a TCP connect and an accept. cheroot keeps
HTTP/1.1 connections alive and serves them from a pool of threads; with the
consumers' keep-alive client (``simulator.clients.api.Sink``) an effect costs a
third of what it did (benchmarks/bench_harness.py).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

LISTEN_QUEUE = 1024
THREADS = 16  # concurrent requests; idle kept-alive connections hold no thread


class Server:
    """A WSGI server bound at construction (``port=0``: any free port)."""

    def __init__(self, app: Callable, host: str = "127.0.0.1", port: int = 0, *,
                 threads: int = THREADS, log: bool = False) -> None:
        from cheroot import wsgi

        self.host = host
        self._server: Any = wsgi.Server((host, port), _logged(app) if log else app,
                                        numthreads=threads, request_queue_size=LISTEN_QUEUE,
                                        timeout=300, accepted_queue_timeout=1)
        # Bound and listening here, so a busy port is an OSError for the caller
        # (werkzeug's own bind answered it with sys.exit).
        self._server.prepare()
        self.port = self._server.bind_addr[1]

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        self._server.serve()

    def shutdown(self) -> None:
        self._server.stop()

    def server_close(self) -> None:
        pass  # stop() closed the socket


def _logged(app: Callable) -> Callable:
    log = logging.getLogger("genesys_sim.serve")

    def wsgi(environ: dict, start_response: Callable) -> Any:
        def start(status: str, headers: list, *args: Any) -> Any:
            log.info("%s %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), status.split()[0])
            return start_response(status, headers, *args)
        return app(environ, start)

    return wsgi


def make_threaded_server(app: Callable, host: str = "127.0.0.1", port: int = 0, *,
                         quiet: bool = True, threads: int = THREADS) -> Server:
    """A threaded HTTP/1.1 server for ``app``, bound now (``quiet`` False: a log
    line per request)."""
    return Server(app, host, port, threads=threads, log=not quiet)


@dataclass
class ServerHandle:
    server: Server
    thread: threading.Thread

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(app: Callable, host: str = "127.0.0.1", port: int = 0, *,
                    threads: int = THREADS) -> ServerHandle:
    """Serve ``app`` from a daemon thread; returns once the socket is listening."""
    server = make_threaded_server(app, host, port, threads=threads)
    thread = threading.Thread(target=server.serve_forever,
                              name=f"genesys-sim-app:{server.port}", daemon=True)
    thread.start()
    return ServerHandle(server, thread)
