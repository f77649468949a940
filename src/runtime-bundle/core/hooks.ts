/**
 * Side channels of the router: user hooks, route/platform metrics, and the scheduler of deferred work.
 */
import type { CodeRefModel, ComputeParamsModel, JsonValue } from "../../flow/model/flow-model";
import type { HookEvent, InlineContext } from "../../flow/model/inline-api";

/** Runs a user hook; errors are the hook's own and never fail the execution. */
export type HookRunner = (ref: CodeRefModel, event: HookEvent, ctx: InlineContext) => Promise<void>;

/** Where metrics go: EMF log lines on Lambda, counters locally. */
export interface MetricsSink {
  /** A route metric (route = node id) or, with route undefined, a platform metric. */
  emit(route: string | undefined, name: string, value?: number): void;
}

/** Deferred work, as data so that it can travel through a queue (SQS delay) on AWS. */
export type DeferredTask =
  | {
      readonly kind: "retry";
      readonly executionId: string;
      readonly targetIndex: number;
      readonly transientCount: number;
      /** The record's `updatedAt` when the task was scheduled: a task is dropped once someone else has acted. */
      readonly since?: number;
    }
  | {
      readonly kind: "poll";
      readonly executionId: string;
      readonly targetIndex: number;
      readonly transientCount: number;
      /** As for retries. */
      readonly since?: number;
    }
  | { readonly kind: "checkpoint"; readonly executionId: string; readonly index: number };

/** Hands deferred work back to `Router.runTask` when it is due (SQS with a delay on AWS). */
export interface Scheduler {
  schedule(at: number, task: DeferredTask): void;
}

/** An in-process timer host such as the VirtualClock: the router schedules closures on it directly. */
export interface TimerHost {
  schedule(at: number, run: () => Promise<void>, keepsBusy: boolean): void;
}

export function isTimerHost(s: Scheduler | TimerHost): s is TimerHost {
  return s.schedule.length >= 3;
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
  /**
   * How long a target may stay claimed for dispatch without a recorded job handle before the sweeper
   * takes it as lost with a crashed invocation (longer than any invocation can run: Lambda stops at 15
   * minutes). @default 16 minutes
   */
  readonly dispatchTimeoutMs?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  userBackoffMs: (attempt) => Math.min(30_000 * 2 ** Math.max(0, attempt - 2), 15 * 60_000),
  transientBackoffMs: (n) => Math.min(60_000 * 2 ** Math.max(0, n - 1), 15 * 60_000),
  maxTransientAgeMs: 24 * 3600_000,
  pollIntervalMs: 30_000,
  dispatchTimeoutMs: 16 * 60_000,
};

export interface RuntimeEnvironment {
  readonly name: string;
  readonly config: Readonly<Record<string, JsonValue>>;
  /**
   * The environment's compute sizing by data node id, merged over each target's own params when it is
   * dispatched (model.environments[name].compute). @default none
   */
  readonly compute?: Readonly<Record<string, ComputeParamsModel>>;
}
