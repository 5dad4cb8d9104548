"""Consumers that EventBridge pushes to: the instance serves HTTP and the
harness's EventBridge target invoker POSTs each event to it, retrying per the
target's policy (transport/targets.py).

* ``lambda-eb:`` — the handler is invoked once per event, as Lambda's
  asynchronous invocation does; a raise answers HTTP 500 with Lambda's error
  object (``{"errorType", "errorMessage"}``: a function error, which Lambda
  retries). The instance runs several invocations at once, each standing for an
  execution environment of its own, so what ends one environment ends only its
  invocation: past the function timeout it answers 500
  ``{"errorType": "Sandbox.Timedout"}`` (the handler is frozen: nothing it does
  afterwards reaches the sink), at a planned crash 500
  ``{"errorType": "Runtime.ExitError"}``; then the instance takes no more
  invocations (503 ``ServiceUnavailableException``: the invoker waits for a new
  environment), lets its other ones finish and exits (``faults.TIMEOUT_EXIT`` or
  ``faults.CRASH_EXIT``), and the supervisor starts a fresh one.
* ``wsgi:`` — the factory's app is served as it is (an API destination), with
  the consumer-side faults around it (``with_faults``).
"""
from __future__ import annotations

import io
import logging
import threading
from typing import Any, Callable

import orjson

from simulator.clients.api import ConsumerContext
from simulator.clients.faults import TIMEOUT_EXIT, FaultInjector
from simulator.clients.lambda_runtime import (EnvironmentCrash, Freezer, FunctionTimeout, LambdaContext,
                                              crash_environment, invoke, throw_away_environment)
from simulator.clients.receipts import ReceiptLog

log = logging.getLogger("genesys_sim.consumer")

WSGIApp = Callable[[dict, Callable], Any]
JSON = [("content-type", "application/json")]
EXIT_GRACE_S = 0.05


def lambda_eb_app(ctx: ConsumerContext, handler: Callable[[dict, Any], Any], *, faults: FaultInjector,
                  receipts: ReceiptLog, timeout_s: float | None = None) -> WSGIApp:
    """The Lambda function ``handler`` as the invoker reaches it, with the
    consumer-side faults applied inside each invocation. ``timeout_s``: the
    function timeout, real seconds (None: none)."""
    environment = _Environment()
    freezer = Freezer()
    freezer.guard(ctx.sink)
    faults.on_crash = crash_environment

    def app(environ: dict, start_response: Callable) -> Any:
        if environ["REQUEST_METHOD"] != "POST":
            start_response("405 Method Not Allowed", JSON)
            return [b'{"error":"POST an EventBridge event"}']
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        receipts.received([(None, body.decode("utf-8", "replace"), 1)])
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            start_response("400 Bad Request", JSON)
            return [orjson.dumps({"errorType": "InvalidRequestContentException",
                                  "errorMessage": "Could not parse request body into json"})]
        if not environment.enter():  # this environment is gone: Lambda would use another
            return _answer(start_response, "503 Service Unavailable", environment, None,
                           {"errorType": "ServiceUnavailableException",
                            "errorMessage": "the execution environment is being replaced"})
        context = LambdaContext(ctx.name, ctx.region, timeout_s)
        try:
            faults.after_receive(1)
            result = invoke(handler, event, context, before=faults.before_handle, freezer=freezer)
        except FunctionTimeout as exc:
            log.info("%s", exc)
            return _answer(start_response, "500 Internal Server Error", environment, TIMEOUT_EXIT,
                           {"errorType": "Sandbox.Timedout", "errorMessage": str(exc)})
        except EnvironmentCrash as exc:
            log.info("planned crash of the execution environment (RequestId %s)", context.aws_request_id)
            return _answer(start_response, "500 Internal Server Error", environment, exc.exit_code,
                           {"errorType": "Runtime.ExitError",
                            "errorMessage": f"RequestId: {context.aws_request_id} Error: Runtime exited "
                                            f"with error: exit status {exc.exit_code}"})
        except Exception as exc:
            log.info("handler raised %s: %s", type(exc).__name__, exc)
            return _answer(start_response, "500 Internal Server Error", environment, None,
                           {"errorType": type(exc).__name__, "errorMessage": str(exc)})
        return _answer(start_response, "200 OK", environment, None, result if result is not None else {})

    return app


def _answer(start_response: Callable, status: str, environment: "_Environment", lost: int | None,
            payload: Any) -> "_ThenLeave":
    """The invocation's answer; ``lost``: the exit status of an environment it ended."""
    start_response(status, JSON)
    return _ThenLeave([orjson.dumps(payload)], environment, lost=lost)


class _Environment:
    """The invocations in flight in this instance, and whether it is being thrown
    away (after a timeout or a crash): then it takes no more (503
    ServiceUnavailableException, which the invoker reads as "no environment
    yet"), and the host exits, with the status that says why, once the others
    have answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0  # requests not yet answered
        self._lost: int | None = None  # the exit status, once lost

    def enter(self) -> bool:
        """A request arrived: True when it may run here, False once the
        environment is lost (it is answered all the same before the exit)."""
        with self._lock:
            self._running += 1
            return self._lost is None

    def leave(self, *, lost: int | None = None) -> None:
        with self._lock:
            self._running -= 1
            if self._lost is None:
                self._lost = lost
            done = self._lost is not None and self._running == 0
        if done:
            # requests already on their way in (accepted, not yet read) get their
            # 503 too: exit once none has arrived for a moment
            threading.Timer(EXIT_GRACE_S, self._exit_if_idle).start()

    def _exit_if_idle(self) -> None:
        with self._lock:
            code = self._lost if self._running == 0 else None
        if code is not None:
            throw_away_environment(code)


class _ThenLeave(list):
    """A WSGI body that marks its invocation finished once the server has written
    it (WSGI calls ``close`` after the last byte), so an environment that is lost
    exits only after its answers are out."""

    def __init__(self, chunks: list[bytes], environment: _Environment, *, lost: int | None = None) -> None:
        super().__init__(chunks)
        self._environment = environment
        self._lost = lost
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._environment.leave(lost=self._lost)


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
