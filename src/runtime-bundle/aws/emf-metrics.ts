/**
 * Route and platform metrics as CloudWatch Embedded Metric Format log lines: no PutMetricData calls
 * on the hot path; CloudWatch extracts the metrics from the router's log group.
 */
import {
  platformMetricDimensions,
  platformMetricGroup,
  routeMetricDimensions,
  type PlatformMetricGroup,
} from "../../flow/model/route-metrics";
import type { MetricsSink } from "../core/hooks";

/** Key prefix of platform metric groups in the counters (route ids never contain it). */
const PLATFORM = "$platform:";

/** Inputs refused, by reason (dimension `Reason`). */
export const REJECTED_METRIC = "EventsRejected";

export interface EmfMetricsProps {
  readonly namespace: string;
  readonly application: string;
  /** Where lines go. @default console.log */
  readonly write?: (line: string) => void;
  readonly now?: () => number;
}

export class EmfMetrics implements MetricsSink {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly rejections = new Map<string, number>();

  constructor(private readonly props: EmfMetricsProps) {}

  emit(route: string | undefined, name: string, value = 1): void {
    // Platform metrics carry their Component (orchestration/system), as platformMetrics() reads them.
    const key = route === undefined ? `${PLATFORM}${platformMetricGroup(name)}` : route;
    const m = this.counts.get(key) ?? new Map<string, number>();
    m.set(name, (m.get(name) ?? 0) + value);
    this.counts.set(key, m);
  }

  /**
   * An input refused, by the kind of reason (rejections.ts): `EventsRejected` with dimensions
   * `Application`, `Component` ("orchestration") and `Reason`, one line per reason at flush.
   */
  rejected(reason: string, value = 1): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + value);
  }

  /** Writes one EMF line per dimension set (route, or the platform) and resets the counters. */
  flush(): void {
    const write = this.props.write ?? ((line: string) => console.log(line));
    const timestamp = (this.props.now ?? Date.now)();
    for (const [route, metrics] of this.counts) {
      const dims = route.startsWith(PLATFORM)
        ? platformMetricDimensions(
            this.props.application,
            route.slice(PLATFORM.length) as PlatformMetricGroup,
          )
        : routeMetricDimensions(this.props.application, route);
      const line: Record<string, unknown> = {
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            {
              Namespace: this.props.namespace,
              Dimensions: [Object.keys(dims)],
              Metrics: [...metrics.keys()].sort().map((Name) => ({ Name, Unit: "Count" })),
            },
          ],
        },
        ...dims,
      };
      for (const [name, value] of metrics) line[name] = value;
      write(JSON.stringify(line));
    }
    this.counts.clear();
    for (const [reason, value] of this.rejections) {
      const dims = { ...platformMetricDimensions(this.props.application, "orchestration"), Reason: reason };
      write(
        JSON.stringify({
          _aws: {
            Timestamp: timestamp,
            CloudWatchMetrics: [
              {
                Namespace: this.props.namespace,
                Dimensions: [Object.keys(dims)],
                Metrics: [{ Name: REJECTED_METRIC, Unit: "Count" }],
              },
            ],
          },
          ...dims,
          [REJECTED_METRIC]: value,
        }),
      );
    }
    this.rejections.clear();
  }
}
