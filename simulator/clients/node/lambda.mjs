// One invocation of a handler as Lambda's Node.js runtime makes it: the handler
// gets (event, context, callback); a returned promise settles the invocation, or
// the first of callback / context.done / succeed / fail. Lambda answers a callback
// only once the event loop is empty (unless context.callbackWaitsForEmptyEventLoop
// is set false), and answers null for a function that is not async and returns
// without calling back, again once the loop is empty. This process never idles
// (it serves or polls), so "empty" is the work the invocation itself started:
// its timers, sockets and file requests, followed through async_hooks.
import { AsyncLocalStorage, AsyncResource, createHook } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

// The context's deadline when no function timeout is set (Python's LambdaContext has the same).
const DEFAULT_TIMEOUT_S = 30;

// The invocation the running code belongs to: the instance runs several at once,
// each standing for an execution environment of its own, so a crash or a timeout
// ends only its own, and what a frozen one does afterwards must go nowhere.
const invocations = new AsyncLocalStorage();

/** {requestId, frozen, crash()} of the invocation this code runs in, or undefined. */
export function currentInvocation() {
  return invocations.getStore();
}

export class LambdaRuntime {
  constructor({ functionName, region, timeoutS = null }) {
    this.functionName = functionName;
    this.region = region;
    this.timeoutS = timeoutS;
    this.watchdog = timeoutS == null ? null : new Watchdog(timeoutS * 1000);
  }

  /** Settles with {result}, {error}, {timedOut} or {crashed} (each with the
   * requestId); never rejects. */
  async invoke(handler, event) {
    this.watchdog?.enter();
    try {
      return await this.#invoke(handler, event);
    } finally {
      this.watchdog?.leave();
    }
  }

  #invoke(handler, event) {
    const budgetMs = (this.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000;
    const deadline = Date.now() + budgetMs;
    // Lambda tells an async function from the others by its kind, not its answer.
    const work = handler.constructor?.name === "AsyncFunction" ? null : new InvocationWork();
    return new Promise((settle) => {
      let timer = null;
      let finished = false;
      const scope = { requestId: randomUUID(), frozen: false, crash: () => finish({ crashed: true }) };
      const finish = (outcome) => {
        if (finished) return; // only the first answer counts, as in Lambda
        finished = true;
        if (timer) clearTimeout(timer);
        work?.stop();
        // Lambda throws a timed-out or crashed environment away: nothing it would
        // still do happens
        scope.frozen = Boolean(outcome.timedOut || outcome.crashed);
        settle({ ...outcome, requestId: scope.requestId });
      };
      let answered = false; // callback, done, succeed and fail share one first call
      const first = (fn) => (...args) => {
        if (!answered) {
          answered = true;
          fn(...args);
        }
      };
      let waits = true;
      let atIdle = { result: null }; // Lambda's answer when the loop empties; a callback replaces it
      const callback = first((err, result) => {
        if (err != null) {
          finish({ error: err });
        } else if (work && waits) {
          atIdle = { result: result ?? null };
          work.idle().then(() => finish(atIdle));
        } else {
          finish({ result: result ?? null });
        }
      });
      const done = first((err, result) => finish(err != null ? { error: err } : { result: result ?? null }));
      const context = this.#context(deadline, scope.requestId, {
        waits: () => waits,
        setWaits: (value) => { waits = Boolean(value); },
        done,
      });
      if (this.timeoutS != null) timer = setTimeout(() => finish({ timedOut: true }), budgetMs);
      let returned;
      try {
        returned = invocations.run(scope, () => (work
          ? work.run(() => handler(event, context, callback))
          : handler(event, context, callback)));
      } catch (err) {
        callback(err); // as Lambda does: even a thrown undefined
        return;
      }
      if (returned && typeof returned.then === "function") {
        Promise.resolve(returned).then(
          (result) => context.succeed(result),
          (err) => context.fail(err));
      } else if (work) {
        if (returned !== undefined) {
          console.warn("genesys-sim: the handler is not async and returned a value: Lambda ignores "
            + "it (make the handler async, or call the callback)");
        }
        work.idle().then(() => finish(atIdle));
      }
    });
  }

  #context(deadline, requestId, { waits, setWaits, done }) {
    const name = this.functionName;
    return {
      get callbackWaitsForEmptyEventLoop() { return waits(); },
      set callbackWaitsForEmptyEventLoop(value) { setWaits(value); },
      functionName: name,
      functionVersion: "$LATEST",
      invokedFunctionArn: `arn:aws:lambda:${this.region}:000000000000:function:${name}`,
      memoryLimitInMB: "128",
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: "genesys-sim",
      identity: undefined,
      clientContext: undefined,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done,
      succeed: (result) => done(null, result),
      fail: (err) => done(err ?? "handled"),
    };
  }
}

// libuv handles and requests: what keeps an event loop from being empty (promises,
// ticks and the http module's bookkeeping objects do not).
const KEEPS_LOOP_ALIVE = /^(?:Timeout|Immediate|FSREQ\w*|FILEHANDLE\w*|ZLIB|\w+WRAP)$/;

/** The async work one call started, directly or through what it started. */
class InvocationWork {
  constructor() {
    this.family = new Set();
    this.live = new Map();
    this.waiters = [];
    this.hook = createHook({
      init: (id, type, trigger, resource) => {
        if (!this.family.has(trigger)) return;
        this.family.add(id);
        if (KEEPS_LOOP_ALIVE.test(type)) this.live.set(id, resource);
      },
      destroy: (id) => { this.live.delete(id); },
    });
    // created outside the invocation's scope, so it is not part of its work
    this.poll = setInterval(() => this.#check(), 5);
  }

  run(fn) {
    const scope = new AsyncResource("genesys-sim:invocation");
    this.family.add(scope.asyncId());
    this.hook.enable();
    return scope.runInAsyncScope(fn);
  }

  idle() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  #check() {
    if (!this.waiters.length) return;
    for (const resource of this.live.values()) {
      if (typeof resource?.hasRef !== "function" || resource.hasRef()) return; // still holds the loop
    }
    this.waiters.splice(0).forEach((resolve) => resolve());
  }

  stop() {
    this.hook.disable();
    clearInterval(this.poll);
  }
}

/** The body Lambda reports for a failed invocation. */
export function errorBody(err) {
  if (err instanceof Error) {
    return { errorType: err.name, errorMessage: err.message, trace: String(err.stack || "").split("\n") };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

/** The body Lambda reports for an invocation whose runtime exited under it. */
export function exitBody(requestId, code) {
  return { errorType: "Runtime.ExitError",
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}` };
}

export function timeoutBody(timeoutS) {
  return { errorType: "Sandbox.Timedout", errorMessage: `Task timed out after ${timeoutS.toFixed(2)} seconds` };
}

/**
 * A handler that blocks the event loop (a busy loop) never lets the timeout timer
 * fire; a worker thread watches the loop's heartbeat and ends the process when an
 * invocation has held it past the function timeout (plus a grace second).
 */
class Watchdog {
  constructor(timeoutMs) {
    this.shared = new Int32Array(new SharedArrayBuffer(8)); // [0] heartbeat (ms), [1] invocations running
    this.base = Date.now();
    const beat = () => Atomics.store(this.shared, 0, Date.now() - this.base);
    beat();
    setInterval(beat, 100).unref();
    const worker = new Worker(fileURLToPath(new URL("./watchdog.mjs", import.meta.url)), {
      workerData: { shared: this.shared, base: this.base, limitMs: timeoutMs + 1000 },
    });
    worker.unref();
  }

  enter() { Atomics.add(this.shared, 1, 1); }

  leave() { Atomics.sub(this.shared, 1, 1); }
}
