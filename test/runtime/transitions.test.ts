/** core/transitions.ts, alone: the record rewrites and the retry/fail decision. */
import type { ExecutionRecord, TargetRecord } from "../../src/runtime-bundle/core/execution-record";
import { DEFAULT_RETRY_POLICY } from "../../src/runtime-bundle/core/hooks";
import {
  claimTarget,
  decideFailure,
  holds,
  since,
  targetRunning,
  targetSucceeded,
  toFinished,
  toRunning,
  toSkipped,
} from "../../src/runtime-bundle/core/transitions";

const T = 1_000_000;
const target = (status: TargetRecord["status"], over: Partial<TargetRecord> = {}): TargetRecord => ({
  kind: "inline",
  engine: "lambda",
  status,
  ...over,
});

function record(over: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    id: "x",
    node: "n",
    dimensions: { day: "2024-05-07" },
    status: "PENDING",
    attempts: 1,
    startedAt: T,
    updatedAt: T,
    targets: [target("PENDING"), target("PENDING")],
    path: "mem://n/2024-05-07",
    inputs: {},
    ...over,
  };
}

const running = (over: Partial<ExecutionRecord> = {}) => toRunning(record(over)) as ExecutionRecord;

test("toRunning: PENDING → RUNNING with the first target claimed; anything else undefined", () => {
  expect(running().targets.map((t) => t.status)).toEqual(["RUNNING", "PENDING"]);
  expect(toRunning(running())).toBeUndefined();
});

test("toSkipped: PENDING → SKIPPED, every target too", () => {
  expect(toSkipped(record(), T + 1)).toMatchObject({
    status: "SKIPPED",
    endedAt: T + 1,
    targets: [{ status: "SKIPPED" }, { status: "SKIPPED" }],
  });
  expect(toSkipped(running(), T)).toBeUndefined();
});

test("holds: by the claim's token (updatedAt) or by the job's handle", () => {
  const r = running();
  expect(holds(r, 0, { token: T })).toBe(true);
  expect(holds(r, 0, { token: T - 1 })).toBe(false);
  const withHandle = targetRunning(r, 0, { token: T }, "h1") as ExecutionRecord;
  expect(holds(withHandle, 0, { handle: "h1" })).toBe(true);
  expect(holds(withHandle, 0, { handle: "h2" })).toBe(false);
  expect(holds(withHandle, 1, { token: T })).toBe(false);
});

test("targetSucceeded claims the next target in the same write", () => {
  const r = targetSucceeded(running(), 0, { token: T }) as ExecutionRecord;
  expect(r.targets.map((t) => t.status)).toEqual(["SUCCEEDED", "RUNNING"]);
  expect(targetSucceeded(running(), 0, { token: 0 })).toBeUndefined();
});

describe("decideFailure", () => {
  const policy = DEFAULT_RETRY_POLICY;

  test("a transient error retries with the engine backoff, not counted as an attempt", () => {
    const d = decideFailure(
      running(),
      0,
      { token: T },
      { error: "throttled", transient: true },
      0,
      T,
      policy,
      0,
    );
    expect(d).toMatchObject({ decision: "transient", due: T + policy.transientBackoffMs(1) });
    expect(d?.record.attempts).toBe(1);
    expect(d?.record.targets[0]).toEqual(
      target("PENDING", { error: "throttled", retryAt: d?.due, transientCount: 1 }),
    );
  });

  test("a transient error past maxTransientAgeMs is a user error", () => {
    const now = T + policy.maxTransientAgeMs;
    expect(
      decideFailure(running(), 0, { token: T }, { error: "e", transient: true }, 3, now, policy, 0)?.decision,
    ).toBe("fail");
  });

  test("a user error retries `retries` times with the user backoff, then fails", () => {
    const d = decideFailure(running(), 0, { token: T }, { error: "bug", transient: false }, 0, T, policy, 1);
    expect(d).toMatchObject({ decision: "retry", due: T + policy.userBackoffMs(2), record: { attempts: 2 } });
    const last = decideFailure(
      running({ attempts: 2 }),
      0,
      { token: T },
      { error: "bug", transient: false },
      0,
      T,
      policy,
      1,
    );
    expect(last?.decision).toBe("fail");
    expect(last?.record.targets[0]).toEqual(target("FAILED", { error: "bug" }));
  });

  test("undefined when the record moved on", () => {
    expect(
      decideFailure(running(), 0, { token: 0 }, { error: "e", transient: false }, 0, T, policy, 1),
    ).toBeUndefined();
  });
});

test("toFinished: running targets take the status, unstarted ones are SKIPPED; only once", () => {
  const failed = toFinished(running(), "FAILED", T + 5, "boom") as ExecutionRecord;
  expect(failed).toMatchObject({ status: "FAILED", endedAt: T + 5, error: "boom" });
  expect(failed.targets.map((t) => t.status)).toEqual(["FAILED", "SKIPPED"]);
  expect(toFinished(failed, "SUCCEEDED", T)).toBeUndefined();
  expect(toFinished(record(), "KILLED", T)?.status).toBe("KILLED");
  expect(toFinished(record(), "FAILED", T)).toBeUndefined();
});

test("claimTarget: only when nobody wrote the record since it was seen", () => {
  const seen = running();
  const claimed = claimTarget(seen, seen, 0, (t) => ({ ...t, handle: "h" }));
  expect(claimed?.targets[0]?.handle).toBe("h");
  expect(claimTarget({ ...seen, updatedAt: T + 1 }, seen, 0, (t) => t)).toBeUndefined();
});

test("since: the updatedAt a deferred task carries", () => {
  expect(since(record())).toEqual({ since: T });
  expect(since({ ...record(), updatedAt: undefined })).toEqual({});
});
