// What Lambda's Node.js runtime gives a handler before its module is loaded:
// the AWS SDK importable without bundling (here: the harness's node_modules),
// the `genesys-sim` effect helper, and the Lambda environment variables.
import Module, { register } from "node:module";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), "modules");

export function provideModules(modulesDir, { esm }) {
  // ESM imports: the resolve hooks; require() (CommonJS handlers, TypeScript
  // compiled to CommonJS): NODE_PATH, which Lambda sets too.
  if (esm) {
    register("./resolve.mjs", import.meta.url, {
      data: {
        fallbackParents: [pathToFileURL(join(dirname(modulesDir), "_.mjs")).href],
        aliases: { "genesys-sim": pathToFileURL(join(HELPERS, "genesys-sim", "index.mjs")).href },
      },
    });
  }
  const paths = [modulesDir, HELPERS, ...(process.env.NODE_PATH || "").split(delimiter)].filter(Boolean);
  process.env.NODE_PATH = paths.join(delimiter);
  Module._initPaths(); // Node reads NODE_PATH once, at start: read it again
}

export function setLambdaEnvironment({ functionName, handlerFile, exportName }) {
  const defaults = {
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: "genesys-sim",
    LAMBDA_TASK_ROOT: dirname(resolve(handlerFile)),
    _HANDLER: `${basename(handlerFile).replace(/\.[^.]+$/, "")}.${exportName}`,
  };
  for (const [name, value] of Object.entries(defaults)) {
    if (process.env[name] === undefined) process.env[name] = value;
  }
}
