// deno run check.ts FILE EXPORT: import FILE and say, in one JSON line, whether
// EXPORT is a fetch handler. The spec check runs it before a run starts.
import { loadHandler } from "./handler.ts";

const [file, name] = Deno.args;
let answer: { ok: boolean; error?: string };
try {
  await loadHandler(file, name);
  answer = { ok: true };
} catch (error) {
  answer = { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
console.log(JSON.stringify(answer));
Deno.exit(0); // a module that keeps a timer or a server open must not hold the check
