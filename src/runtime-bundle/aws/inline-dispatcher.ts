/**
 * Inline compute in the router Lambda: user code from the deployed bundle; output paths are s3://
 * URIs the code writes to with its own client.
 */
import type { CodeRefModel } from "../../flow/model/flow-model";
import type { InlineCompute } from "../../flow/model/inline-api";
import type { DispatchRequest, DispatchResult, Dispatcher } from "../core/dispatcher";
import { callInline } from "../core/inline-call";

export class InlineLambdaDispatcher implements Dispatcher {
  constructor(private readonly resolve: (ref: CodeRefModel) => InlineCompute) {}

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
    return callInline(fn, request);
  }
}
