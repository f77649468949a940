/**
 * Calling user inline code with the contract's arguments: (inputs, output, ctx). A throw is a user
 * error (retried up to `retries`), never transient.
 */
import {
  inlineConfig,
  type InlineCompute,
  type InlineDataset,
  type InlineInput,
} from "../../flow/model/inline-api";
import type { CodeRefModel } from "../../flow/model/flow-model";
import type { DispatchRequest, DispatchResult, Dispatcher } from "./dispatcher";

export async function callInline(fn: InlineCompute, request: DispatchRequest): Promise<DispatchResult> {
  const inputs: Record<string, InlineInput> = {};
  for (const [alias, i] of Object.entries(request.inputs))
    inputs[alias] = { dimensions: i.dimensions, paths: i.paths };
  try {
    await fn(
      inputs,
      { dimensions: request.output.dimensions, paths: [request.output.path] },
      {
        dimensions: request.output.dimensions,
        env: request.env,
        config: inlineConfig(request.config),
        attempt: request.attempt,
        dataset: datasetLookup(request),
      },
    );
    return { status: "SUCCEEDED" };
  } catch (e) {
    return { status: "FAILED", error: e instanceof Error ? e.message : String(e), transient: false };
  }
}

/** ctx.dataset(name): an input alias of the node, else a dataset of the flow by id. */
export function datasetLookup(request: DispatchRequest): (name: string) => InlineDataset {
  const known = request.datasets ?? {};
  return (name) => {
    if (Object.hasOwn(known, name)) return known[name] as InlineDataset;
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
    ) => Promise<DispatchResult> = callInline,
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
    return this.call(fn, request);
  }
}
