// An EventBridge -> Lambda handler written the way the Genesys blueprints write
// theirs: TypeScript, SDK clients created at module load, configuration from the
// environment. Correct: the effect is keyed by the Genesys event, anything it does
// not handle fails the invocation (retried, then parked).
import type { EventBridgeEvent } from "aws-lambda";
import { reportEffect } from "genesys-sim";
import { validate } from "./genesys";
import { savePresence } from "./presence";

export const lambdaHandler = async (
  event: EventBridgeEvent<string, any>,
): Promise<{ statusCode: number; body: string }> => {
  const genesysEvent = validate(event, Buffer.byteLength(JSON.stringify(event)));
  await savePresence(genesysEvent);
  await reportEffect(genesysEvent, { idempotencyKey: genesysEvent.detail.metadata.CorrelationId });
  return { statusCode: 200, body: `processed ${genesysEvent.detail.topicName}` };
};
