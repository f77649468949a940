/**
 * The project config: `sluice.config.json` in the working directory, or a `"sluice"` key in its
 * package.json. It gives the default flow and the defaults of --dir, --datasets and --env, so they
 * need not be repeated on every call; what the command line gives wins. Paths are relative to the
 * config's folder.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { didYouMean } from "../flow/suggest";
import type { Args } from "./args";
import { usageError } from "./errors";

export interface ProjectConfig {
  /** The flow file commands use when none is given. */
  readonly flow?: string;
  /** `sluice local --dir`. */
  readonly dir?: string;
  /** `sluice local --datasets`: id → folder. */
  readonly datasets?: Readonly<Record<string, string>>;
  /** `--env` of synth and remote. */
  readonly env?: string;
}

const KEYS = ["flow", "dir", "datasets", "env"] as const;
const FLOW_FILE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

/** The config of the project in `cwd` (and where it was found), or undefined. */
export function loadProjectConfig(
  cwd = process.cwd(),
): { config: ProjectConfig; source: string } | undefined {
  const file = join(cwd, "sluice.config.json");
  let raw: unknown;
  let source: string;
  if (existsSync(file)) {
    source = "sluice.config.json";
    try {
      raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw usageError(`sluice.config.json is not JSON: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  } else {
    const pkg = join(cwd, "package.json");
    if (!existsSync(pkg)) return undefined;
    try {
      raw = (JSON.parse(readFileSync(pkg, "utf8")) as { sluice?: unknown }).sluice;
    } catch {
      return undefined;
    }
    if (raw === undefined) return undefined;
    source = 'package.json "sluice"';
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw usageError(`${source}: expected an object`);
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(key))
      throw usageError(`${source}: unknown key "${key}"${didYouMean(key, KEYS)} (keys: ${KEYS.join(", ")})`);
  }
  for (const key of ["flow", "dir", "env"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "string")
      throw usageError(`${source}: "${key}" must be a string`);
  }
  const datasets = o.datasets;
  if (
    datasets !== undefined &&
    (datasets === null ||
      typeof datasets !== "object" ||
      Object.values(datasets as object).some((v) => typeof v !== "string"))
  ) {
    throw usageError(`${source}: "datasets" must map dataset ids to folders`);
  }
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const config: ProjectConfig = {
    ...(typeof o.flow === "string" ? { flow: abs(o.flow) } : {}),
    ...(typeof o.dir === "string" ? { dir: abs(o.dir) } : {}),
    ...(typeof o.env === "string" ? { env: o.env } : {}),
    ...(datasets !== undefined
      ? {
          datasets: Object.fromEntries(
            Object.entries(datasets as Record<string, string>).map(([k, v]) => [k, abs(v)]),
          ),
        }
      : {}),
  };
  return { config, source };
}

/** The arguments with the config's defaults filled in where the command line gives none. */
export function withConfig(
  args: Args,
  options: Readonly<Record<string, "string" | "boolean">>,
  config: ProjectConfig,
): Args {
  const positional = [...args.positional];
  const first = positional[1];
  if (config.flow !== undefined && (first === undefined || !FLOW_FILE.test(first))) {
    positional.splice(1, 0, config.flow);
  }
  const flags = new Map(args.flags);
  if (config.dir !== undefined && options.dir && !flags.has("--dir")) flags.set("--dir", config.dir);
  if (config.env !== undefined && options.env && !flags.has("--env")) flags.set("--env", config.env);
  if (config.datasets !== undefined && options.datasets && !flags.has("--datasets")) {
    flags.set(
      "--datasets",
      Object.entries(config.datasets)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    );
  }
  return { positional, flags };
}
