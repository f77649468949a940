/**
 * Pure rewrites of execution records: what a dispatch result, a claim or a finish makes of a record.
 * The execution runner reads a record, applies one of these and writes it back conditionally.
 */
import type { DispatchResult } from "./dispatcher";
import type { ExecutionRecord, ExecutionStatus, TargetRecord } from "./execution-record";
import type { RetryPolicy } from "./hooks";

/** The state a result is about: a claim's token (`updatedAt`), or a job's handle. */
export type Expected = { readonly token: number | undefined } | { readonly handle: string };

/** Whether target `i` is still in the state a result is about. */
export function holds(r: ExecutionRecord, i: number, expected: Expected): boolean {
  const t = r.targets[i];
  if (r.status !== "RUNNING" || t?.status !== "RUNNING") return false;
  return "handle" in expected ? t.handle === expected.handle : r.updatedAt === expected.token;
}

export function withTarget(r: ExecutionRecord, i: number, target: TargetRecord): ExecutionRecord {
  return { ...r, targets: r.targets.map((t, j) => (j === i ? target : t)) };
}

/** A target with a status and nothing else (no error, handle or retry). */
export function bareTarget(t: TargetRecord, status: ExecutionStatus): TargetRecord {
  return { kind: t.kind, engine: t.engine, status };
}

/** Claimed for dispatch: RUNNING without a handle; the last error and transient count stay for reference. */
export function claimedTarget(t: TargetRecord): TargetRecord {
  return {
    ...bareTarget(t, "RUNNING"),
    ...(t.error === undefined ? {} : { error: t.error }),
    ...(t.transientCount === undefined ? {} : { transientCount: t.transientCount }),
  };
}

/** PENDING → RUNNING with the first target claimed. */
export function toRunning(r: ExecutionRecord): ExecutionRecord | undefined {
  return r.status !== "PENDING"
    ? undefined
    : { ...r, status: "RUNNING", targets: r.targets.map((t, j) => (j === 0 ? claimedTarget(t) : t)) };
}

/** PENDING → SKIPPED (another execution of the output is active). */
export function toSkipped(r: ExecutionRecord, now: number): ExecutionRecord | undefined {
  return r.status !== "PENDING"
    ? undefined
    : { ...r, status: "SKIPPED", endedAt: now, targets: r.targets.map((t) => ({ ...t, status: "SKIPPED" })) };
}

/** Target `i` succeeded; target i + 1 (if any) is claimed by the same write. */
export function targetSucceeded(
  r: ExecutionRecord,
  i: number,
  expected: Expected,
): ExecutionRecord | undefined {
  if (!holds(r, i, expected)) return undefined;
  return {
    ...r,
    targets: r.targets.map((t, j) =>
      j === i ? bareTarget(t, "SUCCEEDED") : j === i + 1 ? claimedTarget(t) : t,
    ),
  };
}

/** Target `i` runs remotely under `handle`. */
export function targetRunning(
  r: ExecutionRecord,
  i: number,
  expected: Expected,
  handle: string,
): ExecutionRecord | undefined {
  if (!holds(r, i, expected)) return undefined;
  return withTarget(r, i, { ...bareTarget(r.targets[i] as TargetRecord, "RUNNING"), handle });
}

/** What a failed target leads to. */
export interface FailureDecision {
  readonly decision: "transient" | "retry" | "fail";
  /** When the retry is due (transient, retry). */
  readonly due: number;
  readonly record: ExecutionRecord;
}

/**
 * The retry/fail decision for a failed target: a transient engine error retries with its own
 * backoff (until the execution is older than `maxTransientAgeMs`), a user error up to `retries`
 * times with the user backoff; otherwise the target fails. undefined when the record is no longer
 * in the expected state.
 */
export function decideFailure(
  r: ExecutionRecord,
  i: number,
  expected: Expected,
  failure: { readonly error: string; readonly transient: boolean },
  transientCount: number,
  now: number,
  policy: RetryPolicy,
  retries: number,
): FailureDecision | undefined {
  if (!holds(r, i, expected)) return undefined;
  const t = r.targets[i] as TargetRecord;
  if (failure.transient && now - r.startedAt < policy.maxTransientAgeMs) {
    const due = now + policy.transientBackoffMs(transientCount + 1);
    return {
      decision: "transient",
      due,
      record: withTarget(r, i, {
        ...bareTarget(t, "PENDING"),
        error: failure.error,
        retryAt: due,
        transientCount: transientCount + 1,
      }),
    };
  }
  if (r.attempts <= retries) {
    const due = now + policy.userBackoffMs(r.attempts + 1);
    return {
      decision: "retry",
      due,
      record: {
        ...withTarget(r, i, { ...bareTarget(t, "PENDING"), error: failure.error, retryAt: due }),
        attempts: r.attempts + 1,
      },
    };
  }
  return {
    decision: "fail",
    due: now,
    record: withTarget(r, i, { ...bareTarget(t, "FAILED"), error: failure.error }),
  };
}

/**
 * Ends an execution that is still RUNNING (KILLED may also end a PENDING one): a running target ends
 * with the execution's status, one that never ran is SKIPPED. undefined when it already ended.
 */
export function toFinished(
  r: ExecutionRecord,
  status: ExecutionStatus,
  now: number,
  error?: string,
): ExecutionRecord | undefined {
  if (r.status !== "RUNNING" && !(status === "KILLED" && r.status === "PENDING")) return undefined;
  return {
    ...r,
    status,
    endedAt: now,
    ...(error === undefined ? {} : { error }),
    targets: r.targets.map((t) =>
      status === "SUCCEEDED" || (t.status !== "PENDING" && t.status !== "RUNNING")
        ? t
        : { ...t, status: t.status === "RUNNING" ? status : "SKIPPED" },
    ),
  };
}

/** Claims target `i` of a RUNNING execution if nobody wrote the record since `seen`. */
export function claimTarget(
  r: ExecutionRecord,
  seen: ExecutionRecord,
  i: number,
  change: (t: TargetRecord) => TargetRecord,
): ExecutionRecord | undefined {
  return r.status === "RUNNING" && r.updatedAt === seen.updatedAt
    ? withTarget(r, i, change(r.targets[i] as TargetRecord))
    : undefined;
}

/** The `since` of a deferred task scheduled after writing `r`. */
export function since(r: ExecutionRecord): { since?: number } {
  return r.updatedAt === undefined ? {} : { since: r.updatedAt };
}

/** A failed DispatchResult. */
export type Failure = Extract<DispatchResult, { status: "FAILED" }>;
