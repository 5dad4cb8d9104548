"""The effect sink's framed socket, the fast path the harness's Python hosts use
instead of HTTP (simulator/app/sink_socket.py serves it). A frame is a 4-byte
big-endian length and that many bytes of JSON. A request is ``{"path": <the sink
URL's path>, "effect": <the JSON an HTTP POST would carry>}``; the answer is
``{"status": <HTTP status>, "body": <the JSON body HTTP would answer>}``: the same
sink, the same checks and the same answers as ``POST $GENESYS_SIM_SINK_URL/effects``,
a tenth of the cost per call (benchmarks/bench_harness.py)."""
from __future__ import annotations

import json
import socket
import struct
from typing import Any

import orjson

_LENGTH = struct.Struct(">I")
MAX_FRAME = 2 * 1024 * 1024  # as the app's request size limit


class FrameError(ConnectionError):
    """The other end closed the connection, or sent something that is no frame."""


def write_frame(sock: socket.socket, value: Any) -> None:
    try:
        data = orjson.dumps(value)
    except TypeError:
        # orjson refuses integers past 64 bits; HTTP's JSON carries them, so must we.
        data = json.dumps(value, separators=(",", ":")).encode()
    sock.sendall(_LENGTH.pack(len(data)) + data)


def read_frame(sock: socket.socket) -> Any:
    (length,) = _LENGTH.unpack(_read_exactly(sock, _LENGTH.size))
    if length > MAX_FRAME:
        raise FrameError(f"frame of {length} bytes is over the {MAX_FRAME}-byte limit")
    try:
        return orjson.loads(_read_exactly(sock, length))
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"frame is not JSON: {exc}") from None


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise FrameError("connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
