/** The flow DSL: everything a user needs to declare a flow and get its FlowModel. */
export {
  Application,
  type ApplicationProps,
  type DownstreamProps,
  type EnvironmentProps,
} from "./application";
export { Upstream, UpstreamDataNode, type UpstreamProps, type UpstreamDataNodeProps } from "./upstream";
export {
  dim,
  type DimensionSpec,
  type DimensionDeclaration,
  type DatetimeDimensionProps,
  type LongDimensionProps,
} from "./dim";
export { range, RangeSelector } from "./range";
export {
  link,
  eq,
  map,
  shift,
  truncate,
  concat,
  split,
  combine,
  literal,
  custom,
  Link,
  Mapper,
  type LinkEndpoint,
} from "./link";
export {
  sparkSql,
  pySpark,
  prestoSql,
  inline,
  inferEngine,
  ComputeTarget,
  DEFAULT_ENGINE_PRIORITY,
  type ComputeParams,
  type PolicyStatement,
} from "./compute";
export {
  anyOf,
  allOf,
  not,
  Alarm,
  AlarmCondition,
  CompositeAlarm,
  ExternalAlarm,
  type AlarmProps,
  type CompositeAlarmProps,
  type ExternalAlarmProps,
  type MetricStat,
  type RuleTerm,
} from "./alarms";
export {
  ExternalMetric,
  Metric,
  MetricRef,
  RouteMetrics,
  PlatformMetrics,
  type ExternalMetricProps,
  type MetricProps,
  type MetricSource,
} from "./metrics";
export { S3Dataset, GlueTable, type S3DatasetProps, type GlueTableProps } from "./datasets";
export { Timer, type TimerProps } from "./timer";
export { DataNode, type DataNodeProps, type Hooks, type InputLike } from "./data-node";
export { Node, InputSignal, DimensionRef, type Selector } from "./node";
export { FlowValidationError, type FlowIssue } from "./errors";
export type { CodeRef } from "./code-ref";
export { flowModelSchema, FLOW_MODEL_SCHEMA_ID } from "./model/schema";
export * from "./model/flow-model";
export type {
  InlineCompute,
  InlineConfig,
  InlineContext,
  InlineDataset,
  InlineInput,
  InlineOutput,
  InlineStorage,
  HookEvent,
  HookFunction,
} from "./model/inline-api";
export { canonicalJson } from "./model/canonical-json";
export { ROUTE_METRIC_NAMES, PLATFORM_METRIC_NAMES, type PlatformMetricGroup } from "./model/route-metrics";
export type { Granularity } from "./model/granularity";
