"""What Lambda's runtime gives a handler and does to it, for the hosts of
``lambda-sqs:`` and ``lambda-eb:`` consumers: the context object, and the
function timeout.

A handler still running when its function timeout is up fails its invocation
(``FunctionTimeout``); Lambda freezes and throws away the execution environment,
so the host answers what Lambda answers (lambda-eb: HTTP 500
``{"errorType": "Sandbox.Timedout"}``; lambda-sqs: the batch is left undeleted)
and exits with ``faults.TIMEOUT_EXIT``, and the supervisor starts a fresh
instance at once. Timeouts are real seconds here: the runner divides the
scenario's ``lambda.function_timeout_s`` by the time scale.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from typing import Any, Callable

from simulator.clients.faults import CRASH_EXIT, TIMEOUT_EXIT

# What get_remaining_time_in_millis() counts down from when the scenario sets no
# function timeout (nothing is enforced then).
UNLIMITED_REMAINING_S = 30.0


class EnvironmentCrash(BaseException):
    """A planned crash of one execution environment, raised through the handler
    (a BaseException: handler code that catches Exception does not stop it)."""

    exit_code = CRASH_EXIT


def crash_environment() -> None:
    raise EnvironmentCrash()


class FunctionTimeout(Exception):
    def __init__(self, timeout_s: float, request_id: str) -> None:
        self.timeout_s = timeout_s
        self.request_id = request_id
        super().__init__(f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds")


class LambdaContext:
    """The parts of Lambda's context object handlers and Powertools read. The
    remaining time counts down from the function timeout (real seconds)."""

    def __init__(self, function_name: str, region: str, timeout_s: float | None = None) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 128
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "genesys-sim"
        self.timeout_s = timeout_s
        self._deadline = time.monotonic() + (UNLIMITED_REMAINING_S if timeout_s is None else timeout_s)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(handler: Callable[[Any, Any], Any], event: Any, context: LambdaContext, *,
           before: Callable[[], None] | None = None,
           freezer: "Freezer | None" = None) -> Any:
    """``handler(event, context)`` (after ``before``, which is part of the time the
    function takes: a slow fault), within ``context.timeout_s``. Raises what the
    handler raised, or FunctionTimeout; a handler that timed out is left running
    in its thread, frozen by ``freezer`` if one is given (the caller throws the
    process away)."""
    def call() -> Any:
        if before is not None:
            before()
        return handler(event, context)

    if context.timeout_s is None:
        return call()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="lambda-handler", daemon=True)
    thread.start()
    thread.join(context.timeout_s)
    if thread.is_alive():
        if freezer is not None:
            freezer.freeze(thread)
        raise FunctionTimeout(context.timeout_s, context.aws_request_id)
    if "error" in box:
        raise box["error"]
    return box.get("result")


class Freezer:
    """Lambda freezes an execution environment whose function timed out: nothing
    the handler does afterwards reaches the outside. Python cannot stop a
    thread, so a handler thread that ran past its timeout is frozen here: its
    calls to the effect sink never return, while the host lets its other
    invocations finish before it exits."""

    def __init__(self) -> None:
        self._frozen: set[int] = set()
        self._lock = threading.Lock()

    def freeze(self, thread: threading.Thread) -> None:
        with self._lock:
            if thread.ident is not None:
                self._frozen.add(thread.ident)

    def frozen(self) -> bool:
        with self._lock:
            return threading.get_ident() in self._frozen

    def guard(self, sink: Any) -> None:
        """Make ``sink.effect`` block forever when called from a frozen thread."""
        effect = sink.effect

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.frozen():
                threading.Event().wait()
            return effect(*args, **kwargs)

        sink.effect = guarded


def throw_away_environment(code: int = TIMEOUT_EXIT) -> None:
    """Exit the host as Lambda discards a timed-out (or crashed) execution environment."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
