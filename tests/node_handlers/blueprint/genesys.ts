// What a Genesys Cloud EventBridge event is, for this integration: the topics it
// subscribes to, and the checks that keep anything else out (it is parked, not
// processed: a thrown error fails the invocation, and the retries end in a DLQ).
export interface GenesysEvent {
  id: string;
  "detail-type": string;
  detail: {
    topicName: string;
    eventBody: Record<string, any>;
    metadata: { CorrelationId: string };
    timestamp: string;
  };
}

const TOPICS = new RegExp(
  "^v2\\.(?:detail\\.events\\.conversation\\.\\{id\\}\\.[a-z]+(?:\\.[a-z]+)?"
  + "|conversations\\.\\{id\\}\\.transcription"
  + "|audits\\.entitytype\\.\\{id\\}\\.entityid\\.\\{id\\}"
  + "|users\\.\\{id\\}\\.(?:presence|routingStatus|activity)"
  + "|routing\\.queues\\.\\{id\\}\\.conversations)$",
);
const MAX_EVENT_BYTES = 256 * 1024; // no EventBridge entry is larger

export class UnsupportedEvent extends Error {
  name = "UnsupportedEvent";
}

export function validate(event: any, size: number): GenesysEvent {
  if (size > MAX_EVENT_BYTES) throw new UnsupportedEvent(`event of ${size} bytes`);
  if (typeof event?.detail !== "object" || event.detail === null) throw new UnsupportedEvent("no detail");
  const correlationId = event.detail.metadata?.CorrelationId;
  if (typeof correlationId !== "string" || !correlationId) throw new UnsupportedEvent("no CorrelationId");
  if (!TOPICS.test(event["detail-type"] ?? "")) throw new UnsupportedEvent(`topic ${event["detail-type"]}`);
  return event as GenesysEvent;
}
