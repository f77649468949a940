/**
 * A plain graph of a FlowModel, what `sluice graph` renders: one node per flow node (plus synthetic
 * nodes for platform metrics), edges from inputs to data nodes, from metrics to the alarms that watch
 * them and from alarms to the composite alarms whose rule names them. Labels are final text; the
 * renderers (mermaid, dot, svg) only escape and lay out.
 */
import type {
  AlarmMetricModel,
  AlarmRuleModel,
  DataNodeModel,
  DimensionFilterModel,
  DimensionRefModel,
  FlowModel,
  InputModel,
  LinkModel,
  MapperModel,
  MetricStatModel,
  NodeModel,
} from "../../flow/model/flow-model";

/** How a node is drawn: its color and shape. */
export type GraphNodeKind = "dataset" | "table" | "timer" | "metric" | "alarm" | "compositeAlarm" | "data";

export const GRAPH_NODE_KINDS: readonly GraphNodeKind[] = [
  "dataset",
  "table",
  "timer",
  "metric",
  "alarm",
  "compositeAlarm",
  "data",
];

export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  /** The FlowModel kind ("s3Dataset", "externalAlarm", …), or "platformMetrics" for a synthetic node. */
  readonly modelKind: string;
  /** Owned by another team or account (external metrics and alarms, platform metrics). */
  readonly external: boolean;
  /** Lines under the id: what the node is (bucket, schedule, compute, rule…). */
  readonly details: readonly string[];
  /** Problems of an invalid flow located at the node (drawn marked); absent when there are none. */
  readonly issues?: readonly string[];
}

/** input: a data node's input; metric: a metric an alarm watches; rule: an alarm a composite alarm's rule names. */
export type GraphEdgeKind = "input" | "metric" | "rule";

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: GraphEdgeKind;
  /** Label lines, the first one the summary (alias · ref · rangeCheck · narrowing · ranges). */
  readonly label: readonly string[];
  /** Drawn dashed: reference inputs, metrics and rule terms never carry data. */
  readonly dashed: boolean;
  /** Problems of an invalid flow located at the input (drawn marked); absent when there are none. */
  readonly issues?: readonly string[];
}

export interface Graph {
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** Every problem of an invalid flow, as `path: message`; absent for a valid flow. */
  readonly issues?: readonly string[];
}

/**
 * Marks the nodes and input edges an invalid flow's issues are located at (`nodes.<id>…`,
 * `nodes.<id>.inputs.<alias>…`) and lists every issue on the graph.
 */
export function markIssues(
  graph: Graph,
  model: FlowModel,
  issues: readonly { readonly path: string; readonly message: string }[],
): Graph {
  if (issues.length === 0) return graph;
  const byNode = new Map<string, string[]>();
  const byEdge = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, message: string): void => {
    map.set(key, [...(map.get(key) ?? []), message]);
  };
  for (const i of issues) {
    const m = /^nodes\.([^.]+)(?:\.inputs\.([^.]+))?/.exec(i.path);
    if (!m) continue;
    const id = m[1] as string;
    const alias = m[2];
    const node = model.nodes[id];
    const source =
      alias !== undefined && node?.kind === "data"
        ? node.inputs.find((x) => x.alias === alias)?.node
        : undefined;
    if (source !== undefined) add(byEdge, `${source}\u0000${id}`, i.message);
    else add(byNode, id, i.message);
  }
  return {
    ...graph,
    nodes: graph.nodes.map((n) => (byNode.has(n.id) ? { ...n, issues: byNode.get(n.id) ?? [] } : n)),
    edges: graph.edges.map((e) => {
      const found = e.kind === "input" ? byEdge.get(`${e.from}\u0000${e.to}`) : undefined;
      return found ? { ...e, issues: found } : e;
    }),
    issues: issues.map((i) => (i.message.startsWith(`${i.path}:`) ? i.message : `${i.path}: ${i.message}`)),
  };
}

export interface GraphOptions {
  /** Auto-created eq links: shown compactly on the target input's edge (default) or omitted. */
  readonly autoLinks?: "compact" | "omit";
}

export function buildGraph(model: FlowModel, options: GraphOptions = {}): Graph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  for (const node of Object.values(model.nodes)) nodes.set(node.id, graphNode(node, model));
  for (const node of Object.values(model.nodes)) {
    if (node.kind === "data") edges.push(...inputEdges(node, model, options));
    if (node.kind === "alarm") edges.push(...metricEdges(node.id, node.metric, nodes));
    if (node.kind === "compositeAlarm") edges.push(...ruleEdges(node.id, node.rule));
  }
  return {
    name: model.application.name,
    nodes: [...nodes.values()].sort((a, b) => compare(a.id, b.id)),
    edges,
  };
}

// ---------------------------------------------------------------- nodes

function graphNode(node: NodeModel, model: FlowModel): GraphNode {
  const base = { id: node.id, modelKind: node.kind, external: false };
  const where = (account: string, region: string): string[] =>
    account !== model.application.account || region !== model.application.region
      ? [`${account} / ${region}`]
      : [];
  switch (node.kind) {
    case "s3Dataset":
      return {
        ...base,
        kind: "dataset",
        details: [
          `s3://${[node.bucket, node.prefix].filter((p) => p !== "").join("/")}`,
          ...dimensionLine(node),
          ...where(node.account, node.region),
        ],
      };
    case "glueTable":
      return {
        ...base,
        kind: "table",
        details: [
          `glue ${node.database}.${node.table}`,
          ...dimensionLine(node),
          ...where(node.account, node.region),
        ],
      };
    case "upstreamData":
      return {
        ...base,
        kind: "dataset",
        external: true,
        details: [
          `${node.upstream.application}:${node.node}`,
          ...dimensionLine(node),
          ...where(node.upstream.account, node.upstream.region),
        ],
      };
    case "timer":
      return { ...base, kind: "timer", details: [node.schedule] };
    case "externalMetric":
      return {
        ...base,
        kind: "metric",
        external: true,
        details: [
          metricNamespaceLine(node.namespace, node.subDimensions),
          ...where(node.account, node.region),
        ],
      };
    case "metric":
      return { ...base, kind: "metric", details: [metricNamespaceLine(node.namespace, node.subDimensions)] };
    case "externalAlarm":
      return {
        ...base,
        kind: "alarm",
        external: true,
        details: [node.alarmName, ...where(node.account, node.region)],
      };
    case "alarm":
      return {
        ...base,
        kind: "alarm",
        details: [alarmCondition(node.metric, node.comparison, node.threshold)],
      };
    case "compositeAlarm":
      return { ...base, kind: "compositeAlarm", details: [ruleText(node.rule, true)] };
    case "data":
      return {
        ...base,
        kind: "data",
        details: [node.compute.map((c) => `${c.kind} · ${c.engine}`).join(" | "), ...dimensionLine(node)],
      };
  }
}

function dimensionLine(node: NodeModel): string[] {
  const dims = node.signal.dimensions.map((d) => d.name);
  return dims.length === 0 ? [] : [`(${dims.join(", ")})`];
}

function metricNamespaceLine(namespace: string, subDimensions: Readonly<Record<string, string>>): string {
  const sub = Object.entries(subDimensions).map(([k, v]) => `${k}=${v}`);
  return sub.length === 0 ? namespace : `${namespace} · ${sub.join(", ")}`;
}

const COMPARISON: Readonly<Record<string, string>> = {
  GreaterThanOrEqualToThreshold: "≥",
  GreaterThanThreshold: ">",
  LessThanThreshold: "<",
  LessThanOrEqualToThreshold: "≤",
};

function alarmCondition(metric: AlarmMetricModel, comparison: string, threshold: number): string {
  const lhs =
    metric.kind === "single" ? `${metric.stat.statistic}(${metric.stat.metric.name})` : metric.expression;
  return `${lhs} ${COMPARISON[comparison] ?? comparison} ${threshold}`;
}

/** A rule with alarm ids: `ALARM(a) OR NOT ALARM(b)`; nested and/or terms are parenthesized. */
function ruleText(rule: AlarmRuleModel, top = false): string {
  switch (rule.op) {
    case "state":
      return `${rule.state}(${rule.alarm})`;
    case "const":
      return rule.value ? "TRUE" : "FALSE";
    case "not":
      return `NOT ${ruleText(rule.term)}`;
    case "and":
    case "or": {
      const text = rule.terms.map((t) => ruleText(t)).join(` ${rule.op.toUpperCase()} `);
      return top || rule.terms.length < 2 ? text : `(${text})`;
    }
  }
}

// ---------------------------------------------------------------- input edges

function inputEdges(node: DataNodeModel, model: FlowModel, options: GraphOptions): GraphEdge[] {
  return node.inputs.map((input) => {
    const links = node.links
      .filter((l) => l.target.input === input.alias)
      .filter((l) => !(l.auto && options.autoLinks === "omit"));
    const explicit = links.filter((l) => !isCompact(l)).map(linkText);
    const compact = links.filter(isCompact).map((l) => `${l.target.dimension} ≡ ${refText(l.sources[0])}`);
    return {
      from: input.node,
      to: node.id,
      kind: "input" as const,
      label: [inputSummary(input, model), ...explicit, ...(compact.length > 0 ? [compact.join(", ")] : [])],
      dashed: input.reference,
    };
  });
}

/** `last7 · ref · rangeCheck · state=ALARM · day[-6..0]` */
export function inputSummary(input: InputModel, model: FlowModel): string {
  const parts = [input.alias];
  if (input.reference) parts.push("ref");
  if (input.rangeCheck) parts.push("rangeCheck");
  const declared = model.nodes[input.node]?.signal.filter ?? {};
  for (const [dimension, filter] of Object.entries(input.filter)) {
    if (!sameFilter(filter, declared[dimension] ?? "*")) parts.push(filterText(dimension, filter));
  }
  for (const [dimension, r] of Object.entries(input.ranges)) {
    parts.push(r.from === r.to ? `${dimension}[${r.from}]` : `${dimension}[${r.from}..${r.to}]`);
  }
  return parts.join(" · ");
}

function sameFilter(a: DimensionFilterModel, b: DimensionFilterModel): boolean {
  if (a === "*" || b === "*") return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function filterText(dimension: string, filter: DimensionFilterModel): string {
  if (filter === "*") return `${dimension}=*`;
  if (filter.length === 1) return `${dimension}=${String(filter[0])}`;
  return `${dimension}∈{${filter.map(String).join(",")}}`;
}

/** Auto eq links with one source are shown as `day ≡ daily.day`. */
function isCompact(l: LinkModel): boolean {
  return l.auto && l.mapper.kind === "eq" && l.sources.length === 1;
}

function refText(ref: DimensionRefModel | undefined): string {
  return ref === undefined ? "?" : `${ref.input}.${ref.dimension}`;
}

/** `customers.region_id = map(events.region)` */
export function linkText(l: LinkModel): string {
  return `${refText(l.target)} = ${mapperText(l.mapper, l.sources.map(refText))}`;
}

function mapperText(mapper: MapperModel, sources: readonly string[]): string {
  const args = sources.join(", ");
  switch (mapper.kind) {
    case "eq":
      return args;
    case "map":
      return `map(${args})`;
    case "shift":
      return `shift(${args}, ${mapper.amount}${mapper.unit ? ` ${mapper.unit}` : ""})`;
    case "truncate":
      return `truncate(${args}, ${mapper.granularity})`;
    case "concat":
      return `concat(${args}, ${JSON.stringify(mapper.separator)})`;
    case "split":
      return `split(${args}, ${JSON.stringify(mapper.separator)}, ${mapper.index})`;
    case "combine":
      return `combine(${args})`;
    case "literal":
      return JSON.stringify(mapper.value);
    case "custom":
      return `custom(${args})`;
  }
}

// ---------------------------------------------------------------- alarm edges

function metricEdges(alarm: string, metric: AlarmMetricModel, nodes: Map<string, GraphNode>): GraphEdge[] {
  const stats: [string | undefined, MetricStatModel][] =
    metric.kind === "single" ? [[undefined, metric.stat]] : Object.entries(metric.metrics);
  // One edge per source node; a math alarm watching two metrics of one node gets two label lines.
  const bySource = new Map<string, string[]>();
  for (const [id, stat] of stats) {
    const source = metricSourceNode(stat.metric.source, nodes);
    const line = `${id === undefined ? "" : `${id} = `}${stat.metric.name} · ${stat.statistic}/${stat.periodSeconds}s`;
    bySource.set(source, [...(bySource.get(source) ?? []), line]);
  }
  return [...bySource].map(([from, label]) => ({
    from,
    to: alarm,
    kind: "metric" as const,
    label,
    dashed: true,
  }));
}

/** The graph node a metric comes from: its node, the data node of route metrics, or a platform node. */
function metricSourceNode(source: string, nodes: Map<string, GraphNode>): string {
  if (source.startsWith("$route:")) return source.slice("$route:".length);
  if (!nodes.has(source)) {
    const group = source.startsWith("$platform:") ? source.slice("$platform:".length) : source;
    nodes.set(source, {
      id: source,
      kind: "metric",
      modelKind: "platformMetrics",
      external: true,
      details: [source.startsWith("$platform:") ? `router ${group} metrics` : "metric"],
    });
  }
  return source;
}

function ruleEdges(composite: string, rule: AlarmRuleModel): GraphEdge[] {
  const edges: GraphEdge[] = [];
  const walk = (r: AlarmRuleModel, negated: boolean): void => {
    if (r.op === "state") {
      edges.push({
        from: r.alarm,
        to: composite,
        kind: "rule",
        label: [`${negated ? "NOT " : ""}${r.state}`],
        dashed: true,
      });
    } else if (r.op === "not") walk(r.term, !negated);
    else if (r.op === "and" || r.op === "or") for (const t of r.terms) walk(t, negated);
  };
  walk(rule, false);
  return edges;
}

/** Code-point order, independent of the host's locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
