// `node check.mjs --modules DIR FILE:EXPORT`: load the handler as the host would
// and print one verdict line (the module's own output may come first).
import { parseArgs } from "node:util";
import { HandlerError, loadHandler } from "./load.mjs";

const MARK = "genesys-sim-check ";
const { values, positionals } = parseArgs({ options: { modules: { type: "string" } }, allowPositionals: true });
let verdict;
try {
  await loadHandler(positionals[0], values.modules);
  verdict = { ok: true };
} catch (err) {
  verdict = { ok: false, error: err instanceof HandlerError ? err.message : `${err?.name}: ${err?.message}` };
}
process.stdout.write(`\n${MARK}${JSON.stringify(verdict)}\n`, () => process.exit(verdict.ok ? 0 : 1));
