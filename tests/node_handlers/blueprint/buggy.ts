// The same integration with the mistakes such handlers often have, each one a
// way to lose or repeat work that ci-smoke's faults expose:
// - every error is caught and logged, so the invocation succeeds and the message
//   is deleted: a refused effect is lost, poison is dropped without a trace;
// - copies are recognised by the envelope id in a module-level Set: it forgets
//   everything when the environment is thrown away, and a Genesys re-send has a
//   new envelope id;
// - the effect carries no idempotency key.
import type { SQSEvent } from "aws-lambda";
import { createHash } from "node:crypto";
import { reportEffect } from "genesys-sim";

const seen = new Set<string>();

export const handler = async (event: SQSEvent): Promise<void> => {
  for (const record of event.Records) {
    try {
      const genesysEvent = JSON.parse(record.body);
      if (seen.has(genesysEvent.id)) continue;
      await reportEffect(genesysEvent);
      seen.add(genesysEvent.id);
    } catch (err) {
      console.log(`could not process ${record.messageId}: ${err}`);
    }
  }
};

/** True for about one event in `every`, the same in every process (tests/e2e/buggy.py's `touched`). */
export function touched(correlationId: string, every = 7): boolean {
  return Number.parseInt(createHash("sha256").update(correlationId).digest("hex").slice(0, 8), 16) % every === 0;
}

// A bug the test can count from the plan: one event in seven is acknowledged
// without its effect (a filter that matches more than it should). Poison fails
// the record, so it is parked as it should be.
export const dropsSome = async (event: SQSEvent) => {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const genesysEvent = JSON.parse(record.body);
      const correlationId: string = genesysEvent.detail.metadata.CorrelationId;
      if (!/^v2\.(detail|users|routing|conversations|audits)\./.test(genesysEvent["detail-type"])) {
        throw new Error(`unknown topic ${genesysEvent["detail-type"]}`);
      }
      if (Buffer.byteLength(record.body) > 256 * 1024) throw new Error("larger than any EventBridge event");
      if (!touched(correlationId)) await reportEffect(genesysEvent, { idempotencyKey: correlationId });
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
