/**
 * The router: signals in, trigger groups updated, executions run exactly once, success pushed
 * downstream. Pure orchestration over the Store, Storage, Dispatcher and Scheduler interfaces, so
 * LocalRuntime and the Lambda handler drive the same code.
 */
import type {
  ComputeParamsModel,
  DataNodeModel,
  DimensionFilterModel,
  DimensionModel,
  DimensionValue,
  Engine,
  HookName,
  NodeKind,
  NodeModel,
} from "../../flow/model/flow-model";
import { coerceDimensionValue, sameValue } from "../../flow/model/dimension-value";
import {
  inlineConfig,
  type HookEvent,
  type InlineContext,
  type InlineDataset,
} from "../../flow/model/inline-api";
import type { CustomMapperResolver } from "../../flow/model/mapper";
import { CHECKPOINT_METRIC, ROUTE_METRIC_OF_HOOK } from "../../flow/model/route-metrics";
import type { Clock } from "./clock";
import type { DispatchInput, DispatchRequest, DispatchResult, Dispatcher } from "./dispatcher";
import {
  isFinished,
  type ExecutionRecord,
  type ExecutionStatus,
  type TargetRecord,
} from "./execution-record";
import {
  DEFAULT_RETRY_POLICY,
  type DeferredTask,
  isTimerHost,
  type TimerHost,
  type HookRunner,
  type MetricsSink,
  type RetryPolicy,
  type RuntimeEnvironment,
  type Scheduler,
} from "./hooks";
import {
  completionOf,
  outputDimensions,
  partitionsOf,
  selectInputs,
  triggersForOutput,
  type Selection,
} from "./materialize";
import type { Route, RouteTable } from "./route-table";
import { dimensionKey, type Dimensions, type Signal } from "./signal";
import type { Storage } from "./storage";
import type { PendingGroup, Store } from "./store";
import { isExpired, isSpent, offer } from "./trigger-groups";
import { WILDCARD } from "./partition-layout";

export interface RouterProps {
  readonly table: RouteTable;
  readonly store: Store;
  readonly storage: Storage;
  readonly dispatchers: Readonly<Partial<Record<Engine, Dispatcher>>>;
  readonly clock: Clock;
  /** Where deferred work goes: a queue-backed Scheduler, or an in-process TimerHost (the VirtualClock). */
  readonly scheduler: Scheduler | TimerHost;
  readonly environment: RuntimeEnvironment;
  /** @default hooks are counted as metrics but run nothing */
  readonly hooks?: HookRunner;
  /** @default metrics are dropped */
  readonly metrics?: MetricsSink;
  readonly custom?: CustomMapperResolver;
  /** @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /** @default crypto.randomUUID */
  readonly newId?: () => string;
  /**
   * How long a triggered group's idempotency ids stay in its bucket, so that a redelivery of one of
   * its events (of a delivery that died before recording the event as seen) is a repeat. Longer than
   * any redelivery takes: Lambda's asynchronous retries end after 6 hours, SQS's after the queue's
   * receive count times its visibility timeout.
   * @default 6 hours
   */
  readonly consumedRetentionMs?: number;
  /**
   * Called with a data node's own signal after it was pushed to the routes downstream (collaboration:
   * LocalRuntime forwards it to subscribed downstream applications). @default nothing
   */
  readonly published?: (signal: Signal) => Promise<void>;
}

export interface ProcessOutcome {
  /** (route, input) pairs the signal was offered to. */
  readonly matched: readonly { readonly route: string; readonly input: string }[];
  /** Executions the signal started (directly; downstream ones are in their own outcomes). */
  readonly executions: readonly string[];
  /** Why nothing matched, when nothing did. */
  readonly unmatched?: string;
}

export interface PendingView {
  /** Output dimensions as far as the received inputs determine them. */
  readonly dimensions: Dimensions;
  /** Aliases of the inputs received so far. */
  readonly received: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly state: PendingGroup["state"];
}

export interface PollResult {
  readonly path?: string;
  readonly records?: readonly ExecutionRecord[];
}

export interface RunOptions {
  /**
   * Receives the work of executions instead of the caller awaiting it (LocalRuntime's `wait: false`):
   * the call returns once groups and records are written.
   */
  readonly background?: (work: Promise<unknown>) => void;
}

export class RouterError extends Error {
  override readonly name = "RouterError";
}

const MAX_CONFLICT_RETRIES = 50;
/** Idempotency keys of events are kept this long. */
const EVENT_ID_TTL_MS = 7 * 24 * 3600_000;
/** Engine job handles are kept this long. */
const HANDLE_TTL_MS = 30 * 24 * 3600_000;
const DEFAULT_CONSUMED_RETENTION_MS = 6 * 3600_000;
const DEFAULT_DISPATCH_TIMEOUT_MS = 16 * 60_000;

type ResumeMode = "trigger" | "sweep";

/** What `startExecution` left: `claimed` when the caller is to dispatch the first target. */
interface Started {
  readonly record: ExecutionRecord | undefined;
  readonly claimed: boolean;
  /** The execution had already left PENDING before this call (a retried or concurrent trigger). */
  readonly existing: boolean;
}

/** The state a result is about: a claim's token (`updatedAt`), or a job's handle. */
type Expected = { readonly token: number | undefined } | { readonly handle: string };

export class Router {
  private readonly retry: RetryPolicy;
  private readonly scheduler: Scheduler;
  private readonly newId: () => string;
  private readonly consumedRetentionMs: number;
  private readonly dispatchTimeoutMs: number;
  /** Targets this process is starting or polling right now ("<execution>#<index>"): never resumed here. */
  private readonly inFlight = new Set<string>();

  constructor(private readonly props: RouterProps) {
    this.retry = props.retry ?? DEFAULT_RETRY_POLICY;
    this.consumedRetentionMs = props.consumedRetentionMs ?? DEFAULT_CONSUMED_RETENTION_MS;
    this.dispatchTimeoutMs = this.retry.dispatchTimeoutMs ?? DEFAULT_DISPATCH_TIMEOUT_MS;
    const host = props.scheduler;
    // Retries and polls belong to live executions (a LocalRuntime waits for them); checkpoints do not.
    this.scheduler = isTimerHost(host)
      ? { schedule: (at, task) => host.schedule(at, () => this.runTask(task), task.kind !== "checkpoint") }
      : host;
    this.newId = props.newId ?? (() => crypto.randomUUID());
  }

  get table(): RouteTable {
    return this.props.table;
  }

  // ---------------------------------------------------------------- signals in

  /**
   * Offers a signal to every route input it can feed; starts the executions it completes.
   *
   * An event with an `eventId` is recorded as seen only after its offers are written and what they
   * started has run, never before: a delivery that dies on the way is processed again when it is
   * redelivered. That second pass is safe because the buckets remember the event: a group that holds
   * it, or a consumed group that held it, makes the repeat a no-op that resumes the execution the
   * group became (see `resume`).
   */
  async process(signal: Signal, options: RunOptions = {}): Promise<ProcessOutcome> {
    return this.route(signal, options, true);
  }

  private async route(signal: Signal, options: RunOptions, idempotent: boolean): Promise<ProcessOutcome> {
    const { table, store, metrics } = this.props;
    metrics?.emit(undefined, "EventsReceived");
    const node = table.node(signal.node);
    if (!node) return this.unmatched(`no node "${signal.node}" in the flow`);
    const dims = canonicalDims(node.signal.dimensions, signal.dimensions);
    if (typeof dims === "string") return this.unmatched(`node "${signal.node}": ${dims}`);
    const eventId = signal.eventId;
    if (idempotent && eventId !== undefined && (await store.eventSeen(eventId)))
      return { matched: [], executions: [], unmatched: `duplicate delivery ${eventId}` };
    const matched: { route: string; input: string }[] = [];
    const executions: string[] = [];
    for (const { route, input } of table.triggersOf(signal.node)) {
      if (!inFilter(input.dims, input.model.filter, dims)) continue;
      matched.push({ route: route.id, input: input.alias });
      executions.push(...(await this.offerToRoute(route, input.alias, dims, eventId, options)));
    }
    for (const { route, input } of table.rangeChecksOf(signal.node)) {
      // A partition a range check waits for is consumed, even when the input is a reference.
      const known = matched.some((m) => m.route === route.id && m.input === input.alias);
      if (!known && inFilter(input.dims, input.model.filter, dims))
        matched.push({ route: route.id, input: input.alias });
      executions.push(...(await this.recheckWaiting(route, options)));
    }
    if (matched.length === 0) {
      metrics?.emit(undefined, "EventsUnmatched");
      return { matched, executions, unmatched: `no route takes node "${signal.node}" at these dimensions` };
    }
    metrics?.emit(undefined, "EventsMatched");
    if (idempotent && eventId !== undefined)
      await store.claimEvent(eventId, this.props.clock.now() + EVENT_ID_TTL_MS);
    return { matched, executions };
  }

  private unmatched(reason: string): ProcessOutcome {
    this.props.metrics?.emit(undefined, "EventsUnmatched");
    return { matched: [], executions: [], unmatched: reason };
  }

  /** One conditional write of the event's bucket; then the groups it completed are triggered. */
  private async offerToRoute(
    route: Route,
    alias: string,
    dims: Dimensions,
    eventId: string | undefined,
    options: RunOptions,
  ): Promise<string[]> {
    const { store, clock } = this.props;
    const key = route.groupKey(alias, dims);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await store.getBucket(route.id, key);
      const now = clock.now();
      const result = offer(route, current?.value, alias, dims, now, this.newId, this.props.custom, eventId);
      if (result.noop) {
        await this.resumeHolding(route, key, result.holding, options);
        return [];
      }
      const ready = new Set<string>();
      for (const g of result.completed) if (await this.rangesComplete(route, g)) ready.add(g.id);
      const groups = result.groups.map((g): PendingGroup => {
        if (!result.completed.some((c) => c.id === g.id)) return g;
        return ready.has(g.id)
          ? { ...g, state: "triggering", executionId: `${route.id}-${g.id}` }
          : { ...g, state: "waiting" };
      });
      if (!(await store.putBucket(route.id, key, { groups }, current?.version))) continue;
      if (groups.some((g) => g.state === "waiting" && !ready.has(g.id))) {
        await this.updateWaiting(route, (keys) => (keys.includes(key) ? keys : [...keys, key]));
      }
      for (const g of result.expired)
        await this.hook(route, "onPendingExpired", { dimensions: partialOutput(route, g) });
      for (const g of result.created)
        await this.hook(route, "onPendingCreated", { dimensions: partialOutput(route, g) });
      const started: string[] = [];
      for (const g of groups)
        if (ready.has(g.id)) started.push(await this.triggerGroup(route, key, g, options));
      await this.resumeHolding(route, key, result.holding, options);
      return started;
    }
    throw new RouterError(`route "${route.id}": group ${key} kept changing under concurrent writes`);
  }

  /**
   * A repeat of an event that a claimed or consumed group holds: the delivery it repeats may have died
   * while triggering that group, so its execution is carried on (idempotently; usually there is
   * nothing left to do).
   */
  private async resumeHolding(
    route: Route,
    key: string,
    holding: readonly PendingGroup[],
    options: RunOptions,
  ): Promise<void> {
    for (const g of holding) {
      if (g.state === "triggering") {
        await this.triggerGroup(route, key, g, options);
      } else if (g.executionId !== undefined) {
        const record = (await this.props.store.getExecution(g.executionId))?.value;
        if (record) await this.runOrBackground(() => this.resume(route, record, "trigger"), options);
      }
    }
  }

  /**
   * A claimed ("triggering") group becomes an execution, then leaves its bucket. Idempotent: when the
   * execution exists (a retry after a crash, or a concurrent delivery) it is resumed, not restarted.
   */
  private async triggerGroup(
    route: Route,
    key: string,
    group: PendingGroup,
    options: RunOptions = {},
    mode: ResumeMode = "trigger",
  ): Promise<string> {
    const id = group.executionId ?? `${route.id}-${group.id}`;
    const sel = selectInputs(route, group.received, this.props.custom);
    const output = outputDimensions(route, sel, this.props.custom);
    const started = await this.startExecution(route, id, output, group.received);
    await this.removeGroup(route, key, group.id, id);
    const record = started.record;
    if (record && started.claimed)
      await this.runOrBackground(() => this.dispatchClaimed(route, record, 0, 0), options);
    else if (record && started.existing)
      await this.runOrBackground(() => this.resume(route, record, mode), options);
    return id;
  }

  private async runOrBackground(work: () => Promise<void>, options: RunOptions): Promise<void> {
    if (options.background) options.background(work());
    else await work();
  }

  /**
   * Takes a triggered group out of its bucket. A group that holds events with idempotency ids stays
   * behind as a "consumed" group with just those ids, for `consumedRetentionMs`: a redelivery of one
   * of them (one that died before the event was recorded as seen) is then a no-op, not a new group.
   */
  private async removeGroup(route: Route, key: string, groupId: string, executionId: string): Promise<void> {
    const { store, clock } = this.props;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await store.getBucket(route.id, key);
      const group = current?.value.groups.find((g) => g.id === groupId);
      if (!current || !group || group.state === "consumed") return;
      const now = clock.now();
      const groups: PendingGroup[] = [];
      for (const g of current.value.groups) {
        if (isSpent(g, now)) continue;
        if (g.id !== groupId) groups.push(g);
        else if (g.ids !== undefined && Object.keys(g.ids).length > 0)
          groups.push({
            id: g.id,
            createdAt: g.createdAt,
            expiresAt: now + this.consumedRetentionMs,
            received: {},
            state: "consumed",
            executionId,
            ids: g.ids,
          });
      }
      if (await store.putBucket(route.id, key, { groups }, current.version)) return;
    }
    throw new RouterError(`route "${route.id}": could not remove group ${groupId}`);
  }

  /** Range-checked inputs: every partition of the range must exist. */
  private async rangesComplete(route: Route, group: PendingGroup): Promise<boolean> {
    return (
      (await this.missingRanges(route, selectInputs(route, group.received, this.props.custom))).length === 0
    );
  }

  private async missingRanges(route: Route, sel: Record<string, Selection>): Promise<string[]> {
    const missing: string[] = [];
    for (const input of route.inputs) {
      if (!input.model.rangeCheck) continue;
      for (const part of partitionsOf(input, sel[input.alias] ?? {})) {
        const path = this.props.storage.partitionPath(input.source, part);
        if (!(await this.props.storage.exists(path, completionOf(input.source)))) missing.push(path);
      }
    }
    return missing;
  }

  /**
   * Groups waiting on range checks whose partitions may now exist. Only the buckets the route's
   * waiting index names are read, so an event on a range-checked input never scans the route.
   */
  private async recheckWaiting(route: Route, options: RunOptions = {}): Promise<string[]> {
    const { store } = this.props;
    const started: string[] = [];
    const settled: string[] = [];
    for (const key of (await store.getWaiting(route.id))?.value.keys ?? []) {
      const current = await store.getBucket(route.id, key);
      const now = this.props.clock.now();
      const waiting = current?.value.groups.filter((g) => g.state === "waiting" && !isExpired(g, now)) ?? [];
      if (!current || waiting.length === 0) {
        settled.push(key);
        continue;
      }
      const ready: PendingGroup[] = [];
      for (const g of waiting)
        if (await this.rangesComplete(route, g))
          ready.push({ ...g, state: "triggering", executionId: `${route.id}-${g.id}` });
      if (ready.length === 0) continue;
      const groups = current.value.groups.map((g) => ready.find((r) => r.id === g.id) ?? g);
      if (!(await store.putBucket(route.id, key, { groups }, current.version))) continue; // someone else moved it
      if (ready.length === waiting.length) settled.push(key);
      for (const g of ready) started.push(await this.triggerGroup(route, key, g, options));
    }
    if (settled.length > 0)
      await this.updateWaiting(route, (keys) => keys.filter((k) => !settled.includes(k)));
    return started;
  }

  private async updateWaiting(
    route: Route,
    change: (keys: readonly string[]) => readonly string[],
  ): Promise<void> {
    const { store } = this.props;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await store.getWaiting(route.id);
      const before = current?.value.keys ?? [];
      const keys = change(before);
      if (keys.length === before.length && keys.every((k, i) => k === before[i])) return;
      if (await store.putWaiting(route.id, { keys }, current?.version)) return;
    }
    throw new RouterError(`route "${route.id}": the waiting index kept changing under concurrent writes`);
  }

  // ---------------------------------------------------------------- executions
  //
  // Exactly once, with single-item conditional writes only:
  // - an execution is created with a conditional put on its deterministic id, and moves from PENDING
  //   to RUNNING (or SKIPPED) in a write conditioned on it still being PENDING: one invocation wins;
  // - a target is dispatched only under a claim: the write that makes it RUNNING without a handle, for
  //   target 0 the RUNNING transition itself and for target i + 1 the write of target i's success.
  //   The record's `updatedAt` after that write is the claim's token, and the result of the dispatch
  //   is written only while the record still carries it;
  // - a result about a job with a handle (a poll, an engine's state-change event) is written only while
  //   the target is RUNNING with that handle, so of two answers one moves the execution on;
  // - a deferred task carries the `updatedAt` it was scheduled at and is dropped once anyone else has
  //   acted on the execution since.
  // `resume` carries on what a crashed invocation left, from any of those states.

  /** Creates the execution record (or finds it) and carries it through the slot claim to RUNNING. */
  private async startExecution(
    route: Route,
    id: string,
    output: Dimensions,
    inputs: Readonly<Record<string, Dimensions>>,
  ): Promise<Started> {
    const { store, clock, storage } = this.props;
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
    // A retry of this trigger (after a crash), or a concurrent one.
    const existing = (await store.getExecution(id))?.value;
    if (!existing) throw new RouterError(`execution ${id} exists but could not be read`);
    if (existing.status === "PENDING") return this.continueStart(route, existing);
    return { record: existing, claimed: false, existing: true };
  }

  /**
   * A PENDING execution claims its output's slot (SKIPPED when another execution of that output is
   * active), then becomes RUNNING with its first target claimed. Safe to run concurrently and again
   * after a crash at any step: only the invocation whose RUNNING (or SKIPPED) write lands goes on.
   */
  private async continueStart(route: Route, record: ExecutionRecord): Promise<Started> {
    const { store, clock, storage } = this.props;
    const id = record.id;
    const outKey = outputKey(route, record.dimensions);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const slot = await store.getSlot(route.id, outKey);
      const active = slot?.value.active;
      if (active === id) break; // claimed by an earlier try
      if (active !== undefined) {
        const other = await store.getExecution(active);
        if (other && !isFinished(other.value.status)) {
          const skipped = await this.transition(id, (r) =>
            r.status !== "PENDING"
              ? undefined
              : {
                  ...r,
                  status: "SKIPPED",
                  endedAt: clock.now(),
                  targets: r.targets.map((t) => ({ ...t, status: "SKIPPED" })),
                },
          );
          if (skipped)
            await this.hook(route, "onExecSkipped", { dimensions: record.dimensions, executionId: id });
          return {
            record: skipped ?? (await store.getExecution(id))?.value,
            claimed: false,
            existing: false,
          };
        }
      }
      if (await store.putSlot(route.id, outKey, { active: id, latest: id }, slot?.version)) break;
    }
    const running = await this.transition(id, (r) =>
      r.status !== "PENDING"
        ? undefined
        : { ...r, status: "RUNNING", targets: r.targets.map((t, j) => (j === 0 ? claimedTarget(t) : t)) },
    );
    if (!running) return { record: (await store.getExecution(id))?.value, claimed: false, existing: false };
    this.props.metrics?.emit(undefined, "ExecutionsStarted");
    await storage.clear(running.path);
    await this.hook(route, "onExecBegin", { dimensions: running.dimensions, executionId: id });
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
  private async dispatchClaimed(
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
    const flight = `${record.id}#${i}`;
    this.inFlight.add(flight);
    try {
      return await this.dispatcher(route, i).start(this.request(route, record, i));
    } catch (e) {
      this.props.metrics?.emit(undefined, "DispatchErrors");
      return { status: "FAILED", error: errorText(e), transient: false };
    } finally {
      this.inFlight.delete(flight);
    }
  }

  /** A running job's state; a failed poll is a transient error (the job itself may be fine). */
  private async pollJob(
    route: Route,
    record: ExecutionRecord,
    i: number,
    handle: string,
  ): Promise<DispatchResult> {
    const flight = `${record.id}#${i}`;
    this.inFlight.add(flight);
    try {
      const d = this.dispatcher(route, i);
      return d.poll
        ? await d.poll(handle, this.request(route, record, i))
        : { status: "FAILED", error: "engine cannot be polled", transient: false };
    } catch (e) {
      this.props.metrics?.emit(undefined, "DispatchErrors");
      return { status: "FAILED", error: errorText(e), transient: true };
    } finally {
      this.inFlight.delete(flight);
    }
  }

  /**
   * Writes one target's result, if the target is still as `expected`. Returns the record when the
   * target succeeded and the next one is now claimed by the caller; otherwise undefined (all done,
   * running remotely, retry scheduled, failed, or someone else moved the execution on).
   */
  private async applyResult(
    route: Route,
    id: string,
    i: number,
    result: DispatchResult,
    transientCount: number,
    expected: Expected,
  ): Promise<ExecutionRecord | undefined> {
    const { clock, store } = this.props;
    const now = clock.now();
    if (result.status === "SUCCEEDED") {
      const written = await this.transition(id, (r) =>
        !holds(r, i, expected)
          ? undefined
          : {
              ...r,
              targets: r.targets.map((t, j) =>
                j === i ? bareTarget(t, "SUCCEEDED") : j === i + 1 ? claimedTarget(t) : t,
              ),
            },
      );
      if (!written) return undefined;
      await this.hook(route, "onComputeSuccess", { dimensions: written.dimensions, executionId: id });
      if (i + 1 < written.targets.length) return written;
      await this.succeed(route, written);
      return undefined;
    }
    if (result.status === "RUNNING") {
      const written = await this.transition(id, (r) =>
        !holds(r, i, expected)
          ? undefined
          : withTarget(r, i, {
              ...bareTarget(r.targets[i] as TargetRecord, "RUNNING"),
              handle: result.handle,
            }),
      );
      if (!written) return undefined;
      const engine = route.node.compute[i]?.engine ?? "lambda";
      await store.putHandle(engine, result.handle, { executionId: id, targetIndex: i }, now + HANDLE_TTL_MS);
      this.scheduler.schedule(now + this.retry.pollIntervalMs, {
        kind: "poll",
        executionId: id,
        targetIndex: i,
        transientCount,
        ...since(written),
      });
      return undefined;
    }
    // Failed: a transient engine error retries with its own backoff (until the execution is too old),
    // a user error up to `retries` times; otherwise the execution fails.
    let decision = "fail" as "transient" | "retry" | "fail";
    let due = now;
    const written = await this.transition(id, (r) => {
      if (!holds(r, i, expected)) return undefined;
      const t = r.targets[i] as TargetRecord;
      if (result.transient && now - r.startedAt < this.retry.maxTransientAgeMs) {
        decision = "transient";
        due = now + this.retry.transientBackoffMs(transientCount + 1);
        return withTarget(r, i, {
          ...bareTarget(t, "PENDING"),
          error: result.error,
          retryAt: due,
          transientCount: transientCount + 1,
        });
      }
      if (r.attempts <= route.node.retries) {
        decision = "retry";
        due = now + this.retry.userBackoffMs(r.attempts + 1);
        return {
          ...withTarget(r, i, { ...bareTarget(t, "PENDING"), error: result.error, retryAt: due }),
          attempts: r.attempts + 1,
        };
      }
      decision = "fail";
      return withTarget(r, i, { ...bareTarget(t, "FAILED"), error: result.error });
    });
    if (!written) return undefined;
    const e = { dimensions: written.dimensions, executionId: id, error: result.error };
    if (decision !== "fail") {
      await this.hook(route, "onComputeRetry", e);
      this.scheduler.schedule(due, {
        kind: "retry",
        executionId: id,
        targetIndex: i,
        transientCount: decision === "transient" ? transientCount + 1 : 0,
        ...since(written),
      });
      return undefined;
    }
    await this.hook(route, "onComputeFailure", e);
    await this.finish(route, id, "FAILED", result.error);
    await this.hook(route, "onFailure", e);
    return undefined;
  }

  /**
   * Carries on an execution that an earlier invocation may have left behind (it crashed, or a deferred
   * task was lost): from a retried trigger or a redelivered event ("trigger") or from the sweeper
   * ("sweep"). Nothing done is redone and nothing live is disturbed: a PENDING execution continues
   * its start; a RUNNING one resumes at its first target that has not succeeded, where a job with a
   * handle is polled (by the sweeper only once a poll is overdue), a target claimed without a handle
   * is taken over only after `dispatchTimeoutMs` (asking the engine first for a job already started),
   * and a PENDING target only once its retry is due; a finished one gets its last steps (push
   * downstream, slot release) if a crash cut them short. Every dispatch is under a claim, so
   * concurrent resumes do it once.
   */
  private async resume(route: Route, record: ExecutionRecord, mode: ResumeMode): Promise<void> {
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
      await this.succeed(route, record); // every target succeeded, the execution was not finished
      return;
    }
    const t = record.targets[i] as TargetRecord;
    if (this.inFlight.has(`${record.id}#${i}`)) return; // this process is running it right now
    const now = this.props.clock.now();
    const age = now - (record.updatedAt ?? record.startedAt);
    if (t.status === "RUNNING" && t.handle !== undefined) {
      if (mode === "sweep" && age <= this.retry.pollIntervalMs) return;
      const claimed = await this.claim(record, i, (x) => x);
      if (claimed) await this.pollClaimed(route, claimed, i, t.handle, t.transientCount ?? 0);
      return;
    }
    if (t.status === "RUNNING") {
      if (age <= this.dispatchTimeoutMs) return;
      const claimed = await this.claim(record, i, claimedTarget);
      if (claimed) await this.recoverClaimed(route, claimed, i);
      return;
    }
    if (t.status === "PENDING") {
      if (t.retryAt !== undefined && now < t.retryAt) return; // its retry is scheduled
      const claimed = await this.claim(record, i, claimedTarget);
      if (claimed) await this.dispatchClaimed(route, claimed, i, t.transientCount ?? 0);
      return;
    }
    // The target failed; the crash came before the execution was finished.
    const error = t.error ?? `target ${i + 1} ended ${t.status}`;
    if (await this.finish(route, record.id, "FAILED", error))
      await this.hook(route, "onFailure", { dimensions: record.dimensions, executionId: record.id, error });
  }

  /** Claims target `i` of a RUNNING execution, if nobody has written the record since `record` was read. */
  private claim(
    record: ExecutionRecord,
    i: number,
    change: (t: TargetRecord) => TargetRecord,
  ): Promise<ExecutionRecord | undefined> {
    return this.transition(record.id, (r) =>
      r.status === "RUNNING" && r.updatedAt === record.updatedAt
        ? withTarget(r, i, change(r.targets[i] as TargetRecord))
        : undefined,
    );
  }

  private async pollClaimed(
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
   * A target that was claimed for dispatch by an invocation that then died: it may have started a job
   * without recording its handle. The engine is asked for such a job first; only when there is none
   * (or the engine cannot tell) is the target started again.
   */
  private async recoverClaimed(route: Route, claimed: ExecutionRecord, i: number): Promise<void> {
    let found: DispatchResult | undefined;
    try {
      const d = this.dispatcher(route, i);
      if (d.recover) found = await d.recover(this.request(route, claimed, i));
    } catch (e) {
      found = { status: "FAILED", error: errorText(e), transient: true };
    }
    // The first target starts on an empty output partition, as it did the first time.
    if (found === undefined && i === 0) await this.props.storage.clear(claimed.path);
    const transients = (claimed.targets[i] as TargetRecord).transientCount ?? 0;
    await this.dispatchClaimed(route, claimed, i, transients, found);
  }

  /**
   * An engine's state-change event (Glue job, Athena query, EMR step…) for a job the router started.
   * Unknown handles are reported, not errors: the job may belong to someone else.
   */
  async onEngineEvent(
    engine: Engine,
    handle: string,
    result: DispatchResult,
    options: RunOptions = {},
  ): Promise<boolean> {
    const ref = await this.props.store.getHandle(engine, handle);
    if (!ref) return false;
    const record = (await this.props.store.getExecution(ref.executionId))?.value;
    const target = record?.targets[ref.targetIndex];
    if (!record || record.status !== "RUNNING" || target?.status !== "RUNNING" || target.handle !== handle)
      return true;
    const route = this.requireRoute(record.node);
    if (result.status === "RUNNING") return true;
    const i = ref.targetIndex;
    const work = async (): Promise<void> => {
      const next = await this.applyResult(route, record.id, i, result, 0, { handle });
      if (next) await this.dispatchClaimed(route, next, i + 1, 0);
    };
    await this.runOrBackground(work, options);
    return true;
  }

  /** Every target succeeded: the completion marker, the record, then downstream and the slot. */
  private async succeed(route: Route, record: ExecutionRecord): Promise<void> {
    await this.props.storage.writeMarker(record.path, "_SUCCESS");
    const done = await this.finish(route, record.id, "SUCCEEDED", undefined, false);
    if (!done) return;
    await this.hook(route, "onSuccess", { dimensions: done.dimensions, executionId: done.id });
    await this.push(route, done);
    await this.releaseSlot(route, done);
  }

  /**
   * Push semantics: the node's own signal goes to every route downstream. Its idempotency id is the
   * execution's, so pushing again (a recovery after a crash before the slot was released) is a repeat.
   */
  private async push(route: Route, record: ExecutionRecord): Promise<void> {
    const signal = {
      node: route.id,
      dimensions: record.dimensions,
      path: record.path,
      eventId: `exec:${record.id}`,
    };
    await this.route(signal, {}, false);
    await this.props.published?.(signal);
  }

  /** A finished execution whose slot is still active: a crash cut its last steps short. */
  private async settleLeftover(route: Route, record: ExecutionRecord): Promise<void> {
    const slot = await this.props.store.getSlot(route.id, outputKey(route, record.dimensions));
    if (slot?.value.active !== record.id) return;
    if (record.status === "SUCCEEDED") await this.push(route, record);
    await this.releaseSlot(route, record);
  }

  /** Ends an execution that is not finished yet (KILLED may end a PENDING one); undefined when it already was. */
  private async finish(
    route: Route,
    id: string,
    status: ExecutionStatus,
    error?: string,
    release = true,
  ): Promise<ExecutionRecord | undefined> {
    const { clock, metrics } = this.props;
    const done = await this.transition(id, (r) =>
      r.status !== "RUNNING" && !(status === "KILLED" && r.status === "PENDING")
        ? undefined
        : {
            ...r,
            status,
            endedAt: clock.now(),
            ...(error === undefined ? {} : { error }),
            // A running target ends with the execution (KILLED); one that never ran is SKIPPED.
            targets: r.targets.map((t) =>
              status === "SUCCEEDED" || (t.status !== "PENDING" && t.status !== "RUNNING")
                ? t
                : { ...t, status: t.status === "RUNNING" ? status : "SKIPPED" },
            ),
          },
    );
    if (!done) return undefined;
    metrics?.emit(undefined, status === "SUCCEEDED" ? "ExecutionsSucceeded" : "ExecutionsFailed");
    if (release) await this.releaseSlot(route, done);
    return done;
  }

  private async releaseSlot(route: Route, record: ExecutionRecord): Promise<void> {
    const { store } = this.props;
    const outKey = outputKey(route, record.dimensions);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const slot = await store.getSlot(route.id, outKey);
      if (slot?.value.active !== record.id) return;
      if (await store.putSlot(route.id, outKey, { latest: slot.value.latest ?? record.id }, slot.version))
        return;
    }
  }

  private scheduleCheckpoints(route: Route, id: string): void {
    const { clock } = this.props;
    const scheduler = this.scheduler;
    route.node.hooks.checkpoints.forEach((c, index) =>
      scheduler.schedule(clock.now() + c.afterSeconds * 1000, { kind: "checkpoint", executionId: id, index }),
    );
  }

  /**
   * Runs deferred work the Scheduler hands back when it is due (a retry, a poll, a checkpoint). A retry
   * or poll that someone else has overtaken (the sweeper, a redelivery, an engine event) is dropped.
   */
  async runTask(task: DeferredTask, options: RunOptions = {}): Promise<void> {
    const record = (await this.props.store.getExecution(task.executionId))?.value;
    if (!record || record.status !== "RUNNING") return;
    const route = this.requireRoute(record.node);
    if (task.kind === "checkpoint") {
      const c = route.node.hooks.checkpoints[task.index];
      if (!c) return;
      this.props.metrics?.emit(route.id, CHECKPOINT_METRIC);
      await this.runHook(
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
      await this.runOrBackground(async () => {
        const claimed = await this.claim(record, i, claimedTarget);
        if (claimed) await this.dispatchClaimed(route, claimed, i, task.transientCount);
      }, options);
      return;
    }
    const handle = target?.status === "RUNNING" ? target.handle : undefined;
    if (handle === undefined) return;
    await this.runOrBackground(
      () => this.pollClaimed(route, record, i, handle, task.transientCount),
      options,
    );
  }

  private request(route: Route, record: ExecutionRecord, i: number): DispatchRequest {
    // Rebuilt from the record, so any invocation (or a restart) can continue an execution.
    const sel = selectInputs(route, record.inputs, this.props.custom);
    const inputs: Record<string, DispatchInput> = {};
    for (const input of route.inputs) {
      const s = sel[input.alias] ?? {};
      const hasData =
        input.source.kind === "s3Dataset" ||
        input.source.kind === "glueTable" ||
        input.source.kind === "data" ||
        input.source.kind === "upstreamData";
      const parts = partitionsOf(input, s);
      inputs[input.alias] = {
        node: input.source.id,
        kind: input.source.signal.kind,
        dimensions: tipDimensions(s),
        paths: hasData ? parts.map((p) => this.props.storage.partitionPath(input.source, p)) : [],
        ...(input.source.kind === "s3Dataset" ||
        input.source.kind === "data" ||
        input.source.kind === "upstreamData"
          ? { format: input.source.format }
          : {}),
        reference: !input.trigger,
      };
    }
    const target = route.node.compute[i] as DataNodeModel["compute"][number];
    const sizing = this.props.environment.compute?.[route.id];
    return {
      executionId: record.id,
      node: route.node,
      target:
        sizing === undefined ? target : { ...target, params: mergeComputeParams(target.params, sizing) },
      targetIndex: i,
      attempt: record.attempts,
      inputs,
      output: { dimensions: record.dimensions, path: record.path, format: route.node.format },
      env: this.props.environment.name,
      config: this.props.environment.config,
      datasets: this.datasetsOf(inputs),
    };
  }

  /** ctx.dataset(name): the flow's datasets by id (where the storage knows them), then the inputs by alias. */
  private datasetsOf(inputs: Readonly<Record<string, DispatchInput>>): Record<string, InlineDataset> {
    const out: Record<string, InlineDataset> = {};
    const storage = this.props.storage;
    const locate = (node: NodeModel): string | undefined => storage.datasetRoot?.(node);
    for (const node of Object.values(this.props.table.model.nodes)) {
      if (
        node.kind !== "s3Dataset" &&
        node.kind !== "glueTable" &&
        node.kind !== "data" &&
        node.kind !== "upstreamData"
      )
        continue;
      const location = locate(node);
      out[node.id] = {
        node: node.id,
        kind: node.kind,
        ...(location === undefined ? {} : { location }),
        ...(node.kind === "glueTable" ? {} : { format: node.format }),
      };
    }
    for (const [alias, input] of Object.entries(inputs)) {
      const known = out[input.node];
      out[alias] = {
        node: input.node,
        kind: known?.kind ?? (this.props.table.model.nodes[input.node]?.kind as NodeKind),
        ...(known?.location === undefined ? {} : { location: known.location }),
        paths: input.paths,
        dimensions: input.dimensions,
        ...(input.format === undefined ? {} : { format: input.format }),
      };
    }
    return out;
  }

  private dispatcher(route: Route, i: number): Dispatcher {
    const engine = route.node.compute[i]?.engine as Engine;
    const d = this.props.dispatchers[engine];
    if (!d) throw new RouterError(`node "${route.id}": no dispatcher for engine ${engine} in this runtime`);
    return d;
  }

  /**
   * Read-modify-write of an execution record, retried on conflicting writes; `change` returns
   * undefined to give up (the record is no longer in the state the caller acts on). Every write moves
   * `updatedAt` forward, strictly.
   */
  private async transition(
    id: string,
    change: (r: ExecutionRecord) => ExecutionRecord | undefined,
  ): Promise<ExecutionRecord | undefined> {
    const { store, clock } = this.props;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await store.getExecution(id);
      if (!current) return undefined;
      const changed = change(current.value);
      if (!changed) return undefined;
      const next = { ...changed, updatedAt: Math.max(clock.now(), (current.value.updatedAt ?? 0) + 1) };
      if (await store.putExecution(next, current.version)) return next;
    }
    throw new RouterError(`execution ${id} kept changing under concurrent writes`);
  }

  // ---------------------------------------------------------------- commands

  /**
   * Runs a node for one output partition: the output links are inverted into trigger events, which
   * form a group of their own (pending groups are left alone). With `recursive`, missing upstream
   * internal partitions are executed first.
   */
  async execute(
    node: string,
    output: Dimensions,
    options: RunOptions & { readonly recursive?: boolean } = {},
  ): Promise<ExecutionRecord> {
    const route = this.requireRoute(node);
    const out = canonicalDims(route.outputDims, output);
    if (typeof out === "string") throw new RouterError(`node "${node}": ${out}`);
    const received = triggersForOutput(route, out, this.props.custom);
    const sel = selectInputs(route, received, this.props.custom);
    if (options.recursive) await this.executeUpstream(route, sel);
    const missing = await this.missingRanges(route, sel);
    if (missing.length > 0) {
      throw new RouterError(`node "${node}": range-checked partitions are missing: ${missing.join(", ")}`);
    }
    const id = `${route.id}-${this.newId()}`;
    const started = await this.startExecution(
      route,
      id,
      outputDimensions(route, sel, this.props.custom),
      received,
    );
    const record = started.record;
    if (record && started.claimed)
      await this.runOrBackground(() => this.dispatchClaimed(route, record, 0, 0), options);
    return (await this.props.store.getExecution(id))?.value as ExecutionRecord;
  }

  private async executeUpstream(route: Route, sel: Record<string, Selection>): Promise<void> {
    for (const input of route.inputs) {
      if (input.source.kind !== "data") continue;
      const upstream = this.requireRoute(input.source.id);
      for (const part of partitionsOf(input, sel[input.alias] ?? {})) {
        if (Object.values(part).some((v) => v === WILDCARD)) continue;
        const path = this.props.storage.partitionPath(input.source, part);
        if (await this.props.storage.exists(path, "_SUCCESS")) continue;
        // Crawl first: what that produces is pushed downstream and may already make this partition;
        // executing it again would run it (and everything it triggers) twice.
        const upstreamSel = selectInputs(
          upstream,
          triggersForOutput(upstream, part, this.props.custom),
          this.props.custom,
        );
        await this.executeUpstream(upstream, upstreamSel);
        if (await this.props.storage.exists(path, "_SUCCESS")) continue;
        const r = await this.execute(upstream.id, part);
        if (r.status !== "SUCCEEDED") {
          throw new RouterError(
            `node "${route.id}": upstream "${upstream.id}" ${dimensionKey(
              upstream.outputDims.map((d) => d.name),
              part,
            )} ended ${r.status}`,
          );
        }
      }
    }
  }

  async kill(node: string, output: Dimensions): Promise<ExecutionRecord | undefined> {
    const route = this.requireRoute(node);
    const out = canonicalDims(route.outputDims, output);
    if (typeof out === "string") throw new RouterError(`node "${node}": ${out}`);
    const slot = await this.props.store.getSlot(route.id, outputKey(route, out));
    const active = slot?.value.active;
    if (active === undefined) return undefined;
    const record = (await this.props.store.getExecution(active))?.value;
    if (!record || isFinished(record.status)) return record;
    for (const [i, t] of record.targets.entries()) {
      const d = this.props.dispatchers[t.engine];
      if (t.status === "RUNNING" && t.handle !== undefined && d?.kill)
        await d.kill(t.handle, this.request(route, record, i));
    }
    return (
      (await this.finish(route, active, "KILLED", "killed")) ??
      (await this.props.store.getExecution(active))?.value
    );
  }

  /** {path} when the latest execution succeeded; {records} when it ended otherwise; {} when none ended. */
  async poll(node: string, output: Dimensions): Promise<PollResult> {
    const route = this.requireRoute(node);
    const out = canonicalDims(route.outputDims, output);
    if (typeof out === "string") throw new RouterError(`node "${node}": ${out}`);
    const latest = (await this.props.store.getSlot(route.id, outputKey(route, out)))?.value.latest;
    const record = latest === undefined ? undefined : (await this.props.store.getExecution(latest))?.value;
    if (!record || !isFinished(record.status) || record.status === "SKIPPED") return {};
    if (record.status === "SUCCEEDED") return { path: record.path };
    const all = await this.executions(node);
    return { records: all.filter((r) => outputKey(route, r.dimensions) === outputKey(route, out)) };
  }

  async executions(node: string): Promise<ExecutionRecord[]> {
    return this.props.store.listExecutions(this.requireRoute(node).id);
  }

  async pending(node: string): Promise<PendingView[]> {
    const route = this.requireRoute(node);
    const now = this.props.clock.now();
    const out: PendingView[] = [];
    for (const key of await this.props.store.bucketKeys(route.id)) {
      for (const g of (await this.props.store.getBucket(route.id, key))?.value.groups ?? []) {
        if (g.state === "triggering" || g.state === "consumed" || isExpired(g, now)) continue;
        out.push({
          dimensions: partialOutput(route, g),
          received: route.inputs.filter((i) => g.received[i.alias] !== undefined).map((i) => i.alias),
          createdAt: g.createdAt,
          expiresAt: g.expiresAt,
          state: g.state,
        });
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Housekeeping the event path does lazily, and recovery of what crashed invocations left: expire
   * pending groups past their TTL (onPendingExpired) and drop consumed ones past their retention;
   * finish triggering groups whose trigger was interrupted; re-check waiting range checks; and carry
   * on every execution that holds its output's slot (see `resume`): a poll that is overdue, a retry
   * that is due, a dispatch whose invocation died, a finish whose last steps were cut short.
   */
  async sweep(): Promise<void> {
    const { store, clock } = this.props;
    this.props.metrics?.emit(undefined, "SweeperRuns");
    for (const route of this.table.routes.values()) {
      for (const key of await store.bucketKeys(route.id)) {
        const current = await store.getBucket(route.id, key);
        if (!current) continue;
        const now = clock.now();
        const expired = current.value.groups.filter((g) => isExpired(g, now));
        const spent = current.value.groups.filter((g) => isSpent(g, now));
        if (expired.length > 0 || spent.length > 0) {
          const groups = current.value.groups.filter((g) => !expired.includes(g) && !spent.includes(g));
          if (!(await store.putBucket(route.id, key, { groups }, current.version))) continue;
          for (const g of expired)
            await this.hook(route, "onPendingExpired", { dimensions: partialOutput(route, g) });
        }
        for (const g of current.value.groups.filter((x) => x.state === "triggering"))
          await this.triggerGroup(route, key, g, {}, "sweep");
      }
      await this.recheckWaiting(route);
      for (const slot of await store.activeSlots(route.id)) {
        const record = (await store.getExecution(slot.active))?.value;
        if (record) await this.resume(route, record, "sweep");
      }
    }
  }

  private requireRoute(node: string): Route {
    const route = this.table.route(node);
    if (!route) throw new RouterError(`"${node}" is not a data node of the flow`);
    return route;
  }

  // ---------------------------------------------------------------- hooks

  private async hook(
    route: Route,
    name: HookName,
    e: { dimensions: Dimensions; executionId?: string; error?: string },
  ): Promise<void> {
    this.props.metrics?.emit(route.id, ROUTE_METRIC_OF_HOOK[name]);
    const ref = route.node.hooks.handlers[name];
    if (ref === undefined) return;
    const attempts = e.executionId
      ? ((await this.props.store.getExecution(e.executionId))?.value.attempts ?? 1)
      : 1;
    const event: HookEvent = {
      node: route.id,
      hook: name,
      dimensions: e.dimensions,
      ...(e.executionId === undefined ? {} : { executionId: e.executionId }),
      ...(e.error === undefined ? {} : { error: e.error }),
    };
    await this.runHook(ref, event, attempts);
  }

  private async runHook(ref: Parameters<HookRunner>[0], event: HookEvent, attempt: number): Promise<void> {
    const runner = this.props.hooks;
    if (!runner) return;
    const ctx: InlineContext = {
      dimensions: event.dimensions,
      env: this.props.environment.name,
      config: inlineConfig(this.props.environment.config),
      attempt,
    };
    try {
      await runner(ref, event, ctx);
    } catch (e) {
      // A failing hook is reported, never allowed to change the execution's outcome.
      this.props.metrics?.emit(undefined, "RouterErrors");
      console.error(
        JSON.stringify({
          level: "error",
          msg: "hook failed",
          node: event.node,
          hook: event.hook,
          error: e instanceof Error ? e.message : String(e),
        }),
      );
    }
  }
}

function outputKey(route: Route, dims: Dimensions): string {
  return dimensionKey(
    route.outputDims.map((d) => d.name),
    dims,
  );
}

/** Output dimensions a pending group already determines (for pending() and hook events). */
function partialOutput(route: Route, g: PendingGroup): Dimensions {
  const out: Record<string, DimensionValue> = {};
  for (const l of route.node.outputLinks) {
    if (l.sources.length === 1 && l.mapper.kind === "eq") {
      const s = l.sources[0] as { input: string; dimension: string };
      const v = g.received[s.input]?.[s.dimension];
      if (v !== undefined) out[l.dimension] = v;
    } else if (l.mapper.kind === "literal") out[l.dimension] = l.mapper.value;
  }
  return out;
}

/** The tip values of a selection: single values as they are, ranges and "*" left out. */
function tipDimensions(sel: Selection): Dimensions {
  const out: Record<string, DimensionValue> = {};
  for (const [k, v] of Object.entries(sel)) if (v !== "*" && v.length >= 1) out[k] = v[0] as DimensionValue;
  return out;
}

/** Coerces given values to a spec's canonical form; a string describes what is wrong. */
export function canonicalDims(specs: readonly DimensionModel[], given: Dimensions): Dimensions | string {
  const out: Record<string, DimensionValue> = {};
  for (const s of specs) {
    const raw = given[s.name];
    if (raw === undefined) return `dimension "${s.name}" is missing`;
    const c = coerceDimensionValue(s, raw);
    if (c.error !== undefined) return `dimension "${s.name}": ${c.error}`;
    out[s.name] = c.value;
  }
  const extra = Object.keys(given).filter((k) => !specs.some((s) => s.name === k));
  if (extra.length > 0) return `unknown dimension(s) ${extra.join(", ")}`;
  return out;
}

function inFilter(
  specs: readonly DimensionModel[],
  filter: Readonly<Record<string, DimensionFilterModel>>,
  dims: Dimensions,
): boolean {
  return specs.every((s) => {
    const f = filter[s.name];
    const v = dims[s.name];
    return f === undefined || f === "*" || (v !== undefined && f.some((x) => sameValue(s, x, s, v)));
  });
}

/** Whether target `i` is still in the state a result is about. */
function holds(r: ExecutionRecord, i: number, expected: Expected): boolean {
  const t = r.targets[i];
  if (r.status !== "RUNNING" || t?.status !== "RUNNING") return false;
  return "handle" in expected ? t.handle === expected.handle : r.updatedAt === expected.token;
}

function withTarget(r: ExecutionRecord, i: number, target: TargetRecord): ExecutionRecord {
  return { ...r, targets: r.targets.map((t, j) => (j === i ? target : t)) };
}

/** A target with a status and nothing else (no error, handle or retry). */
function bareTarget(t: TargetRecord, status: ExecutionStatus): TargetRecord {
  return { kind: t.kind, engine: t.engine, status };
}

/** Claimed for dispatch: RUNNING without a handle; the last error and transient count stay for reference. */
function claimedTarget(t: TargetRecord): TargetRecord {
  return {
    ...bareTarget(t, "RUNNING"),
    ...(t.error === undefined ? {} : { error: t.error }),
    ...(t.transientCount === undefined ? {} : { transientCount: t.transientCount }),
  };
}

function since(r: ExecutionRecord): { since?: number } {
  return r.updatedAt === undefined ? {} : { since: r.updatedAt };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A target's params with an environment's sizing merged over them: scalars replace, `emr`, `sparkArgs`
 * and `extra` merge key by key.
 */
export function mergeComputeParams(own: ComputeParamsModel, sizing: ComputeParamsModel): ComputeParamsModel {
  const merged: Record<string, unknown> = { ...own };
  for (const [key, value] of Object.entries(sizing) as [keyof ComputeParamsModel, unknown][]) {
    if (value === undefined) continue;
    if ((key === "emr" || key === "sparkArgs" || key === "extra") && typeof value === "object") {
      merged[key] = { ...(own[key] ?? {}), ...value };
    } else {
      merged[key] = value;
    }
  }
  return merged as ComputeParamsModel;
}
