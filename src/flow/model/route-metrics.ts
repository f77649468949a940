/**
 * Names of the metrics the router emits (Embedded Metric Format), shared by the DSL (so alarms can
 * reference them) and the router (which writes them).
 */
import type { HookName } from "./flow-model";

/** Every hook emits a route metric; the metric names read as CloudWatch users expect. */
export const ROUTE_METRIC_OF_HOOK: Readonly<Record<HookName, string>> = {
  onExecBegin: "ExecutionBegin",
  onExecSkipped: "ExecutionSkipped",
  onComputeSuccess: "ComputeSuccess",
  onComputeFailure: "ComputeFailure",
  onComputeRetry: "ComputeRetry",
  onSuccess: "ExecutionSuccess",
  onFailure: "ExecutionFailure",
  onPendingCreated: "PendingCreated",
  onPendingExpired: "PendingExpired",
};

export const CHECKPOINT_METRIC = "Checkpoint";

export const ROUTE_METRIC_NAMES: readonly string[] = [
  ...Object.values(ROUTE_METRIC_OF_HOOK),
  CHECKPOINT_METRIC,
].sort();

export type PlatformMetricGroup = "orchestration" | "system";

/** Router-wide metrics, emitted with dimensions { Application, Component: <group> }. */
export const PLATFORM_METRIC_NAMES: Readonly<Record<PlatformMetricGroup, readonly string[]>> = {
  orchestration: [
    "EventsDeadLettered",
    "EventsMatched",
    "EventsReceived",
    "EventsUnmatched",
    "ExecutionsFailed",
    "ExecutionsStarted",
    "ExecutionsSucceeded",
    "SweeperRuns",
  ],
  system: ["DispatchErrors", "RouterErrors"],
};

export function defaultMetricsNamespace(application: string): string {
  return `Sluice/${application}`;
}

/** CloudWatch dimensions of a route metric. */
export function routeMetricDimensions(application: string, node: string): Record<string, string> {
  return { Application: application, Route: node };
}

export function platformMetricDimensions(
  application: string,
  group: PlatformMetricGroup,
): Record<string, string> {
  return { Application: application, Component: group };
}

/** The group a platform metric belongs to (its Component dimension). */
export function platformMetricGroup(name: string): PlatformMetricGroup {
  return PLATFORM_METRIC_NAMES.system.includes(name) ? "system" : "orchestration";
}
