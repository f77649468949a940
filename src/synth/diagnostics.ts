/**
 * Diagnostics: the flow's CloudWatch alarms and the application's dashboard.
 *
 * - one metric alarm per `alarm` node (a single metric, or metric math over several), acting on the
 *   application's SNS topic;
 * - one composite alarm per `compositeAlarm` node whose AlarmRule is the model's rendered rule,
 *   verbatim (alarm names in this account and region, ARNs elsewhere), created after the alarms it
 *   names;
 * - a dashboard named after the application (body from a handlebars template): route metrics of every
 *   data node, the router Lambda, the dead-letter and internal queues, the routing table's throttles,
 *   the router's platform metrics, the engines the flow uses and the state of its alarms.
 *
 * The dashboard body is rendered with plain placeholders where Terraform values go (resource names,
 * alarm ARNs, the EMR Serverless application id, region and environment in a module) and Terraform
 * substitutes them: `replace(replace("<body>", "<placeholder 1>", <value 1>), …)`. Rendered with the
 * tokens in it, the body would be resolved by cdktf's string tokenizer, whose time grows with the
 * square of the string's length (seconds for the body of a 1,000-node flow).
 */
import { CloudwatchCompositeAlarm } from "@cdktf/provider-aws/lib/cloudwatch-composite-alarm";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
  type CloudwatchMetricAlarmMetricQuery,
} from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type {
  AlarmNodeModel,
  CompositeAlarmNodeModel,
  ExternalAlarmNodeModel,
  DataNodeModel,
  FlowModel,
  MetricStatModel,
} from "../flow/model/flow-model";
import { alarmsOfRule } from "../flow/model/alarm-rule";
import { resourceNames } from "../flow/model/resource-names";
import { platformMetricDimensions, routeMetricDimensions } from "../flow/model/route-metrics";
import { BatchCompute, enginesOf, glueJobSpecs } from "./batch-compute";
import { Construct, Fn, Token } from "./cdktf";
import type { Naming } from "./naming";
import type { Processor } from "./processor";
import type { RoutingTable } from "./routing-table";
import type { Storage } from "./storage";
import { SynthError } from "./synth-error";
import {
  renderDashboardBody,
  type DashboardAlarmWidgetView,
  type DashboardMetricWidgetView,
} from "./templates";

export interface DiagnosticsProps {
  readonly model: FlowModel;
  readonly naming: Naming;
  readonly storage: Storage;
  readonly processor: Processor;
  readonly routingTable: RoutingTable;
  /** Batch compute, for engine widgets (EMR Serverless needs its application id). @default the BatchCompute beside this construct, if any */
  readonly batchCompute?: BatchCompute;
  /** Period of the dashboard's metrics, in seconds. @default 300 */
  readonly dashboardPeriodSeconds?: number;
}

/** CloudWatch's standard statistics; anything else (p99, tm90, IQM, …) is an extended statistic. */
export const STANDARD_STATISTICS: ReadonlySet<string> = new Set([
  "SampleCount",
  "Average",
  "Sum",
  "Minimum",
  "Maximum",
]);

/** Route metrics each data node's dashboard widget shows. */
export const DASHBOARD_ROUTE_METRICS: readonly string[] = [
  "ExecutionBegin",
  "ExecutionSuccess",
  "ExecutionFailure",
  "ComputeRetry",
];

/** Routes with a widget each up to this many data nodes; beyond, routes share widgets. */
export const ROUTE_WIDGETS_MAX = 100;
export const ROUTES_PER_SHARED_WIDGET = 25;
/** CloudWatch's alarm status widget shows at most 100 alarms. */
const ALARMS_PER_WIDGET = 100;
const WIDGET_HEIGHT = 6;
const HEADING_HEIGHT = 2;

export class Diagnostics extends Construct {
  /** Metric alarms by alarm node id. */
  readonly metricAlarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  /** Composite alarms by composite alarm node id. */
  readonly compositeAlarms: Readonly<Record<string, CloudwatchCompositeAlarm>>;
  readonly dashboard: CloudwatchDashboard;

  private readonly props: DiagnosticsProps;

  constructor(scope: Construct, id: string, props: DiagnosticsProps) {
    super(scope, id);
    this.props = props;
    const { model } = props;
    const metricAlarms: Record<string, CloudwatchMetricAlarm> = {};
    const compositeAlarms: Record<string, CloudwatchCompositeAlarm> = {};
    this.metricAlarms = metricAlarms;
    this.compositeAlarms = compositeAlarms;

    for (const node of Object.values(model.nodes)) {
      if (node.kind === "alarm") metricAlarms[node.id] = this.metricAlarm(node);
    }
    // Composite alarms may name composite alarms: create each after those it names.
    const visiting = new Set<string>();
    const create = (node: CompositeAlarmNodeModel): CloudwatchCompositeAlarm => {
      const done = compositeAlarms[node.id];
      if (done) return done;
      if (visiting.has(node.id)) {
        throw new SynthError(`composite alarm "${node.id}" names itself through its rule (a cycle)`);
      }
      visiting.add(node.id);
      const dependsOn = alarmsOfRule(node.rule).flatMap(
        (alarm): (CloudwatchMetricAlarm | CloudwatchCompositeAlarm)[] => {
          const named = model.nodes[alarm];
          if (named?.kind === "alarm") return [metricAlarms[alarm] as CloudwatchMetricAlarm];
          if (named?.kind === "compositeAlarm") return [create(named)];
          if (named?.kind === "externalAlarm") this.requireSameAccount(node, named);
          return []; // an external alarm: it exists already
        },
      );
      const alarm = this.compositeAlarm(node, dependsOn);
      compositeAlarms[node.id] = alarm;
      return alarm;
    };
    for (const node of Object.values(model.nodes)) if (node.kind === "compositeAlarm") create(node);

    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: props.naming.app,
      dashboardBody: this.dashboardBody(),
    });
  }

  // ---------------------------------------------------------------- alarms

  private metricAlarm(node: AlarmNodeModel): CloudwatchMetricAlarm {
    const { naming, storage } = this.props;
    const base: CloudwatchMetricAlarmConfig = {
      alarmName: node.alarmName,
      ...(node.description === undefined ? {} : { alarmDescription: node.description }),
      comparisonOperator: node.comparison,
      threshold: node.threshold,
      evaluationPeriods: node.evaluationPeriods,
      datapointsToAlarm: node.datapointsToAlarm,
      treatMissingData: node.treatMissingData,
      actionsEnabled: true, // CKV_AWS_319
      alarmActions: [storage.topic.arn],
      okActions: [storage.topic.arn],
      tags: naming.tags(node.id),
    };
    const m = node.metric;
    if (m.kind === "single") {
      const { stat } = m;
      if (this.otherAccount(stat)) {
        // A metric of another account is only reachable through a metric query.
        return new CloudwatchMetricAlarm(this, `alarm-${node.id}`, {
          ...base,
          metricQuery: [{ ...this.metricQuery("m1", stat), returnData: true }],
        });
      }
      const extended = !STANDARD_STATISTICS.has(stat.statistic);
      const dimensions = stat.metric.dimensions;
      return new CloudwatchMetricAlarm(this, `alarm-${node.id}`, {
        ...base,
        namespace: stat.metric.namespace,
        metricName: stat.metric.name,
        ...(Object.keys(dimensions).length === 0 ? {} : { dimensions: { ...dimensions } }),
        period: stat.periodSeconds,
        ...(extended ? { extendedStatistic: stat.statistic } : { statistic: stat.statistic }),
      });
    }
    const ids = new Set(Object.keys(m.metrics));
    let k = 1;
    while (ids.has(`e${k}`)) k++;
    const queries: CloudwatchMetricAlarmMetricQuery[] = [
      { id: `e${k}`, expression: m.expression, label: node.alarmName, returnData: true },
      ...Object.entries(m.metrics).map(([id, stat]) => ({
        ...this.metricQuery(id, stat),
        returnData: false,
      })),
    ];
    return new CloudwatchMetricAlarm(this, `alarm-${node.id}`, { ...base, metricQuery: queries });
  }

  /**
   * A metric of another account than the application's: in a module the application's own account is
   * the caller's (a token), so its metrics carry no account id and follow the module.
   */
  private otherAccount(stat: MetricStatModel): boolean {
    const account = stat.metric.account;
    return account !== undefined && account !== this.props.model.application.account;
  }

  /**
   * CloudWatch evaluates a composite alarm's rule only over alarms of its own account and region: a
   * rule that names another's cannot be deployed (the alarm would never leave INSUFFICIENT_DATA).
   *
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html
   */
  private requireSameAccount(node: CompositeAlarmNodeModel, named: ExternalAlarmNodeModel): void {
    const app = this.props.model.application;
    if (named.account === app.account && named.region === app.region) return;
    throw new SynthError(
      `composite alarm "${node.id}", rule: alarm "${named.id}" (${named.alarmName}) is in account ${named.account}, ` +
        `region ${named.region}; a CloudWatch composite alarm can only name alarms of its own account and region ` +
        `(${app.account}, ${app.region}). Use "${named.id}" as a data input instead (its state changes arrive as forwarded events), ` +
        `or create the composite alarm in that account.`,
    );
  }

  private metricQuery(id: string, stat: MetricStatModel): CloudwatchMetricAlarmMetricQuery {
    const dimensions = stat.metric.dimensions;
    return {
      id,
      ...(this.otherAccount(stat) ? { accountId: stat.metric.account as string } : {}),
      metric: {
        namespace: stat.metric.namespace,
        metricName: stat.metric.name,
        ...(Object.keys(dimensions).length === 0 ? {} : { dimensions: { ...dimensions } }),
        period: stat.periodSeconds,
        stat: stat.statistic,
      },
    };
  }

  private compositeAlarm(
    node: CompositeAlarmNodeModel,
    dependsOn: readonly (CloudwatchMetricAlarm | CloudwatchCompositeAlarm)[],
  ): CloudwatchCompositeAlarm {
    const { naming, storage } = this.props;
    return new CloudwatchCompositeAlarm(this, `composite-${node.id}`, {
      alarmName: node.alarmName,
      ...(node.description === undefined ? {} : { alarmDescription: node.description }),
      // The rule exactly as the model renders it (the router evaluates the same rule).
      alarmRule: node.alarmRule,
      actionsEnabled: true, // CKV_AWS_319
      alarmActions: [storage.topic.arn],
      okActions: [storage.topic.arn],
      tags: naming.tags(node.id),
      ...(dependsOn.length === 0 ? {} : { dependsOn: [...new Set(dependsOn)] }),
    });
  }

  // ---------------------------------------------------------------- dashboard

  /** The BatchCompute of the stack (for the EMR Serverless application id), if any. */
  private batchCompute(): BatchCompute | undefined {
    if (this.props.batchCompute) return this.props.batchCompute;
    const parent = this.node.scope;
    return parent?.node.children.find((c): c is BatchCompute => c instanceof BatchCompute);
  }

  private dashboardBody(): string {
    const { model, naming, processor, routingTable } = this.props;
    const values = new TerraformValues();
    const $ = (value: string): string => values.placeholder(value);
    const region = $(naming.region);
    const environment = $(naming.environment);
    const app = naming.app;
    const ns = model.application.metricsNamespace;
    const period = this.props.dashboardPeriodSeconds ?? 300;
    const widgets: Omit<DashboardMetricWidgetView, "x" | "y" | "width" | "height">[] = [];

    const data = Object.values(model.nodes).filter((n): n is DataNodeModel => n.kind === "data");
    // One widget per route; large flows share widgets so the dashboard stays within CloudWatch's
    // widget limit (500 per dashboard).
    const perWidget = data.length <= ROUTE_WIDGETS_MAX ? 1 : ROUTES_PER_SHARED_WIDGET;
    for (let i = 0; i < data.length; i += perWidget) {
      const group = data.slice(i, i + perWidget);
      widgets.push({
        title: group.length === 1 ? `Route ${group[0]?.id}` : `Routes ${group[0]?.id} … ${group.at(-1)?.id}`,
        stat: "Sum",
        period,
        metrics: group.flatMap((n) =>
          DASHBOARD_ROUTE_METRICS.map((name) => [
            ns,
            name,
            ...flat(routeMetricDimensions(app, n.id)),
            ...(group.length === 1 ? [] : [{ label: `${n.id} ${name}` }]),
          ]),
        ),
      });
    }
    widgets.push({
      title: "Router executions",
      stat: "Sum",
      period,
      metrics: ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "EventsDeadLettered"].map(
        (name) => [ns, name, ...flat(platformMetricDimensions(app, "orchestration"))],
      ),
    });
    const fn = $(processor.function.functionName);
    widgets.push({
      title: "Router Lambda",
      stat: "Sum",
      period,
      metrics: [
        ["AWS/Lambda", "Errors", "FunctionName", fn],
        ["AWS/Lambda", "Throttles", "FunctionName", fn],
        ["AWS/Lambda", "Duration", "FunctionName", fn, { stat: "Maximum", yAxis: "right" }],
      ],
    });
    widgets.push({
      title: "Queues: dead letters and internal",
      stat: "Maximum",
      period,
      metrics: [
        [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          "QueueName",
          $(processor.deadLetterQueue.name),
          { label: "DLQ depth" },
        ],
        [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          "QueueName",
          $(processor.internalQueue.name),
          { label: "internal queue depth" },
        ],
      ],
    });
    const table = $(routingTable.table.name);
    widgets.push({
      title: "Routing table throttles",
      stat: "Sum",
      period,
      metrics: [
        ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", table],
        ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", table],
      ],
    });

    const engines = enginesOf(model);
    if (engines.has("glue")) {
      widgets.push({
        title: "Glue jobs: tasks",
        stat: "Sum",
        period,
        metrics: glueJobSpecs(model, naming.environmentName).flatMap((j) =>
          ["glue.driver.aggregate.numCompletedTasks", "glue.driver.aggregate.numFailedTasks"].map((name) => [
            "Glue",
            name,
            "JobName",
            $(j.name),
            "JobRunId",
            "ALL",
            "Type",
            "count",
          ]),
        ),
      });
    }
    if (engines.has("athena")) {
      const workgroup = resourceNames.athenaWorkgroup(app);
      widgets.push({
        title: "Athena queries",
        stat: "Sum",
        period,
        metrics: ["TotalExecutionTime", "ProcessedBytes"].map((name, i) => [
          {
            id: `athena${i + 1}`,
            expression: `SEARCH('{AWS/Athena,QueryState,QueryType,WorkGroup} MetricName="${name}" WorkGroup="${workgroup}"', 'Sum', ${period})`,
            label: name,
          },
        ]),
      });
    }
    const emrApp = this.batchCompute()?.emrServerless;
    if (engines.has("emrServerless") && emrApp) {
      widgets.push({
        title: "EMR Serverless jobs",
        stat: "Sum",
        period,
        metrics: ["SuccessJobs", "FailedJobs", "RunningJobs"].map((name) => [
          "AWS/EMRServerless",
          name,
          "ApplicationId",
          $(emrApp.id),
        ]),
      });
    }

    // Two widgets per row under the heading.
    const metricWidgets: DashboardMetricWidgetView[] = widgets.map((w, i) => ({
      ...w,
      x: (i % 2) * 12,
      y: HEADING_HEIGHT + Math.floor(i / 2) * WIDGET_HEIGHT,
      width: 12,
      height: WIDGET_HEIGHT,
    }));
    const alarmArns = [
      ...Object.values(this.metricAlarms).map((a) => $(a.arn)),
      ...Object.values(this.compositeAlarms).map((a) => $(a.arn)),
    ];
    const alarmsTop = HEADING_HEIGHT + Math.ceil(widgets.length / 2) * WIDGET_HEIGHT;
    const alarmWidgets: DashboardAlarmWidgetView[] = [];
    for (let i = 0; i < alarmArns.length; i += ALARMS_PER_WIDGET) {
      const k = i / ALARMS_PER_WIDGET;
      alarmWidgets.push({
        title: alarmArns.length <= ALARMS_PER_WIDGET ? "Alarms" : `Alarms (${k + 1})`,
        alarms: alarmArns.slice(i, i + ALARMS_PER_WIDGET),
        x: 0,
        y: alarmsTop + k * WIDGET_HEIGHT,
        width: 24,
        height: WIDGET_HEIGHT,
      });
    }
    const body = renderDashboardBody({
      region,
      heading: `# Sluice ${app} (${environment})\nRoutes: ${
        data.length === 0
          ? "none"
          : data.length <= ROUTE_WIDGETS_MAX
            ? data.map((n) => n.id).join(", ")
            : `${data.length} data nodes`
      }`,
      headingHeight: HEADING_HEIGHT,
      metricWidgets,
      alarmWidgets,
    });
    return values.substitute(body);
  }
}

/**
 * Terraform values (tokens) of the dashboard body behind plain placeholders, and the expression that
 * puts them back: nested `replace()` calls on the rendered body, one per distinct value.
 */
class TerraformValues {
  private readonly byValue = new Map<string, string>();

  /** A placeholder for `value` when it is a token (the same one for the same token), else `value`. */
  placeholder(value: string): string {
    if (!Token.isUnresolved(value)) return value;
    let p = this.byValue.get(value);
    if (p === undefined) {
      p = `@@sluice-value-${this.byValue.size + 1}@@`;
      this.byValue.set(value, p);
    }
    return p;
  }

  /**
   * `text` with every placeholder replaced by its value, as a Terraform expression (`text` itself
   * when it has none). Every token of `text` must be behind a placeholder. The placeholders'
   * `@@` occurs in none of the names Sluice writes into the body (application and node ids, AWS
   * resource names).
   */
  substitute(text: string): string {
    if (Token.isUnresolved(text)) {
      throw new Error(
        "the dashboard body holds a Terraform value without a placeholder (pass every token through placeholder())",
      );
    }
    if (this.byValue.size === 0) return text;
    let expression = hclString(text);
    for (const [value, p] of this.byValue) expression = Fn.replace(expression, p, value);
    return expression;
  }
}

/**
 * `text` escaped for a quoted Terraform string: backslashes and double quotes, and `%{` (a template
 * directive). cdktf escapes `${` and newlines itself when it renders the function call.
 */
function hclString(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%\{/g, "%%{");
}

/** { a: "1", b: "2" } → ["a", "1", "b", "2"] (CloudWatch's metric array form). */
function flat(dims: Readonly<Record<string, string>>): string[] {
  return Object.entries(dims).flatMap(([k, v]) => [k, v]);
}
