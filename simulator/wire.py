"""Reading identities off a message body as it travels (any body: real events,
re-publishes, poison, a Lambda invocation record wrapping one)."""
from __future__ import annotations

import orjson


def envelope_ids(body: str | bytes) -> tuple[str | None, str | None]:
    """(envelope ``id``, ``detail.metadata.CorrelationId``) of a body; None for
    whatever the body does not have (poison has neither, or only an id)."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(event, dict):
        return None, None
    if isinstance(event.get("requestContext"), dict) and "requestPayload" in event:
        # a Lambda invocation record (on-failure destination): the event it is about
        event = event["requestPayload"]
        if not isinstance(event, dict):
            return None, None
    envelope_id = event.get("id")
    detail = event.get("detail")
    metadata = detail.get("metadata") if isinstance(detail, dict) else None
    correlation_id = metadata.get("CorrelationId") if isinstance(metadata, dict) else None
    return (envelope_id if isinstance(envelope_id, str) else None,
            correlation_id if isinstance(correlation_id, str) else None)
