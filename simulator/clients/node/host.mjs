// Entry point of one Node.js consumer instance: `node host.mjs --modules DIR`,
// started by the supervisor exactly as it starts the Python host
// (simulator/clients/host.py), with the same environment and GENESYS_SIM_HOST
// configuration. It runs a lambda-sqs: or lambda-eb: handler as Lambda's Node.js
// runtime would. DIR is the harness's node_modules (the AWS SDK, tsx).
import { once } from "node:events";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { FaultInjector, watchEffects } from "./faults.mjs";
import { LambdaRuntime } from "./lambda.mjs";
import { loadHandler, splitTarget } from "./load.mjs";
import { describeError, log } from "./log.mjs";
import { ReceiptLog } from "./receipts.mjs";
import { setLambdaEnvironment } from "./runtime.mjs";

// The lifeline: the harness holds the other end of stdin; when it is gone, however
// it went, so are we.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

const { values } = parseArgs({ options: { modules: { type: "string" } } });
const env = process.env;
const cfg = JSON.parse(env.GENESYS_SIM_HOST);
const consumer = env.GENESYS_SIM_CONSUMER || "consumer";
const instance = Number.parseInt(env.GENESYS_SIM_INSTANCE || "0", 10);
const region = env.AWS_REGION || "us-east-1";

const [file, exportName] = splitTarget(cfg.target);
setLambdaEnvironment({ functionName: consumer, handlerFile: file, exportName });
const faults = new FaultInjector({
  crash: cfg.crash, slow: cfg.slow, stall: cfg.stall, timeScale: Number(env.GENESYS_SIM_TIME_SCALE || "1"),
  seed: cfg.seed, instance,
});
watchEffects(env.GENESYS_SIM_SINK_URL, () => faults.afterEffect());
const receipts = new ReceiptLog(cfg.receipts_path, { consumer, instance, t0: cfg.t0 });
const runtime = new LambdaRuntime({ functionName: consumer, region, timeoutS: cfg.function_timeout_s ?? null });

function ready() {
  log(`${cfg.kind} ${cfg.target} ready after a ${Math.round(process.uptime() * 1000)} ms cold start`);
}

/** The cold start: the handler's module and its module-level code. */
function load() {
  return loadHandler(cfg.target, values.modules).catch((err) => {
    log(`cannot load the handler: ${describeError(err)}`);
    process.exit(1);
  });
}

if (cfg.kind === "lambda-sqs") {
  const handler = await load();
  const { PollLoop } = await import("./poll.mjs");
  const sdk = createRequire(join(dirname(values.modules), "_.js"))("@aws-sdk/client-sqs");
  const loop = new PollLoop({
    sdk, queueUrl: env.QUEUE_URL, queueArn: cfg.queue_arn, region, endpoint: env.AWS_ENDPOINT_URL,
    batchSize: cfg.batch_size, waitTimeS: cfg.wait_time_s, faults, receipts, runtime, handler,
  });
  process.on("SIGTERM", () => loop.stop()); // finish the batch in hand, then stop
  ready();
  await loop.run();
  process.exit(0);
} else if (cfg.kind === "lambda-eb") {
  // Listening before the module is loaded: as with Lambda, an event that arrives
  // during the cold start waits for it (it is not refused).
  const { serve } = await import("./push.mjs");
  let loaded;
  const handler = new Promise((resolve) => { loaded = resolve; });
  const server = serve({ port: cfg.listen_port, handler, runtime, faults, receipts });
  process.on("SIGTERM", () => {
    server.close();
    process.exit(0);
  });
  await once(server, "listening");
  loaded(await load());
  ready();
} else {
  log(`kind ${JSON.stringify(cfg.kind)} is not hosted by the Node.js host`);
  process.exit(2);
}
