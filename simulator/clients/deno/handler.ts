// What a deno: consumer exports, and how the host finds it (shared by host.ts and check.ts).

export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** The export's fetch handler: the export itself when it is a function, else its
 * `fetch` method (as `export default { fetch }` and `Deno.serve` take it). */
export function fetchHandler(exported: unknown): FetchHandler | string {
  if (typeof exported === "function") return exported as FetchHandler;
  if (exported !== null && typeof exported === "object") {
    const fetch = (exported as { fetch?: unknown }).fetch;
    if (typeof fetch === "function") return (fetch as FetchHandler).bind(exported);
    return "is an object without a fetch method";
  }
  return exported === undefined ? "is not exported" : `is a ${typeof exported}, not a function or { fetch }`;
}

export async function loadHandler(file: string, name: string): Promise<FetchHandler> {
  const module = await import(new URL(`file://${file}`).href);
  const handler = fetchHandler(module[name]);
  if (typeof handler === "string") {
    const known = Object.keys(module).join(", ") || "nothing";
    throw new TypeError(`${name} ${handler} (the module exports: ${known})`);
  }
  return handler;
}
