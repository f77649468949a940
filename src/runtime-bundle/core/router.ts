/**
 * The router: signals in, trigger groups updated, executions run exactly once, success pushed
 * downstream. Pure orchestration over the Store, Storage, Dispatcher and Scheduler interfaces, so
 * LocalRuntime and the Lambda handler drive the same code.
 */
import type {
  DataNodeModel,
  DimensionFilterModel,
  DimensionModel,
  DimensionValue,
  Engine,
  HookName,
} from "../../flow/model/flow-model";
import { coerceDimensionValue, sameValue } from "../../flow/model/dimension-value";
import type { HookEvent, InlineContext } from "../../flow/model/inline-api";
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
import { isExpired, offer } from "./trigger-groups";
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

export class Router {
  private readonly retry: RetryPolicy;
  private readonly scheduler: Scheduler;
  private readonly newId: () => string;

  constructor(private readonly props: RouterProps) {
    this.retry = props.retry ?? DEFAULT_RETRY_POLICY;
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

  /** Offers a signal to every route input it can feed; starts the executions it completes. */
  async process(signal: Signal, options: RunOptions = {}): Promise<ProcessOutcome> {
    const { table, store, metrics } = this.props;
    metrics?.emit(undefined, "EventsReceived");
    const node = table.node(signal.node);
    if (!node) return this.unmatched(`no node "${signal.node}" in the flow`);
    const dims = canonicalDims(node.signal.dimensions, signal.dimensions);
    if (typeof dims === "string") return this.unmatched(`node "${signal.node}": ${dims}`);
    if (signal.eventId !== undefined) {
      const fresh = await store.claimEvent(signal.eventId, this.props.clock.now() + 7 * 24 * 3600_000);
      if (!fresh) return { matched: [], executions: [], unmatched: `duplicate delivery ${signal.eventId}` };
    }
    const matched: { route: string; input: string }[] = [];
    const executions: string[] = [];
    for (const { route, input } of table.triggersOf(signal.node)) {
      if (!inFilter(input.dims, input.model.filter, dims)) continue;
      matched.push({ route: route.id, input: input.alias });
      executions.push(...(await this.offerToRoute(route, input.alias, dims, options)));
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
    options: RunOptions,
  ): Promise<string[]> {
    const { store, clock } = this.props;
    const key = route.groupKey(alias, dims);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await store.getBucket(route.id, key);
      const now = clock.now();
      const result = offer(route, current?.value, alias, dims, now, this.newId, this.props.custom);
      if (result.noop) return [];
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
      return started;
    }
    throw new RouterError(`route "${route.id}": group ${key} kept changing under concurrent writes`);
  }

  /** A claimed ("triggering") group becomes an execution, then leaves its bucket. Idempotent. */
  private async triggerGroup(
    route: Route,
    key: string,
    group: PendingGroup,
    options: RunOptions = {},
  ): Promise<string> {
    const id = group.executionId ?? `${route.id}-${group.id}`;
    const sel = selectInputs(route, group.received, this.props.custom);
    const output = outputDimensions(route, sel, this.props.custom);
    const record = await this.startExecution(route, id, output, group.received);
    await this.removeGroup(route, key, group.id);
    if (record && record.status === "RUNNING")
      await this.runOrBackground(() => this.runTargets(record.id, 0), options);
    return id;
  }

  private async runOrBackground(work: () => Promise<void>, options: RunOptions): Promise<void> {
    if (options.background) options.background(work());
    else await work();
  }

  private async removeGroup(route: Route, key: string, groupId: string): Promise<void> {
    const { store } = this.props;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await store.getBucket(route.id, key);
      if (!current || !current.value.groups.some((g) => g.id === groupId)) return;
      const groups = current.value.groups.filter((g) => g.id !== groupId);
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

  /** Creates the execution record and claims the output's slot; SKIPPED when another run is active. */
  private async startExecution(
    route: Route,
    id: string,
    output: Dimensions,
    inputs: Readonly<Record<string, Dimensions>>,
  ): Promise<ExecutionRecord | undefined> {
    const { store, clock, storage } = this.props;
    const now = clock.now();
    const record: ExecutionRecord = {
      id,
      node: route.id,
      dimensions: output,
      status: "PENDING",
      attempts: 1,
      startedAt: now,
      targets: route.node.compute.map((t) => ({ kind: t.kind, engine: t.engine, status: "PENDING" })),
      path: storage.partitionPath(route.node, output),
      inputs,
    };
    if (!(await store.createExecution(record))) return (await store.getExecution(id))?.value;
    const outKey = outputKey(route, output);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const slot = await store.getSlot(route.id, outKey);
      const active = slot?.value.active;
      if (active !== undefined && active !== id) {
        const other = await store.getExecution(active);
        if (other && !isFinished(other.value.status)) {
          const skipped = await this.updateExecution(id, (r) => ({
            ...r,
            status: "SKIPPED",
            endedAt: clock.now(),
            targets: r.targets.map((t) => ({ ...t, status: "SKIPPED" })),
          }));
          await this.hook(route, "onExecSkipped", { dimensions: output, executionId: id });
          return skipped;
        }
      }
      if (await store.putSlot(route.id, outKey, { active: id, latest: id }, slot?.version)) break;
    }
    await storage.clear(record.path);
    const running = await this.updateExecution(id, (r) => ({ ...r, status: "RUNNING" }));
    await this.hook(route, "onExecBegin", { dimensions: output, executionId: id });
    this.scheduleCheckpoints(route, id);
    return running;
  }

  /** Runs targets from `from` in order; returns when all finished, one is running remotely, or a retry is scheduled. */
  private async runTargets(id: string, from: number): Promise<void> {
    const loaded = await this.props.store.getExecution(id);
    if (!loaded || loaded.value.status !== "RUNNING") return;
    const route = this.table.route(loaded.value.node) as Route;
    for (let i = from; i < route.node.compute.length; i++) {
      const request = this.request(route, loaded.value, i);
      let result: DispatchResult;
      try {
        result = await this.dispatcher(route, i).start(request);
      } catch (e) {
        result = { status: "FAILED", error: e instanceof Error ? e.message : String(e), transient: false };
      }
      if (!(await this.onTargetResult(route, id, i, result, 0))) return;
    }
    await this.succeed(route, id);
  }

  /** Applies one target's result; true when the next target should run now. */
  private async onTargetResult(
    route: Route,
    id: string,
    i: number,
    result: DispatchResult,
    transientCount: number,
  ): Promise<boolean> {
    const { clock } = this.props;
    const scheduler = this.scheduler;
    const current = (await this.props.store.getExecution(id))?.value;
    if (!current || current.status !== "RUNNING") return false; // killed meanwhile
    if (result.status === "SUCCEEDED") {
      await this.setTarget(id, i, { status: "SUCCEEDED" });
      await this.hook(route, "onComputeSuccess", { dimensions: current.dimensions, executionId: id });
      return true;
    }
    if (result.status === "RUNNING") {
      await this.setTarget(id, i, { status: "RUNNING", handle: result.handle });
      const engine = route.node.compute[i]?.engine ?? "lambda";
      await this.props.store.putHandle(
        engine,
        result.handle,
        { executionId: id, targetIndex: i },
        clock.now() + 30 * 24 * 3600_000,
      );
      scheduler.schedule(clock.now() + this.retry.pollIntervalMs, {
        kind: "poll",
        executionId: id,
        targetIndex: i,
        transientCount,
      });
      return false;
    }
    if (result.transient && clock.now() - current.startedAt < this.retry.maxTransientAgeMs) {
      await this.setTarget(id, i, { status: "PENDING", error: result.error });
      await this.hook(route, "onComputeRetry", {
        dimensions: current.dimensions,
        executionId: id,
        error: result.error,
      });
      scheduler.schedule(clock.now() + this.retry.transientBackoffMs(transientCount + 1), {
        kind: "retry",
        executionId: id,
        targetIndex: i,
        transientCount: transientCount + 1,
      });
      return false;
    }
    if (current.attempts <= route.node.retries) {
      await this.updateExecution(id, (r) => ({ ...r, attempts: r.attempts + 1 }));
      await this.setTarget(id, i, { status: "PENDING", error: result.error });
      await this.hook(route, "onComputeRetry", {
        dimensions: current.dimensions,
        executionId: id,
        error: result.error,
      });
      scheduler.schedule(clock.now() + this.retry.userBackoffMs(current.attempts + 1), {
        kind: "retry",
        executionId: id,
        targetIndex: i,
        transientCount: 0,
      });
      return false;
    }
    await this.setTarget(id, i, { status: "FAILED", error: result.error });
    await this.hook(route, "onComputeFailure", {
      dimensions: current.dimensions,
      executionId: id,
      error: result.error,
    });
    await this.finish(route, id, "FAILED", result.error);
    await this.hook(route, "onFailure", {
      dimensions: current.dimensions,
      executionId: id,
      error: result.error,
    });
    return false;
  }

  private async retryTarget(route: Route, id: string, i: number, transientCount: number): Promise<void> {
    const current = (await this.props.store.getExecution(id))?.value;
    if (!current || current.status !== "RUNNING") return;
    let result: DispatchResult;
    try {
      result = await this.dispatcher(route, i).start(this.request(route, current, i));
    } catch (e) {
      result = { status: "FAILED", error: e instanceof Error ? e.message : String(e), transient: false };
    }
    if (await this.onTargetResult(route, id, i, result, transientCount)) await this.runTargets(id, i + 1);
  }

  private async pollTarget(route: Route, id: string, i: number, transientCount: number): Promise<void> {
    const current = (await this.props.store.getExecution(id))?.value;
    const target = current?.targets[i];
    if (
      !current ||
      current.status !== "RUNNING" ||
      target?.status !== "RUNNING" ||
      target.handle === undefined
    )
      return;
    const d = this.dispatcher(route, i);
    let result: DispatchResult;
    try {
      result = d.poll
        ? await d.poll(target.handle, this.request(route, current, i))
        : { status: "FAILED", error: "engine cannot be polled", transient: false };
    } catch (e) {
      result = { status: "FAILED", error: e instanceof Error ? e.message : String(e), transient: true };
    }
    if (await this.onTargetResult(route, id, i, result, transientCount)) await this.runTargets(id, i + 1);
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
    const work = async (): Promise<void> => {
      if (await this.onTargetResult(route, record.id, ref.targetIndex, result, 0))
        await this.runTargets(record.id, ref.targetIndex + 1);
    };
    await this.runOrBackground(work, options);
    return true;
  }

  private async succeed(route: Route, id: string): Promise<void> {
    const record = (await this.props.store.getExecution(id))?.value;
    if (!record || record.status !== "RUNNING") return;
    await this.props.storage.writeMarker(record.path, "_SUCCESS");
    await this.finish(route, id, "SUCCEEDED");
    await this.hook(route, "onSuccess", { dimensions: record.dimensions, executionId: id });
    // Push semantics: the node's own signal goes to every route downstream.
    await this.process({ node: route.id, dimensions: record.dimensions, path: record.path });
  }

  private async finish(
    route: Route,
    id: string,
    status: ExecutionStatus,
    error?: string,
  ): Promise<ExecutionRecord | undefined> {
    const { store, clock, metrics } = this.props;
    const done = await this.updateExecution(id, (r) => ({
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
    }));
    metrics?.emit(undefined, status === "SUCCEEDED" ? "ExecutionsSucceeded" : "ExecutionsFailed");
    if (done) {
      const outKey = outputKey(route, done.dimensions);
      for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        const slot = await store.getSlot(route.id, outKey);
        if (slot?.value.active !== id) break;
        if (await store.putSlot(route.id, outKey, { latest: slot.value.latest ?? id }, slot.version)) break;
      }
    }
    return done;
  }

  private scheduleCheckpoints(route: Route, id: string): void {
    const { clock } = this.props;
    const scheduler = this.scheduler;
    route.node.hooks.checkpoints.forEach((c, index) =>
      scheduler.schedule(clock.now() + c.afterSeconds * 1000, { kind: "checkpoint", executionId: id, index }),
    );
  }

  /** Runs deferred work the Scheduler hands back when it is due (a retry, a poll, a checkpoint). */
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
    const work =
      task.kind === "retry"
        ? () => this.retryTarget(route, record.id, task.targetIndex, task.transientCount)
        : () => this.pollTarget(route, record.id, task.targetIndex, task.transientCount);
    await this.runOrBackground(work, options);
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
        input.source.kind === "data";
      const parts = partitionsOf(input, s);
      inputs[input.alias] = {
        node: input.source.id,
        kind: input.source.signal.kind,
        dimensions: tipDimensions(s),
        paths: hasData ? parts.map((p) => this.props.storage.partitionPath(input.source, p)) : [],
        ...(input.source.kind === "s3Dataset" || input.source.kind === "data"
          ? { format: input.source.format }
          : {}),
        reference: !input.trigger,
      };
    }
    return {
      executionId: record.id,
      node: route.node,
      target: route.node.compute[i] as DataNodeModel["compute"][number],
      targetIndex: i,
      attempt: record.attempts,
      inputs,
      output: { dimensions: record.dimensions, path: record.path, format: route.node.format },
      env: this.props.environment.name,
      config: this.props.environment.config,
    };
  }

  private dispatcher(route: Route, i: number): Dispatcher {
    const engine = route.node.compute[i]?.engine as Engine;
    const d = this.props.dispatchers[engine];
    if (!d) throw new RouterError(`node "${route.id}": no dispatcher for engine ${engine} in this runtime`);
    return d;
  }

  private async setTarget(
    id: string,
    i: number,
    patch: Partial<TargetRecord> & { status: ExecutionStatus },
  ): Promise<void> {
    await this.updateExecution(id, (r) => ({
      ...r,
      targets: r.targets.map((t, j) => {
        if (j !== i) return t;
        const { error: _e, handle: _h, ...rest } = t;
        return { ...rest, ...patch };
      }),
    }));
  }

  private async updateExecution(
    id: string,
    change: (r: ExecutionRecord) => ExecutionRecord,
  ): Promise<ExecutionRecord | undefined> {
    const { store } = this.props;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await store.getExecution(id);
      if (!current) return undefined;
      const next = change(current.value);
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
    const record = await this.startExecution(
      route,
      id,
      outputDimensions(route, sel, this.props.custom),
      received,
    );
    if (record?.status === "RUNNING") await this.runOrBackground(() => this.runTargets(id, 0), options);
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
    return this.finish(route, active, "KILLED", "killed");
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
        if (g.state === "triggering" || isExpired(g, now)) continue;
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
   * Housekeeping the event path does lazily: expire pending groups past their TTL (onPendingExpired),
   * finish groups claimed for execution whose trigger was interrupted, re-check waiting range checks.
   */
  async sweep(): Promise<void> {
    const { store, clock } = this.props;
    for (const route of this.table.routes.values()) {
      for (const key of await store.bucketKeys(route.id)) {
        const current = await store.getBucket(route.id, key);
        if (!current) continue;
        const now = clock.now();
        const expired = current.value.groups.filter((g) => isExpired(g, now));
        if (expired.length > 0) {
          const groups = current.value.groups.filter((g) => !expired.includes(g));
          if (!(await store.putBucket(route.id, key, { groups }, current.version))) continue;
          for (const g of expired)
            await this.hook(route, "onPendingExpired", { dimensions: partialOutput(route, g) });
        }
        for (const g of current.value.groups.filter((x) => x.state === "triggering"))
          await this.triggerGroup(route, key, g);
      }
      await this.recheckWaiting(route);
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
      config: this.props.environment.config,
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
