/**
 * Side channels of the router: user hooks, route/platform metrics, and the scheduler of deferred work.
 */
import type { CodeRefModel, JsonValue } from "../../flow/model/flow-model";
import type { HookEvent, InlineContext } from "../../flow/model/inline-api";

/** Runs a user hook; errors are the hook's own and never fail the execution. */
export type HookRunner = (ref: CodeRefModel, event: HookEvent, ctx: InlineContext) => Promise<void>;

/** Where metrics go: EMF log lines on Lambda, counters locally. */
export interface MetricsSink {
  /** A route metric (route = node id) or, with route undefined, a platform metric. */
  emit(route: string | undefined, name: string, value?: number): void;
}

/** Deferred work: retries, polls of running jobs, checkpoints, TTL sweeps. */
export interface Scheduler {
  /** `keepsBusy`: the work belongs to a live execution (LocalRuntime waits for it before it is quiescent). */
  schedule(at: number, task: () => Promise<void>, keepsBusy: boolean): void;
}

/** Backoff of retries, in milliseconds. */
export interface RetryPolicy {
  /** Before user-error retry number `attempt` (2 for the first retry). */
  userBackoffMs(attempt: number): number;
  /** Before the n-th consecutive retry after a transient engine error (1-based). */
  transientBackoffMs(n: number): number;
  /** Transient errors stop being retried once the execution is this old. */
  readonly maxTransientAgeMs: number;
  /** Interval between polls of a running engine job. */
  readonly pollIntervalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  userBackoffMs: (attempt) => Math.min(30_000 * 2 ** Math.max(0, attempt - 2), 15 * 60_000),
  transientBackoffMs: (n) => Math.min(60_000 * 2 ** Math.max(0, n - 1), 15 * 60_000),
  maxTransientAgeMs: 24 * 3600_000,
  pollIntervalMs: 30_000,
};

export interface RuntimeEnvironment {
  readonly name: string;
  readonly config: Readonly<Record<string, JsonValue>>;
}
