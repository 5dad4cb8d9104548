"""``republish``: Genesys sends the same notification again (it re-sends for up to
4 days after an outage). EventBridge assigns a new envelope ``id`` at PutEvents;
everything Genesys wrote is unchanged.

Decision (DESIGN.md): ``detail`` is kept byte for byte (same CorrelationId, same
eventBody, same ``detail.timestamp``), and so is the envelope ``time``, because
DESIGN.md defines it as ``detail.timestamp`` truncated to the second, not as the
moment of PutEvents. Only the envelope ``id`` differs, so a consumer that dedups on
``id`` applies the event twice, and one keyed on CorrelationId does not."""
from __future__ import annotations

import random
from dataclasses import replace

from simulator.faults.params import Delay, Params, Probability
from simulator.faults.wire import Context, draw, dump, load, new_uuid
from simulator.model import Delivery

STAGE = 20  # a producer-side fault: before outages hold and the network copies


class RepublishParams(Params):
    probability: Probability
    delay_s: Delay = (3600.0, 3600.0)


def resend(delivery: Delivery, rng: random.Random, at_s: float) -> Delivery:
    """The same notification put on the bus again at ``at_s``."""
    envelope = load(delivery.body)
    envelope["id"] = new_uuid(rng)
    return replace(delivery, kind="republish", at_s=at_s, body=dump(envelope), envelope_id=envelope["id"])


def apply(deliveries: list[Delivery], rng: random.Random, params: RepublishParams, ctx: Context) -> list[Delivery]:
    again = [
        resend(delivery, rng, delivery.at_s + draw(rng, params.delay_s))
        for delivery in deliveries
        if delivery.kind == "original" and rng.random() < params.probability
    ]
    return deliveries + again
