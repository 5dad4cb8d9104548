// lambda-eb: the instance serves HTTP and the harness's EventBridge target
// invoker POSTs each event to it (simulator/clients/push.py does the same for
// Python handlers): 200 with the handler's result, 500 with Lambda's error body
// (the invoker retries). The instance runs several invocations at once, each
// standing for an execution environment of its own, so what ends one environment
// ends only its invocation: past the function timeout it answers 500
// Sandbox.Timedout, at a planned crash 500 Runtime.ExitError; then the instance
// takes no more (503 ServiceUnavailableException: the invoker waits for a new
// environment), lets its other invocations finish and exits (TIMEOUT_EXIT or
// CRASH_EXIT), and the supervisor starts a fresh one.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { CRASH_EXIT, TIMEOUT_EXIT } from "./faults.mjs";
import { currentInvocation, errorBody, exitBody, timeoutBody } from "./lambda.mjs";
import { describeError, log } from "./log.mjs";

const EXIT_GRACE_MS = 50;

/** `handler`: a promise of the handler function (it may still be loading). */
export function serve({ port, handler, runtime, faults, receipts }) {
  const environment = new Environment();
  // A crash ends the invocation it happens in, not the process (see Environment);
  // answer() ends the one that crashes on receipt. An effect made outside any
  // invocation (module code) has only the process to crash.
  faults.onCrash = (point) => {
    if (point === "after_receive") return;
    const invocation = currentInvocation();
    if (invocation) invocation.crash();
    else process.exit(CRASH_EXIT);
  };
  const server = createServer((request, response) => {
    answer(request, response, { handler, runtime, faults, receipts, environment }).catch((err) => {
      log(`answering failed: ${describeError(err)}`);
      response.destroy();
    });
  });
  server.listen(port, "127.0.0.1");
  return server;
}

async function answer(request, response, { handler, runtime, faults, receipts, environment }) {
  if (request.method !== "POST") {
    send(response, 405, { error: "POST an EventBridge event" });
    return;
  }
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString("utf8");
  receipts.received([[null, body, 1]]);
  if (!environment.enter()) { // this environment is gone: Lambda would use another
    send(response, 503, { errorType: "ServiceUnavailableException",
      errorMessage: "the execution environment is being replaced" }, () => environment.leave());
    return;
  }
  let lost = null;
  let status;
  let reply;
  try {
    if (faults.afterReceive(1)) {
      [lost, status, reply] = crashed(randomUUID());
    } else {
      await faults.beforeHandle();
      [lost, status, reply] = await invoke(runtime, await handler, body);
    }
  } catch (err) {
    log(`answering failed: ${describeError(err)}`);
    [status, reply] = [500, errorBody(err)];
  }
  send(response, status, reply, () => environment.leave(lost));
}

/** [exit status of an environment it ended, HTTP status, body] of one invocation. */
async function invoke(runtime, handler, body) {
  let event;
  try {
    event = JSON.parse(body);
  } catch (err) {
    return [null, 500, errorBody(err)];
  }
  const outcome = await runtime.invoke(handler, event);
  if (outcome.timedOut) {
    log(`handler timed out after ${runtime.timeoutS} s; the execution environment is thrown away`);
    return [TIMEOUT_EXIT, 500, timeoutBody(runtime.timeoutS)];
  }
  if (outcome.crashed) return crashed(outcome.requestId);
  if ("error" in outcome) {
    log(`handler failed: ${describeError(outcome.error)}`);
    return [null, 500, errorBody(outcome.error)];
  }
  try {
    return [null, 200, JSON.stringify(outcome.result ?? {})];
  } catch (err) {
    return [null, 500, { errorType: "Runtime.MarshalError", errorMessage: describeError(err) }];
  }
}

function crashed(requestId) {
  log(`planned crash of the execution environment (RequestId ${requestId})`);
  return [CRASH_EXIT, 500, exitBody(requestId, CRASH_EXIT)];
}

/**
 * The invocations in flight in this instance, and whether it is being thrown away
 * (after a timeout or a crash): then it takes no more, and the process exits, with
 * the status that says why, once the others have answered.
 */
class Environment {
  running = 0; // requests not yet answered
  lost = null; // the exit status, once lost

  /** A request arrived: true when it may run here. */
  enter() {
    this.running += 1;
    return this.lost === null;
  }

  leave(lost = null) {
    this.running -= 1;
    if (this.lost === null) this.lost = lost;
    if (this.lost !== null && this.running === 0) {
      // requests already on their way in get their 503 too: exit once none has
      // arrived for a moment
      setTimeout(() => {
        if (this.running === 0) process.exit(this.lost);
      }, EXIT_GRACE_MS);
    }
  }
}

/** `then` runs once the answer is out, or the caller has gone. */
function send(response, status, body, then) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  if (then) response.once("close", then);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
