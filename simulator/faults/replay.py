"""``replay``: after an incident an operator replays the bus's archive
(EventBridge StartReplay): every archived event whose ``time`` falls in
``window_s`` is sent to the bus's rules again, ``delay_s`` after the window
closed. What the replayed deliveries look like follows EventBridge's
documentation (eb-replay-archived-event.html, the event metadata reference):

- The archive holds the events that reached the bus: the producer's puts
  (originals and Genesys' own re-publishes), not EventBridge's duplicate
  deliveries to a target, and no poison (nothing that is not an event reaches it).
- "A replay processes events to replay based on the time in the event, and
  replays them on one minute intervals": the window is taken by the envelope
  ``time`` (the producer's clock, skew included), and minute k of it is replayed
  after minute k-1, ``minute_s`` scenario seconds each; "events aren't
  necessarily replayed in the same order": within a minute they are shuffled.
- A replayed event is the archived event with a ``replay-name`` field (the
  replay's name; "present only for archived events that are resent to a target
  as part of a replay"), placed after ``region`` as in the documented metadata
  and in events recorded from AWS; ``time`` is the original event's. The
  documentation does not say whether ``id`` is kept; a replay resends the events
  to the bus, where every event gets a generated ``id``, so it gets a new one
  (as LocalStack's replay does): a consumer keyed on ``id`` applies it again,
  one keyed on CorrelationId does not.
"""
from __future__ import annotations

import random
from dataclasses import replace

from pydantic import Field

from simulator.faults.params import Params, Seconds, Window
from simulator.faults.wire import Context, dump, load, new_uuid, parse_iso_ms
from simulator.model import Delivery

STAGE = 45  # on the bus after outages and bursts; before the network copies and reorders
ARCHIVED = ("original", "republish")


class ReplayParams(Params):
    window_s: Window  # [start, end) of event time, scenario seconds
    delay_s: Seconds = 600.0  # AWS advises waiting 10 minutes: archiving lags the bus
    name: str = Field("genesys-sim-replay", min_length=1, max_length=64, pattern=r"^[.\-_A-Za-z0-9]+$")
    minute_s: float = Field(1.0, gt=0)  # scenario seconds spent replaying each archived minute


def replayed_envelope(envelope: dict, name: str, event_id: str) -> dict:
    """``envelope`` as a replay delivers it: a new ``id``, ``replay-name`` after ``region``."""
    out: dict = {}
    for key, value in envelope.items():
        if key == "replay-name":
            continue
        out[key] = event_id if key == "id" else value
        if key == "region":
            out["replay-name"] = name
    out.setdefault("replay-name", name)
    return out


def event_time_s(envelope: dict, start_ms: int) -> float | None:
    """The envelope's ``time`` in scenario seconds since ``start_ms``."""
    stamp = envelope.get("time")
    if not isinstance(stamp, str):
        return None
    try:
        return (parse_iso_ms(stamp) - start_ms) / 1000
    except ValueError:
        return None


def apply(deliveries: list[Delivery], rng: random.Random, params: ReplayParams, ctx: Context) -> list[Delivery]:
    low, high = params.window_s
    replay_at = high + params.delay_s
    minutes: dict[int, list[tuple[Delivery, dict]]] = {}
    for delivery in deliveries:
        if delivery.kind not in ARCHIVED or delivery.at_s > replay_at:
            continue  # not an event put on the bus, or not archived yet when the replay starts
        envelope = load(delivery.body)
        at = event_time_s(envelope, ctx.start_ms)
        if at is not None and low <= at < high:
            minutes.setdefault(int((at - low) // 60), []).append((delivery, envelope))
    replayed = []
    for minute, archived in sorted(minutes.items()):
        rng.shuffle(archived)
        begins = replay_at + minute * params.minute_s
        for i, (delivery, envelope) in enumerate(archived):
            event_id = new_uuid(rng)
            replayed.append(replace(
                delivery, kind="replay", at_s=begins + params.minute_s * i / len(archived),
                body=dump(replayed_envelope(envelope, params.name, event_id)), envelope_id=event_id))
    return deliveries + replayed
