// Seed 004, first handler: a Deno fetch handler (EventBridge API destination)
// keeping an in-memory Set of the envelope ids it has seen. As the seed writes
// it: check the Set, answer 200 "duplicate" on a hit, add the id, then process.
// The seed itself says the Set is "for testing" and to be replaced in
// production; this is the code as it stands. It reads the real envelope `id`,
// so there is no verbatim variant.
//
// Predicts: the id is added before processing, so an event whose downstream
// call fails (500, EventBridge retries) is answered "duplicate" on its retry:
// missed. Duplicates across instances (one Set each), after every restart (the
// Set dies with the isolate) and for re-publishes (new envelope id). The Set
// grows forever.
import { processGenesysEvent } from "./downstream.ts";

const processedIds = new Set<string>();

export async function handler(request: Request): Promise<Response> {
  const event = await request.json(); // invalid JSON: the handler throws, 500
  if (processedIds.has(event.id)) {
    return new Response("duplicate", { status: 200 });
  }
  processedIds.add(event.id); // marked as processed before it is
  await processGenesysEvent(event);
  return new Response("OK", { status: 200 });
}
