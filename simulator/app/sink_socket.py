"""The effect sink on a framed TCP socket (simulator/clients/frames.py): what the
harness's own Python hosts call instead of ``POST .../effects``. Same registry,
same unguessable path, same ``EffectSink.apply``, same answers; an unknown path is
the same 404 the HTTP route gives. Loopback only; a thread per connection (each
consumer process keeps one per thread of its own)."""
from __future__ import annotations

import logging
import re
import socket
import socketserver
import threading
from typing import Any
from urllib.parse import unquote

from simulator.app.registry import RunRegistry
from simulator.clients.frames import FrameError, read_frame, write_frame

log = logging.getLogger(__name__)

_PATH = re.compile(r"^/runs/(?P<run>[^/]+)/sink/(?P<token>[^/]+)/consumers/(?P<consumer>.+)$")
_NOT_HERE = {"error": "no effect sink at this path: the run has ended or the path is wrong "
                      "(use the GENESYS_SIM_SINK_URL the run gave you)", "field": "path"}


def answer(registry: RunRegistry, request: Any) -> tuple[int, dict]:
    """(status, body) for one framed request."""
    if not isinstance(request, dict) or not isinstance(request.get("path"), str):
        return 400, {"error": "expected {\"path\": ..., \"effect\": {...}}", "field": "body"}
    match = _PATH.match(request["path"])
    if match is None:
        return 404, _NOT_HERE
    run_id = unquote(match["run"])
    known, sink = registry.sink(run_id, match["token"])
    if not known:
        return 404, _NOT_HERE
    if sink is None:
        return 503, {"error": f"run {run_id!r} has no effect sink open yet", "field": "run_id"}
    return sink.apply(sink.consumer or unquote(match["consumer"]), request.get("effect"))


class SinkSocketServer:
    """Serves ``registry``'s sinks on 127.0.0.1 (``port=0``: any free port)."""

    def __init__(self, registry: RunRegistry, host: str = "127.0.0.1", port: int = 0) -> None:
        registry_ = registry

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                while True:
                    try:
                        request = read_frame(sock)
                    except (FrameError, OSError):
                        return
                    try:
                        status, body = answer(registry_, request)
                    except Exception:  # a bug of ours: the caller gets a 500, the server lives on
                        log.exception("effect sink socket: request failed")
                        status, body = 500, {"error": "internal error"}
                    try:
                        write_frame(sock, {"status": status, "body": body})
                    except OSError:
                        return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, port), Handler)
        self.address = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sink-socket", daemon=True)
        self._thread.start()

    @property
    def spec(self) -> str:
        """``host:port``, as GENESYS_SIM_SINK_SOCKET carries it."""
        return f"{self.address[0]}:{self.address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
