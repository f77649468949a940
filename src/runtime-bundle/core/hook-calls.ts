/**
 * Hook calls: every hook emits its route metric, runs the node's handler if it has one, and never
 * changes an execution's outcome (a failing hook is reported and counted).
 */
import type { HookName } from "../../flow/model/flow-model";
import { inlineConfig, type HookEvent, type InlineContext } from "../../flow/model/inline-api";
import { ROUTE_METRIC_OF_HOOK } from "../../flow/model/route-metrics";
import type { HookRunner, MetricsSink, RuntimeEnvironment } from "./hooks";
import type { Route } from "./route-table";
import type { Dimensions } from "./signal";
import type { Store } from "./store";

/** What a hook is told. */
export interface HookCall {
  readonly dimensions: Dimensions;
  readonly executionId?: string;
  readonly error?: string;
  /** Why a pending group expired (onPendingExpired): "ttl", or a redeploy reason. */
  readonly reason?: string;
}

export class HookCalls {
  constructor(
    private readonly store: Store,
    private readonly environment: RuntimeEnvironment,
    private readonly runner?: HookRunner,
    private readonly metrics?: MetricsSink,
  ) {}

  /** Emits the hook's route metric and runs the node's handler for it. */
  async call(route: Route, name: HookName, e: HookCall): Promise<void> {
    this.metrics?.emit(route.id, ROUTE_METRIC_OF_HOOK[name]);
    const ref = route.node.hooks.handlers[name];
    if (ref === undefined) return;
    const attempts = e.executionId
      ? ((await this.store.getExecution(e.executionId))?.value.attempts ?? 1)
      : 1;
    const event: HookEvent = {
      node: route.id,
      hook: name,
      dimensions: e.dimensions,
      ...(e.executionId === undefined ? {} : { executionId: e.executionId }),
      ...(e.error === undefined ? {} : { error: e.error }),
      ...(e.reason === undefined ? {} : { reason: e.reason }),
    };
    await this.run(ref, event, attempts);
  }

  /** Runs one handler (also checkpoints); failures are logged and counted as RouterErrors. */
  async run(ref: Parameters<HookRunner>[0], event: HookEvent, attempt: number): Promise<void> {
    if (!this.runner) return;
    const ctx: InlineContext = {
      dimensions: event.dimensions,
      env: this.environment.name,
      config: inlineConfig(this.environment.config),
      attempt,
    };
    try {
      await this.runner(ref, event, ctx);
    } catch (e) {
      this.metrics?.emit(undefined, "RouterErrors");
      console.error(
        JSON.stringify({
          level: "error",
          msg: "hook failed",
          node: event.node,
          hook: event.hook,
          error: e instanceof Error ? e.message : String(e),
        }),
      );
    }
  }
}
