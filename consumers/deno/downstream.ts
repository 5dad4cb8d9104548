// What seed 004's handlers call "process the Genesys payload": the business
// effect, reported to the harness's downstream sink (POST $GENESYS_SIM_SINK_URL/effects,
// DESIGN.md "Effects"), plus the clock and the event fields the handlers read.

const sink = (Deno.env.get("GENESYS_SIM_SINK_URL") ?? "").replace(/\/+$/, "");
const instance = Number(Deno.env.get("GENESYS_SIM_INSTANCE") ?? "0");

/** The handlers' TTLs are real-world durations; the run's clock is faster by this. */
export const timeScale = Number(Deno.env.get("GENESYS_SIM_TIME_SCALE") ?? "1");

// deno-lint-ignore no-explicit-any
export type GenesysEvent = any;

/** Apply the event's business effect downstream; throws when the downstream
 * refuses it (the handler then fails and Deno.serve answers 500). */
export async function processGenesysEvent(event: GenesysEvent, { upsert = false } = {}): Promise<void> {
  const response = await fetch(`${sink}/effects`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event, upsert, instance }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`downstream answered HTTP ${response.status} ${text.slice(0, 200)}`);
}

/** When Genesys says the event happened, in epoch ms: eventBody.eventTime (a
 * number on detail-event topics, ISO on audit and transcription topics), else
 * detail.timestamp; NaN when there is neither. */
export function eventTimeMs(event: GenesysEvent): number {
  const value = event?.detail?.eventBody?.eventTime;
  if (typeof value === "number") return value;
  if (typeof value === "string") return Date.parse(value);
  return Date.parse(event?.detail?.timestamp);
}
