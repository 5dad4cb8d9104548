"""Serving the app: in a daemon thread for the harness (the sink during a run), or
in the foreground for ``genesys-sim serve``."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import LISTEN_QUEUE, BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: the sink is called once per effect, and a log line per call
    would cost more than the call itself."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def make_threaded_server(app: Flask, host: str = "127.0.0.1", port: int = 0, *,
                         quiet: bool = True) -> BaseWSGIServer:
    """A threaded werkzeug server bound now (``port=0``: any free port). Threaded
    servers speak HTTP/1.1, so consumers' sessions keep their connections."""
    handler = QuietRequestHandler if quiet else None
    listener = _listen(host, port)
    try:
        return make_server(host, listener.getsockname()[1], app, threaded=True,
                           request_handler=handler, fd=listener.fileno())
    finally:
        listener.close()  # the server holds its own duplicate of the socket


def _listen(host: str, port: int) -> socket.socket:
    """Bind here rather than in werkzeug, which answers a busy port with
    ``sys.exit(1)``; an OSError lets the caller say what went wrong."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_QUEUE)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class ServerHandle:
    server: BaseWSGIServer
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


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve ``app`` from a daemon thread; returns once the socket is listening."""
    server = make_threaded_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"genesys-sim-app:{server.port}", daemon=True)
    thread.start()
    return ServerHandle(server, thread)
