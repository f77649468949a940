/**
 * The FlowModel: the one contract between the DSL, synth and the router.
 *
 * Plain JSON data. Keys of records are sorted where order carries no meaning (nodes, filters,
 * environments); arrays keep declaration order where it does (dimensions, inputs, compute targets).
 * Anything that changes the meaning of an existing field bumps FLOW_MODEL_SCHEMA_VERSION.
 */
import type { Granularity } from "./granularity";

export const FLOW_MODEL_SCHEMA_VERSION = 1;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type DimensionType = "STRING" | "LONG" | "DATETIME";

/** A concrete dimension value. DATETIME values are strings in the dimension's own format. */
export type DimensionValue = string | number;

export interface StringDimensionModel {
  readonly name: string;
  readonly type: "STRING";
}

export interface LongDimensionModel {
  readonly name: string;
  readonly type: "LONG";
  /** Zero-padded width used when the value is rendered into a path. */
  readonly digits?: number;
}

export interface DatetimeDimensionModel {
  readonly name: string;
  readonly type: "DATETIME";
  /** strftime format of the value as it appears in paths and events. */
  readonly format: string;
  readonly granularity: Granularity;
  /** Informational IANA zone of the wall clock; arithmetic is DST-free. */
  readonly timezone?: string;
}

export type DimensionModel = StringDimensionModel | LongDimensionModel | DatetimeDimensionModel;

/** "*" admits every value; a list admits exactly those canonical values. */
export type DimensionFilterModel = "*" | readonly DimensionValue[];

/** Relative window around the tip value, inclusive, in periods of the dimension (range(-7) is -6..0). */
export interface RangeModel {
  readonly from: number;
  readonly to: number;
}

export type SignalKind = "s3" | "glueTable" | "timer" | "metric" | "alarm" | "internal";

export interface SignalModel {
  readonly kind: SignalKind;
  /** Ordered dimension spec. */
  readonly dimensions: readonly DimensionModel[];
  /** Declared filter per dimension; dimensions absent here are unfiltered. Sorted keys. */
  readonly filter: Readonly<Record<string, DimensionFilterModel>>;
}

// ---------------------------------------------------------------- mappers (declarative link functions)

export type MapperModel =
  | { readonly kind: "eq" }
  | {
      readonly kind: "map";
      /** [from, to] pairs sorted by `from`. */
      readonly entries: readonly (readonly [DimensionValue, DimensionValue])[];
      /** True when no two keys map to the same value: the inverse is then a function. */
      readonly injective: boolean;
    }
  | { readonly kind: "shift"; readonly amount: number; readonly unit?: Granularity }
  | { readonly kind: "truncate"; readonly granularity: Granularity }
  | { readonly kind: "concat"; readonly separator: string }
  | { readonly kind: "split"; readonly separator: string; readonly index: number }
  | { readonly kind: "combine" }
  | { readonly kind: "literal"; readonly value: DimensionValue }
  | { readonly kind: "custom"; readonly ref: string; readonly inverse?: string };

export type MapperKind = MapperModel["kind"];

/** A dimension of one input of a data node, by alias. */
export interface DimensionRefModel {
  readonly input: string;
  readonly dimension: string;
}

/** target = mapper(sources…). `auto` marks links created by auto-linking. */
export interface LinkModel {
  readonly target: DimensionRefModel;
  readonly sources: readonly DimensionRefModel[];
  readonly mapper: MapperModel;
  readonly auto: boolean;
}

/** output[dimension] = mapper(sources…); a literal mapper has no sources. */
export interface OutputLinkModel {
  readonly dimension: string;
  readonly sources: readonly DimensionRefModel[];
  readonly mapper: MapperModel;
  readonly auto: boolean;
}

// ---------------------------------------------------------------- data node parts

export interface InputModel {
  readonly alias: string;
  readonly node: string;
  /** A reference input never triggers; its partitions are materialized through links. */
  readonly reference: boolean;
  /** Keep the group pending until every partition of the input's range exists. */
  readonly rangeCheck: boolean;
  /** Effective filter per dimension (node filter ∩ at(…) narrowing). Sorted keys. */
  readonly filter: Readonly<Record<string, DimensionFilterModel>>;
  /** Relative ranges per dimension. Sorted keys. */
  readonly ranges: Readonly<Record<string, RangeModel>>;
}

export type Engine = "glue" | "athena" | "emr" | "emrServerless" | "lambda";
export type ComputeKind = "sparkSql" | "pySpark" | "prestoSql" | "inline";

/** A module reference "path/to/module.ts#export" (relative to the application root) or a local-only function. */
export type CodeRefModel =
  { readonly module: string; readonly export: string } | { readonly function: string };

export interface EmrConfigModel {
  readonly releaseLabel?: string;
  readonly instanceType?: string;
  readonly masterInstanceType?: string;
  readonly instanceCount?: number;
  readonly clusterId?: string;
  readonly serverless?: boolean;
}

export interface PolicyStatementModel {
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface ComputeParamsModel {
  readonly workers?: number;
  readonly workerType?: string;
  readonly glueVersion?: string;
  readonly emr?: EmrConfigModel;
  readonly sparkArgs?: Readonly<Record<string, string>>;
  readonly timeoutSeconds?: number;
  readonly extra?: Readonly<Record<string, JsonValue>>;
}

export interface ComputeTargetModel {
  readonly kind: ComputeKind;
  readonly engine: Engine;
  /** SQL or PySpark source; absent for inline targets. */
  readonly code?: string;
  readonly handler?: CodeRefModel;
  readonly params: ComputeParamsModel;
  readonly permissions: readonly PolicyStatementModel[];
}

export const HOOK_NAMES = [
  "onExecBegin",
  "onExecSkipped",
  "onComputeSuccess",
  "onComputeFailure",
  "onComputeRetry",
  "onSuccess",
  "onFailure",
  "onPendingCreated",
  "onPendingExpired",
] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export interface CheckpointModel {
  readonly afterSeconds: number;
  readonly handler: CodeRefModel;
}

export interface HooksModel {
  readonly handlers: Readonly<Partial<Record<HookName, CodeRefModel>>>;
  readonly checkpoints: readonly CheckpointModel[];
}

// ---------------------------------------------------------------- metrics and alarms

export type AlarmState = "ALARM" | "OK" | "INSUFFICIENT_DATA";

export interface MetricRefModel {
  readonly namespace: string;
  readonly name: string;
  /** CloudWatch dimensions of the metric. Sorted keys. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** The node that declared the metric, or "$route:<node>" / "$platform:<group>". */
  readonly source: string;
  readonly account?: string;
  readonly region?: string;
}

export interface MetricStatModel {
  readonly metric: MetricRefModel;
  readonly statistic: string;
  readonly periodSeconds: number;
}

export type AlarmComparison =
  | "GreaterThanOrEqualToThreshold"
  | "GreaterThanThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";

export type AlarmMetricModel =
  | { readonly kind: "single"; readonly stat: MetricStatModel }
  | {
      readonly kind: "math";
      readonly expression: string;
      /** id → metric; sorted keys. */
      readonly metrics: Readonly<Record<string, MetricStatModel>>;
      readonly periodSeconds: number;
    };

export type AlarmRuleModel =
  | { readonly op: "state"; readonly state: AlarmState; readonly alarm: string }
  | { readonly op: "and" | "or"; readonly terms: readonly AlarmRuleModel[] }
  | { readonly op: "not"; readonly term: AlarmRuleModel }
  | { readonly op: "const"; readonly value: boolean };

// ---------------------------------------------------------------- nodes

interface NodeModelBase {
  readonly id: string;
  readonly signal: SignalModel;
  readonly metadata: Readonly<Record<string, JsonValue>>;
}

export type DataFormat = "parquet" | "csv" | "json" | "orc" | "avro" | "text";

/** Every data format, in declaration order. */
export const DATA_FORMATS: readonly DataFormat[] = ["parquet", "csv", "json", "orc", "avro", "text"];

export interface S3DatasetNodeModel extends NodeModelBase {
  readonly kind: "s3Dataset";
  readonly account: string;
  readonly region: string;
  readonly bucket: string;
  readonly prefix: string;
  /** One template per dimension, in order; `{}` is replaced by the value. */
  readonly partitions: readonly string[];
  readonly format: DataFormat;
  /** Completion marker file name; null when every object signals the partition. */
  readonly completion: string | null;
  readonly encryptionKey?: string;
}

export interface GlueTableNodeModel extends NodeModelBase {
  readonly kind: "glueTable";
  readonly account: string;
  readonly region: string;
  readonly database: string;
  readonly table: string;
}

export interface TimerNodeModel extends NodeModelBase {
  readonly kind: "timer";
  readonly schedule: string;
}

export interface ExternalMetricNodeModel extends NodeModelBase {
  readonly kind: "externalMetric";
  readonly account: string;
  readonly region: string;
  readonly namespace: string;
  readonly subDimensions: Readonly<Record<string, string>>;
}

export interface MetricNodeModel extends NodeModelBase {
  readonly kind: "metric";
  readonly namespace: string;
  readonly subDimensions: Readonly<Record<string, string>>;
}

export interface ExternalAlarmNodeModel extends NodeModelBase {
  readonly kind: "externalAlarm";
  readonly account: string;
  readonly region: string;
  readonly alarmName: string;
  readonly arn: string;
}

export interface AlarmNodeModel extends NodeModelBase {
  readonly kind: "alarm";
  readonly alarmName: string;
  readonly metric: AlarmMetricModel;
  readonly threshold: number;
  readonly comparison: AlarmComparison;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: "breaching" | "notBreaching" | "ignore" | "missing";
  readonly description?: string;
}

export interface CompositeAlarmNodeModel extends NodeModelBase {
  readonly kind: "compositeAlarm";
  readonly alarmName: string;
  readonly rule: AlarmRuleModel;
  /** The rendered CloudWatch AlarmRule, with alarm names (same account/region) or ARNs. */
  readonly alarmRule: string;
  readonly description?: string;
}

export interface DataNodeModel extends NodeModelBase {
  readonly kind: "data";
  readonly inputs: readonly InputModel[];
  readonly links: readonly LinkModel[];
  readonly outputLinks: readonly OutputLinkModel[];
  readonly autoLink: boolean;
  readonly compute: readonly ComputeTargetModel[];
  readonly hooks: HooksModel;
  readonly retries: number;
  readonly pendingTtlSeconds: number;
  readonly format: DataFormat;
  /** Prefix inside the storage bucket: internal_data/<id>. */
  readonly path: string;
}

/** The application an imported node comes from. */
export interface UpstreamRefModel {
  readonly application: string;
  readonly account: string;
  readonly region: string;
  /** The upstream's storage bucket, when it is not the derived `<app>-<account>-<region>`. */
  readonly bucket?: string;
}

/**
 * A data node of an upstream application (`app.importUpstream`), used as an input. Its partitions live
 * in the upstream's storage bucket under `path`; its signal is the upstream node's.
 */
export interface UpstreamDataNodeModel extends NodeModelBase {
  readonly kind: "upstreamData";
  readonly upstream: UpstreamRefModel;
  /** The node's id in the upstream application. */
  readonly node: string;
  /** Prefix inside the upstream's storage bucket: internal_data/<node>. */
  readonly path: string;
  readonly format: DataFormat;
}

export type NodeModel =
  | S3DatasetNodeModel
  | GlueTableNodeModel
  | TimerNodeModel
  | ExternalMetricNodeModel
  | MetricNodeModel
  | ExternalAlarmNodeModel
  | AlarmNodeModel
  | CompositeAlarmNodeModel
  | DataNodeModel
  | UpstreamDataNodeModel;

export type NodeKind = NodeModel["kind"];

// ---------------------------------------------------------------- application

export interface DatasetBindingModel {
  readonly account?: string;
  readonly region?: string;
  readonly bucket?: string;
  readonly prefix?: string;
  readonly format?: DataFormat;
  readonly encryptionKey?: string;
  readonly database?: string;
  readonly table?: string;
}

export interface EnvironmentModel {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly datasets: Readonly<Record<string, DatasetBindingModel>>;
  readonly config: Readonly<Record<string, JsonValue>>;
  readonly compute: Readonly<Record<string, ComputeParamsModel>>;
}

/** A downstream application authorized to read this application's data nodes (`app.authorizeDownstream`). */
export interface DownstreamModel {
  readonly name: string;
  readonly account: string;
  readonly region: string;
}

export interface FlowModel {
  readonly schemaVersion: typeof FLOW_MODEL_SCHEMA_VERSION;
  readonly application: {
    readonly name: string;
    readonly account: string;
    readonly region: string;
    /** CloudWatch namespace of route metrics. */
    readonly metricsNamespace: string;
    /** Authorized downstream applications, sorted by name; absent when there are none. */
    readonly downstream?: readonly DownstreamModel[];
  };
  readonly environments: Readonly<Record<string, EnvironmentModel>>;
  /** Sorted by id. */
  readonly nodes: Readonly<Record<string, NodeModel>>;
}
