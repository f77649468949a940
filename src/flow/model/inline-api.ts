/**
 * The call signature of user inline code (inline compute and hooks), shared by the DSL (to type what
 * users pass) and the router (which calls it).
 */
import type { DimensionValue, JsonValue } from "./flow-model";

export interface InlineInput {
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  /** Partition paths of the input; for a range, tip first. */
  readonly paths: readonly string[];
}

export interface InlineOutput {
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  readonly paths: readonly [string];
}

export interface InlineContext {
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  /** Environment name the flow runs in ("local" in LocalRuntime unless chosen). */
  readonly env: string;
  readonly config: Readonly<Record<string, JsonValue>>;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export type InlineCompute = (
  inputs: Readonly<Record<string, InlineInput>>,
  output: InlineOutput,
  ctx: InlineContext,
) => unknown;

/** Hooks receive the same context plus what happened. */
export interface HookEvent {
  readonly node: string;
  readonly hook: string;
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
  readonly executionId?: string;
  readonly error?: string;
}

export type HookFunction = (event: HookEvent, ctx: InlineContext) => unknown;
