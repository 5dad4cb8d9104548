// Consumer-side faults inside a Node.js instance, as simulator/clients/faults.py
// applies them in a Python one: crashes at a point (every n-th occurrence) and
// slow handling for a seeded fraction of invocations, and stalls after a seeded
// fraction of effects (simulator/faults/stall.py).
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { currentInvocation } from "./lambda.mjs";

export const CRASH_EXIT = 86; // a planned crash: restarted after restart_after_s
export const TIMEOUT_EXIT = 87; // past the function timeout: Lambda throws the environment away

export class FaultInjector {
  constructor({ crash = null, slow = null, stall = null, timeScale = 1, seed = 0, instance = 0 }) {
    this.crash = crash;
    this.slow = slow;
    this.stall = stall;
    this.stalls = seededRandom(`${seed}:stall:${instance}`);
    this.timeScale = timeScale;
    this.random = seededRandom(`${seed}:slow:${instance}`);
    this.counts = { after_receive: 0, after_effect: 0, mid_batch: 0 };
  }

  /** True when the point crashed and `onCrash` returned (a push host ends only
   * the invocation, see push.mjs); by default the process is gone. */
  tick(point) {
    if (!this.crash || this.crash.point !== point) return false;
    this.counts[point] += 1;
    if (this.counts[point] % this.crash.every !== 0) return false;
    this.onCrash(point);
    return true;
  }

  onCrash(_point) {
    process.exit(CRASH_EXIT); // abrupt: nothing after this runs, no delete, state gone
  }

  afterReceive(messages) {
    let crashed = false;
    for (let i = 0; i < messages; i += 1) crashed = this.tick("after_receive") || crashed;
    return crashed;
  }

  /** Settles true when the effect's invocation crashed there. */
  async afterEffect() {
    if (this.tick("after_effect")) return true;
    // After the crash point: a crash due here wins, a stall holds what is left
    // (the delete, the COMPLETED record, the answer) past the effect.
    if (this.stall && this.stalls() < this.stall.probability) {
      await sleep((this.stall.delay_s / this.timeScale) * 1000);
    }
    return false;
  }

  midBatch() {
    this.tick("mid_batch");
  }

  async beforeHandle() {
    if (this.slow && this.random() < this.slow.probability) {
      await sleep((this.slow.delay_s / this.timeScale) * 1000);
    }
  }
}

/**
 * Call `onApplied` after every effect the sink accepted (a 2xx answer to a POST to
 * `${sinkUrl}/effects`), before the handler sees the answer: that is where an
 * after_effect crash or stall happens. Effects go through fetch, the helper module's too.
 * An invocation that crashed there, or is frozen (timed out), never hears back,
 * and a frozen one's later effects never leave: its environment is gone.
 */
export function watchEffects(sinkUrl, onApplied) {
  if (!sinkUrl) return;
  const effects = `${sinkUrl.replace(/\/+$/, "")}/effects`;
  const fetch = globalThis.fetch;
  const never = () => new Promise(() => {});
  globalThis.fetch = async function fetchWatchedBySimulator(input, init) {
    const toSink = isPostTo(effects, input, init);
    if (toSink && currentInvocation()?.frozen) return never();
    const response = await fetch(input, init);
    if (response.ok && toSink && await onApplied()) return never();
    return response;
  };
}

function isPostTo(target, input, init) {
  const request = typeof Request !== "undefined" && input instanceof Request ? input : null;
  const url = request ? request.url : String(input instanceof URL ? input.href : input);
  const method = String(init?.method ?? request?.method ?? "GET").toUpperCase();
  return method === "POST" && url.split(/[?#]/)[0].replace(/\/+$/, "") === target;
}

/** sfc32 seeded from a string: the same draws for the same seed and instance. */
export function seededRandom(text) {
  const words = createHash("sha256").update(text).digest();
  let [a, b, c, d] = [0, 4, 8, 12].map((i) => words.readUInt32LE(i));
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}
