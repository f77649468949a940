/**
 * The execution runner: start, dispatch, poll, retry, finish and recover executions, exactly once,
 * with single-item conditional writes only:
 * - an execution is created with a conditional put on its deterministic id, and moves from PENDING
 *   to RUNNING (or SKIPPED) in a write conditioned on it still being PENDING: one invocation wins;
 * - a target is dispatched only under a claim: the write that makes it RUNNING without a handle, for
 *   target 0 the RUNNING transition itself and for target i + 1 the write of target i's success.
 *   The record's `updatedAt` after that write is the claim's token, and the result of the dispatch
 *   is written only while the record still carries it;
 * - a result about a job with a handle (a poll, an engine's state-change event) is written only while
 *   the target is RUNNING with that handle, so of two answers one moves the execution on;
 * - a deferred task carries the `updatedAt` it was scheduled at and is dropped once anyone else has
 *   acted on the execution since.
 * `resume` carries on what a crashed invocation left, from any of those states.
 */
import type { Engine } from "../../flow/model/flow-model";
import { CHECKPOINT_METRIC } from "../../flow/model/route-metrics";
import type { Clock } from "./clock";
import type { DispatchRequest, DispatchResult, Dispatcher } from "./dispatcher";
import {
  isFinished,
  type ExecutionRecord,
  type ExecutionStatus,
  type TargetRecord,
} from "./execution-record";
import type { HookCalls } from "./hook-calls";
import type { DeferredTask, MetricsSink, RetryPolicy, Scheduler } from "./hooks";
import type { RequestBuilder } from "./dispatch-request";
import { retryOnConflict, type ConflictPolicy } from "./retry-on-conflict";
import type { Route, RouteTable } from "./route-table";
import type { Dimensions } from "./signal";
import type { Storage } from "./storage";
import type { Store } from "./store";
import {
  claimTarget,
  claimedTarget,
  decideFailure,
  since,
  targetRunning,
  targetSucceeded,
  toFinished,
  toRunning,
  toSkipped,
  type Expected,
} from "./transitions";
import { outputKey } from "./trigger-groups";

/** Engine job handles are kept this long. */
const HANDLE_TTL_MS = 30 * 24 * 3600_000;

export type ResumeMode = "trigger" | "sweep";

/** What `start` left: `claimed` when the caller is to dispatch the first target. */
export interface Started {
  readonly record: ExecutionRecord | undefined;
  readonly claimed: boolean;
  /** The execution had already left PENDING before this call (a retried or concurrent trigger). */
  readonly existing: boolean;
}

/** An execution-level error of the router (a record that cannot be read, no dispatcher). */
export class ExecutionError extends Error {
  override readonly name = "RouterError";
}

export interface RunnerProps {
  readonly table: RouteTable;
  readonly store: Store;
  readonly storage: Storage;
  readonly dispatchers: Readonly<Partial<Record<Engine, Dispatcher>>>;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly retry: RetryPolicy;
  readonly dispatchTimeoutMs: number;
  readonly hooks: HookCalls;
  readonly requests: RequestBuilder;
  readonly conflicts: ConflictPolicy;
  readonly metrics?: MetricsSink;
  /** Pushes a succeeded execution's signal downstream (the router's intake): no import cycle. */
  readonly publish: (route: Route, record: ExecutionRecord) => Promise<void>;
}

export class ExecutionRunner {
  /** Targets this process is starting or polling right now ("<execution>#<index>"): never resumed here. */
  private readonly inFlight = new Set<string>();

  constructor(private readonly p: RunnerProps) {}

  /** Creates the execution record (or finds it) and carries it through the slot claim to RUNNING. */
  async start(
    route: Route,
    id: string,
    output: Dimensions,
    inputs: Readonly<Record<string, Dimensions>>,
  ): Promise<Started> {
    const { store, clock, storage } = this.p;
    const now = clock.now();
    const record: ExecutionRecord = {
      id,
      node: route.id,
      dimensions: output,
      status: "PENDING",
      attempts: 1,
      startedAt: now,
      updatedAt: now,
      targets: route.node.compute.map((t) => ({ kind: t.kind, engine: t.engine, status: "PENDING" })),
      path: storage.partitionPath(route.node, output),
      inputs,
    };
    if (await store.createExecution(record)) return this.continueStart(route, record);
    const existing = (await store.getExecution(id))?.value;
    if (!existing) throw new ExecutionError(`execution ${id} exists but could not be read`);
    if (existing.status === "PENDING") return this.continueStart(route, existing);
    return { record: existing, claimed: false, existing: true };
  }

  /**
   * A PENDING execution claims its output's slot (SKIPPED when another execution of that output is
   * active), then becomes RUNNING with its first target claimed. Safe to run concurrently and again
   * after a crash at any step: only the invocation whose RUNNING (or SKIPPED) write lands goes on.
   */
  async continueStart(route: Route, record: ExecutionRecord): Promise<Started> {
    const { store, clock, storage } = this.p;
    const id = record.id;
    const outKey = outputKey(route, record.dimensions);
    const skipped = await retryOnConflict(
      `slot ${route.id}/${outKey}`,
      async () => {
        const slot = await store.getSlot(route.id, outKey);
        const active = slot?.value.active;
        if (active === id) return { value: false };
        if (active !== undefined) {
          const other = await store.getExecution(active);
          if (other && !isFinished(other.value.status)) return { value: true };
        }
        return (await store.putSlot(route.id, outKey, { active: id, latest: id }, slot?.version))
          ? { value: false }
          : undefined;
      },
      this.p.conflicts,
      this.p.metrics,
    );
    if (skipped) {
      const written = await this.transition(id, (r) => toSkipped(r, clock.now()));
      if (written)
        await this.p.hooks.call(route, "onExecSkipped", { dimensions: record.dimensions, executionId: id });
      return { record: written ?? (await store.getExecution(id))?.value, claimed: false, existing: false };
    }
    const running = await this.transition(id, toRunning);
    if (!running) return { record: (await store.getExecution(id))?.value, claimed: false, existing: false };
    this.p.metrics?.emit(undefined, "ExecutionsStarted");
    await storage.clear(running.path);
    await this.p.hooks.call(route, "onExecBegin", { dimensions: running.dimensions, executionId: id });
    this.scheduleCheckpoints(route, id);
    if (running.targets.length === 0) {
      await this.succeed(route, running);
      return { record: running, claimed: false, existing: false };
    }
    return { record: running, claimed: true, existing: false };
  }

  /**
   * Runs claimed target `i` (or applies `first`, its outcome already known), then the targets after it
   * as each success claims the next; returns when all finished, one runs remotely, or a retry is scheduled.
   */
  async dispatchClaimed(
    route: Route,
    claimed: ExecutionRecord,
    i: number,
    transientCount: number,
    first?: DispatchResult,
  ): Promise<void> {
    let record = claimed;
    let index = i;
    let transients = transientCount;
    let known = first;
    for (;;) {
      const result = known ?? (await this.startTarget(route, record, index));
      known = undefined;
      const next = await this.applyResult(route, record.id, index, result, transients, {
        token: record.updatedAt,
      });
      if (!next) return;
      record = next;
      index += 1;
      transients = 0;
    }
  }

  private async startTarget(route: Route, record: ExecutionRecord, i: number): Promise<DispatchResult> {
    return this.flight(record, i, true, async () =>
      this.dispatcher(route, i).start(this.request(route, record, i)),
    );
  }

  /** A running job's state; a failed poll is a transient error (the job itself may be fine). */
  private async pollJob(
    route: Route,
    record: ExecutionRecord,
    i: number,
    handle: string,
  ): Promise<DispatchResult> {
    return this.flight(record, i, false, async () => {
      const d = this.dispatcher(route, i);
      return d.poll
        ? d.poll(handle, this.request(route, record, i))
        : { status: "FAILED", error: "engine cannot be polled", transient: false };
    });
  }

  private async flight(
    record: ExecutionRecord,
    i: number,
    starting: boolean,
    work: () => Promise<DispatchResult>,
  ): Promise<DispatchResult> {
    const key = `${record.id}#${i}`;
    this.inFlight.add(key);
    try {
      return await work();
    } catch (e) {
      this.p.metrics?.emit(undefined, "DispatchErrors");
      return { status: "FAILED", error: errorText(e), transient: !starting };
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * Writes one target's result, if the target is still as `expected`. Returns the record when the
   * target succeeded and the next one is now claimed by the caller; otherwise undefined.
   */
  async applyResult(
    route: Route,
    id: string,
    i: number,
    result: DispatchResult,
    transientCount: number,
    expected: Expected,
  ): Promise<ExecutionRecord | undefined> {
    const { clock, store, hooks } = this.p;
    const now = clock.now();
    if (result.status === "SUCCEEDED") {
      const written = await this.transition(id, (r) => targetSucceeded(r, i, expected));
      if (!written) return undefined;
      await hooks.call(route, "onComputeSuccess", { dimensions: written.dimensions, executionId: id });
      if (i + 1 < written.targets.length) return written;
      await this.succeed(route, written);
      return undefined;
    }
    if (result.status === "RUNNING") {
      const written = await this.transition(id, (r) => targetRunning(r, i, expected, result.handle));
      if (!written) return undefined;
      const engine = route.node.compute[i]?.engine ?? "lambda";
      await store.putHandle(engine, result.handle, { executionId: id, targetIndex: i }, now + HANDLE_TTL_MS);
      this.p.scheduler.schedule(now + this.p.retry.pollIntervalMs, {
        kind: "poll",
        executionId: id,
        targetIndex: i,
        transientCount,
        ...since(written),
      });
      return undefined;
    }
    let decision: ReturnType<typeof decideFailure>;
    const written = await this.transition(id, (r) => {
      decision = decideFailure(r, i, expected, result, transientCount, now, this.p.retry, route.node.retries);
      return decision?.record;
    });
    const d = decision;
    if (!written || !d) return undefined;
    const e = { dimensions: written.dimensions, executionId: id, error: result.error };
    if (d.decision !== "fail") {
      await hooks.call(route, "onComputeRetry", e);
      this.p.scheduler.schedule(d.due, {
        kind: "retry",
        executionId: id,
        targetIndex: i,
        transientCount: d.decision === "transient" ? transientCount + 1 : 0,
        ...since(written),
      });
      return undefined;
    }
    await hooks.call(route, "onComputeFailure", e);
    await this.finish(route, id, "FAILED", result.error);
    await hooks.call(route, "onFailure", e);
    return undefined;
  }

  /**
   * Carries on an execution an earlier invocation may have left behind (a crash, a lost deferred
   * task): from a retried trigger or a redelivered event ("trigger") or from the sweeper ("sweep").
   * A PENDING execution continues its start; a RUNNING one resumes at its first target that has not
   * succeeded (a job with a handle is polled, by the sweeper only once a poll is overdue; a target
   * claimed without a handle is taken over only after `dispatchTimeoutMs`, asking the engine first;
   * a PENDING target only once its retry is due); a finished one gets its last steps.
   */
  async resume(route: Route, record: ExecutionRecord, mode: ResumeMode): Promise<void> {
    if (record.status === "PENDING") {
      const started = await this.continueStart(route, record);
      if (started.claimed && started.record) await this.dispatchClaimed(route, started.record, 0, 0);
      return;
    }
    if (isFinished(record.status)) {
      await this.settleLeftover(route, record);
      return;
    }
    const i = record.targets.findIndex((t) => t.status !== "SUCCEEDED");
    if (i < 0) {
      await this.succeed(route, record);
      return;
    }
    const t = record.targets[i] as TargetRecord;
    if (this.inFlight.has(`${record.id}#${i}`)) return;
    const now = this.p.clock.now();
    const age = now - (record.updatedAt ?? record.startedAt);
    if (t.status === "RUNNING" && t.handle !== undefined) {
      if (mode === "sweep" && age <= this.p.retry.pollIntervalMs) return;
      const claimed = await this.claim(record, i, (x) => x);
      if (claimed) await this.pollClaimed(route, claimed, i, t.handle, t.transientCount ?? 0);
      return;
    }
    if (t.status === "RUNNING") {
      if (age <= this.p.dispatchTimeoutMs) return;
      const claimed = await this.claim(record, i, claimedTarget);
      if (claimed) await this.recoverClaimed(route, claimed, i);
      return;
    }
    if (t.status === "PENDING") {
      if (t.retryAt !== undefined && now < t.retryAt) return;
      const claimed = await this.claim(record, i, claimedTarget);
      if (claimed) await this.dispatchClaimed(route, claimed, i, t.transientCount ?? 0);
      return;
    }
    const error = t.error ?? `target ${i + 1} ended ${t.status}`;
    if (await this.finish(route, record.id, "FAILED", error))
      await this.p.hooks.call(route, "onFailure", {
        dimensions: record.dimensions,
        executionId: record.id,
        error,
      });
  }

  private claim(
    record: ExecutionRecord,
    i: number,
    change: (t: TargetRecord) => TargetRecord,
  ): Promise<ExecutionRecord | undefined> {
    return this.transition(record.id, (r) => claimTarget(r, record, i, change));
  }

  async pollClaimed(
    route: Route,
    claimed: ExecutionRecord,
    i: number,
    handle: string,
    transientCount: number,
  ): Promise<void> {
    const result = await this.pollJob(route, claimed, i, handle);
    const next = await this.applyResult(route, claimed.id, i, result, transientCount, { handle });
    if (next) await this.dispatchClaimed(route, next, i + 1, 0);
  }

  /**
   * A target claimed by an invocation that then died: it may have started a job without recording
   * its handle, so the engine is asked first; only when there is none is the target started again.
   */
  private async recoverClaimed(route: Route, claimed: ExecutionRecord, i: number): Promise<void> {
    let found: DispatchResult | undefined;
    try {
      const d = this.dispatcher(route, i);
      if (d.recover) found = await d.recover(this.request(route, claimed, i));
    } catch (e) {
      found = { status: "FAILED", error: errorText(e), transient: true };
    }
    if (found === undefined && i === 0) await this.p.storage.clear(claimed.path);
    const transients = (claimed.targets[i] as TargetRecord).transientCount ?? 0;
    await this.dispatchClaimed(route, claimed, i, transients, found);
  }

  /** Every target succeeded: the completion marker, the record, then downstream and the slot. */
  async succeed(route: Route, record: ExecutionRecord): Promise<void> {
    await this.p.storage.writeMarker(record.path, "_SUCCESS");
    const done = await this.finish(route, record.id, "SUCCEEDED", undefined, false);
    if (!done) return;
    await this.p.hooks.call(route, "onSuccess", { dimensions: done.dimensions, executionId: done.id });
    await this.p.publish(route, done);
    await this.releaseSlot(route, done);
  }

  /** A finished execution whose slot is still active: a crash cut its last steps short. */
  private async settleLeftover(route: Route, record: ExecutionRecord): Promise<void> {
    const slot = await this.p.store.getSlot(route.id, outputKey(route, record.dimensions));
    if (slot?.value.active !== record.id) return;
    if (record.status === "SUCCEEDED") await this.p.publish(route, record);
    await this.releaseSlot(route, record);
  }

  /** Ends an execution that is not finished yet; undefined when it already was. */
  async finish(
    route: Route,
    id: string,
    status: ExecutionStatus,
    error?: string,
    release = true,
  ): Promise<ExecutionRecord | undefined> {
    const done = await this.transition(id, (r) => toFinished(r, status, this.p.clock.now(), error));
    if (!done) return undefined;
    this.p.metrics?.emit(undefined, status === "SUCCEEDED" ? "ExecutionsSucceeded" : "ExecutionsFailed");
    if (release) await this.releaseSlot(route, done);
    return done;
  }

  private async releaseSlot(route: Route, record: ExecutionRecord): Promise<void> {
    const { store } = this.p;
    const outKey = outputKey(route, record.dimensions);
    await retryOnConflict(
      `slot ${route.id}/${outKey}`,
      async () => {
        const slot = await store.getSlot(route.id, outKey);
        if (slot?.value.active !== record.id) return { value: undefined };
        const ok = await store.putSlot(
          route.id,
          outKey,
          { latest: slot.value.latest ?? record.id },
          slot.version,
        );
        return ok ? { value: undefined } : undefined;
      },
      this.p.conflicts,
      this.p.metrics,
    );
  }

  private scheduleCheckpoints(route: Route, id: string): void {
    const now = this.p.clock.now();
    route.node.hooks.checkpoints.forEach((c, index) =>
      this.p.scheduler.schedule(now + c.afterSeconds * 1000, { kind: "checkpoint", executionId: id, index }),
    );
  }

  /**
   * Deferred work the Scheduler hands back when it is due (a retry, a poll, a checkpoint). A retry
   * or poll that someone else has overtaken is dropped. `run` runs or backgrounds the work.
   */
  async runTask(task: DeferredTask, run: (work: () => Promise<void>) => Promise<void>): Promise<void> {
    const record = (await this.p.store.getExecution(task.executionId))?.value;
    if (!record || record.status !== "RUNNING") return;
    const route = this.route(record.node);
    if (task.kind === "checkpoint") {
      const c = route.node.hooks.checkpoints[task.index];
      if (!c) return;
      this.p.metrics?.emit(route.id, CHECKPOINT_METRIC);
      await this.p.hooks.run(
        c.handler,
        { node: route.id, hook: "checkpoint", dimensions: record.dimensions, executionId: record.id },
        record.attempts,
      );
      return;
    }
    if (task.since !== undefined && record.updatedAt !== task.since) return;
    const i = task.targetIndex;
    const target = record.targets[i];
    if (task.kind === "retry") {
      if (target?.status !== "PENDING") return;
      await run(async () => {
        const claimed = await this.claim(record, i, claimedTarget);
        if (claimed) await this.dispatchClaimed(route, claimed, i, task.transientCount);
      });
      return;
    }
    const handle = target?.status === "RUNNING" ? target.handle : undefined;
    if (handle === undefined) return;
    await run(() => this.pollClaimed(route, record, i, handle, task.transientCount));
  }

  /** An engine's state-change event; false when the handle is unknown. */
  async onEngineEvent(
    engine: Engine,
    handle: string,
    result: DispatchResult,
    run: (work: () => Promise<void>) => Promise<void>,
  ): Promise<boolean> {
    const ref = await this.p.store.getHandle(engine, handle);
    if (!ref) return false;
    const record = (await this.p.store.getExecution(ref.executionId))?.value;
    const target = record?.targets[ref.targetIndex];
    if (!record || record.status !== "RUNNING" || target?.status !== "RUNNING" || target.handle !== handle)
      return true;
    const route = this.route(record.node);
    if (result.status === "RUNNING") return true;
    const i = ref.targetIndex;
    await run(async () => {
      const next = await this.applyResult(route, record.id, i, result, 0, { handle });
      if (next) await this.dispatchClaimed(route, next, i + 1, 0);
    });
    return true;
  }

  /** Stops the active execution of an output partition and the engine jobs behind it. */
  async kill(route: Route, out: Dimensions): Promise<ExecutionRecord | undefined> {
    const { store } = this.p;
    const active = (await store.getSlot(route.id, outputKey(route, out)))?.value.active;
    if (active === undefined) return undefined;
    const record = (await store.getExecution(active))?.value;
    if (!record || isFinished(record.status)) return record;
    for (const [i, t] of record.targets.entries()) {
      const d = this.p.dispatchers[t.engine];
      if (t.status === "RUNNING" && t.handle !== undefined && d?.kill)
        await d.kill(t.handle, this.request(route, record, i));
    }
    return (
      (await this.finish(route, active, "KILLED", "killed")) ?? (await store.getExecution(active))?.value
    );
  }

  request(route: Route, record: ExecutionRecord, i: number): DispatchRequest {
    return this.p.requests.request(route, record, i);
  }

  private dispatcher(route: Route, i: number): Dispatcher {
    const engine = route.node.compute[i]?.engine as Engine;
    const d = this.p.dispatchers[engine];
    if (!d)
      throw new ExecutionError(`node "${route.id}": no dispatcher for engine ${engine} in this runtime`);
    return d;
  }

  private route(node: string): Route {
    const route = this.p.table.route(node);
    if (!route) throw new ExecutionError(`"${node}" is not a data node of the flow`);
    return route;
  }

  /**
   * Read-modify-write of an execution record, retried on conflicting writes; `change` returns
   * undefined to give up. Every write moves `updatedAt` forward, strictly.
   */
  transition(
    id: string,
    change: (r: ExecutionRecord) => ExecutionRecord | undefined,
  ): Promise<ExecutionRecord | undefined> {
    const { store, clock } = this.p;
    return retryOnConflict(
      `execution ${id}`,
      async () => {
        const current = await store.getExecution(id);
        if (!current) return { value: undefined };
        const changed = change(current.value);
        if (!changed) return { value: undefined };
        const next = { ...changed, updatedAt: Math.max(clock.now(), (current.value.updatedAt ?? 0) + 1) };
        return (await store.putExecution(next, current.version)) ? { value: next } : undefined;
      },
      this.p.conflicts,
      this.p.metrics,
    );
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
