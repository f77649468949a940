/**
 * The Application: the root of a flow. Nodes are declared on it; `toModel()` turns the whole flow
 * into the FlowModel or throws one FlowValidationError listing every problem.
 */
import {
  Alarm,
  CompositeAlarm,
  ExternalAlarm,
  type AlarmProps,
  type CompositeAlarmProps,
  type ExternalAlarmProps,
} from "./alarms";
import { accountError, regionError } from "./aws-names";
import type { ApplicationInfo, BuildContext } from "./build-context";
import { LocalFunctionRegistry } from "./code-ref";
import {
  checkParamValues,
  DEFAULT_ENGINE_PRIORITY,
  ENGINES,
  paramsModel,
  type ComputeParams,
} from "./compute";
import { DataNode, type DataNodeProps } from "./data-node";
import { GlueTable, S3Dataset, type GlueTableProps, type S3DatasetProps } from "./datasets";
import { FlowValidationError, IssueCollector, type FlowIssue } from "./errors";
import { checkKnownProps, KNOWN_PROPS, type PropsKind } from "./known-props";
import {
  ExternalMetric,
  Metric,
  PlatformMetrics,
  RouteMetrics,
  type ExternalMetricProps,
  type MetricProps,
} from "./metrics";
import { canonicalize, canonicalJson } from "./model/canonical-json";
import {
  FLOW_MODEL_SCHEMA_VERSION,
  type ComputeParamsModel,
  type DatasetBindingModel,
  type DownstreamModel,
  type Engine,
  type EnvironmentModel,
  type FlowModel,
  type JsonValue,
  type NodeModel,
  type SignalModel,
} from "./model/flow-model";
import { defaultMetricsNamespace, type PlatformMetricGroup } from "./model/route-metrics";
import type { Node, NodeOwner } from "./node";
import { Timer, type TimerProps } from "./timer";
import { Upstream, type UpstreamDataNode, type UpstreamProps } from "./upstream";

export interface ApplicationProps {
  /** Account the application is deployed to by default. */
  readonly account: string;
  readonly region: string;
  /** Folder that inline code references are relative to. @default process.cwd() */
  readonly root?: string;
  /** Engine preference for Spark targets without an explicit engine. @default ["glue", "emrServerless", "emr", "athena", "lambda"] */
  readonly enginePriority?: readonly Engine[];
  /** CloudWatch namespace of route and platform metrics. @default "Sluice/<name>" */
  readonly metricsNamespace?: string;
}

export interface DownstreamProps {
  /** Account the downstream application is deployed to. */
  readonly account: string;
  readonly region: string;
}

export interface EnvironmentProps {
  readonly account: string;
  readonly region: string;
  /** Per-environment bindings of external datasets, by node id. */
  readonly datasets?: Readonly<Record<string, DatasetBindingModel>>;
  readonly config?: Readonly<Record<string, JsonValue>>;
  /** Per-environment compute sizing, by data node id. */
  readonly compute?: Readonly<Record<string, ComputeParams>>;
}

const APP_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const NODE_ID = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

export class Application implements NodeOwner {
  readonly root: string;
  private readonly nodes = new Map<string, Node>();
  private readonly environments = new Map<string, EnvironmentProps>();
  private readonly downstreams = new Map<string, DownstreamProps>();
  private readonly upstreams = new Map<string, Upstream>();
  private readonly declarationIssues = new IssueCollector();
  private lastFunctions = new LocalFunctionRegistry();

  constructor(
    readonly name: string,
    readonly props: ApplicationProps,
  ) {
    this.root = props.root ?? process.cwd();
  }

  // ---------------------------------------------------------------- declarations

  environment(name: string, props: EnvironmentProps): this {
    if (this.environments.has(name)) {
      this.declarationIssues.add(
        { section: `environments.${name}` },
        "environment.duplicate",
        `declared twice`,
      );
    }
    this.environments.set(name, props);
    return this;
  }

  /**
   * Authorizes a downstream application to read this application's data nodes and receive their
   * signals (synth grants its account bucket/KMS read access and forwards the events to its bus).
   */
  authorizeDownstream(name: string, props: DownstreamProps): this {
    if (this.downstreams.has(name)) {
      this.declarationIssues.add(
        { section: `downstream.${name}` },
        "downstream.duplicate",
        `downstream application "${name}" authorized twice`,
      );
    }
    this.downstreams.set(name, props);
    return this;
  }

  /**
   * Imports an upstream application from its published FlowModel manifest; `.node(id)` of the result
   * is one of its data nodes, usable as an input. The upstream must authorize this application.
   */
  importUpstream(name: string, props: UpstreamProps): Upstream {
    if (this.upstreams.has(name)) {
      this.declarationIssues.add(
        { section: `upstreams.${name}` },
        "upstream.duplicate",
        `upstream application "${name}" imported twice`,
      );
    }
    const upstream = new Upstream(name, props, this.root, (n: UpstreamDataNode) => this.declare(n));
    this.upstreams.set(name, upstream);
    return upstream;
  }

  s3Dataset(id: string, props: S3DatasetProps): S3Dataset {
    return this.declare(new S3Dataset(id, props));
  }

  glueTable(id: string, props: GlueTableProps): GlueTable {
    return this.declare(new GlueTable(id, props));
  }

  timer(id: string, schedule: string, props: Omit<TimerProps, "schedule"> = {}): Timer {
    return this.declare(new Timer(id, { ...props, schedule }));
  }

  externalMetric(id: string, props: ExternalMetricProps): ExternalMetric {
    return this.declare(new ExternalMetric(id, props));
  }

  metric(id: string, props: MetricProps = {}): Metric {
    return this.declare(new Metric(id, props));
  }

  externalAlarm(id: string, props: ExternalAlarmProps): ExternalAlarm {
    return this.declare(new ExternalAlarm(id, props));
  }

  alarm(id: string, props: AlarmProps): Alarm {
    return this.declare(new Alarm(id, props));
  }

  compositeAlarm(id: string, props: CompositeAlarmProps): CompositeAlarm {
    return this.declare(new CompositeAlarm(id, props));
  }

  data(id: string, props: DataNodeProps): DataNode {
    return this.declare(new DataNode(id, props));
  }

  /** The metrics every data node's route emits (one per hook), for alarms. */
  routeMetrics(node: Node): RouteMetrics {
    return new RouteMetrics(node);
  }

  /** Router-wide metrics: "orchestration" (events, executions) or "system" (errors, latencies). */
  platformMetrics(group: PlatformMetricGroup): PlatformMetrics {
    return new PlatformMetrics(group);
  }

  /** A declared node by id. */
  node(id: string): Node | undefined {
    return this.nodes.get(id);
  }

  /** Every declared node, in declaration order. */
  get nodeList(): readonly Node[] {
    return [...this.nodes.values()];
  }

  /**
   * Replaces a node's properties. The node and everything downstream of it are re-validated; on any
   * problem the change is undone and a FlowValidationError lists the problems.
   */
  update<P>(id: string, props: P): Node<P> {
    const node = this.existing(id) as Node<P>;
    const before = node.props;
    node.replaceProps(props);
    const issues = this.issuesAffecting(id);
    if (issues.length > 0) {
      node.replaceProps(before);
      throw new FlowValidationError(issues);
    }
    return node;
  }

  /** Merges properties into a node's (shallow); same re-validation as update(). */
  patch<P>(id: string, props: Partial<P>): Node<P> {
    const node = this.existing(id) as Node<P>;
    return this.update<P>(id, { ...node.props, ...props });
  }

  // ---------------------------------------------------------------- model

  /** Every problem of the flow; empty when toModel() would succeed. */
  validate(): readonly FlowIssue[] {
    return this.build().issues.issues;
  }

  /** The FlowModel; throws FlowValidationError listing every problem. */
  toModel(): FlowModel {
    const { issues, model } = this.build();
    issues.throwIfAny();
    return model;
  }

  /**
   * The model as far as it builds, with every problem: what `sluice graph` draws for an invalid flow.
   * The model of an invalid flow is partial (nodes in a cycle, for one, are missing) and is not a
   * FlowModel to synthesize or run; use toModel() for that.
   */
  inspect(): { readonly model: FlowModel; readonly issues: readonly FlowIssue[] } {
    const { issues, model } = this.build();
    return { model, issues: issues.issues };
  }

  /** The FlowModel as canonical JSON (byte-for-byte identical for the same flow). */
  toJson(): string {
    return canonicalJson(this.toModel());
  }

  /** Functions given in place of module references, by the key the model names them with. */
  get localFunctions(): LocalFunctionRegistry {
    return this.lastFunctions;
  }

  /** @internal */
  createContext(issues: IssueCollector, functions = new LocalFunctionRegistry()): BuildContext {
    const info: ApplicationInfo = {
      name: this.name,
      account: this.props.account,
      region: this.props.region,
      metricsNamespace: this.props.metricsNamespace ?? defaultMetricsNamespace(this.name),
      enginePriority: this.props.enginePriority ?? DEFAULT_ENGINE_PRIORITY,
    };
    const signals = new Map<Node, SignalModel>();
    const visiting = new Set<Node>();
    const ctx: BuildContext = {
      app: info,
      issues,
      functions,
      owns: (n) => this.nodes.get(n.id) === n,
      signalOf: (n) => {
        const known = signals.get(n);
        if (known) return known;
        if (visiting.has(n) || !ctx.owns(n)) return undefined;
        visiting.add(n);
        try {
          const s = n.buildSignal(ctx);
          signals.set(n, s);
          return s;
        } finally {
          visiting.delete(n);
        }
      },
    };
    return ctx;
  }

  private build(): { issues: IssueCollector; model: FlowModel } {
    const issues = new IssueCollector();
    for (const i of this.declarationIssues.issues) issues.addIssue(i);
    const functions = new LocalFunctionRegistry();
    const ctx = this.createContext(issues, functions);
    this.checkApplication(issues);
    this.checkProps(issues);
    const downstream = this.checkCollaboration(issues);
    this.checkCycles(issues);
    const nodes: Record<string, NodeModel> = {};
    for (const node of this.nodes.values()) {
      const signal = ctx.signalOf(node);
      if (signal) nodes[node.id] = node.buildModel(ctx, signal);
    }
    const environments: Record<string, EnvironmentModel> = {};
    for (const [name, env] of this.environments)
      environments[name] = this.environmentModel(issues, name, env);
    checkBindingConsistency(issues, environments);
    this.lastFunctions = functions;
    const model: FlowModel = canonicalize({
      schemaVersion: FLOW_MODEL_SCHEMA_VERSION,
      application: {
        name: this.name,
        account: this.props.account,
        region: this.props.region,
        metricsNamespace: ctx.app.metricsNamespace,
        ...(downstream.length === 0 ? {} : { downstream }),
      },
      environments,
      nodes,
    });
    return { issues, model };
  }

  private declare<N extends Node>(node: N): N {
    if (!NODE_ID.test(node.id)) {
      this.declarationIssues.add(
        { node: node.id },
        "node.id",
        `id must start with a letter and contain only letters, digits and _ (at most 63 characters)`,
      );
    }
    if (this.nodes.has(node.id)) {
      this.declarationIssues.add(
        { node: node.id },
        "node.duplicate",
        `declared twice; node ids are unique per application`,
      );
      return node;
    }
    node.attach(this);
    this.nodes.set(node.id, node);
    return node;
  }

  private existing(id: string): Node {
    const node = this.nodes.get(id);
    if (!node) {
      throw new FlowValidationError([
        { path: `nodes.${id}`, code: "node.unknown", message: `node "${id}": no such node to update` },
      ]);
    }
    return node;
  }

  /** Issues located at the node or anything downstream of it. */
  private issuesAffecting(id: string): FlowIssue[] {
    const affected = new Set([id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const n of this.nodes.values()) {
        if (!affected.has(n.id) && n.dependencies().some((d) => affected.has(d.id))) {
          affected.add(n.id);
          grew = true;
        }
      }
    }
    return this.validate().filter((i) =>
      [...affected].some((a) => i.path === `nodes.${a}` || i.path.startsWith(`nodes.${a}.`)),
    );
  }

  /** Unknown props at every declaration, with a did-you-mean. */
  private checkProps(issues: IssueCollector): void {
    checkKnownProps(issues, { section: "application" }, this.props, "application");
    for (const [name, env] of this.environments)
      checkKnownProps(issues, { section: `environments.${name}` }, env, "environment");
    for (const [name, d] of this.downstreams)
      checkKnownProps(issues, { section: `downstream.${name}` }, d, "downstream");
    for (const [name, u] of this.upstreams)
      checkKnownProps(issues, { section: `upstreams.${name}` }, u.props, "upstream");
    for (const node of this.nodes.values()) {
      if (Object.hasOwn(KNOWN_PROPS, node.kind))
        checkKnownProps(issues, { node: node.id }, node.props, node.kind as PropsKind);
    }
  }

  private checkApplication(issues: IssueCollector): void {
    const loc = { section: "application" };
    if (!APP_NAME.test(this.name)) {
      issues.add(
        loc,
        "application.name",
        `name "${this.name}" must be 2-40 lowercase letters, digits and -, starting with a letter (it prefixes AWS resource names)`,
      );
    }
    const a = accountError(this.props.account);
    if (a) issues.add(loc, "aws.account", a);
    const r = regionError(this.props.region);
    if (r) issues.add(loc, "aws.region", r);
    for (const e of this.props.enginePriority ?? []) {
      if (!ENGINES.includes(e))
        issues.add(loc, "compute.engine", `enginePriority: "${e}" is not one of ${ENGINES.join(", ")}`);
    }
  }

  /** Validates authorized downstreams (returned sorted by name) and imported upstreams. */
  private checkCollaboration(issues: IssueCollector): DownstreamModel[] {
    const downstream: DownstreamModel[] = [];
    for (const [name, d] of this.downstreams) {
      const loc = { section: `downstream.${name}` };
      if (!APP_NAME.test(name)) {
        issues.add(
          loc,
          "downstream.name",
          `name "${name}" is not an application name (2-40 lowercase letters, digits and -)`,
        );
      }
      const a = accountError(d.account);
      if (a) issues.add(loc, "aws.account", a);
      const r = regionError(d.region);
      if (r) issues.add(loc, "aws.region", r);
      downstream.push({ name, account: d.account, region: d.region });
    }
    downstream.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const [name, u] of this.upstreams) {
      const loc = { section: `upstreams.${name}` };
      const a = accountError(u.props.account);
      if (a) issues.add(loc, "aws.account", a);
      const r = regionError(u.props.region);
      if (r) issues.add(loc, "aws.region", r);
      if (u.model.application.name !== name) {
        issues.add(
          loc,
          "upstream.manifest",
          `the manifest is application "${u.model.application.name}", not "${name}"`,
        );
      }
      const authorized = (u.model.application.downstream ?? []).some((d) => d.account === this.props.account);
      if (!authorized) {
        issues.add(
          loc,
          "upstream.unauthorized",
          `upstream "${name}" does not authorize "${this.name}" (account ${this.props.account}): add app.authorizeDownstream("${this.name}", { account: "${this.props.account}", region: "${this.props.region}" }) to "${name}"`,
        );
      }
    }
    return downstream;
  }

  private checkCycles(issues: IssueCollector): void {
    const state = new Map<Node, "active" | "done">();
    const stack: Node[] = [];
    const visit = (n: Node): void => {
      if (state.get(n) === "done" || this.nodes.get(n.id) !== n) return;
      if (state.get(n) === "active") {
        const cycle = [...stack.slice(stack.indexOf(n)), n].map((x) => x.id);
        issues.add({ node: n.id }, "graph.cycle", `cycle ${cycle.join(" → ")}`);
        return;
      }
      state.set(n, "active");
      stack.push(n);
      n.dependencies().forEach(visit);
      stack.pop();
      state.set(n, "done");
    };
    this.nodes.forEach(visit);
  }

  private environmentModel(issues: IssueCollector, name: string, env: EnvironmentProps): EnvironmentModel {
    const loc = { section: `environments.${name}` };
    if (!APP_NAME.test(name) && !/^[a-z][a-z0-9]*$/.test(name)) {
      issues.add(loc, "environment.name", `name must be lowercase letters, digits and -`);
    }
    const a = accountError(env.account);
    if (a) issues.add(loc, "aws.account", a);
    const r = regionError(env.region);
    if (r) issues.add(loc, "aws.region", r);
    for (const id of Object.keys(env.datasets ?? {})) {
      const n = this.nodes.get(id);
      if (!n || (n.kind !== "s3Dataset" && n.kind !== "glueTable")) {
        issues.add(
          loc,
          "environment.dataset",
          `dataset binding "${id}" does not name an s3Dataset or glueTable of the application`,
        );
      }
    }
    for (const [key, value] of Object.entries(env.config ?? {})) {
      const problem = jsonProblem(value);
      if (problem !== undefined) {
        issues.add(
          { ...loc, field: `config ${key}` },
          "environment.config",
          `config values are JSON (strings, finite numbers, booleans, null, arrays and plain objects): ${problem}`,
        );
      }
    }
    const compute: Record<string, ComputeParamsModel> = {};
    for (const [id, params] of Object.entries(env.compute ?? {})) {
      if (this.nodes.get(id)?.kind !== "data") {
        issues.add(loc, "environment.compute", `compute override "${id}" does not name a data node`);
      }
      // Environments size compute; what runs and with which permissions stays the node's.
      const { permissions, engine, ...sizing } = params;
      const cloc = { ...loc, field: `compute ${id}` };
      if (permissions !== undefined || engine !== undefined) {
        issues.add(
          cloc,
          "environment.compute",
          `engine and permissions are the node's; an environment can only size compute`,
        );
      }
      checkParamValues(issues, cloc, sizing);
      compute[id] = paramsModel(sizing);
    }
    return {
      name,
      account: env.account,
      region: env.region,
      datasets: env.datasets ?? {},
      config: env.config ?? {},
      compute,
    };
  }
}

/**
 * Binding fields that change where a dataset's data is. A dataset bound with one of them in some
 * environment must bind it in every environment (even to the flow's own value): otherwise promoting the
 * flow would silently read the other environment's data from the flow's default location. `format` and
 * `encryptionKey` describe the data rather than locate it and may be bound in one environment only.
 */
export const LOCATION_BINDING_FIELDS = [
  "account",
  "region",
  "bucket",
  "prefix",
  "database",
  "table",
] as const;

function checkBindingConsistency(
  issues: IssueCollector,
  environments: Readonly<Record<string, EnvironmentModel>>,
): void {
  const names = Object.keys(environments).sort();
  const bound = (env: string, dataset: string): Set<string> => {
    const b = (environments[env]?.datasets[dataset] ?? {}) as Readonly<Record<string, unknown>>;
    return new Set(LOCATION_BINDING_FIELDS.filter((f) => b[f] !== undefined));
  };
  const datasets = [...new Set(names.flatMap((n) => Object.keys(environments[n]?.datasets ?? {})))].sort();
  for (const dataset of datasets) {
    for (const here of names) {
      const mine = bound(here, dataset);
      const elsewhere: string[] = [];
      for (const other of names) {
        if (other === here) continue;
        const missing = [...bound(other, dataset)].filter((f) => !mine.has(f));
        if (missing.length > 0) elsewhere.push(`"${other}" (${missing.join(", ")})`);
      }
      if (elsewhere.length === 0) continue;
      issues.addIssue({
        path: `environments.${here}.datasets.${dataset}`,
        code: "environment.binding-missing",
        message: `environments.${here}, dataset "${dataset}": bound in ${elsewhere.join(", ")} but not here`,
      });
    }
  }
}

/** Why a config value is not JSON, or undefined when it is. */
function jsonProblem(value: unknown, at = "value"): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number")
    return Number.isFinite(value) ? undefined : `${at} is ${String(value)}, not a finite number`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonProblem(value[i] as unknown, `${at}[${i}]`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null)
      return `${at} is a ${(value as object).constructor?.name ?? "non-plain object"}, not a plain object`;
    for (const [k, v] of Object.entries(value)) {
      const p = jsonProblem(v, `${at}.${k}`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  return `${at} is ${value === undefined ? "undefined" : `a ${typeof value}`}`;
}
