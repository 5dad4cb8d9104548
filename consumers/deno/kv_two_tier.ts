// Seed 004, second handler: the same fetch handler on Deno KV, in two tiers.
// Tier 1: the envelope id, `get` before processing and `set` with a 5-minute
// `expireIn` after it (the exact-redelivery window). Tier 2: the conversation's
// stored state, the eventTime of the last event processed for it; an event not
// newer than that is answered 200 as already applied. One KV (a SQLite file in
// the run's folder) is shared by every instance, as the seed's KV is shared.
// It reads the real fields (envelope `id`, `detail.eventBody.conversationId`),
// so there is no verbatim variant. Deno KV's local (SQLite) backend removes
// expired keys in a sweep about once a real minute, so on a fast scenario clock
// the 5-minute window lasts longer in scenario time than it says.
//
// Predicts: missed events whenever a conversation's events arrive out of order
// (an older one, never applied, is skipped as stale) and for equal eventTimes;
// duplicates when copies race (get, then process, then set: not atomic), for
// copies more than 5 minutes apart, and after a crash between the effect and
// the sets; re-publishes of a conversation's latest event are caught by tier 2,
// other re-publishes (and every non-conversation event's) are processed twice.
import { eventTimeMs, processGenesysEvent, timeScale } from "./downstream.ts";

// 5 minutes on the scenario clock; Deno KV takes whole milliseconds only (a fraction throws)
const EXPIRE_IN_MS = Math.max(1, Math.round((5 * 60 * 1000) / timeScale));
const kv = await Deno.openKv(Deno.env.get("GENESYS_SIM_KV_PATH"));

export async function handler(request: Request): Promise<Response> {
  const event = await request.json();

  const seen = await kv.get(["processed", event.id]);
  if (seen.value !== null) {
    return new Response("duplicate", { status: 200 });
  }

  const conversationId = event.detail?.eventBody?.conversationId;
  const eventTime = eventTimeMs(event);
  if (conversationId) {
    const state = await kv.get<{ lastEventTime: number }>(["conversation", conversationId]);
    if (state.value && eventTime <= state.value.lastEventTime) {
      return new Response("stale", { status: 200 });
    }
  }

  await processGenesysEvent(event);

  await kv.set(["processed", event.id], true, { expireIn: EXPIRE_IN_MS });
  if (conversationId) {
    await kv.set(["conversation", conversationId], { lastEventTime: eventTime, type: event["detail-type"] });
  }
  return new Response("OK", { status: 200 });
}
