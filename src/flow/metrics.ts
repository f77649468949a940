/**
 * Metric signals: external CloudWatch metrics, the application's own custom metrics, the route
 * metrics every data node emits, and platform metrics of the router. Metrics feed alarms; they are
 * never data inputs.
 */
import type { BuildContext } from "./build-context";
import { reportLocation } from "./datasets";
import type {
  DimensionModel,
  JsonValue,
  MetricNodeModel,
  MetricRefModel,
  ExternalMetricNodeModel,
  SignalModel,
} from "./model/flow-model";
import {
  PLATFORM_METRIC_NAMES,
  ROUTE_METRIC_NAMES,
  platformMetricDimensions,
  routeMetricDimensions,
  type PlatformMetricGroup,
} from "./model/route-metrics";
import { canonicalize } from "./model/canonical-json";
import { Node } from "./node";

/** A metric an alarm can watch. `error` is set when the reference itself is wrong (reported at build). */
export class MetricRef {
  constructor(
    /** Resolved against the application at build time. */
    readonly resolve: (ctx: BuildContext) => MetricRefModel,
    readonly error?: string,
    /** The node whose existence this reference depends on. */
    readonly node?: Node,
  ) {}
}

/** What `get(name)` is called on. */
export interface MetricSource {
  get(metricName: string): MetricRef;
}

/** The dimension spec of every metric signal (RheocerOS's metric dimensions). */
const METRIC_DIMENSIONS: readonly DimensionModel[] = [
  { name: "name", type: "STRING" },
  { name: "statistic", type: "STRING" },
  { name: "period", type: "LONG" },
];

interface MetricNodeProps {
  /** CloudWatch dimensions that identify the metric besides its name. @default none */
  readonly subDimensions?: Readonly<Record<string, string>>;
  /** Metric names this node publishes; `get()` of any other name is an error. @default any name */
  readonly metricNames?: readonly string[];
  readonly metadata?: Readonly<Record<string, JsonValue>>;
}

export interface ExternalMetricProps extends MetricNodeProps {
  readonly namespace: string;
  /** @default the application's account */
  readonly account?: string;
  /** @default the application's region */
  readonly region?: string;
}

export interface MetricProps extends MetricNodeProps {
  /** @default the application's metrics namespace */
  readonly namespace?: string;
}

abstract class MetricNodeBase<P extends MetricNodeProps> extends Node<P> implements MetricSource {
  get(metricName: string): MetricRef {
    const names = this.props.metricNames;
    const error =
      names !== undefined && !names.includes(metricName)
        ? `metric "${metricName}" is not one of the node's metricNames (${names.join(", ")})`
        : undefined;
    return new MetricRef((ctx) => this.refModel(ctx, metricName), error, this);
  }

  buildSignal(ctx: BuildContext): SignalModel {
    const loc = { node: this.id };
    for (const [k, v] of Object.entries(this.props.subDimensions ?? {})) {
      if (!k || typeof v !== "string" || v === "") {
        ctx.issues.add(
          loc,
          "metric.sub-dimension",
          `sub-dimension "${k}" must have a non-empty string value`,
        );
      }
    }
    if (Object.keys(this.props.subDimensions ?? {}).length > 29) {
      ctx.issues.add(loc, "metric.sub-dimension", `CloudWatch allows at most 30 dimensions per metric`);
    }
    const names = this.props.metricNames;
    return {
      kind: "metric",
      dimensions: METRIC_DIMENSIONS,
      filter: names ? { name: [...names].sort() } : {},
    };
  }

  protected abstract refModel(ctx: BuildContext, metricName: string): MetricRefModel;
}

export class ExternalMetric extends MetricNodeBase<ExternalMetricProps> {
  readonly kind = "externalMetric" as const;

  protected refModel(ctx: BuildContext, name: string): MetricRefModel {
    const p = this.props;
    return canonicalize({
      namespace: p.namespace,
      name,
      dimensions: p.subDimensions ?? {},
      source: this.id,
      account: p.account ?? ctx.app.account,
      region: p.region ?? ctx.app.region,
    });
  }

  buildModel(ctx: BuildContext, signal: SignalModel): ExternalMetricNodeModel {
    const p = this.props;
    const account = p.account ?? ctx.app.account;
    const region = p.region ?? ctx.app.region;
    reportLocation(ctx, { node: this.id }, account, region);
    if (!p.namespace) ctx.issues.add({ node: this.id }, "metric.namespace", "namespace is required");
    return {
      id: this.id,
      kind: "externalMetric",
      signal,
      metadata: p.metadata ?? {},
      account,
      region,
      namespace: p.namespace,
      subDimensions: p.subDimensions ?? {},
    };
  }
}

export class Metric extends MetricNodeBase<MetricProps> {
  readonly kind = "metric" as const;

  protected refModel(ctx: BuildContext, name: string): MetricRefModel {
    return canonicalize({
      namespace: this.props.namespace ?? ctx.app.metricsNamespace,
      name,
      dimensions: this.props.subDimensions ?? {},
      source: this.id,
    });
  }

  buildModel(ctx: BuildContext, signal: SignalModel): MetricNodeModel {
    return {
      id: this.id,
      kind: "metric",
      signal,
      metadata: this.props.metadata ?? {},
      namespace: this.props.namespace ?? ctx.app.metricsNamespace,
      subDimensions: this.props.subDimensions ?? {},
    };
  }
}

/** Route metrics of one data node (`app.routeMetrics(node)`). */
export class RouteMetrics implements MetricSource {
  constructor(readonly node: Node) {}

  get(metricName: string): MetricRef {
    const error = ROUTE_METRIC_NAMES.includes(metricName)
      ? this.node.kind === "data"
        ? undefined
        : `route metrics exist only for data nodes; "${this.node.id}" is a ${this.node.kind}`
      : `"${metricName}" is not a route metric (one of ${ROUTE_METRIC_NAMES.join(", ")})`;
    return new MetricRef(
      (ctx) => ({
        namespace: ctx.app.metricsNamespace,
        name: metricName,
        dimensions: routeMetricDimensions(ctx.app.name, this.node.id),
        source: `$route:${this.node.id}`,
      }),
      error,
      this.node,
    );
  }
}

/** Router-wide metrics (`app.platformMetrics("orchestration" | "system")`). */
export class PlatformMetrics implements MetricSource {
  constructor(readonly group: PlatformMetricGroup) {}

  get(metricName: string): MetricRef {
    const known = PLATFORM_METRIC_NAMES[this.group];
    const error =
      known === undefined
        ? `platform metric group "${String(this.group)}" is not "orchestration" or "system"`
        : known.includes(metricName)
          ? undefined
          : `"${metricName}" is not a ${this.group} platform metric (one of ${known.join(", ")})`;
    return new MetricRef(
      (ctx) => ({
        namespace: ctx.app.metricsNamespace,
        name: metricName,
        dimensions: platformMetricDimensions(ctx.app.name, this.group),
        source: `$platform:${this.group}`,
      }),
      error,
    );
  }
}
