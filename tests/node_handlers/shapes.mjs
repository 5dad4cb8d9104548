// ES module, async handlers: what a handler is given and what becomes of its answer.
import { setTimeout as sleep } from "node:timers/promises";
import { reportEffect } from "genesys-sim";

const fields = (context) => ({
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  awsRequestId: context.awsRequestId,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  env: {
    AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME,
    LAMBDA_TASK_ROOT: process.env.LAMBDA_TASK_ROOT,
    _HANDLER: process.env._HANDLER,
  },
});

export const echo = async (event, context) => {
  const first = context.getRemainingTimeInMillis();
  await sleep(150);
  return { event, context: fields(context), remaining: [first, context.getRemainingTimeInMillis()] };
};

export class ValidationError extends Error {
  name = "ValidationError";
}

export const fails = async () => {
  throw new ValidationError("no CorrelationId");
};

export const rejectsWithString = () => Promise.reject("plain string");

export const notAsync = (event) => ({ ignored: event.id }); // Lambda ignores this value

export const sleeps = async (event) => {
  await sleep(event.sleep_ms);
  return { slept: event.sleep_ms };
};

export const spins = (event) => { // blocks the event loop: no timer can fire
  const end = Date.now() + event.spin_ms;
  while (Date.now() < end) { /* busy */ }
  return {};
};

export const effectByFetch = async (event) => {
  const response = await fetch(`${process.env.GENESYS_SIM_SINK_URL}/effects`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event, idempotency_key: event.detail.metadata.CorrelationId }),
  });
  return { status: response.status };
};

export const effectByHelper = async (event) => {
  await reportEffect(event, { idempotencyKey: event.detail.metadata.CorrelationId });
  return { reported: true };
};

export const sleepsThenEffect = async (event) => {
  await sleep(event.sleep_ms);
  await reportEffect(event, { idempotencyKey: event.detail.metadata.CorrelationId });
  return { reported: true };
};

export const config = { not: "a function" };

// An SQS batch as the handler sees it, written where the test reads it.
export const keepsBatch = async (event) => {
  const { appendFileSync } = await import("node:fs");
  appendFileSync(process.env.GENESYS_SIM_TEST_BATCHES, `${JSON.stringify(event)}\n`);
  return { batchItemFailures: [] };
};
