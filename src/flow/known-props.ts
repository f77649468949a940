/**
 * The props each DSL entry point accepts, so a typo (`retires: 3`, `partition:`) is a located issue
 * with a did-you-mean rather than silently ignored. Kept next to the props interfaces they mirror;
 * test/flow/known-props.test.ts holds them together.
 */
import type { IssueCollector, Location } from "./errors";
import { didYouMean } from "./suggest";

const EXTERNAL_LOCATION = ["account", "region", "dimensions", "filter", "metadata"] as const;
const ALARM_COMMON = ["metadata"] as const;
const METRIC_COMMON = ["subDimensions", "metricNames", "metadata"] as const;

export const KNOWN_PROPS = {
  application: ["account", "region", "root", "enginePriority", "metricsNamespace"],
  environment: ["account", "region", "datasets", "config", "compute"],
  downstream: ["account", "region"],
  upstream: ["account", "region", "bucket", "manifest"],
  s3Dataset: [
    ...EXTERNAL_LOCATION,
    "bucket",
    "prefix",
    "partitions",
    "format",
    "completion",
    "encryptionKey",
  ],
  glueTable: [...EXTERNAL_LOCATION, "database", "table"],
  timer: ["schedule", "dimension", "format", "granularity", "timezone", "metadata"],
  externalMetric: [...METRIC_COMMON, "namespace", "account", "region"],
  metric: [...METRIC_COMMON, "namespace"],
  externalAlarm: [...ALARM_COMMON, "alarmName", "account", "region"],
  alarm: [
    ...ALARM_COMMON,
    "metric",
    "statistic",
    "periodSeconds",
    "metrics",
    "expression",
    "threshold",
    "comparison",
    "evaluationPeriods",
    "datapointsToAlarm",
    "treatMissingData",
    "alarmName",
    "description",
  ],
  compositeAlarm: [...ALARM_COMMON, "rule", "alarmName", "description"],
  data: [
    "inputs",
    "links",
    "outputLinks",
    "output",
    "outputFilter",
    "autoLink",
    "compute",
    "hooks",
    "retries",
    "pendingTtlSeconds",
    "format",
    "metadata",
  ],
  computeParams: [
    "engine",
    "workers",
    "workerType",
    "glueVersion",
    "emr",
    "sparkArgs",
    "timeoutSeconds",
    "permissions",
    "extra",
  ],
  emr: ["releaseLabel", "instanceType", "masterInstanceType", "instanceCount", "clusterId", "serverless"],
  policyStatement: ["effect", "actions", "resources"],
  checkpoint: ["afterSeconds", "handler"],
} as const satisfies Record<string, readonly string[]>;

export type PropsKind = keyof typeof KNOWN_PROPS;

/** Adds a `props.unknown` issue per key of `props` the entry point does not accept. */
export function checkKnownProps(
  issues: IssueCollector,
  loc: Location,
  props: unknown,
  kind: PropsKind,
  what = "property",
): void {
  if (props === null || typeof props !== "object" || Array.isArray(props)) return;
  const known: readonly string[] = KNOWN_PROPS[kind];
  for (const key of Object.keys(props)) {
    if (known.includes(key)) continue;
    issues.add(
      loc,
      "props.unknown",
      `unknown ${what} "${key}"${didYouMean(key, known)} (${kind} accepts: ${known.join(", ")})`,
    );
  }
}
