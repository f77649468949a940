/**
 * Dispatchers run compute targets on an engine. A start either finishes at once (inline code, local
 * DuckDB) or returns a handle that the router polls (Glue, Athena, EMR) until it finishes.
 */
import type {
  ComputeTargetModel,
  DataFormat,
  DataNodeModel,
  JsonValue,
  SignalKind,
} from "../../flow/model/flow-model";
import type { InlineDataset } from "../../flow/model/inline-api";
import type { Dimensions } from "./signal";

export interface DispatchInput {
  readonly node: string;
  readonly kind: SignalKind;
  readonly dimensions: Dimensions;
  /** Partition paths, tip first for ranges; empty for signals without data (timers, alarms). */
  readonly paths: readonly string[];
  readonly format?: DataFormat;
  readonly reference: boolean;
}

export interface DispatchRequest {
  readonly executionId: string;
  readonly node: DataNodeModel;
  readonly target: ComputeTargetModel;
  /** 0-based position of the target in the node's compute list. */
  readonly targetIndex: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly inputs: Readonly<Record<string, DispatchInput>>;
  readonly output: { readonly dimensions: Dimensions; readonly path: string; readonly format: DataFormat };
  readonly env: string;
  readonly config: Readonly<Record<string, JsonValue>>;
  /**
   * What `ctx.dataset(name)` answers: every input alias of the node, and every dataset (s3Dataset,
   * glueTable, data node) of the flow by id, located under the current environment. The aliases are
   * own entries; the flow's datasets are shared by every request as the record's prototype (read them
   * by key, not with Object.keys or JSON). @default none
   */
  readonly datasets?: Readonly<Record<string, InlineDataset>>;
}

export type DispatchResult =
  | { readonly status: "SUCCEEDED" }
  | { readonly status: "RUNNING"; readonly handle: string }
  /** `transient`: an engine-side condition (throttling, capacity) worth retrying without counting against `retries`. */
  | { readonly status: "FAILED"; readonly error: string; readonly transient: boolean };

export interface Dispatcher {
  start(request: DispatchRequest): Promise<DispatchResult>;
  /** Status of a running job; required for engines that return RUNNING. */
  poll?(handle: string, request: DispatchRequest): Promise<DispatchResult>;
  kill?(handle: string, request: DispatchRequest): Promise<void>;
  /**
   * Crash recovery: the job a start of this request (same execution, target and attempt) may already
   * have created, when the invocation that started it died before recording its handle. Its state
   * (RUNNING with its handle, or how it ended), or undefined when no such job exists and the target
   * can be started. Without it, recovery starts the target again: harmless for engines whose start is
   * idempotent per attempt (Athena, EMR Serverless client tokens) and for inline code that can rerun.
   */
  recover?(request: DispatchRequest): Promise<DispatchResult | undefined>;
}
