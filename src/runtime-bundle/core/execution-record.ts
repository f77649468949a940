/**
 * What the router records of an execution; the public shape of `executions()` and `poll()`.
 */
import type { ComputeKind, Engine } from "../../flow/model/flow-model";
import type { Dimensions } from "./signal";

export type ExecutionStatus = "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "KILLED" | "SKIPPED";

/*
 * A target's status while its execution is RUNNING: PENDING (not started, or waiting for a retry at
 * `retryAt`); RUNNING without a handle (claimed for dispatch by one invocation, which is starting it or
 * running it inline); RUNNING with a handle (a job on an engine, polled); then SUCCEEDED or FAILED.
 */

export interface TargetRecord {
  readonly kind: ComputeKind;
  readonly engine: Engine;
  readonly status: ExecutionStatus;
  readonly error?: string;
  /** Engine-side id of the running job (Glue run id, Athena query id…), when there is one. */
  readonly handle?: string;
  /**
   * PENDING after a failure: when its retry is due (epoch ms). The scheduled retry normally runs it;
   * the sweeper runs it once this time has passed (the retry was lost with a crashed invocation).
   */
  readonly retryAt?: number;
  /** Consecutive transient engine errors so far (for the backoff of the next one), when any. */
  readonly transientCount?: number;
}

export interface ExecutionRecord {
  readonly id: string;
  readonly node: string;
  /** Output dimensions. */
  readonly dimensions: Dimensions;
  readonly status: ExecutionStatus;
  /** 1 for the first attempt. */
  readonly attempts: number;
  /** Epoch milliseconds (the runtime's clock). */
  readonly startedAt: number;
  /**
   * Epoch milliseconds of the last transition, strictly increasing on every write of the record, so
   * it also tells whether anyone has acted on the execution since it was read: claims and deferred
   * tasks compare it. Absent on records written before it existed.
   */
  readonly updatedAt?: number;
  readonly endedAt?: number;
  readonly targets: readonly TargetRecord[];
  /** Path of the output partition. */
  readonly path: string;
  /** Trigger events the execution was made of, per input alias (references are derived from them). */
  readonly inputs: Readonly<Record<string, Dimensions>>;
  /** Last error, when the execution failed. */
  readonly error?: string;
}

export function isFinished(status: ExecutionStatus): boolean {
  return status === "SUCCEEDED" || status === "FAILED" || status === "KILLED" || status === "SKIPPED";
}
