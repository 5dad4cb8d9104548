"""Strategy: Powertools' ``@idempotent_function`` on a plain function, outside a
Lambda handler (an SQS worker, a helper called from a handler that never calls
``config.register_lambda_context``), with the Redis persistence layer
(``CachePersistenceLayer``), keyed on the event's CorrelationId. A ``python:``
class for the harness's poll loop: ``python:consumers.powertools_function:Consumer``.

Without a registered Lambda context the INPROGRESS record has no in-progress
expiry. Powertools releases up to 3.34.0 read such a record, found while another
execution still runs, as an orphan and take it over: both executions apply the
effect (aws-powertools/powertools-lambda-python#8386, fixed by #8387 in 3.35.0,
which keeps it locked until the record expires). Run it with ``--python`` on a
virtual environment holding the old release (``python -m simulator.clients.venvs``)
to see the duplicates, and with the harness's own Powertools to see them gone.

A copy found in progress raises (IdempotencyAlreadyInProgressError): the
message is left on the queue and comes back once the first execution completed.
"""
from __future__ import annotations

import math

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.cache import CachePersistenceLayer

from simulator.clients.api import ConsumerContext, Message

EXPIRES_S = 3600  # Powertools' default expires_after_seconds (scenario time)


class Consumer:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx
        config = IdempotencyConfig(event_key_jmespath="detail.metadata.CorrelationId",
                                   expires_after_seconds=max(1, math.ceil(ctx.ttl(EXPIRES_S))))
        persistence = CachePersistenceLayer(client=ctx.redis())

        # key_prefix: each run's records apart in the shared Redis (the function name's job in Lambda)
        @idempotent_function(data_keyword_argument="event", config=config,
                             persistence_store=persistence, key_prefix=ctx.key("powertools"))
        def apply(event: dict) -> dict:
            ctx.effect(event)
            return {"applied": event["detail"]["metadata"]["CorrelationId"]}

        self._apply = apply

    def handle(self, message: Message) -> None:
        self._apply(event=message.event())
