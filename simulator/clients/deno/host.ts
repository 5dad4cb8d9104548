// One instance of a deno:FILE[:EXPORT] consumer: the Deno counterpart of
// `python -m simulator.clients.host` for wsgi:. It serves the user's fetch
// handler with Deno.serve on 127.0.0.1:listen_port, where the harness's
// EventBridge target invoker POSTs each event, and keeps the host contract
// (simulator/clients/host.py HostConfig): receipts, crash, slow and stall faults, and
// the lifeline. launch.py starts it with the permissions and clock offset.
import { loadHandler } from "./handler.ts";

interface HostConfig {
  kind: string;
  target: string; // FILE:EXPORT, FILE absolute
  seed: number;
  listen_port: number;
  receipts_path: string | null;
  t0: number;
  crash: { point: string; every: number; restart_after_s: number } | null;
  slow: { probability: number; delay_s: number } | null;
  stall: { probability: number; delay_s: number } | null;
}

const CRASH_EXIT = 86; // simulator/clients/faults.py: a planned crash, restarted by the supervisor

const cfg: HostConfig = JSON.parse(Deno.env.get("GENESYS_SIM_HOST") ?? "{}");
const consumer = Deno.env.get("GENESYS_SIM_CONSUMER") ?? "consumer";
const instance = Number(Deno.env.get("GENESYS_SIM_INSTANCE") ?? "0");
const timeScale = Number(Deno.env.get("GENESYS_SIM_TIME_SCALE") ?? "1");
const sinkUrl = (Deno.env.get("GENESYS_SIM_SINK_URL") ?? "").replace(/\/+$/, "");

// ---- the lifeline: the harness holds our stdin; end-of-file means it is gone ----
(async () => {
  const buffer = new Uint8Array(4096);
  try {
    while ((await Deno.stdin.read(buffer)) !== null) { /* nothing is ever sent */ }
  } catch { /* closed under us: same thing */ }
  Deno.exit(0);
})();

// ---- the ledger's clock: CLOCK_MONOTONIC, as Python's time.monotonic() ----
// performance.now() counts from this process's start; timeOrigin is the wall
// clock at that start. launch.py measured wall - monotonic just before exec, so
// timeOrigin + now() - that offset is the system-wide monotonic clock, in ms.
const wallMinusMonotonic = Number(Deno.env.get("GENESYS_SIM_DENO_WALL_MINUS_MONOTONIC") ?? "NaN");
export function monotonic(): number {
  return (performance.timeOrigin + performance.now()) / 1000 - wallMinusMonotonic;
}

// ---- receipts: one JSON line per received event (simulator.model.Receive) ----
const receipts = cfg.receipts_path
  ? Deno.openSync(cfg.receipts_path, { append: true, create: true })
  : null;
const encoder = new TextEncoder();

function ids(body: string): [string | null, string | null] {
  try {
    const event = JSON.parse(body);
    if (event === null || typeof event !== "object" || Array.isArray(event)) return [null, null];
    const cid = event.detail?.metadata?.CorrelationId;
    return [typeof event.id === "string" ? event.id : null, typeof cid === "string" ? cid : null];
  } catch {
    return [null, null];
  }
}

function received(body: string): void {
  if (!receipts) return;
  const [envelope_id, correlation_id] = ids(body);
  const line = JSON.stringify({
    consumer, instance, at: monotonic() - cfg.t0, message_id: null,
    envelope_id, correlation_id, receive_count: 1,
  });
  receipts.writeSync(encoder.encode(line + "\n")); // written before anything can crash
}

// ---- consumer-side faults (simulator/clients/faults.py) ----
const counts: Record<string, number> = { after_receive: 0, after_effect: 0 };

function tick(point: string): void {
  if (!cfg.crash || cfg.crash.point !== point) return;
  counts[point] += 1;
  if (counts[point] % cfg.crash.every === 0) Deno.exit(CRASH_EXIT); // abrupt: in-memory state gone
}

// Seeded per (seed, instance) like the Python host's random.Random(f"{seed}:slow:{instance}");
// the draws are Deno's own (mulberry32 over a string hash), reproducible per seed.
function seeded(text: string): () => number {
  let h = 1779033703 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let state = h >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const slowDraw = seeded(`${cfg.seed}:slow:${instance}`);
const stallDraw = seeded(`${cfg.seed}:stall:${instance}`);

const sleep = (scenarioS: number) => new Promise((resolve) => setTimeout(resolve, (scenarioS / timeScale) * 1000));

async function beforeHandle(): Promise<void> {
  if (cfg.slow && slowDraw() < cfg.slow.probability) await sleep(cfg.slow.delay_s);
}

// An effect is a POST to $GENESYS_SIM_SINK_URL/effects: a crash planned "after
// the effect" happens once the sink has answered 2xx, whoever made the call; a
// stall (simulator/faults/stall.py) holds the handler there, after the crash point.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const response = await realFetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
  if (method === "POST" && sinkUrl && url.startsWith(`${sinkUrl}/effects`) && response.ok) {
    tick("after_effect");
    if (cfg.stall && stallDraw() < cfg.stall.probability) await sleep(cfg.stall.delay_s);
  }
  return response;
};

// ---- the user's handler, served ----
const split = cfg.target.lastIndexOf(":");
const handler = await loadHandler(cfg.target.slice(0, split), cfg.target.slice(split + 1));

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: cfg.listen_port,
  onListen: () => {}, // no banner in the instance log
}, async (request: Request): Promise<Response> => {
  if (request.method !== "POST") return handler(request);
  const body = await request.text();
  received(body);
  tick("after_receive");
  await beforeHandle();
  return handler(new Request(request.url, { method: "POST", headers: request.headers, body }));
});

Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  Deno.exit(0);
});
