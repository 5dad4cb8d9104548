// Loading the user's handler as Lambda's Node.js runtime does: a CommonJS file is
// required, an ES module imported (by extension, then the nearest package.json's
// "type"), and the export looked up on it. TypeScript goes through tsx, whose
// CommonJS or ES module hooks are registered for the format the file has (only an
// ES module pays for Node's module hooks thread).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { provideModules } from "./runtime.mjs";

const TYPESCRIPT = /\.[cm]?ts$/;

/** The user's file or export is wrong: bad input, named with file and export. */
export class HandlerError extends Error {}

export function splitTarget(target) {
  const at = target.lastIndexOf(":");
  return [target.slice(0, at), target.slice(at + 1)];
}

/** "module" or "commonjs", as Node decides for the file. */
export function moduleFormat(path) {
  if (/\.m[jt]s$/.test(path)) return "module";
  if (/\.c[jt]s$/.test(path)) return "commonjs";
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        return JSON.parse(readFileSync(manifest, "utf8")).type === "module" ? "module" : "commonjs";
      } catch {
        return "commonjs";
      }
    }
    if (dirname(dir) === dir) return "commonjs";
  }
}

/** The handler function of FILE:EXPORT, its module loaded (the cold start). */
export async function loadHandler(target, modulesDir) {
  const [file, name] = splitTarget(target);
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new HandlerError(`no such file: ${file}`);
  }
  const format = moduleFormat(path);
  provideModules(modulesDir, { esm: format === "module" });
  if (TYPESCRIPT.test(path)) await registerTsx(format, modulesDir);
  let namespace;
  try {
    namespace = format === "module"
      ? await import(pathToFileURL(path).href)
      : { default: createRequire(import.meta.url)(path) };
  } catch (err) {
    throw new HandlerError(`${file} does not load (for its export '${name}'): ${describe(err, path)}`);
  }
  const cjs = namespace.default;
  let fn = namespace[name];
  if (fn === undefined && cjs !== null && (typeof cjs === "object" || typeof cjs === "function")) {
    fn = cjs[name]; // module.exports of a CommonJS file
  }
  if (fn === undefined) {
    throw new HandlerError(`${file} has no export '${name}' (${exportList(namespace)})`);
  }
  if (typeof fn !== "function") {
    throw new HandlerError(`export '${name}' of ${file} is not a function (it is ${fn === null ? "null" : typeof fn})`);
  }
  return fn;
}

async function registerTsx(format, modulesDir) {
  if (format === "module") {
    (await import("tsx/esm/api")).register(); // found in modulesDir by our resolve hooks
    return;
  }
  // tsx compiles TypeScript; JavaScript (the AWS SDK's files, say) keeps Node's own
  // loader, as in Lambda: tsx's hook for .js reads and scans every file, which made
  // the cold start of a handler holding a DynamoDB client four times as long.
  const loadJs = Module._extensions[".js"];
  createRequire(join(modulesDir, "_.js"))("tsx/cjs/api").register();
  Module._extensions[".js"] = loadJs;
}

function exportList(namespace) {
  const names = new Set(Object.keys(namespace).filter((n) => n !== "default" && n !== "module.exports"));
  const cjs = namespace.default;
  if (cjs !== null && typeof cjs === "object") Object.keys(cjs).forEach((n) => names.add(n));
  if (names.size === 0) return "it exports nothing";
  const shown = [...names].slice(0, 12);
  return `it exports: ${shown.join(", ")}${names.size > shown.length ? ", ..." : ""}`;
}

/** An error thrown while loading, with the line of the user's file it points at. */
export function describe(err, path) {
  if (!(err instanceof Error)) return String(err);
  const lines = String(err.message).split("\n").map((l) => l.trim()).filter(Boolean);
  // tsx's esbuild: "Transform failed with 1 error:" then "FILE:LINE:COL: ERROR: what"
  const esbuild = lines.map((l) => /^(.*?):(\d+):\d+: ERROR: (.*)$/.exec(l)).find(Boolean);
  if (esbuild) {
    const elsewhere = resolve(esbuild[1]) === path ? "" : ` (in ${esbuild[1]})`;
    return `line ${esbuild[2]}: SyntaxError: ${esbuild[3]}${elsewhere}`;
  }
  const text = `${err.name}: ${lines[0] ?? ""}`;
  const line = lineIn(String(err.stack || ""), path);
  if (line) return `line ${line}: ${text}`;
  if (err.name === "SyntaxError") return syntaxCheck(path, text);
  return text;
}

function lineIn(stack, path) {
  for (const place of [path, pathToFileURL(path).href]) {
    const at = stack.indexOf(`${place}:`);
    if (at >= 0) {
      const line = /^:(\d+)/.exec(stack.slice(at + place.length));
      if (line) return line[1];
    }
  }
  return null;
}

// An ES module's SyntaxError carries no location; `node --check` prints it.
function syntaxCheck(path, text) {
  if (/\.[mc]?ts$/.test(path)) return text;
  const check = spawnSync(process.execPath, ["--check", path], { encoding: "utf8", timeout: 10_000 });
  if (check.status === 0) return `${text} (in a module it imports)`;
  const first = /^(.*):(\d+)$/m.exec(check.stderr || "");
  return first && resolve(first[1]) === path ? `line ${first[2]}: ${text}` : text;
}
