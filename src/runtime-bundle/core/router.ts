/**
 * The router: signals in, trigger groups updated, executions run exactly once, success pushed
 * downstream. Pure orchestration over the Store, Storage, Dispatcher and Scheduler interfaces, so
 * LocalRuntime and the Lambda handler drive the same code.
 */
import type {
  DimensionFilterModel,
  DimensionModel,
  DimensionValue,
  Engine,
} from "../../flow/model/flow-model";
import { coerceDimensionValue, sameValue } from "../../flow/model/dimension-value";
import type { CustomMapperResolver } from "../../flow/model/mapper";
import type { Clock } from "./clock";
import type { DispatchResult, Dispatcher } from "./dispatcher";
import { RequestBuilder } from "./dispatch-request";
import type { ExecutionRecord } from "./execution-record";
import { ExecutionRunner } from "./execution-runner";
import { GroupIntake, type FactView, type GroupView, type Run } from "./group-intake";
import { HookCalls } from "./hook-calls";
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
  outputDimensions,
  partitionsOf,
  selectInputs,
  triggersForOutput,
  type Selection,
} from "./materialize";
import { WILDCARD } from "./partition-layout";
import type { ConflictPolicy } from "./retry-on-conflict";
import type { Route, RouteTable } from "./route-table";
import { dimensionKey, type Dimensions, type Signal } from "./signal";
import type { Storage } from "./storage";
import type { Store } from "./store";
import { outputKey } from "./trigger-groups";

export { mergeComputeParams } from "./dispatch-request";
export type { FactView } from "./group-intake";

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
  /** Backoff of conflicting conditional writes. @default 12 attempts, 4 ms × 2^n up to 250 ms, full jitter */
  readonly conflicts?: ConflictPolicy;
}

export interface ProcessOutcome {
  /** (route, input) pairs the signal was offered to. */
  readonly matched: readonly { readonly route: string; readonly input: string }[];
  /** Executions the signal started (directly; downstream ones are in their own outcomes). */
  readonly executions: readonly string[];
  /** Why nothing matched, when nothing did. */
  readonly unmatched?: string;
}

/**
 * A pending trigger group: one output partition and what it waits for. The public contract is
 * `{ dimensions, received }`; the other fields are additions.
 */
export type PendingView = GroupView;

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

/** Idempotency keys of events are kept this long. */
const EVENT_ID_TTL_MS = 7 * 24 * 3600_000;
const DEFAULT_CONSUMED_RETENTION_MS = 6 * 3600_000;
const DEFAULT_DISPATCH_TIMEOUT_MS = 16 * 60_000;

/**
 * The router: signals in, trigger groups and facts updated (GroupIntake), executions run exactly
 * once (ExecutionRunner), success pushed downstream. Pure orchestration over the Store, Storage,
 * Dispatcher and Scheduler interfaces, so LocalRuntime and the Lambda handler drive the same code.
 */
export class Router {
  private readonly newId: () => string;
  private readonly runner: ExecutionRunner;
  private readonly intake: GroupIntake;

  constructor(private readonly props: RouterProps) {
    const retry: RetryPolicy = props.retry ?? DEFAULT_RETRY_POLICY;
    const host = props.scheduler;
    // Retries and polls belong to live executions (a LocalRuntime waits for them); checkpoints do not.
    const scheduler: Scheduler = isTimerHost(host)
      ? { schedule: (at, task) => host.schedule(at, () => this.runTask(task), task.kind !== "checkpoint") }
      : host;
    this.newId = props.newId ?? (() => crypto.randomUUID());
    const hooks = new HookCalls(props.store, props.environment, props.hooks, props.metrics);
    const conflicts = props.conflicts ?? {};
    this.runner = new ExecutionRunner({
      table: props.table,
      store: props.store,
      storage: props.storage,
      dispatchers: props.dispatchers,
      clock: props.clock,
      scheduler,
      retry,
      dispatchTimeoutMs: retry.dispatchTimeoutMs ?? DEFAULT_DISPATCH_TIMEOUT_MS,
      hooks,
      requests: new RequestBuilder(props.table.model, props.storage, props.environment, props.custom),
      conflicts,
      ...(props.metrics === undefined ? {} : { metrics: props.metrics }),
      publish: (route, record) => this.push(route, record),
    });
    this.intake = new GroupIntake({
      store: props.store,
      storage: props.storage,
      clock: props.clock,
      hooks,
      runner: this.runner,
      conflicts,
      newId: this.newId,
      consumedRetentionMs: props.consumedRetentionMs ?? DEFAULT_CONSUMED_RETENTION_MS,
      ...(props.metrics === undefined ? {} : { metrics: props.metrics }),
      ...(props.custom === undefined ? {} : { custom: props.custom }),
    });
  }

  get table(): RouteTable {
    return this.props.table;
  }

  /**
   * Offers a signal to every route input it can feed; starts the executions it completes.
   *
   * An event with an `eventId` is recorded as seen only after its offers are written and what they
   * started has run, never before: a delivery that dies on the way is processed again when it is
   * redelivered. That second pass is safe because the bucket remembers the event: a group or fact
   * that holds it, or a consumed group that held it, makes the repeat a no-op that resumes the
   * execution the group became.
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
    const run = runner(options);
    const matched: { route: string; input: string }[] = [];
    const executions: string[] = [];
    for (const { route, input } of table.triggersOf(signal.node)) {
      if (!inFilter(input.dims, input.model.filter, dims)) continue;
      matched.push({ route: route.id, input: input.alias });
      executions.push(...(await this.intake.offer(route, input.alias, dims, eventId, run)));
    }
    for (const { route, input } of table.rangeChecksOf(signal.node)) {
      // A partition a range check waits for is consumed, even when the input is a reference.
      const known = matched.some((m) => m.route === route.id && m.input === input.alias);
      if (!known && inFilter(input.dims, input.model.filter, dims))
        matched.push({ route: route.id, input: input.alias });
      executions.push(...(await this.intake.recheckWaiting(route, run)));
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

  /** An engine's state-change event for a job the router started; false when the handle is unknown. */
  async onEngineEvent(
    engine: Engine,
    handle: string,
    result: DispatchResult,
    options: RunOptions = {},
  ): Promise<boolean> {
    return this.runner.onEngineEvent(engine, handle, result, runner(options));
  }

  /** Runs deferred work the Scheduler hands back when it is due (a retry, a poll, a checkpoint). */
  async runTask(task: DeferredTask, options: RunOptions = {}): Promise<void> {
    await this.runner.runTask(task, runner(options));
  }

  /**
   * Runs a node for one output partition: the output links are inverted into trigger events, which
   * form an execution of their own (pending groups and facts are left alone). With `recursive`,
   * missing upstream internal partitions are executed first.
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
    const missing = await this.intake.missingRanges(route, received);
    if (missing.length > 0)
      throw new RouterError(`node "${node}": range-checked partitions are missing: ${missing.join(", ")}`);
    const id = `${route.id}-${this.newId()}`;
    const started = await this.runner.start(
      route,
      id,
      outputDimensions(route, sel, this.props.custom),
      received,
    );
    const record = started.record;
    if (record && started.claimed)
      await runner(options)(() => this.runner.dispatchClaimed(route, record, 0, 0));
    return (await this.props.store.getExecution(id))?.value as ExecutionRecord;
  }

  private async executeUpstream(route: Route, sel: Record<string, Selection>): Promise<void> {
    const { storage, custom } = this.props;
    for (const input of route.inputs) {
      if (input.source.kind !== "data") continue;
      const upstream = this.requireRoute(input.source.id);
      for (const part of partitionsOf(input, sel[input.alias] ?? {})) {
        if (Object.values(part).some((v) => v === WILDCARD)) continue;
        const path = storage.partitionPath(input.source, part);
        if (await storage.exists(path, "_SUCCESS")) continue;
        // Crawl first: what that produces is pushed downstream and may already make this partition.
        await this.executeUpstream(
          upstream,
          selectInputs(upstream, triggersForOutput(upstream, part, custom), custom),
        );
        if (await storage.exists(path, "_SUCCESS")) continue;
        const r = await this.execute(upstream.id, part);
        if (r.status !== "SUCCEEDED") {
          const key = dimensionKey(
            upstream.outputDims.map((d) => d.name),
            part,
          );
          throw new RouterError(`node "${route.id}": upstream "${upstream.id}" ${key} ended ${r.status}`);
        }
      }
    }
  }

  /** Stops the active execution of an output partition and the engine job behind it. */
  async kill(node: string, output: Dimensions): Promise<ExecutionRecord | undefined> {
    const route = this.requireRoute(node);
    const out = canonicalDims(route.outputDims, output);
    if (typeof out === "string") throw new RouterError(`node "${node}": ${out}`);
    return this.runner.kill(route, out);
  }

  /** {path} when the latest execution succeeded; {records} when it ended otherwise; {} when none ended. */
  async poll(node: string, output: Dimensions): Promise<PollResult> {
    const route = this.requireRoute(node);
    const out = canonicalDims(route.outputDims, output);
    if (typeof out === "string") throw new RouterError(`node "${node}": ${out}`);
    const latest = (await this.props.store.getSlot(route.id, outputKey(route, out)))?.value.latest;
    const record = latest === undefined ? undefined : (await this.props.store.getExecution(latest))?.value;
    if (!record || !isDone(record) || record.status === "SKIPPED") return {};
    if (record.status === "SUCCEEDED") return { path: record.path };
    const all = await this.executions(node);
    return { records: all.filter((r) => outputKey(route, r.dimensions) === outputKey(route, out)) };
  }

  /** A node's executions, newest first. */
  async executions(node: string): Promise<ExecutionRecord[]> {
    return this.props.store.listExecutions(this.requireRoute(node).id);
  }

  /** A node's open trigger groups: output partition, inputs received and missing, oldest first. */
  async pending(node: string): Promise<PendingView[]> {
    return this.intake.pending(this.requireRoute(node));
  }

  /** A node's live facts: input, its dimensions, what it pins, expiry. */
  async facts(node: string): Promise<FactView[]> {
    return this.intake.facts(this.requireRoute(node));
  }

  /**
   * Housekeeping the event path does lazily, and recovery of what crashed invocations left: expire
   * groups and facts past their TTL, and items of an earlier layout or link structure; finish
   * interrupted triggers; re-check waiting range checks; and carry on every execution that holds its
   * output's slot (a poll that is overdue, a retry that is due, a dispatch whose invocation died, a
   * finish whose last steps were cut short).
   */
  async sweep(): Promise<void> {
    const { store } = this.props;
    this.props.metrics?.emit(undefined, "SweeperRuns");
    const run = runner({});
    for (const route of this.table.routes.values()) {
      await this.intake.sweep(route, run);
      await this.intake.recheckWaiting(route, run);
      for (const slot of await store.activeSlots(route.id)) {
        const record = (await store.getExecution(slot.active))?.value;
        if (record) await this.runner.resume(route, record, "sweep");
      }
    }
  }

  private requireRoute(node: string): Route {
    const route = this.table.route(node);
    if (!route) throw new RouterError(`"${node}" is not a data node of the flow`);
    return route;
  }
}

function runner(options: RunOptions): Run {
  return async (work) => {
    if (options.background) options.background(work());
    else await work();
  };
}

function isDone(r: ExecutionRecord): boolean {
  return r.status === "SUCCEEDED" || r.status === "FAILED" || r.status === "KILLED" || r.status === "SKIPPED";
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
