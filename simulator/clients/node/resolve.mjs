// Module resolution hooks (registered by runtime.mjs, run on Node's loader thread).
//
// Lambda's Node.js runtime lets a handler import the AWS SDK without bundling it;
// here a bare specifier that the handler's own folders cannot resolve is tried
// once more from the harness's node_modules, and `genesys-sim` (the effect helper)
// resolves to the copy shipped with the harness. The handler's own packages
// always win: they are tried first.

let fallbackParents = [];
let aliases = {};

export async function initialize(data) {
  fallbackParents = data.fallbackParents;
  aliases = data.aliases;
}

function isBare(specifier) {
  return !/^(?:\.{0,2}\/|[a-zA-Z][a-zA-Z+.-]*:)/.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== "ERR_MODULE_NOT_FOUND" || !isBare(specifier)) throw err;
    if (Object.hasOwn(aliases, specifier)) {
      return { url: aliases[specifier], shortCircuit: true };
    }
    for (const parentURL of fallbackParents) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // not there either: try the next folder, then report the first error
      }
    }
    throw err;
  }
}
