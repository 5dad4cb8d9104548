"""The ``eventbridge`` delivery path: PutEvents to the run's custom bus, whose rule
delivers to the SQS target queue.

The producer (Genesys) hands EventBridge ``Source``, ``DetailType``, ``Detail`` and
``Time``, taken from the delivery's envelope; EventBridge assigns the envelope
``id`` and builds the body the queue receives, so ``Sent.envelope_id`` is the
EventId PutEvents returned (not the plan's id) and ``Sent.body_key`` identifies the
planned body, not the queue's: match PutEvents deliveries by envelope id.

Four routes, by what the delivery is:

- ``put``: an EventBridge event seen for the first time -> PutEvents. An entry over
  ``max_entry_bytes`` (EventBridge's size rule: Time 14 bytes + Source + DetailType
  + Detail + Resources, UTF-8) is refused as AWS refuses it and reported through
  ``on_rejected``; so are entries PutEvents answers with an ErrorCode.
- ``copy``: a ``redeliver`` copy (same planned envelope id as a delivery already
  put). EventBridge delivering an event twice carries the same id, but PutEvents
  would mint a new one; so the copy is written straight to the queue as the
  message EventBridge produced: the envelope it built, with the id it returned
  (serialised as the backend's EventBridge does, so a FIFO queue's content-based
  deduplication sees the same body).
- ``replay``: an archive replay (the ``replay`` fault) is EventBridge sending an
  archived event to the rule again, with a new ``id`` and a ``replay-name``
  field; PutEvents can set neither, so it too is written straight to the queue
  as the message EventBridge produced (the planned id stands for the one
  EventBridge generated).
- ``raw``: poison that is not an EventBridge entry at all (not a JSON object with
  source, detail-type and an object detail: e.g. invalid JSON) cannot go through
  PutEvents, which would refuse it; it is written straight to the queue, as a
  broken producer or a replay tool would.

A ``republish`` has a new planned envelope id, so it is a new PutEvents (new id),
exactly as a producer calling PutEvents again.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import orjson
from botocore.exceptions import ClientError

from simulator.clock import ScenarioClock
from simulator.model import Delivery
from simulator.transport.backend import Backend
from simulator.transport.protocol import DeliveryListener
from simulator.transport.records import InjectionStats, Rejected, sent_record
from simulator.transport.schedule import due_batches
from simulator.transport.sqs_injector import (FIFO_DEDUP_WINDOW_S, FifoDedup, refusal,
                                              send_entries, split_by_bytes)
from simulator.transport.topology import Topology

MAX_ENTRY_BYTES = 262144  # 256 KB historically; 1 MB since Jan 2026: a setting
TIME_ENTRY_BYTES = 14  # EventBridge counts a Time parameter as 14 bytes


def as_event(body: str) -> dict | None:
    """The envelope when ``body`` can be a PutEvents entry, else None."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict):
        return None
    if not (isinstance(event.get("source"), str) and event["source"]
            and isinstance(event.get("detail-type"), str) and event["detail-type"]
            and isinstance(event.get("detail"), dict)):
        return None
    return event


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def put_entry(event: dict, bus_name: str) -> dict:
    entry = {"Source": event["source"], "DetailType": event["detail-type"],
             "Detail": orjson.dumps(event["detail"]).decode(), "EventBusName": bus_name}
    when = parse_time(event.get("time"))
    if when is not None:
        entry["Time"] = when
    resources = event.get("resources")
    if isinstance(resources, list) and resources and all(isinstance(r, str) for r in resources):
        entry["Resources"] = resources
    return entry


def entry_size(entry: dict) -> int:
    """EventBridge's PutEvents entry size."""
    size = TIME_ENTRY_BYTES if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(entry[name].encode("utf-8", "surrogatepass"))
    return size + sum(len(r.encode()) for r in entry.get("Resources", ()))


def delivered_envelope(event: dict, event_id: str, *, account: str, region: str) -> dict:
    """The event as EventBridge delivers it to a target: its own envelope fields."""
    when = parse_time(event.get("time"))
    stamp = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    resources = event.get("resources")
    envelope = {
        "version": "0",
        "id": event_id,
        "detail-type": event["detail-type"],
        "source": event["source"],
        "account": account,
        "time": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
    }
    if isinstance(event.get("replay-name"), str):  # only on a replayed event, after region
        envelope["replay-name"] = event["replay-name"]
    envelope["resources"] = resources if isinstance(resources, list) else []
    envelope["detail"] = event["detail"]
    return envelope


class EventBridgeInjector:
    """Sends a delivery plan through PutEvents on the scenario clock."""

    path = "eventbridge"

    def __init__(self, backend: Backend, topology: Topology, *,
                 max_entry_bytes: int = MAX_ENTRY_BYTES, consumer: str = "",
                 dedup_window_s: float = FIFO_DEDUP_WINDOW_S) -> None:
        if topology.bus_name is None or topology.queue_url is None or topology.delivery != "eventbridge":
            raise ValueError(f"topology of run {topology.run_id} is not an eventbridge topology")
        self.consumer = consumer
        self.max_entry_bytes = max_entry_bytes
        self._events = backend.client("events")
        self._sqs = backend.client("sqs")
        self._topology = topology
        self._separators = backend.event_json_separators
        self._dedup = FifoDedup(dedup_window_s)
        # planned envelope id -> EventId PutEvents returned for it
        self.event_ids: dict[str, str] = {}

    def run(self, deliveries: Iterable[Delivery], clock: ScenarioClock, listener: DeliveryListener,
            *, stop: threading.Event | None = None) -> InjectionStats:
        """Send every delivery at its ``at_s``; tell ``listener`` of each that reached
        EventBridge or the queue (``routed`` False when the rule does not send it on
        to the queue) and of each refused."""
        stats = InjectionStats()

        def sent(delivery: Delivery, at: float, envelope_id: str | None, message_id: str | None,
                 routed: bool = True) -> None:
            stats.sent += 1
            listener.sent(sent_record(delivery, self.consumer, at, clock, envelope_id=envelope_id,
                                      message_id=message_id, routed=routed))

        def rejected(delivery: Delivery, at: float, code: str, message: str) -> None:
            stats.rejected += 1
            listener.refused(Rejected(delivery, at, code, message))

        # a due batch is split again below: PutEvents calls by entry size, queue
        # writes by SQS's 256 KiB
        for batch in due_batches(deliveries, clock, size=lambda d: len(d.body),
                                 max_bytes=self.max_entry_bytes, stop=stop):
            stats.late_s = max(stats.late_s, clock.now_s() - batch[0].at_s)
            puts, direct = self._route(batch, clock, rejected)
            for chunk in _chunks(puts, self.max_entry_bytes):
                stats.calls += 1
                self._put(chunk, clock, sent, rejected)
            if direct:
                stats.calls += self._send_direct(direct, clock, sent, rejected)
            listener.progress(stats.sent)
        return stats

    def _route(self, batch: list[Delivery], clock: ScenarioClock,
               rejected: Callable[..., None]) -> tuple[list, list]:
        """Split a due batch into PutEvents entries and straight-to-queue sends. A
        copy of an event put in this same batch is sent after the put (its id is
        needed)."""
        puts: list[tuple[Delivery, dict, dict]] = []
        direct: list[tuple[Delivery, dict | None]] = []
        claimed: set[str] = set()
        for delivery in batch:
            event = as_event(delivery.body)
            if event is None:
                direct.append((delivery, None))
                continue
            planned = delivery.envelope_id
            if delivery.kind == "replay" or (planned is not None and (planned in self.event_ids
                                                                      or planned in claimed)):
                direct.append((delivery, event))
                continue
            entry = put_entry(event, self._topology.bus_name or "")
            size = entry_size(entry)
            if size > self.max_entry_bytes:
                rejected(delivery, time.monotonic() - clock.start, "ValidationException",
                         f"PutEvents entry of {size} bytes is over the {self.max_entry_bytes}-byte limit")
                continue
            if planned is not None:
                claimed.add(planned)
            puts.append((delivery, event, entry))
        return puts, direct

    def _put(self, chunk: list[tuple[Delivery, dict, dict]], clock: ScenarioClock,
             sent: Callable[..., None], rejected: Callable[..., None]) -> None:
        at = time.monotonic() - clock.start  # before the call: no receive can precede it
        try:
            response = self._events.put_events(Entries=[entry for _, _, entry in chunk])
            results = response.get("Entries", [])
        except ClientError as exc:  # a refusal of the request is per entry; the rest is raised
            refused = refusal(exc)
            if refused is None:
                raise
            results = [{"ErrorCode": refused[0], "ErrorMessage": refused[1]}] * len(chunk)
        for (delivery, event, _), result in zip(chunk, results):
            event_id = result.get("EventId")
            if not event_id:
                rejected(delivery, at, result.get("ErrorCode", "Failed"), result.get("ErrorMessage", ""))
                continue
            if delivery.envelope_id is not None:
                self.event_ids[delivery.envelope_id] = event_id
            sent(delivery, at, event_id, None, self._topology.routes(event))

    def _send_direct(self, items: list[tuple[Delivery, dict | None]], clock: ScenarioClock,
                     sent: Callable[..., None], rejected: Callable[..., None]) -> int:
        """Write to the queue; returns the number of SendMessageBatch calls."""
        topo = self._topology
        entries: list[dict] = []
        envelope_ids: dict[str, tuple[Delivery, str | None]] = {}
        for index, (delivery, event) in enumerate(items):
            envelope_id = delivery.envelope_id
            body = delivery.body
            if event is not None:
                envelope_id = (delivery.envelope_id if delivery.kind == "replay"
                               else self.event_ids.get(delivery.envelope_id or ""))
                if envelope_id is None:  # its put was refused: the copy has nothing to copy
                    rejected(delivery, time.monotonic() - clock.start, "NoOriginal",
                             "the event this copy repeats never reached EventBridge")
                    continue
                if not topo.routes(event):  # the rule sends the original nowhere: nor the copy
                    sent(delivery, time.monotonic() - clock.start, envelope_id, None, False)
                    continue
                envelope = delivered_envelope(event, envelope_id, account=topo.account,
                                              region=self._topology.backend.region)
                body = json.dumps(envelope, separators=self._separators)
            entry = {"Id": str(index), "MessageBody": body}
            if topo.fifo:
                entry["MessageGroupId"] = topo.group_id
                digest, generation = self._dedup.generation(body, delivery.at_s)
                if generation:  # past the interval: a new id, or the queue would drop it
                    entry["MessageDeduplicationId"] = f"{digest}-{generation}"
            entries.append(entry)
            envelope_ids[entry["Id"]] = (delivery, envelope_id)
        calls = split_by_bytes(entries)
        for call in calls:
            at = time.monotonic() - clock.start
            outcomes = send_entries(self._sqs, topo.queue_url or "", call)
            for entry, (message_id, code, message) in zip(call, outcomes):
                delivery, envelope_id = envelope_ids[entry["Id"]]
                if message_id is None:
                    rejected(delivery, at, code, message)
                else:
                    sent(delivery, at, envelope_id, message_id)
        return len(calls)


def _chunks(puts: list[tuple[Delivery, dict, dict]], max_bytes: int) -> Iterable[list]:
    """PutEvents calls of at most 10 entries and ``max_bytes`` in total."""
    chunk: list = []
    total = 0
    for item in puts:
        size = entry_size(item[2])
        if chunk and (len(chunk) == 10 or total + size > max_bytes):
            yield chunk
            chunk, total = [], 0
        chunk.append(item)
        total += size
    if chunk:
        yield chunk
