/**
 * Calling user inline code with the contract's arguments: (inputs, output, ctx). A throw is a user
 * error (retried up to `retries`), never transient.
 */
import {
  inlineConfig,
  type InlineCompute,
  type InlineDataset,
  type InlineInput,
  type InlineStorage,
} from "../../flow/model/inline-api";
import type { Storage } from "./storage";
import type { CodeRefModel } from "../../flow/model/flow-model";
import type { DispatchRequest, DispatchResult, Dispatcher } from "./dispatcher";

export async function callInline(
  fn: InlineCompute,
  request: DispatchRequest,
  storage?: Storage,
): Promise<DispatchResult> {
  const files = inlineStorage(storage);
  const inputs: Record<string, InlineInput> = {};
  for (const [alias, i] of Object.entries(request.inputs)) {
    inputs[alias] = withMethods(
      { dimensions: i.dimensions, paths: i.paths },
      { files: async () => (await Promise.all(i.paths.map((p) => files.list(p)))).flat() },
    );
  }
  const outputPath = request.output.path;
  const output = withMethods(
    { dimensions: request.output.dimensions, paths: [outputPath] as [string] },
    {
      write: async (name: string, body: string | Uint8Array) => {
        if (
          name === "" ||
          /(^|[/\\])\.\.?([/\\]|$)/.test(name) ||
          /^[/\\]/.test(name) ||
          name.includes("\0")
        ) {
          throw new Error(`output.write(${JSON.stringify(name)}): a file name inside the output partition`);
        }
        const target = joinPath(outputPath, name);
        await files.write(target, body);
        return target;
      },
    },
  );
  try {
    await fn(inputs, output, {
      dimensions: request.output.dimensions,
      env: request.env,
      config: inlineConfig(request.config),
      attempt: request.attempt,
      dataset: datasetLookup(request),
      storage: files,
    });
    return { status: "SUCCEEDED" };
  } catch (e) {
    return { status: "FAILED", error: e instanceof Error ? e.message : String(e), transient: false };
  }
}

/** `ctx.storage`: the router's storage (S3 with its role on AWS, folders locally). */
export function inlineStorage(storage: Storage | undefined): InlineStorage {
  const need = <K extends "readFile" | "writeFile" | "listFiles">(method: K): NonNullable<Storage[K]> => {
    const fn = storage?.[method];
    if (fn === undefined) throw new Error(`this runtime's storage cannot ${method} for user code`);
    return fn.bind(storage) as NonNullable<Storage[K]>;
  };
  return {
    read: (path) => need("readFile")(path),
    readText: async (path) => Buffer.from(await need("readFile")(path)).toString("utf8"),
    write: (path, body) => need("writeFile")(path, body),
    list: (path) => need("listFiles")(path),
  };
}

/**
 * `data` with `methods` as non-enumerable properties: logging, JSON and equality see only the data
 * (`{ dimensions, paths }`), as they did before the storage methods existed.
 */
function withMethods<D extends object, M extends object>(data: D, methods: M): D & M {
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(data, name, { value: fn, enumerable: false });
  }
  return data as D & M;
}

/** `<partition>/<name>`: a URI or a folder path, joined with one slash. */
function joinPath(partition: string, name: string): string {
  return `${partition.replace(/[/\\]+$/, "")}/${name}`;
}

/** ctx.dataset(name): an input alias of the node, else a dataset of the flow by id. */
export function datasetLookup(request: DispatchRequest): (name: string) => InlineDataset {
  const known = request.datasets ?? {};
  return (name) => {
    // Own entries are the aliases; the flow's datasets are their prototype (no Object.prototype).
    const hit =
      Object.hasOwn(known, name) || Object.getPrototypeOf(known) !== Object.prototype
        ? known[name]
        : undefined;
    if (hit !== undefined) return hit;
    const input = Object.hasOwn(request.inputs, name) ? request.inputs[name] : undefined;
    if (input !== undefined) {
      return {
        node: input.node,
        kind: input.kind === "s3" ? "s3Dataset" : input.kind === "internal" ? "data" : input.kind,
        paths: input.paths,
        dimensions: input.dimensions,
        ...(input.format === undefined ? {} : { format: input.format }),
      } as InlineDataset;
    }
    throw new Error(
      `ctx.dataset("${name}"): no input alias of node "${request.node.id}" and no dataset of the flow has that name`,
    );
  };
}

/**
 * Inline targets: the handler the model names, resolved to a function and called. On Lambda it comes
 * from the deployed user-code bundle; LocalRuntime resolves it in process and prepares the output
 * folder first (its `call`).
 */
export class InlineDispatcher implements Dispatcher {
  constructor(
    private readonly resolve: (ref: CodeRefModel) => InlineCompute,
    private readonly call: (
      fn: InlineCompute,
      request: DispatchRequest,
      storage?: Storage,
    ) => Promise<DispatchResult> = callInline,
    /** What user code reads and writes through (`output.write`, `ctx.storage`). */
    private readonly storage?: Storage,
  ) {}

  async start(request: DispatchRequest): Promise<DispatchResult> {
    const ref = request.target.handler;
    if (ref === undefined)
      return { status: "FAILED", error: "inline target has no handler", transient: false };
    let fn: InlineCompute;
    try {
      fn = this.resolve(ref);
    } catch (e) {
      return { status: "FAILED", error: e instanceof Error ? e.message : String(e), transient: false };
    }
    return this.call(fn, request, this.storage);
  }
}
