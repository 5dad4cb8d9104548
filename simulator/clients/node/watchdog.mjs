// Worker thread of lambda.mjs's Watchdog: the main thread is blocked, so this one
// can neither answer nor exit with a status for it; it writes why, straight to
// stderr's descriptor, and kills the process, which is what Lambda does to it.
import { writeSync } from "node:fs";
import { workerData } from "node:worker_threads";

const { shared, base, limitMs } = workerData;
setInterval(() => {
  const blockedMs = Date.now() - base - Atomics.load(shared, 0);
  if (Atomics.load(shared, 1) > 0 && blockedMs > limitMs) {
    writeSync(2, `genesys-sim: the handler blocked the event loop for ${blockedMs} ms, past its `
      + "function timeout: killing the execution environment\n");
    process.kill(process.pid, "SIGKILL");
  }
}, 100);
