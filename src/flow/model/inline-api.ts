/**
 * The call signature of user inline code (inline compute and hooks), shared by the DSL (to type what
 * users pass) and the router (which calls it).
 */
import type { DataFormat, DimensionValue, JsonValue, NodeKind } from "./flow-model";

export interface InlineInput {
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  /** Partition paths of the input; for a range, tip first. */
  readonly paths: readonly string[];
  /**
   * The data files of every partition of the input (markers left out), tip first: paths that
   * `ctx.storage.read` reads wherever the flow runs (folders locally, s3:// URIs on AWS).
   */
  files(): Promise<string[]>;
}

export interface InlineOutput {
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  /** The output partition: a folder locally, an s3:// URI on AWS. Write through `write`, not `node:fs`. */
  readonly paths: readonly [string];
  /** Writes `name` (a plain file name) in the output partition, wherever the flow runs; resolves to its path. */
  write(name: string, body: string | Uint8Array): Promise<string>;
}

/** Storage as user code sees it: the same calls locally (files) and on AWS (S3, with the router's role). */
export interface InlineStorage {
  read(path: string): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
  write(path: string, body: string | Uint8Array): Promise<void>;
  /** Data files directly below a partition path. */
  list(path: string): Promise<string[]>;
}

/**
 * The environment's config values: a record (`ctx.config.threshold`, `Object.keys(ctx.config)`,
 * `{ ...ctx.config }`) that is also callable, as the Spark driver's `config(key, default)`:
 * `ctx.config("threshold")` is the value; a dotted key `"db.host"` not present as such reaches into
 * nested objects; a missing key gives `fallback` (undefined when not given).
 */
export type InlineConfig = Readonly<Record<string, JsonValue>> &
  ((key: string, fallback?: JsonValue) => JsonValue | undefined);

/** What `ctx.dataset(name)` tells about an input alias or a dataset of the flow. */
export interface InlineDataset {
  /** Node id of the dataset. */
  readonly node: string;
  readonly kind: NodeKind;
  /**
   * The folder (LocalRuntime) or s3:// URI (AWS) that holds every partition of the dataset, under the
   * current environment's binding; absent when unknown (a glueTable without a known location).
   */
  readonly location?: string;
  /** For an input alias of the running node: its partition paths, tip first. */
  readonly paths?: readonly string[];
  /** For an input alias of the running node: its (tip) dimensions. */
  readonly dimensions?: Readonly<Record<string, DimensionValue>>;
  readonly format?: DataFormat;
}

export interface InlineContext {
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  /** Environment name the flow runs in ("local" in LocalRuntime unless chosen). */
  readonly env: string;
  readonly config: InlineConfig;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * An input alias of the running node, else a dataset (s3Dataset, glueTable, data node) of the flow
   * by id, located under the current environment; throws for any other name. Absent in hooks.
   */
  readonly dataset?: (name: string) => InlineDataset;
  /** Reading and writing partitions, portable between LocalRuntime and AWS. Absent in hooks. */
  readonly storage?: InlineStorage;
}

/** The config values as an InlineConfig: a callable record. */
export function inlineConfig(values: Readonly<Record<string, JsonValue>>): InlineConfig {
  const fn = (key: string, fallback?: JsonValue): JsonValue | undefined => {
    if (Object.hasOwn(values, key)) return values[key];
    let node: JsonValue | undefined = values as JsonValue;
    for (const part of key.split(".")) {
      if (node === null || typeof node !== "object" || Array.isArray(node) || !Object.hasOwn(node, part))
        return fallback;
      node = node[part];
    }
    return node;
  };
  // Only config keys are visible as properties: no own `name`/`length`, nothing inherited
  // (`ctx.config.name` is a config value or undefined, never the function's name).
  delete (fn as { name?: string }).name;
  delete (fn as { length?: number }).length;
  Object.setPrototypeOf(fn, null);
  for (const [key, value] of Object.entries(values)) {
    Object.defineProperty(fn, key, { value, enumerable: true, writable: false, configurable: false });
  }
  // JSON.stringify(ctx.config) and String(ctx.config) behave as for a plain record.
  const plain = (): Record<string, JsonValue> => ({ ...values });
  if (!Object.hasOwn(values, "toJSON")) Object.defineProperty(fn, "toJSON", { value: plain });
  if (!Object.hasOwn(values, "toString"))
    Object.defineProperty(fn, "toString", { value: () => JSON.stringify(values) });
  return Object.freeze(fn) as unknown as InlineConfig;
}

export type InlineCompute = (
  inputs: Readonly<Record<string, InlineInput>>,
  output: InlineOutput,
  ctx: InlineContext,
) => unknown;

/** Hooks receive the same context plus what happened. */
export interface HookEvent {
  readonly node: string;
  readonly hook: string;
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  readonly executionId?: string;
  readonly error?: string;
  /** onPendingExpired: why the group expired ("ttl", or a redeploy that changed the node's links). */
  readonly reason?: string;
}

export type HookFunction = (event: HookEvent, ctx: InlineContext) => unknown;
