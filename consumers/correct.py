"""The correct consumer: zero missed and zero duplicated under every shipped
scenario, crashes between effect and acknowledgement included. Run by the SQS
poll loop. Each rule answers one failure the other strategies show:

1. The idempotency key is ``detail.metadata.CorrelationId``, on every effect.
   It is the identity of the Genesys event: EventBridge retries, SQS copies and
   producer re-publishes (new envelope ``id``) all carry it, and two different
   events of one conversation never share it. The *downstream* applies a key
   once, so the check and the effect are one atomic step: there is no window
   between "seen?" and "done" for a race or a crash to fall into, and no local
   state to lose on restart or to diverge between instances.
2. The message is deleted only after the effect was acknowledged: ``handle``
   returns (and the poll loop deletes) only when ``effect`` returned. A
   DownstreamError propagates, the message stays, and it comes back after the
   visibility timeout; a crash after the effect brings it back too, and rule 1
   makes the repeat harmless. Nothing is marked before the work is done.
3. Poison is never deleted silently: invalid JSON, a body without ``detail``,
   without a CorrelationId, of a topic this consumer does not subscribe to, or
   larger than an EventBridge entry can be, raises PoisonMessage, so the queue's
   redrive policy parks it in the DLQ where someone can see it. (Dropping it would
   be a silent loss; processing it would be an effect for no logical event.)
"""
from __future__ import annotations

import re

from consumers import fields
from simulator.clients.api import ConsumerContext, Message

# The Genesys topic families this consumer subscribes to (detail-type, with the
# {id} placeholders Genesys leaves in).
TOPICS = re.compile(
    r"v2\.(?:"
    r"detail\.events\.conversation\.\{id\}\.[a-z]+(?:\.[a-z]+)?"  # customer.end, acd.start, acw...
    r"|conversations\.\{id\}\.transcription"
    r"|audits\.entitytype\.\{id\}\.entityid\.\{id\}"
    r"|users\.\{id\}\.(?:presence|routingStatus|activity)"
    r"|routing\.queues\.\{id\}\.conversations"
    r")"
)
MAX_EVENT_BYTES = 256 * 1024  # the PutEvents entry limit: nothing larger is a real event


class PoisonMessage(ValueError):
    """A message that is not a Genesys event this consumer handles."""


def validate(message: Message) -> tuple[dict, str]:
    """The event and its CorrelationId, or PoisonMessage saying what is wrong."""
    size = len(message.body.encode("utf-8", "surrogatepass"))
    if size > MAX_EVENT_BYTES:
        raise PoisonMessage(f"message {message.message_id}: body is {size} bytes, over {MAX_EVENT_BYTES}")
    try:
        event = message.event()
    except ValueError as exc:
        raise PoisonMessage(f"message {message.message_id}: body is not a JSON object ({exc})") from None
    if not isinstance(event.get("detail"), dict):
        raise PoisonMessage(f"message {message.message_id}: no 'detail' object")
    correlation_id = fields.correlation_id(event)
    if not isinstance(correlation_id, str) or not correlation_id:
        raise PoisonMessage(f"message {message.message_id}: no detail.metadata.CorrelationId")
    topic = event.get("detail-type")
    if not isinstance(topic, str) or not TOPICS.fullmatch(topic):
        raise PoisonMessage(f"message {message.message_id}: unknown topic {topic!r}")
    return event, correlation_id


class CorrectConsumer:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        event, correlation_id = validate(message)
        self.ctx.effect(event, idempotency_key=correlation_id)
