// Seed 004, third handler: latest-timestamp-wins per interaction in a Map held
// by the isolate: skip an event whose eventTime is not newer than the newest one
// applied for its interaction, otherwise write the interaction's state (an
// upsert, scored by the final-state probe) and remember its time. It reads the
// real fields (`detail.eventBody.conversationId`, else the concrete
// `detail.topicName`; eventBody.eventTime, else detail.timestamp), so there is
// no verbatim variant.
//
// Predicts: missed events whenever an interaction's events arrive out of order
// or its producers' clocks disagree (older ones skipped though never applied),
// and for equal eventTimes; stale state when the skipped event was the true
// last one; duplicates after every restart and across instances (one Map each).
import { eventTimeMs, processGenesysEvent } from "./downstream.ts";

const latestByInteraction = new Map<string, number>();

export async function handler(request: Request): Promise<Response> {
  const event = await request.json();
  const interaction = event.detail?.eventBody?.conversationId ?? event.detail?.topicName;
  const eventTime = eventTimeMs(event);

  const latest = latestByInteraction.get(interaction);
  if (latest !== undefined && eventTime <= latest) {
    return new Response("stale", { status: 200 });
  }
  await processGenesysEvent(event, { upsert: true });
  latestByInteraction.set(interaction, eventTime);
  return new Response("OK", { status: 200 });
}
