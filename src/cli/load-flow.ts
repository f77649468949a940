/**
 * Loads a user's flow file (TypeScript or JavaScript) and returns its Application. The file is
 * bundled with esbuild (packages kept external); `require("sluice")` is answered with this very
 * package, so the flow's Application is the class the CLI knows; other packages resolve from the
 * flow's own folder. An exception while the flow runs is reported at the user's own source line
 * (mapped through esbuild's source map), as a load error (exit 2).
 */
import type * as NodeModule from "node:module";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type * as Esbuild from "esbuild";
import { Application } from "../flow/application";
import { FlowValidationError } from "../flow/errors";
import type * as ModuleLoaderModule from "../runtime-bundle/local/module-loader";
import { CliError, EXIT } from "./errors";

export class FlowLoadError extends CliError {
  override readonly name = "FlowLoadError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/** Everything `import … from "sluice"` offers; the runtime and test helpers load on first use. */
const LAZY_EXPORTS = [
  "LocalRuntime",
  "parseMarkdownTable",
  "formatMarkdownTable",
  "parseColumnType",
  "MarkdownTableError",
  "writePartition",
  "readPartition",
  "expectPartition",
  "diffTables",
  "inputPartition",
  "writeInput",
] as const;

let sluiceModule: Record<string, unknown> | undefined;

/** The package as a flow sees it: the DSL now, LocalRuntime and the test helpers when first used. */
export function sluicePackage(): Record<string, unknown> {
  if (sluiceModule) return sluiceModule;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const out: Record<string, unknown> = { ...(require("../flow") as Record<string, unknown>) };
  for (const name of LAZY_EXPORTS) {
    Object.defineProperty(out, name, {
      enumerable: true,
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      get: () => (require("../index") as Record<string, unknown>)[name],
    });
  }
  sluiceModule = out;
  return out;
}

/** Compiles and evaluates a flow file (or any TypeScript module using the package); returns its exports. */
export function loadFlowModule(file: string): Record<string, unknown> {
  const path = resolve(file);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loader = require("../runtime-bundle/local/module-loader") as typeof ModuleLoaderModule;
  // "sluice" is this package, whether or not the flow's folder has it installed.
  const provide = { sluice: sluicePackage() };
  const cached = readCompileCache(path);
  if (cached !== undefined) {
    try {
      return loader.evaluateCompiled(cached, path, provide);
    } catch (e) {
      if (e instanceof FlowValidationError) throw e;
      throw new FlowLoadError(`${file} threw while loading: ${describeThrow(e, path)}`, { cause: e });
    }
  }
  try {
    const compiled = loader.compileTypeScript(path, Object.keys(provide));
    writeCompileCache(path, compiled);
    return loader.evaluateCompiled(compiled.code, path, provide);
  } catch (e) {
    if (e instanceof loader.ModuleLoadError) {
      const m = /^cannot compile [^:]+: (?:Build failed with \d+ errors?:\s*)?([\s\S]*)$/.exec(e.message);
      throw new FlowLoadError(
        m ? `cannot compile ${file}: ${firstLines(m[1] as string)}` : e.message.replace(path, file),
        { cause: e },
      );
    }
    if (e instanceof FlowValidationError) throw e;
    throw new FlowLoadError(`${file} threw while loading: ${describeThrow(e, path)}`, { cause: e });
  }
}

// ---------------------------------------------------------------- compile cache

/**
 * Compiled flows are cached in the project's `node_modules/.cache/sluice` (the folder babel and
 * eslint use), keyed by the flow's path, each entry valid while every file esbuild bundled keeps its
 * size and mtime: a `sluice validate` of an unchanged flow then loads neither esbuild nor its
 * service process. No node_modules above the flow (or SLUICE_NO_CACHE=1): no cache.
 */
interface CacheEntry {
  readonly version: string;
  readonly inputs: Readonly<Record<string, readonly [number, number]>>;
  readonly code: string;
}

function cacheFile(flow: string): string | undefined {
  if (process.env.SLUICE_NO_CACHE === "1") return undefined;
  let dir = dirname(flow);
  for (;;) {
    if (existsSync(join(dir, "node_modules"))) {
      const key = createHash("sha256").update(flow).digest("hex").slice(0, 24);
      return join(dir, "node_modules", ".cache", "sluice", `${key}.json`);
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function cacheVersion(): string {
  return `${process.version}:${__filename}:${statSync(__filename).mtimeMs}`;
}

function readCompileCache(flow: string): string | undefined {
  const file = cacheFile(flow);
  if (file === undefined || !existsSync(file)) return undefined;
  try {
    const entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
    if (entry.version !== cacheVersion()) return undefined;
    for (const [input, [size, mtime]] of Object.entries(entry.inputs)) {
      const st = statSync(input, { throwIfNoEntry: false });
      if (!st || st.size !== size || st.mtimeMs !== mtime) return undefined;
    }
    return entry.code;
  } catch {
    return undefined;
  }
}

/** Stores a compilation with the size and mtime of every file it read; best effort. */
function writeCompileCache(flow: string, compiled: ModuleLoaderModule.CompiledModule): void {
  const file = cacheFile(flow);
  if (file === undefined) return;
  try {
    const inputs: Record<string, [number, number]> = {};
    for (const input of compiled.inputs) {
      const abs = resolve(input);
      const st = statSync(abs);
      inputs[abs] = [st.size, st.mtimeMs];
    }
    const entry: CacheEntry = { version: cacheVersion(), inputs, code: compiled.code };
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written is no cache.
  }
}

export function loadFlow(file: string): Application {
  const exported = loadFlowModule(file);
  const candidate = exported.default ?? exported.app;
  let app: unknown = candidate;
  if (typeof candidate === "function" && !(candidate instanceof Application)) {
    try {
      app = (candidate as () => unknown)();
    } catch (e) {
      if (e instanceof FlowValidationError) throw e;
      throw new FlowLoadError(`${file}: its default export threw: ${describeThrow(e, resolve(file))}`, {
        cause: e,
      });
    }
  }
  if (!(app instanceof Application)) {
    throw new FlowLoadError(`${file} must export its Application as the default export or as "app"`);
  }
  return app;
}

function firstLines(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(0, 3)
    .join(" ");
}

/** "Error: boom (at flow.ts:4:9)", the location mapped to the user's source. */
function describeThrow(e: unknown, bundled: string): string {
  // The flow may run in another realm (a test's VM context): an error is what looks like one.
  const err = e as { name?: unknown; message?: unknown; stack?: unknown } | null;
  const isError = typeof err === "object" && err !== null && typeof err.message === "string";
  const what = isError
    ? `${err.name === "Error" || typeof err.name !== "string" ? "" : `${err.name}: `}${String(err.message)}`
    : String(e);
  const at = isError ? sourceLocation(err as Error, bundled) : undefined;
  return at === undefined ? what : `${what} (at ${at})`;
}

/** The first stack frame in the flow's bundle, mapped through the bundle's source map. */
export function sourceLocation(e: Error, bundled: string): string | undefined {
  const stack = e.stack ?? "";
  const escaped = bundled.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const frame = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  if (!frame) return undefined;
  const line = Number(frame[1]);
  const column = Number(frame[2]);
  const fallback = `${displayPath(bundled)}:${line}:${column}`;
  try {
    // The bundle is rebuilt to read its source map: only on this error path, and deterministic.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildSync } = require("esbuild") as typeof Esbuild;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SourceMap } = require("node:module") as typeof NodeModule;
    const { typeScriptBuildOptions } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("../runtime-bundle/local/module-loader") as typeof ModuleLoaderModule;
    const out = buildSync({
      ...typeScriptBuildOptions(bundled, ["sluice"]),
      sourcemap: "external",
      outdir: "out",
    });
    const map = out.outputFiles.find((f) => f.path.endsWith(".map"));
    if (!map) return fallback;
    const entry = new SourceMap(JSON.parse(map.text)).findEntry(line - 1, column - 1) as {
      originalSource?: string;
      originalLine?: number;
      originalColumn?: number;
    };
    if (entry.originalSource === undefined || entry.originalLine === undefined) return fallback;
    // Sources are relative to the output folder ("out", under the working directory).
    const source = resolve(process.cwd(), "out", entry.originalSource.replace(/^file:\/\//, ""));
    return `${displayPath(source)}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
  } catch {
    return fallback;
  }
}

/** A path relative to the working directory when it is under it, else absolute. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}
