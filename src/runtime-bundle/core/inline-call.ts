/**
 * Calling user inline code with the contract's arguments: (inputs, output, ctx). A throw is a user
 * error (retried up to `retries`), never transient.
 */
import type { InlineCompute, InlineInput } from "../../flow/model/inline-api";
import type { DispatchRequest, DispatchResult } from "./dispatcher";

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
        config: request.config,
        attempt: request.attempt,
      },
    );
    return { status: "SUCCEEDED" };
  } catch (e) {
    return { status: "FAILED", error: e instanceof Error ? e.message : String(e), transient: false };
  }
}
