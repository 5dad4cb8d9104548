"""Consumers that EventBridge pushes to: the instance serves HTTP and the
harness's EventBridge target invoker POSTs each event to it, retrying per the
target's retry policy.

* ``lambda-eb:`` — the handler is invoked once per event; a raise answers 500,
  which the invoker treats as a failed invocation (retried, then DLQ).
* ``wsgi:`` — the factory's app is served as it is (an API destination).
"""
from __future__ import annotations

import io
import logging
from typing import Any, Callable

import orjson

from simulator.clients.api import ConsumerContext
from simulator.clients.faults import FaultInjector
from simulator.clients.poll import LambdaContext
from simulator.clients.receipts import ReceiptLog

log = logging.getLogger("genesys_sim.consumer")

WSGIApp = Callable[[dict, Callable], Any]


def lambda_eb_app(ctx: ConsumerContext, handler: Callable[[dict, Any], Any]) -> WSGIApp:
    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ["REQUEST_METHOD"] != "POST":
            start_response("405 Method Not Allowed", [("content-type", "application/json")])
            return [b'{"error":"POST an EventBridge event"}']
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            event = orjson.loads(body)
            result = handler(event, LambdaContext(ctx.name, ctx.region))
        except Exception as exc:
            log.info("handler raised %s: %s", type(exc).__name__, exc)
            start_response("500 Internal Server Error", [("content-type", "application/json")])
            return [orjson.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})]
        start_response("200 OK", [("content-type", "application/json")])
        return [orjson.dumps(result if result is not None else {})]
    return app


def with_faults(app: WSGIApp, *, faults: FaultInjector, receipts: ReceiptLog) -> WSGIApp:
    """Record what arrived and apply the consumer-side faults around any WSGI app."""
    def wrapped(environ: dict, start_response: Callable) -> Any:
        if environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            receipts.received([(None, body.decode("utf-8", "replace"), 1)])
            faults.after_receive(1)
            faults.before_handle()
        return app(environ, start_response)
    return wrapped


def serve(app: WSGIApp, port: int, stopping: Any) -> None:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    server.timeout = 0.5
    while not stopping.is_set():
        server.handle_request()
