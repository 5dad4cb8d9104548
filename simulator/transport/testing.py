"""Helpers for testing code that uses the transport: Genesys-shaped envelopes and
deliveries without the generator, and a local HTTP target whose answers a test
scripts (for push consumers and the target invoker)."""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from simulator.model import Delivery, DeliveryKind

ORG = "32aa07aa-db1b-4987-abd0-9483601ec29d"
SOURCE = f"aws.partner/genesys.com/cloud/{ORG}/genesys-sim"
CUSTOMER_END = "v2.detail.events.conversation.{id}.customer.end"


def genesys_envelope(n: int = 0, *, envelope_id: str | None = None,
                     correlation_id: str | None = None, conversation_id: str | None = None,
                     detail_type: str = CUSTOMER_END, padding: int = 0) -> dict:
    """A conversation customer.end event in Genesys' EventBridge shape (see
    /work/shared/genesys-captures); ``padding`` adds that many bytes to the body."""
    conversation = conversation_id or str(uuid.UUID(int=n + 1))
    stamp_s = 1_649_237_445 + n
    body: dict[str, Any] = {
        "eventTime": stamp_s * 1000 + 13,
        "conversationId": conversation,
        "participantId": str(uuid.UUID(int=10**6 + n)),
        "sessionId": str(uuid.UUID(int=2 * 10**6 + n)),
        "mediaType": "VOICE",
        "provider": "Edge",
        "direction": "INBOUND",
        "ani": "tel:+13175550100",
        "dnis": "tel:+13175550199",
        "interactingDurationMs": 60000 + n,
    }
    if padding:
        body["note"] = "x" * padding
    topic = detail_type.replace("{id}", conversation)
    time_s = _iso(stamp_s)
    return {
        "version": "0",
        "id": envelope_id or str(uuid.UUID(int=3 * 10**6 + n)),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": "123456789012",
        "time": time_s,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "topicName": topic,
            "version": "2",
            "eventBody": body,
            "metadata": {"CorrelationId": correlation_id or str(uuid.UUID(int=4 * 10**6 + n))},
            "timestamp": time_s.replace("Z", ".013Z"),
        },
    }


def _iso(epoch_s: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def delivery(envelope: dict, at_s: float = 0.0, kind: DeliveryKind = "original", *,
             group: str | None = None, seq: int | None = None) -> Delivery:
    """The delivery of ``envelope`` (its exact JSON) at scenario time ``at_s``."""
    return Delivery(at_s=at_s, kind=kind, body=json.dumps(envelope), seq=seq,
                    correlation_id=envelope["detail"]["metadata"]["CorrelationId"],
                    envelope_id=envelope["id"], group=group)


def poison(body: str, at_s: float = 0.0, kind: str = "invalid_json") -> Delivery:
    return Delivery(at_s=at_s, kind="poison", body=body, correlation_id=None,
                    envelope_id=None, poison=kind)


def invoke_all(invoker: Any, deliveries: list[Delivery], time_scale: float) -> tuple[Any, Any]:
    """Run ``invoker`` over ``deliveries`` on a scenario clock of ``time_scale``:
    (what its listener recorded: sent, attempts, undelivered, pending; its stats)."""
    from types import SimpleNamespace

    from simulator.clock import ScenarioClock
    from simulator.transport import DeliveryLog

    log = DeliveryLog()
    stats = invoker.run(deliveries, ScenarioClock(time_scale), log)
    return SimpleNamespace(sent=log.sent_records, attempts=log.attempt_records,
                           undelivered=log.undelivered_records, pending=log.pending_records), stats


@dataclass(frozen=True)
class Call:
    body: str
    attempt: int  # how many times this body had been received before, plus one


class ScriptedTarget:
    """An HTTP endpoint on 127.0.0.1 answering each POST with ``answer(call)``: a
    status code, or (status, JSON body) (e.g. a Lambda error object). Records
    every call. Use as a context manager."""

    def __init__(self, answer: Callable[[Call], int | tuple[int, Any]] = lambda call: 200, *,
                 port: int = 0) -> None:
        self.answer = answer
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", port, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/events"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _app(self, environ: dict, start_response: Callable) -> Any:
        body = Request(environ).get_data(as_text=True)
        with self._lock:
            call = Call(body, 1 + sum(1 for c in self.calls if c.body == body))
            self.calls.append(call)
        answer = self.answer(call)
        status, body = answer if isinstance(answer, tuple) else (answer, {})
        return Response(json.dumps(body), status=status, mimetype="application/json")(environ, start_response)

    def __enter__(self) -> "ScriptedTarget":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join()


def receive_and_delete(endpoint_url: str, queue_url: str, region: str = "us-east-1",
                       visibility_timeout_s: int = 600, empty_polls: int = 3,
                       start: Any = None) -> tuple[list[tuple[str, str, str]], list[dict]]:
    """A consumer that receives (10 at a time, long poll 1 s) and deletes until the
    queue stays empty: returns [(MessageId, body, ApproximateReceiveCount)] and the
    failed delete entries. Runs in its own process (``concurrent_consumers``)."""
    import boto3

    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    if start is not None:
        start.wait()
    received: list[tuple[str, str, str]] = []
    failed: list[dict] = []
    empty = 0
    while empty < empty_polls:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       VisibilityTimeout=visibility_timeout_s,
                                       AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        if not messages:
            empty += 1
            continue
        empty = 0
        received += [(m["MessageId"], m["Body"], m["Attributes"]["ApproximateReceiveCount"])
                     for m in messages]
        response = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        failed += response.get("Failed", [])
    return received, failed


def concurrent_consumers(endpoint_url: str, queue_url: str, processes: int = 4,
                         region: str = "us-east-1", *, during: Callable[[], Any] | None = None,
                         empty_polls: int = 3) -> list[tuple[list, list]]:
    """``processes`` consumer processes polling one queue at once (multiprocessing,
    spawned); each one's (received, failed deletes). ``during`` runs in this process
    once they all poll (e.g. an injector feeding the queue)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        ready, start = manager.Barrier(processes + 1), manager.Event()
        with context.Pool(processes) as pool:
            pending = [pool.apply_async(_consumer, (endpoint_url, queue_url, region, ready, start,
                                                    empty_polls))
                       for _ in range(processes)]
            ready.wait(timeout=120)  # every process has imported boto3
            start.set()
            if during is not None:
                during()
            return [p.get(timeout=600) for p in pending]


def _consumer(endpoint_url: str, queue_url: str, region: str, ready: Any, start: Any,
              empty_polls: int) -> tuple[list, list]:
    import importlib

    importlib.import_module("boto3")  # before the barrier: the race starts warm
    ready.wait(timeout=120)
    return receive_and_delete(endpoint_url, queue_url, region, empty_polls=empty_polls,
                              start=start)
