/**
 * What the router records of an execution; the public shape of `executions()` and `poll()`.
 */
import type { ComputeKind, Engine } from "../../flow/model/flow-model";
import type { Dimensions } from "./signal";

export type ExecutionStatus = "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "KILLED" | "SKIPPED";

export interface TargetRecord {
  readonly kind: ComputeKind;
  readonly engine: Engine;
  readonly status: ExecutionStatus;
  readonly error?: string;
  /** Engine-side id of the running job (Glue run id, Athena query id…), when there is one. */
  readonly handle?: string;
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
