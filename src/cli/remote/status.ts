/**
 * `sluice remote status`: per data node, its executions and pending groups (through the router), its
 * route metrics over the last 24 hours (CloudWatch GetMetricData), the application's alarm states
 * (CloudWatch DescribeAlarms) and the routing table (DynamoDB DescribeTable).
 */
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
} from "@aws-sdk/client-cloudwatch";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import type { FlowModel } from "../../flow/model/flow-model";
import { routeMetricDimensions } from "../../flow/model/route-metrics";
import type { ExecutionRecord, ExecutionStatus } from "../../runtime-bundle/core/execution-record";
import type { PendingView } from "../../runtime-bundle/core/router";
import type { RemoteClients } from "./clients";
import { describeAwsError } from "./errors";
import { mapLimit } from "./limit";
import type { RouterClient } from "./router-client";
import { isoSeconds, renderTable } from "./table";
import type { RemoteTarget } from "./target";
import { renderDimensions } from "./values";

/** Route metrics `status` sums over the window. */
export const STATUS_METRICS = ["ExecutionSuccess", "ExecutionFailure"] as const;
export const STATUS_WINDOW_MS = 24 * 3600_000;

export interface RouteStatus {
  readonly node: string;
  readonly executions: number;
  readonly byStatus: Partial<Record<ExecutionStatus, number>>;
  readonly last?: {
    readonly id: string;
    readonly status: ExecutionStatus;
    readonly dimensions: Record<string, string | number>;
    readonly startedAt: number;
    readonly endedAt?: number;
    readonly error?: string;
  };
  readonly pending: number;
  /** Sums over the window; absent when CloudWatch could not be read. */
  readonly metrics?: Readonly<Record<(typeof STATUS_METRICS)[number], number>>;
}

export interface AlarmStatus {
  readonly node: string;
  readonly name: string;
  readonly type: "metric" | "composite";
  /** ALARM, OK, INSUFFICIENT_DATA; NOT_FOUND when CloudWatch has no alarm of that name. */
  readonly state: string;
  readonly since?: string;
  readonly reason?: string;
}

export interface StatusReport {
  readonly application: string;
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  readonly function: string;
  readonly table: {
    readonly name: string;
    readonly status?: string;
    /** DescribeTable's ItemCount: approximate, DynamoDB refreshes it about every six hours. */
    readonly items?: number;
  };
  readonly window: { readonly from: string; readonly to: string };
  readonly routes: readonly RouteStatus[];
  readonly alarms: readonly AlarmStatus[];
  /** What could not be read (the rest of the report stands). */
  readonly errors: readonly string[];
}

export async function collectStatus(
  model: FlowModel,
  target: RemoteTarget,
  router: RouterClient,
  clients: RemoteClients,
  now: number,
  concurrency = 8,
): Promise<StatusReport> {
  const errors: string[] = [];
  const dataNodes = Object.values(model.nodes)
    .filter((n) => n.kind === "data")
    .map((n) => n.id);
  // The router's answers are the heart of the report: its errors end the command.
  const routerSide = mapLimit(dataNodes, concurrency, async (node) => {
    const [records, pending] = await Promise.all([
      router.invoke<ExecutionRecord[]>({ sluice: "executions", node }),
      router.invoke<PendingView[]>({ sluice: "pending", node }),
    ]);
    return { node, records, pending };
  });
  const [routes, metrics, alarms, table] = await Promise.all([
    routerSide,
    routeMetrics(clients, target, dataNodes, now).catch((e: unknown) => {
      errors.push(describeAwsError(e, "route metrics (CloudWatch GetMetricData)"));
      return undefined;
    }),
    alarmStates(clients, model).catch((e: unknown) => {
      errors.push(describeAwsError(e, "alarm states (CloudWatch DescribeAlarms)"));
      return undefined;
    }),
    clients.dynamodb.send(new DescribeTableCommand({ TableName: target.tableName })).then(
      (r) => ({
        name: target.tableName,
        ...(r.Table?.TableStatus ? { status: r.Table.TableStatus } : {}),
        ...(r.Table?.ItemCount !== undefined ? { items: r.Table.ItemCount } : {}),
      }),
      (e: unknown) => {
        errors.push(describeAwsError(e, `routing table ${target.tableName} (DynamoDB DescribeTable)`));
        return { name: target.tableName };
      },
    ),
  ]);
  return {
    application: target.application,
    environment: target.environment,
    account: target.account,
    region: target.region,
    function: target.functionName,
    table,
    window: { from: isoSeconds(now - STATUS_WINDOW_MS), to: isoSeconds(now) },
    routes: routes.map(({ node, records, pending }) =>
      routeStatus(node, records, pending, metrics?.get(node)),
    ),
    alarms: alarms ?? [],
    errors,
  };
}

function routeStatus(
  node: string,
  records: readonly ExecutionRecord[],
  pending: readonly PendingView[],
  metrics: RouteStatus["metrics"] | undefined,
): RouteStatus {
  const byStatus: Partial<Record<ExecutionStatus, number>> = {};
  for (const r of records) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const last = [...records].sort((a, b) => b.startedAt - a.startedAt)[0];
  return {
    node,
    executions: records.length,
    byStatus,
    ...(last
      ? {
          last: {
            id: last.id,
            status: last.status,
            dimensions: { ...last.dimensions },
            startedAt: last.startedAt,
            ...(last.endedAt !== undefined ? { endedAt: last.endedAt } : {}),
            ...(last.error !== undefined ? { error: last.error } : {}),
          },
        }
      : {}),
    pending: pending.length,
    ...(metrics ? { metrics } : {}),
  };
}

/** Sums of ExecutionSuccess and ExecutionFailure per route over the window (hourly sums, added up). */
async function routeMetrics(
  clients: RemoteClients,
  target: RemoteTarget,
  nodes: readonly string[],
  now: number,
): Promise<Map<string, NonNullable<RouteStatus["metrics"]>>> {
  const queries: { query: MetricDataQuery; node: string; metric: (typeof STATUS_METRICS)[number] }[] = [];
  nodes.forEach((node, i) =>
    STATUS_METRICS.forEach((metric, j) =>
      queries.push({
        node,
        metric,
        query: {
          Id: `m${i}_${j}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: target.metricsNamespace,
              MetricName: metric,
              Dimensions: Object.entries(routeMetricDimensions(target.application, node)).map(
                ([Name, Value]) => ({ Name, Value }),
              ),
            },
            Period: 3600,
            Stat: "Sum",
          },
        },
      }),
    ),
  );
  const sums = new Map<string, number>();
  const end = Math.floor(now / 60_000) * 60_000;
  // GetMetricData takes at most 500 queries per request.
  for (let i = 0; i < queries.length; i += 500) {
    let token: string | undefined;
    do {
      const r = await clients.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries.slice(i, i + 500).map((q) => q.query),
          StartTime: new Date(end - STATUS_WINDOW_MS),
          EndTime: new Date(end),
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const result of r.MetricDataResults ?? []) {
        const id = result.Id ?? "";
        sums.set(id, (sums.get(id) ?? 0) + (result.Values ?? []).reduce((a, b) => a + b, 0));
      }
      token = r.NextToken;
    } while (token);
  }
  const out = new Map<string, Record<(typeof STATUS_METRICS)[number], number>>();
  for (const q of queries) {
    const m = out.get(q.node) ?? { ExecutionSuccess: 0, ExecutionFailure: 0 };
    m[q.metric] = sums.get(q.query.Id as string) ?? 0;
    out.set(q.node, m);
  }
  return out;
}

/** States of the flow's own alarms (metric and composite); external alarms live in other accounts. */
async function alarmStates(clients: RemoteClients, model: FlowModel): Promise<AlarmStatus[]> {
  const alarms: { node: string; name: string; type: "metric" | "composite" }[] = [];
  for (const n of Object.values(model.nodes)) {
    if (n.kind === "alarm") alarms.push({ node: n.id, name: n.alarmName, type: "metric" });
    if (n.kind === "compositeAlarm") alarms.push({ node: n.id, name: n.alarmName, type: "composite" });
  }
  const found = new Map<string, { state: string; since?: string; reason?: string }>();
  // DescribeAlarms takes at most 100 names per request.
  for (let i = 0; i < alarms.length; i += 100) {
    let token: string | undefined;
    do {
      const r = await clients.cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: alarms.slice(i, i + 100).map((a) => a.name),
          AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const a of [...(r.MetricAlarms ?? []), ...(r.CompositeAlarms ?? [])]) {
        if (a.AlarmName === undefined) continue;
        found.set(a.AlarmName, {
          state: a.StateValue ?? "UNKNOWN",
          ...(a.StateUpdatedTimestamp ? { since: isoSeconds(a.StateUpdatedTimestamp.getTime()) } : {}),
          ...(a.StateReason ? { reason: a.StateReason } : {}),
        });
      }
      token = r.NextToken;
    } while (token);
  }
  return alarms.map((a) => ({ ...a, ...(found.get(a.name) ?? { state: "NOT_FOUND" }) }));
}

/** The report as text; its `errors` are for the caller to show (on stderr). */
export function renderStatus(report: StatusReport): string {
  const lines: string[] = [];
  lines.push(
    `${report.application} · environment ${report.environment} · account ${report.account} · ${report.region}`,
  );
  const t = report.table;
  lines.push(`router ${report.function} · routing table ${t.name}${t.status ? ` (${t.status})` : ""}`);
  lines.push("");
  if (report.routes.length === 0) lines.push("no data nodes");
  else {
    const metricsKnown = report.routes.some((r) => r.metrics);
    lines.push(
      renderTable(
        [
          "route",
          "executions",
          "running",
          "succeeded",
          "failed",
          "killed",
          "pending",
          "last",
          ...(metricsKnown ? ["success 24h", "failure 24h"] : []),
        ],
        report.routes.map((r) => [
          r.node,
          r.executions,
          (r.byStatus.RUNNING ?? 0) + (r.byStatus.PENDING ?? 0),
          r.byStatus.SUCCEEDED ?? 0,
          r.byStatus.FAILED ?? 0,
          r.byStatus.KILLED ?? 0,
          r.pending,
          r.last
            ? `${r.last.status} ${renderDimensions(r.last.dimensions)} at ${isoSeconds(r.last.startedAt)}`
            : "-",
          ...(metricsKnown ? [r.metrics?.ExecutionSuccess ?? "-", r.metrics?.ExecutionFailure ?? "-"] : []),
        ]),
      ),
    );
  }
  if (report.alarms.length > 0) {
    lines.push("");
    lines.push(
      renderTable(
        ["alarm", "name", "state", "since", "reason"],
        report.alarms.map((a) => [
          a.node,
          a.name,
          a.state,
          a.since ?? "-",
          (a.reason ?? "").length > 80 ? `${(a.reason ?? "").slice(0, 77)}...` : (a.reason ?? ""),
        ]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}
