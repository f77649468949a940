/**
 * LocalRuntime: the router embedded in the process, with an in-memory store, the filesystem as
 * storage, DuckDB and inline code as engines and a virtual clock. A whole flow runs end to end in a
 * test with no AWS account and no servers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type {
  CodeRefModel,
  DimensionValue,
  Engine,
  FlowModel,
  JsonValue,
  NodeModel,
} from "../../flow/model/flow-model";
import { coerceDimensionValue } from "../../flow/model/dimension-value";
import type { HookFunction, InlineCompute } from "../../flow/model/inline-api";
import { formatDatetime } from "../../flow/model/strftime";
import { VirtualClock } from "../core/clock";
import type { Dispatcher } from "../core/dispatcher";
import type { ExecutionRecord } from "../core/execution-record";
import type { MetricsSink } from "../core/hooks";
import { MemoryStore } from "../core/memory-store";
import { RouteTable } from "../core/route-table";
import {
  Router,
  type FactView,
  type PendingView,
  type PollResult,
  type ProcessOutcome,
  type RunOptions,
} from "../core/router";
import type { Dimensions, Signal } from "../core/signal";
import type { Store } from "../core/store";
import { DuckDbDispatcher } from "./duckdb-dispatcher";
import { InlineDispatcher } from "../core/inline-call";
import { LocalBatchDispatcher, runInline } from "./local-dispatchers";
import { LocalStorage } from "./local-storage";
import { ModuleLoader } from "./module-loader";

/** What LocalRuntime needs of an Application (structural: the runtime never imports the DSL). */
export interface FlowSource {
  toModel(): FlowModel;
  readonly root: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- user code of any signature
  readonly localFunctions: { get(key: string): Function | undefined };
}

/** A node handle (`joined`) or a selection of one (`events.at("NA", "2024-05-07")`, `alarm.is("ALARM")`). */
export type SignalTarget =
  | { readonly id: string }
  | { readonly node: { readonly id: string }; readonly selectors: readonly unknown[] };

export interface LocalRuntimeOptions {
  /** Local storage root (internal data under `<dir>/internal_data`). @default a new temp dir, removed by stop() */
  readonly dir?: string;
  /** External dataset id → local folder with the same partition layout. @default `<dir>/external/<id>` */
  readonly datasets?: Readonly<Record<string, string>>;
  /** Local stand-ins for compute LocalRuntime cannot run (pySpark), by data node id. */
  readonly compute?: Readonly<Record<string, InlineCompute>>;
  /** Engines to use instead of the local ones (fakes in tests). */
  readonly engines?: Readonly<Partial<Record<Engine, Dispatcher>>>;
  /**
   * The environment to run as: user code sees its name, its config, and the router applies its compute
   * sizing (`environment(name, { compute })`) to every target it dispatches. Its dataset bindings are
   * S3 locations and do not apply locally: external datasets live in `datasets` folders. A name the
   * flow does not declare is an error unless it is "local" or `config` is given.
   * @default "local" (no environment: no config, the nodes' own compute params)
   */
  readonly env?: string;
  /** Config seen by user code, instead of the environment's. @default the named environment's config, else {} */
  readonly config?: Readonly<Record<string, JsonValue>>;
  /** Start of the virtual clock, epoch ms. @default 2024-01-01T00:00:00Z */
  readonly startTime?: number;
  /** Where the router keeps its state (a FileStore to persist it across runs). @default a new MemoryStore */
  readonly store?: Store;
  /**
   * A file that persists the virtual clock: read at start (it wins over startTime) and written by
   * stop(), so successive runs on a persisted store continue in time. @default not persisted
   */
  readonly clockFile?: string;
}

export interface WaitOption {
  /** Resolve only when the flow is quiescent. @default true */
  readonly wait?: boolean;
}

export class LocalRuntime {
  readonly model: FlowModel;
  readonly dir: string;
  private readonly clock: VirtualClock;
  private readonly router: Router;
  private readonly duckdb = new DuckDbDispatcher();
  private readonly storage: LocalStorage;
  private readonly counters = new Map<string, number>();
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly clockFile: string | undefined;
  private readonly subscribers: ((signal: Signal) => Promise<void>)[] = [];

  private constructor(
    app: FlowSource,
    options: LocalRuntimeOptions,
    private readonly ownsDir: boolean,
  ) {
    this.model = app.toModel();
    this.dir = resolve(options.dir ?? mkdtempSync(join(tmpdir(), "sluice-local-")));
    this.storage = new LocalStorage({
      root: this.dir,
      ...(options.datasets ? { datasets: options.datasets } : {}),
    });
    this.clockFile = options.clockFile === undefined ? undefined : resolve(options.clockFile);
    this.clock = new VirtualClock(readClockFile(this.clockFile) ?? options.startTime);
    const loader = new ModuleLoader(app.root);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- user code of any signature
    const resolveCode = (ref: CodeRefModel): Function => {
      if ("function" in ref) {
        const fn = app.localFunctions.get(ref.function);
        if (!fn)
          throw new Error(`no local function "${ref.function}" (was the model built from this application?)`);
        return fn;
      }
      return loader.load(ref.module, ref.export);
    };
    const batch = new LocalBatchDispatcher(this.duckdb, options.compute ?? {}, this.storage);
    const envName = options.env ?? "local";
    const declared = Object.hasOwn(this.model.environments, envName)
      ? this.model.environments[envName]
      : undefined;
    if (declared === undefined && envName !== "local" && options.config === undefined) {
      const known = Object.keys(this.model.environments);
      throw new Error(
        `LocalRuntime: environment "${envName}" is not declared in ${this.model.application.name} ` +
          `(declared: ${known.length ? known.join(", ") : "none"}); declare it with app.environment(), or pass config`,
      );
    }
    const metrics: MetricsSink = {
      emit: (route, name, value = 1) => {
        const key = route === undefined ? name : `${route}.${name}`;
        this.counters.set(key, (this.counters.get(key) ?? 0) + value);
      },
    };
    this.router = new Router({
      table: new RouteTable(this.model, (ref) => {
        const [module, name] = [ref.slice(0, ref.lastIndexOf("#")), ref.slice(ref.lastIndexOf("#") + 1)];
        return loader.load(module, name) as (values: readonly DimensionValue[]) => unknown;
      }),
      store: options.store ?? new MemoryStore(),
      storage: this.storage,
      dispatchers: {
        lambda: new InlineDispatcher((ref) => resolveCode(ref) as InlineCompute, runInline, this.storage),
        glue: batch,
        emr: batch,
        emrServerless: batch,
        athena: batch,
        ...options.engines,
      },
      clock: this.clock,
      scheduler: this.clock,
      environment: {
        name: envName,
        config: options.config ?? declared?.config ?? {},
        compute: declared?.compute ?? {},
      },
      hooks: async (ref, event, ctx) => {
        await (resolveCode(ref) as HookFunction)(event, ctx);
      },
      metrics,
      published: async (signal) => {
        for (const deliver of this.subscribers) await deliver(signal);
      },
    });
  }

  /**
   * Collaboration: this (downstream) runtime receives the success signals of `upstream`'s data nodes
   * that this flow imports (`app.importUpstream`), as the signals of the imported nodes, and reads
   * their partitions from the upstream's local storage.
   */
  subscribe(upstream: LocalRuntime): this {
    const name = upstream.model.application.name;
    const imported = Object.values(this.model.nodes).filter(
      (n) => n.kind === "upstreamData" && n.upstream.application === name,
    ) as Extract<NodeModel, { kind: "upstreamData" }>[];
    if (imported.length === 0) {
      throw new Error(`${this.model.application.name} imports no node of "${name}"`);
    }
    this.storage.addUpstream(name, upstream.dir);
    upstream.subscribers.push(async (signal) => {
      if (this.stopped) return;
      for (const node of imported) {
        if (node.node !== signal.node) continue;
        const eventId = signal.eventId === undefined ? undefined : `${name}:${signal.eventId}`;
        await this.run(
          (o) =>
            this.router.process(
              {
                node: node.id,
                dimensions: signal.dimensions,
                ...(signal.path === undefined ? {} : { path: signal.path }),
                ...(eventId === undefined ? {} : { eventId }),
              },
              o,
            ),
          {},
        );
      }
    });
    return this;
  }

  static async start(app: FlowSource, options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    return new LocalRuntime(app, options, options.dir === undefined);
  }

  /** The virtual clock, epoch ms. */
  now(): number {
    return this.clock.now();
  }

  /** Injects one event (every dimension given; an alarm's time defaults to now). */
  async process(target: SignalTarget, options: WaitOption = {}): Promise<ProcessOutcome> {
    const node = this.nodeOf(target);
    const dimensions = this.concreteDimensions(node, target);
    return this.run((o) => this.router.process({ node: node.id, dimensions }, o), options);
  }

  /** Runs a data node for one output partition, from its reverse-linked inputs. */
  async execute(
    target: SignalTarget,
    options: WaitOption & { readonly recursive?: boolean } = {},
  ): Promise<ExecutionRecord> {
    const node = this.nodeOf(target);
    const dimensions = this.concreteDimensions(node, target);
    const recursive = options.recursive === undefined ? {} : { recursive: options.recursive };
    return this.run((o) => this.router.execute(node.id, dimensions, { ...o, ...recursive }), options);
  }

  /** `{ path }` when the latest execution succeeded, `{ records }` when it failed, `{}` when none finished. */
  async poll(target: SignalTarget): Promise<PollResult> {
    const node = this.nodeOf(target);
    return this.router.poll(node.id, this.concreteDimensions(node, target));
  }

  /**
   * The local folder of one partition of an s3Dataset, glueTable or data node (every dimension given):
   * where a test writes input data, or finds a node's output.
   */
  partitionPath(target: SignalTarget): string {
    const node = this.nodeOf(target);
    return this.storage.partitionPath(node, this.concreteDimensions(node, target));
  }

  async kill(target: SignalTarget): Promise<ExecutionRecord | undefined> {
    const node = this.nodeOf(target);
    return this.router.kill(node.id, this.concreteDimensions(node, target));
  }

  /** Open trigger groups of a node, oldest first. */
  async pending(target: SignalTarget): Promise<PendingView[]> {
    return this.router.pending(this.nodeOf(target).id);
  }

  /** Live facts of a node (events that pin part of its output partition), oldest arrival first. */
  async facts(target: SignalTarget): Promise<FactView[]> {
    return this.router.facts(this.nodeOf(target).id);
  }

  /** Executions of a node (active and finished), newest first. */
  async executions(target: SignalTarget): Promise<ExecutionRecord[]> {
    return this.router.executions(this.nodeOf(target).id);
  }

  /** Moves the virtual clock: due retries, polls and checkpoints run, expired groups are swept. */
  async advance(ms: number): Promise<void> {
    await this.run(async () => {
      await this.clock.advanceTo(this.clock.now() + ms);
      await this.router.sweep();
    }, {});
  }

  /** Route metric counts of a node (`ExecutionSuccess`: 2, …), or platform metrics without a node. */
  metrics(target?: SignalTarget): Record<string, number> {
    const prefix = target === undefined ? undefined : `${this.nodeOf(target).id}.`;
    const out: Record<string, number> = {};
    for (const [k, v] of [...this.counters.entries()].sort()) {
      if (prefix === undefined ? !k.includes(".") : k.startsWith(prefix))
        out[prefix ? k.slice(prefix.length) : k] = v;
    }
    return out;
  }

  /** Waits for work started with `{ wait: false }`, closes DuckDB and removes a temp dir it created. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([...this.inflight]);
    await this.duckdb.close();
    if (this.clockFile !== undefined) {
      const now = this.clock.now();
      writeFileSync(this.clockFile, `${JSON.stringify({ now, iso: new Date(now).toISOString() })}\n`);
    }
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Runs router work; with `wait: false` executions continue in the background (stop() awaits them). */
  private async run<T>(work: (options: RunOptions) => Promise<T>, options: WaitOption): Promise<T> {
    if (this.stopped) throw new Error("LocalRuntime is stopped");
    if (options.wait === false) {
      return work({
        background: (p) => {
          const tracked = p.then(() => this.quiesce()).finally(() => this.inflight.delete(tracked));
          this.inflight.add(tracked);
        },
      });
    }
    const result = await work({});
    await this.quiesce();
    return result;
  }

  /** Runs timers of live executions (retry backoff, polls) by jumping the virtual clock to them. */
  private async quiesce(): Promise<void> {
    for (let next = this.clock.nextBusy(); next !== undefined; next = this.clock.nextBusy()) {
      await this.clock.advanceTo(next);
    }
  }

  private nodeOf(target: SignalTarget): NodeModel {
    const id = "selectors" in target ? target.node.id : target.id;
    const node = this.model.nodes[id];
    if (!node) throw new Error(`"${id}" is not a node of this flow`);
    return node;
  }

  /** Dimensions of a selection, every one given as a single value (an alarm's time defaults to now). */
  private concreteDimensions(node: NodeModel, target: SignalTarget): Dimensions {
    const selectors = "selectors" in target ? target.selectors : [];
    const out: Record<string, DimensionValue> = {};
    node.signal.dimensions.forEach((spec, i) => {
      let raw = selectors[i];
      if (raw === undefined && spec.type === "DATETIME" && node.signal.kind === "alarm") {
        raw = formatDatetime(this.clock.now(), spec.format);
      }
      if (
        raw === undefined ||
        raw === "*" ||
        Array.isArray(raw) ||
        (typeof raw === "object" && !(raw instanceof Date))
      ) {
        throw new Error(
          `node "${node.id}": give one value for dimension "${spec.name}" (at(...) position ${i + 1})`,
        );
      }
      const c = coerceDimensionValue(spec, raw);
      if (c.error !== undefined) throw new Error(`node "${node.id}", dimension "${spec.name}": ${c.error}`);
      out[spec.name] = c.value;
    });
    return out;
  }
}

/** The virtual time a clock file holds, or undefined when there is none yet. */
function readClockFile(file: string | undefined): number | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return undefined;
    throw e;
  }
  let now: unknown;
  try {
    now = (JSON.parse(text) as { now?: unknown }).now;
  } catch {
    now = undefined;
  }
  if (typeof now !== "number" || !Number.isFinite(now))
    throw new Error(`${file} holds no clock ("now": epoch ms)`);
  return now;
}
