/**
 * Sluice: declare partition-aware AWS data pipelines in TypeScript, synthesize them to Terraform,
 * and run them with the same router locally and on Lambda.
 */
export * from "./flow";
export {
  LocalRuntime,
  type LocalRuntimeOptions,
  type SignalTarget,
  type WaitOption,
} from "./runtime-bundle/local/local-runtime";
export type { ExecutionRecord, ExecutionStatus, TargetRecord } from "./runtime-bundle/core/execution-record";
export type { FactView, PendingView, PollResult, ProcessOutcome } from "./runtime-bundle/core/router";
export type {
  Dispatcher,
  DispatchRequest,
  DispatchResult,
  DispatchInput,
} from "./runtime-bundle/core/dispatcher";
export * from "./testing";
