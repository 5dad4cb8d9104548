// The same integration behind an SQS queue (EventBridge rule -> SQS -> Lambda):
// each record is processed on its own and a failed one is reported in
// batchItemFailures, so only it comes back.
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { reportEffect } from "genesys-sim";
import { validate } from "./genesys";
import { savePresence } from "./presence";

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    try {
      const genesysEvent = validate(JSON.parse(record.body), Buffer.byteLength(record.body));
      await savePresence(genesysEvent);
      await reportEffect(genesysEvent, { idempotencyKey: genesysEvent.detail.metadata.CorrelationId });
    } catch (err) {
      console.log(`record ${record.messageId} failed: ${err}`);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
