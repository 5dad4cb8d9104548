"""Strategy: AWS Lambda Powertools idempotency, the way its documentation wires it
to an SQS event source: ``BatchProcessor`` + ``process_partial_response`` for
``batchItemFailures``, and ``@idempotent_function`` on the record handler with a
``DynamoDBPersistenceLayer`` (here: a table on the run's backend, moto or
LocalStack, created on first use).

Powertools writes an INPROGRESS record before running the handler, turns it into
COMPLETED after, and deletes it when the handler raises; a record still
INPROGRESS (the process crashed) makes every retry fail with
``IdempotencyAlreadyInProgressError`` until it expires: that is Powertools'
behaviour and it is kept.

The verbatim variant keys on ``messageId``, as the documentation's batch example
does: that is the id of one SQS message, and every EventBridge retry, duplicate
delivery or producer re-publish is a new SQS message. The adapted variant keys on
``powertools_json(body).detail.metadata.CorrelationId``.

Predicts (verbatim): duplicates for every copy that is a new SQS message. Adapted:
none from copies; after a crash between effect and COMPLETED, the record is
retried only once its in-progress expiry passed (then applied again: a duplicate)
or goes to the DLQ if the queue gives up first.
"""
from __future__ import annotations

import math
from typing import Any

import orjson
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from consumers.support import Handler, namespace, per_process
from simulator.clients.api import ConsumerContext

TABLE = "genesys-sim-idempotency"
EXPIRES_S = 3600  # Powertools' default expires_after_seconds
VERBATIM_KEY = "messageId"
ADAPTED_KEY = "powertools_json(body).detail.metadata.CorrelationId"


def ensure_table(client: Any, name: str = TABLE) -> None:
    """Create the idempotency table (key ``id``, TTL on ``expiration``, as in the
    Powertools docs) unless it exists. Instances starting together race to create
    it: the losers get ResourceInUseException and wait for it like the winner."""
    try:
        client.describe_table(TableName=name)
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    try:
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        created = True
    except client.exceptions.ResourceInUseException:
        created = False
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    if created:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
        )


def idempotent_batch_handler(ctx: ConsumerContext, persistence: BasePersistenceLayer, *,
                             event_key_jmespath: str = ADAPTED_KEY) -> Handler:
    """The documented SQS wiring around any persistence layer: one
    ``idempotent_function`` record handler, ``BatchProcessor`` for batchItemFailures."""
    config = IdempotencyConfig(
        event_key_jmespath=event_key_jmespath,
        expires_after_seconds=max(1, math.ceil(ctx.ttl(EXPIRES_S))),
    )

    # key_prefix keeps each consumer's (and run's) records apart in the shared store,
    # the job the Lambda function name does in production.
    @idempotent_function(data_keyword_argument="record", config=config,
                         persistence_store=persistence, key_prefix=namespace(ctx))
    def record_handler(record: SQSRecord) -> None:
        ctx.effect(orjson.loads(record.body))

    processor = BatchProcessor(event_type=EventType.SQS)

    def handler(event: dict, context: Any = None) -> dict:
        if callable(getattr(context, "get_remaining_time_in_millis", None)):
            # lets Powertools expire an INPROGRESS record when the invocation times out
            config.register_lambda_context(context)
        return process_partial_response(event=event, record_handler=record_handler,
                                        processor=processor, context=context)

    return handler


def make_handler(ctx: ConsumerContext, *, event_key_jmespath: str = ADAPTED_KEY) -> Handler:
    client = ctx.client("dynamodb")
    ensure_table(client)
    persistence = DynamoDBPersistenceLayer(table_name=TABLE, boto3_client=client)
    return idempotent_batch_handler(ctx, persistence, event_key_jmespath=event_key_jmespath)


def make_verbatim_handler(ctx: ConsumerContext) -> Handler:
    return make_handler(ctx, event_key_jmespath=VERBATIM_KEY)


handler = per_process(make_handler)
verbatim_handler = per_process(make_verbatim_handler)
