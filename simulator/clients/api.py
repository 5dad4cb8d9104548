"""What a consumer under test sees: the message it is handed, the context it runs
in, and the one call that reports a business effect to the downstream sink.

A ``python:`` consumer (and every ``ref:`` consumer run by the SQS poll loop) is a
class::

    class MyConsumer:
        def __init__(self, ctx: ConsumerContext) -> None: ...
        def handle(self, message: Message) -> None: ...   # return: the loop deletes it
                                                           # raise: it stays (redelivered)
        def close(self) -> None: ...                       # optional

Lambda handlers and ``cmd:`` programs in Python report effects with
``report_effect(...)``, which reads ``GENESYS_SIM_SINK_URL`` from the environment;
programs in other languages POST to ``$GENESYS_SIM_SINK_URL/effects`` themselves.
"""
from __future__ import annotations

import http.client
import os
import select
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import orjson

# Environment the harness gives every consumer process (DESIGN.md contract).
ENV_ENDPOINT = "AWS_ENDPOINT_URL"
ENV_REGION = "AWS_REGION"
ENV_QUEUE = "QUEUE_URL"
ENV_SINK = "GENESYS_SIM_SINK_URL"
# host:port of the sink's framed socket (simulator/clients/frames.py): the harness's
# own Python hosts report effects there; everything else POSTs to ENV_SINK.
ENV_SINK_SOCKET = "GENESYS_SIM_SINK_SOCKET"
ENV_TIME_SCALE = "GENESYS_SIM_TIME_SCALE"
ENV_CONSUMER = "GENESYS_SIM_CONSUMER"
ENV_INSTANCE = "GENESYS_SIM_INSTANCE"
ENV_REDIS = "REDIS_URL"
ENV_NAMESPACE = "GENESYS_SIM_NAMESPACE"


@dataclass(frozen=True, slots=True)
class Message:
    """An SQS message as ReceiveMessage returns it."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1
    attributes: dict = field(default_factory=dict)
    message_attributes: dict = field(default_factory=dict)

    def event(self) -> dict:
        """The body parsed as JSON. Raises ValueError on a body that is not a JSON object."""
        value = orjson.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError("message body is not a JSON object")
        return value


class DownstreamError(Exception):
    """The downstream (effect sink) refused the effect: it was not applied."""

    def __init__(self, status: int, text: str = "") -> None:
        self.status = status
        super().__init__(f"downstream answered HTTP {status} {text}".strip())


class Sink:
    """Client of the effect sink at ``url`` (``POST {url}/effects``).

    One persistent connection per thread: HTTP/1.1 through http.client (not
    requests: the effect call is the consumer's hot path and requests costs a
    millisecond on top of it), or, given ``socket_address`` (``host:port``), the
    sink's framed socket, the same sink at a tenth of the cost. A kept connection
    the server has closed is noticed before the request is sent and replaced; an
    effect is never sent twice by this client."""

    def __init__(self, url: str, *, consumer: str | None = None, instance: int | None = None,
                 timeout_s: float = 30.0, socket_address: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.consumer = consumer
        self.instance = instance
        self.timeout_s = timeout_s
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"sink URL must be http(s)://host[:port]/..., got {url!r}")
        self._https = parts.scheme == "https"
        self._address = (parts.hostname, parts.port or (443 if self._https else 80))
        self._path = f"{parts.path}/effects"
        self._sink_path = parts.path
        self._socket: tuple[str, int] | None = None
        if socket_address:
            host, _, port = socket_address.rpartition(":")
            self._socket = (host, int(port))
        self._local = threading.local()

    def _framed(self, payload: dict) -> tuple[int, bytes]:
        from simulator.clients import frames

        sock = getattr(self._local, "sock", None)
        if sock is not None and _closed_by_peer(sock):
            sock.close()
            sock = None
        if sock is None:
            sock = self._local.sock = socket.create_connection(self._socket, timeout=self.timeout_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            frames.write_frame(sock, {"path": self._sink_path, "effect": payload})
            answer = frames.read_frame(sock)
        except BaseException:
            sock.close()  # half a request on it: never reuse
            self._local.sock = None
            raise
        return int(answer["status"]), orjson.dumps(answer.get("body"))

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and (conn.sock is None or _closed_by_peer(conn.sock)):
            conn.close()
            conn = None
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = self._local.conn = cls(*self._address, timeout=self.timeout_s)
        return conn

    def _post(self, body: bytes) -> tuple[int, bytes]:
        conn = self._connection()
        try:
            conn.request("POST", self._path, body, {"content-type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        except BaseException:
            conn.close()  # half a request on it: never reuse
            self._local.conn = None
            raise

    def effect(self, event: dict | None = None, *, correlation_id: str | None = None,
               idempotency_key: str | None = None, upsert: bool = False) -> None:
        """Apply one business effect downstream. ``event`` is the EventBridge event as
        received; or give ``correlation_id`` instead. ``idempotency_key``: effects with
        the same key are applied once. ``upsert``: the effect writes the state of the
        event's entity (scored by the final-state probe).
        Raises DownstreamError when the sink does not answer 2xx."""
        if event is None and correlation_id is None:
            raise ValueError("effect() needs the event or its correlation_id")
        payload: dict[str, Any] = {}
        if event is not None:
            payload["event"] = event
        if correlation_id is not None:
            payload["correlation_id"] = correlation_id
        if idempotency_key is not None:
            payload["idempotency_key"] = idempotency_key
        if upsert:
            payload["upsert"] = True
        if self.consumer is not None:
            payload["consumer"] = self.consumer
        if self.instance is not None:
            payload["instance"] = self.instance
        status, text = self._framed(payload) if self._socket else self._post(orjson.dumps(payload))
        if not 200 <= status < 300:
            raise DownstreamError(status, text[:200].decode("utf-8", "replace"))


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle kept-alive socket that is readable has been closed by the server."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


@dataclass
class ConsumerContext:
    """Where a consumer instance runs. Built by the harness; ``from_env`` rebuilds it
    inside a consumer process from the environment the harness set."""

    name: str
    sink: Sink
    instance: int = 0
    time_scale: float = 1.0
    region: str = "us-east-1"
    endpoint_url: str | None = None
    queue_url: str | None = None
    redis_url: str | None = None
    # Unique per consumer run: prefix for keys and table names in shared stores, so
    # two runs (or two consumers) on one Redis never see each other's marks.
    namespace: str = ""
    # Called after every applied effect; the harness hooks crash faults here.
    after_effect: Callable[[], None] | None = None

    def effect(self, event: dict | None = None, *, correlation_id: str | None = None,
               idempotency_key: str | None = None, upsert: bool = False) -> None:
        self.sink.effect(event, correlation_id=correlation_id,
                         idempotency_key=idempotency_key, upsert=upsert)
        if self.after_effect:
            self.after_effect()

    def ttl(self, scenario_seconds: float) -> float:
        """A TTL the consumer's design states in real-world seconds (a 5-minute window,
        a 24 h key) shrunk by the scenario clock, so it means the same in a run."""
        return scenario_seconds / self.time_scale

    def key(self, key: str) -> str:
        """``key`` in this run's namespace (for Redis keys, table names)."""
        return f"{self.namespace}:{key}" if self.namespace else key

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint_url)

    def redis(self) -> Any:
        """A Redis client: the real server at ``redis_url``; an in-process fakeredis
        only when no URL is given (unit tests of a single instance)."""
        if self.redis_url:
            import redis

            return redis.Redis.from_url(self.redis_url)
        import fakeredis

        return fakeredis.FakeRedis()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "ConsumerContext":
        """The context of this consumer process. Inside a harness-run process this is
        the one the host installed (so crash faults see every effect); elsewhere it
        is built from the environment."""
        if environ is None and _process_context is not None:
            return _process_context
        env = os.environ if environ is None else environ
        name = env.get(ENV_CONSUMER, "consumer")
        instance = int(env.get(ENV_INSTANCE, "0"))
        return cls(
            name=name,
            instance=instance,
            sink=Sink(env[ENV_SINK], consumer=name, instance=instance,
                      socket_address=env.get(ENV_SINK_SOCKET) or None),
            time_scale=float(env.get(ENV_TIME_SCALE, "1")),
            region=env.get(ENV_REGION, "us-east-1"),
            endpoint_url=env.get(ENV_ENDPOINT) or None,
            queue_url=env.get(ENV_QUEUE) or None,
            redis_url=env.get(ENV_REDIS) or None,
            namespace=env.get(ENV_NAMESPACE, ""),
        )


# One per consumer process: set by the harness's host, read by from_env().
_process_context: ConsumerContext | None = None


def install_context(ctx: ConsumerContext | None) -> None:
    """Make ``ctx`` this process's context (the harness's consumer host does this)."""
    global _process_context
    _process_context = ctx


def report_effect(event: dict | None = None, *, correlation_id: str | None = None,
                  idempotency_key: str | None = None, upsert: bool = False) -> None:
    """``ConsumerContext.effect`` on this process's context: for Lambda handlers and
    ``cmd:`` programs in Python, which are not handed a context object."""
    global _process_context
    if _process_context is None:
        _process_context = ConsumerContext.from_env()
    _process_context.effect(event, correlation_id=correlation_id,
                            idempotency_key=idempotency_key, upsert=upsert)
