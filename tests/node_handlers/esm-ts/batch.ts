// TypeScript compiled as an ES module (package.json "type": "module"), with a
// top-level await: each record's body says what to do with it.
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { SQSClient } from "@aws-sdk/client-sqs";
import { reportEffect } from "genesys-sim";

const sqs = new SQSClient({}); // region and endpoint from the environment
const region: string = await sqs.config.region();

type Order = { do: "ok" | "fail-item" | "throw" | "unknown-id"; id: string };

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    const order = JSON.parse(record.body) as Order;
    if (order.do === "throw") throw new Error(`record ${order.id} throws (region ${region})`);
    if (order.do === "fail-item") batchItemFailures.push({ itemIdentifier: record.messageId });
    if (order.do === "unknown-id") batchItemFailures.push({ itemIdentifier: "no-such-message" });
    if (order.do === "ok") await reportEffect(null, { correlationId: order.id, idempotencyKey: order.id });
  }
  return { batchItemFailures };
};
