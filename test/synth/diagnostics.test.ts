/**
 * Diagnostics: metric alarms (single metric, metric math, extended statistics, other accounts),
 * composite alarms with the model's rendered rule, SNS actions, and the dashboard.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allOf, anyOf, Application, dim, not, prestoSql, sparkSql } from "sluice";
import type { CompositeAlarmNodeModel, FlowModel } from "../../src/flow/model/flow-model";
import {
  DASHBOARD_ROUTE_METRICS,
  ROUTE_WIDGETS_MAX,
  ROUTES_PER_SHARED_WIDGET,
} from "../../src/synth/diagnostics";
import { renderDashboardBody } from "../../src/synth/templates";
import { briefApp } from "../support/brief-app";
import { synth, type Synthesized } from "./support";

type Json = Record<string, unknown>;

/** A private runtime bundle (stub router, the real driver): independent of a concurrent build of dist/. */
const BUNDLE = ((): string => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bundle-"));
  mkdirSync(join(dir, "spark"));
  writeFileSync(join(dir, "index.js"), "exports.handler = async () => ({});\n");
  copyFileSync(
    join(__dirname, "..", "..", "src", "runtime-bundle", "spark", "sluice_driver.py"),
    join(dir, "spark", "sluice_driver.py"),
  );
  return dir;
})();

function synthApp(app: Application, module = false): { s: Synthesized; model: FlowModel } {
  const root = mkdtempSync(join(tmpdir(), "sluice-diag-root-"));
  mkdirSync(join(root, "handlers"));
  writeFileSync(join(root, "handlers/page.ts"), "export async function page() { return undefined; }\n");
  const model = app.toModel();
  return { s: synth({ app: { toModel: () => model, root }, bundleDir: BUNDLE, module }), model };
}

/** Alarms of every shape, and Athena as the only engine. */
function alarmsApp(): Application {
  const app = new Application("alarm-app", { account: "111122223333", region: "us-east-1" });
  const lambda = app.externalMetric("lambda", {
    namespace: "AWS/Lambda",
    subDimensions: { FunctionName: "ingest" },
  });
  const remote = app.externalMetric("remote", {
    namespace: "AWS/SQS",
    account: "555566667777",
    subDimensions: { QueueName: "inbox" },
  });
  const errors = app.alarm("errors", {
    metric: lambda.get("Errors"),
    statistic: "Sum",
    periodSeconds: 60,
    threshold: 5,
    comparison: "GreaterThanThreshold",
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: "notBreaching",
    description: "ingest errors",
  });
  const latency = app.alarm("latency", {
    metric: lambda.get("Duration"),
    statistic: "p99",
    periodSeconds: 300,
    threshold: 1000,
    comparison: "GreaterThanOrEqualToThreshold",
  });
  const rate = app.alarm("error_rate", {
    metrics: {
      errors: lambda.get("Errors"),
      calls: { metric: lambda.get("Invocations"), statistic: "Sum", periodSeconds: 60 },
    },
    expression: "100 * errors / calls",
    threshold: 5,
    comparison: "GreaterThanThreshold",
  });
  app.alarm("backlog", {
    metric: remote.get("ApproximateNumberOfMessagesVisible"),
    statistic: "Maximum",
    threshold: 100,
    comparison: "GreaterThanThreshold",
  });
  const inner = app.compositeAlarm("inner", { rule: allOf(errors.is("ALARM"), not(latency.is("OK"))) });
  app.compositeAlarm("outer", { rule: anyOf(inner.is("ALARM"), rate.is("ALARM")) });
  const t = app.timer("hourly", "rate(1 hour)", { dimension: "hour" });
  const ds = app.s3Dataset("events", { bucket: "raw", dimensions: { day: dim.datetime() } });
  app.data("summary", { inputs: [ds], compute: prestoSql("SELECT count(*) AS n FROM events") });
  app.data("ping", { inputs: [t], compute: prestoSql("SELECT 1 AS one") });
  return app;
}

let alarms: { s: Synthesized; model: FlowModel } | undefined;
let brief: { s: Synthesized; model: FlowModel } | undefined;
const alarmFlow = (): { s: Synthesized; model: FlowModel } => (alarms ??= synthApp(alarmsApp()));
/** The brief's flow with its upstream alarm in the application's account: what a composite can name. */
const deployableBrief = (): Application => briefApp({ account: "111122223333", region: "us-east-1" });
const briefFlow = (): { s: Synthesized; model: FlowModel } => (brief ??= synthApp(deployableBrief()));

function alarmNamed(s: Synthesized, name: string): [string, Json] {
  const hit = Object.entries(s.resources("aws_cloudwatch_metric_alarm")).find(
    ([, a]) => a.alarm_name === name,
  );
  if (!hit) throw new Error(`no metric alarm ${name}`);
  return hit;
}

function compositeNamed(s: Synthesized, name: string): [string, Json] {
  const hit = Object.entries(s.resources("aws_cloudwatch_composite_alarm")).find(
    ([, a]) => a.alarm_name === name,
  );
  if (!hit) throw new Error(`no composite alarm ${name}`);
  return hit;
}

function topicRef(s: Synthesized): string {
  return `\${aws_sns_topic.${Object.keys(s.resources("aws_sns_topic"))[0]}.arn}`;
}

/**
 * The value of a Terraform string in the JSON syntax as Terraform evaluates the dashboard body: a
 * template that is one interpolation of nested `replace()` calls on a string literal, or plain text.
 * References evaluate to their own interpolation (`${aws_sqs_queue.q.name}`), as they read in a body
 * rendered with the tokens in it.
 */
function terraformString(text: string): string {
  if (!text.startsWith("${")) return text;
  let i = 2;
  const take = (what: string): void => {
    if (!text.startsWith(what, i))
      throw new Error(`expected ${JSON.stringify(what)} at ${i}: ${text.slice(i, i + 40)}`);
    i += what.length;
  };
  const literal = (): string => {
    take('"');
    let out = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error("unterminated string literal");
      if (c === '"') break;
      if (c === "\\") {
        const e = text[i + 1] as string;
        if (e === "u") {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
        if (escapes[e] === undefined) throw new Error(`unknown escape \\${e}`);
        out += escapes[e];
        i += 2;
      } else if (text.startsWith("$${", i) || text.startsWith("%%{", i)) {
        out += `${c}{`;
        i += 3;
      } else {
        out += c;
        i += 1;
      }
    }
    take('"');
    return out;
  };
  const reference = /[A-Za-z_][\w.-]*/y;
  const expression = (): string => {
    if (text.startsWith("replace(", i)) {
      take("replace(");
      const str = expression();
      take(", ");
      const substring = expression();
      take(", ");
      const replacement = expression();
      take(")");
      return str.split(substring).join(replacement);
    }
    if (text[i] === '"') return literal();
    reference.lastIndex = i;
    const ref = reference.exec(text)?.[0];
    if (ref === undefined) throw new Error(`unexpected ${text.slice(i, i + 40)}`);
    i += ref.length;
    return `\${${ref}}`;
  };
  const value = expression();
  take("}");
  if (i !== text.length) throw new Error(`trailing text after the interpolation: ${text.slice(i, i + 40)}`);
  return value;
}

/** The dashboard body as Terraform evaluates it. */
function dashboardText(s: Synthesized): string {
  return terraformString(String(s.only("aws_cloudwatch_dashboard").dashboard_body));
}

function dashboard(s: Synthesized): { widgets: { type: string; properties: Json }[] } {
  return JSON.parse(dashboardText(s)) as { widgets: { type: string; properties: Json }[] };
}

// ---------------------------------------------------------------- metric alarms

describe("metric alarms", () => {
  test("one per alarm node, named by the model", () => {
    const { s, model } = alarmFlow();
    const expected = Object.values(model.nodes)
      .filter((n) => n.kind === "alarm")
      .map((n) => (n as { alarmName: string }).alarmName)
      .sort();
    const names = Object.values(s.resources("aws_cloudwatch_metric_alarm")).map((a) => a.alarm_name);
    expect(names.sort()).toEqual(expected);
    expect(Object.keys(s.stack.diagnostics.metricAlarms).sort()).toEqual([
      "backlog",
      "error_rate",
      "errors",
      "latency",
    ]);
  });

  test("a single-metric alarm carries the metric, statistic, period and evaluation settings", () => {
    const { s } = alarmFlow();
    const [, a] = alarmNamed(s, "alarm-app-errors");
    expect(a).toMatchObject({
      namespace: "AWS/Lambda",
      metric_name: "Errors",
      dimensions: { FunctionName: "ingest" },
      statistic: "Sum",
      period: 60,
      threshold: 5,
      comparison_operator: "GreaterThanThreshold",
      evaluation_periods: 3,
      datapoints_to_alarm: 2,
      treat_missing_data: "notBreaching",
      alarm_description: "ingest errors",
    });
    expect(a.extended_statistic).toBeUndefined();
    expect(a.metric_query).toBeUndefined();
  });

  test("a pNN statistic is an extended statistic", () => {
    const [, a] = alarmNamed(alarmFlow().s, "alarm-app-latency");
    expect(a.extended_statistic).toBe("p99");
    expect(a.statistic).toBeUndefined();
  });

  test("metric math: the expression returns data as e1, each metric is a query that does not", () => {
    const { s, model } = alarmFlow();
    const [, a] = alarmNamed(s, "alarm-app-error_rate");
    expect(a.namespace).toBeUndefined();
    expect(a.metric_name).toBeUndefined();
    const queries = a.metric_query as Json[];
    expect(queries[0]).toMatchObject({ id: "e1", expression: "100 * errors / calls", return_data: true });
    const node = model.nodes["error_rate"] as {
      metric: { metrics: Record<string, { statistic: string; periodSeconds: number }> };
    };
    const byId = Object.fromEntries(queries.slice(1).map((q) => [q.id, q]));
    expect(Object.keys(byId).sort()).toEqual(["calls", "errors"]);
    for (const [id, stat] of Object.entries(node.metric.metrics)) {
      expect(byId[id]).toMatchObject({
        return_data: false,
        metric: {
          namespace: "AWS/Lambda",
          metric_name: id === "calls" ? "Invocations" : "Errors",
          dimensions: { FunctionName: "ingest" },
          stat: stat.statistic,
          period: stat.periodSeconds,
        },
      });
    }
  });

  test("a metric of another account is read through a metric query with its account id", () => {
    const [, a] = alarmNamed(alarmFlow().s, "alarm-app-backlog");
    expect(a.metric_query).toEqual([
      {
        id: "m1",
        account_id: "555566667777",
        return_data: true,
        metric: {
          namespace: "AWS/SQS",
          metric_name: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: "inbox" },
          period: 300,
          stat: "Maximum",
        },
      },
    ]);
  });

  test("CKV_AWS_319: alarm actions are enabled and go to the application's topic, tagged with their node", () => {
    const { s } = alarmFlow();
    const topic = topicRef(s);
    for (const [, a] of Object.entries(s.resources("aws_cloudwatch_metric_alarm"))) {
      expect(a.actions_enabled).toBe(true);
      expect(a.alarm_actions).toEqual([topic]);
      expect(a.ok_actions).toEqual([topic]);
      expect((a.tags as Record<string, string>)["sluice:node"]).toBeDefined();
    }
    expect(alarmNamed(s, "alarm-app-errors")[1].tags).toEqual({
      "sluice:application": "alarm-app",
      "sluice:environment": "default",
      "sluice:node": "errors",
    });
  });
});

// ---------------------------------------------------------------- composite alarms

describe("composite alarms", () => {
  test("a composite alarm that names another account's alarm is a SynthError naming both (the brief as written)", () => {
    expect(() => synthApp(briefApp())).toThrow(
      'composite alarm "monitor", rule: alarm "upstream_health" (foo-availability) is in account 222233334444, region us-west-2; a CloudWatch composite alarm can only name alarms of its own account and region (111122223333, us-east-1)',
    );
  });

  test("the brief's composite alarm rule is exactly the model's rendered rule", () => {
    const { s, model } = briefFlow();
    const monitor = model.nodes["monitor"] as CompositeAlarmNodeModel;
    const [, c] = compositeNamed(s, monitor.alarmName);
    expect(c.alarm_rule).toBe(monitor.alarmRule);
    expect(c.alarm_rule).toBe('ALARM("adpd-pipeline-weekly_failures") OR ALARM("foo-availability")');
    const [failuresId] = alarmNamed(s, "adpd-pipeline-weekly_failures");
    // The named alarm exists before the rule that names it; the external alarm is not created here.
    expect(c.depends_on).toEqual([`aws_cloudwatch_metric_alarm.${failuresId}`]);
    expect(c.alarm_actions).toEqual([topicRef(s)]);
    expect(c.actions_enabled).toBe(true); // CKV_AWS_319
    expect((c.tags as Record<string, string>)["sluice:node"]).toBe("monitor");
  });

  test("the brief's route-metric alarm watches the weekly route's ExecutionFailure", () => {
    const [, a] = alarmNamed(briefFlow().s, "adpd-pipeline-weekly_failures");
    expect(a).toMatchObject({
      namespace: "Sluice/adpd-pipeline",
      metric_name: "ExecutionFailure",
      dimensions: { Application: "adpd-pipeline", Route: "weekly" },
      statistic: "Sum",
      period: 300,
    });
  });

  test("nested composites: rules verbatim, each created after the alarms it names", () => {
    const { s, model } = alarmFlow();
    const [innerId, inner] = compositeNamed(s, "alarm-app-inner");
    const [, outer] = compositeNamed(s, "alarm-app-outer");
    expect(inner.alarm_rule).toBe((model.nodes["inner"] as CompositeAlarmNodeModel).alarmRule);
    expect(outer.alarm_rule).toBe((model.nodes["outer"] as CompositeAlarmNodeModel).alarmRule);
    expect(inner.alarm_rule).toBe('ALARM("alarm-app-errors") AND NOT OK("alarm-app-latency")');
    const [errorsId] = alarmNamed(s, "alarm-app-errors");
    const [latencyId] = alarmNamed(s, "alarm-app-latency");
    const [rateId] = alarmNamed(s, "alarm-app-error_rate");
    expect(inner.depends_on).toEqual([
      `aws_cloudwatch_metric_alarm.${errorsId}`,
      `aws_cloudwatch_metric_alarm.${latencyId}`,
    ]);
    expect(outer.depends_on).toEqual([
      `aws_cloudwatch_composite_alarm.${innerId}`,
      `aws_cloudwatch_metric_alarm.${rateId}`,
    ]);
  });
});

// ---------------------------------------------------------------- dashboard

describe("dashboard", () => {
  test("named after the application; its body is JSON that references every data node", () => {
    for (const { s, model } of [alarmFlow(), briefFlow()]) {
      const d = s.only("aws_cloudwatch_dashboard");
      expect(d.dashboard_name).toBe(model.application.name);
      const body = dashboard(s);
      const routes = body.widgets
        .filter((w) => w.type === "metric")
        .flatMap((w) => w.properties.metrics as unknown[][])
        .filter((m) => m[0] === model.application.metricsNamespace && m[4] === "Route")
        .map((m) => m[5]);
      const dataNodes = Object.values(model.nodes)
        .filter((n) => n.kind === "data")
        .map((n) => n.id);
      expect(dataNodes.length).toBeGreaterThan(0);
      expect([...new Set(routes)].sort()).toEqual(dataNodes.sort());
      // Each route shows its executions, failures and retries.
      for (const id of dataNodes) {
        const names = body.widgets
          .flatMap((w) => (w.properties.metrics as unknown[][] | undefined) ?? [])
          .filter((m) => m[5] === id)
          .map((m) => m[1]);
        expect(names).toEqual(DASHBOARD_ROUTE_METRICS);
      }
    }
  });

  test("router Lambda errors/throttles/duration, DLQ depth and routing table throttles", () => {
    const { s } = briefFlow();
    const text = dashboardText(s);
    const fn = Object.keys(s.resources("aws_lambda_function"))[0];
    const dlq = Object.entries(s.resources("aws_sqs_queue")).find(([, q]) => String(q.name).endsWith("-dlq"));
    const table = Object.keys(s.resources("aws_dynamodb_table"))[0];
    const metrics = dashboard(s).widgets.flatMap(
      (w) => (w.properties.metrics as unknown[][] | undefined) ?? [],
    );
    for (const name of ["Errors", "Throttles", "Duration"]) {
      expect(metrics).toContainEqual(
        expect.arrayContaining([
          "AWS/Lambda",
          name,
          "FunctionName",
          `\${aws_lambda_function.${fn}.function_name}`,
        ]),
      );
    }
    expect(dlq).toBeDefined();
    expect(metrics).toContainEqual(
      expect.arrayContaining([
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        `\${aws_sqs_queue.${(dlq as [string, Json])[0]}.name}`,
      ]),
    );
    expect(metrics).toContainEqual([
      "AWS/DynamoDB",
      "ReadThrottleEvents",
      "TableName",
      `\${aws_dynamodb_table.${table}.name}`,
    ]);
    expect(metrics).toContainEqual([
      "AWS/DynamoDB",
      "WriteThrottleEvents",
      "TableName",
      `\${aws_dynamodb_table.${table}.name}`,
    ]);
    expect(text).not.toContain("TfToken");
  });

  test("engine widgets for the engines used only: Glue jobs in the brief, Athena in the alarm flow", () => {
    const briefText = dashboardText(briefFlow().s);
    expect(briefText).toContain("adpd-pipeline-glue-sql-4-0");
    expect(briefText).toContain("adpd-pipeline-glue-python-4-0");
    expect(briefText).not.toContain("AWS/Athena");
    const alarmText = dashboardText(alarmFlow().s);
    expect(alarmText).toContain('WorkGroup=\\"alarm-app-athena\\"');
    expect(alarmText).not.toContain('"Glue"');
  });

  test("an alarm status widget lists every alarm of the flow", () => {
    const { s } = alarmFlow();
    const widget = dashboard(s).widgets.find((w) => w.type === "alarm");
    const expected = [
      ...Object.keys(s.resources("aws_cloudwatch_metric_alarm")).map(
        (id) => `\${aws_cloudwatch_metric_alarm.${id}.arn}`,
      ),
      ...Object.keys(s.resources("aws_cloudwatch_composite_alarm")).map(
        (id) => `\${aws_cloudwatch_composite_alarm.${id}.arn}`,
      ),
    ];
    expect([...(widget?.properties.alarms as string[])].sort()).toEqual(expected.sort());
  });

  test("EMR Serverless: the application's job metrics, by application id", () => {
    const app = new Application("emrs-dash", { account: "111122223333", region: "us-east-1" });
    const t = app.timer("daily", "rate(1 day)", { dimension: "day" });
    app.data("a", { inputs: [t], compute: sparkSql("SELECT 1", { engine: "emrServerless" }) });
    const { s } = synthApp(app);
    const appId = Object.keys(s.resources("aws_emrserverless_application"))[0];
    const metrics = dashboard(s).widgets.flatMap(
      (w) => (w.properties.metrics as unknown[][] | undefined) ?? [],
    );
    expect(metrics).toContainEqual([
      "AWS/EMRServerless",
      "FailedJobs",
      "ApplicationId",
      `\${aws_emrserverless_application.${appId}.id}`,
    ]);
  });

  test("a large flow shares route widgets and stays within CloudWatch's 500 widgets", () => {
    const app = new Application("big-app", { account: "111122223333", region: "us-east-1" });
    const t = app.timer("tick", "rate(1 hour)", { dimension: "hour" });
    const ids: string[] = [];
    for (let i = 0; i < ROUTE_WIDGETS_MAX + 30; i++) {
      const id = `n${String(i).padStart(3, "0")}`;
      ids.push(id);
      app.data(id, { inputs: [t], compute: prestoSql("SELECT 1 AS one") });
    }
    const { s } = synthApp(app);
    const body = dashboard(s);
    const routeWidgets = body.widgets.filter((w) => String(w.properties.title).startsWith("Routes "));
    expect(routeWidgets).toHaveLength(Math.ceil(ids.length / ROUTES_PER_SHARED_WIDGET));
    expect(body.widgets.length).toBeLessThanOrEqual(500);
    const routes = routeWidgets.flatMap((w) => (w.properties.metrics as unknown[][]).map((m) => m[5]));
    expect([...new Set(routes)].sort()).toEqual(ids);
  });

  test("the body is one literal with placeholders, the Terraform values put in by one replace() each", () => {
    for (const { s } of [alarmFlow(), briefFlow()]) {
      const raw = String(s.only("aws_cloudwatch_dashboard").dashboard_body);
      expect(raw.startsWith("${replace(replace(")).toBe(true);
      expect(raw).not.toContain("TfToken");
      // Function, two queues, table, every alarm (stack mode: region and environment are literals).
      const alarms =
        Object.keys(s.resources("aws_cloudwatch_metric_alarm")).length +
        Object.keys(s.resources("aws_cloudwatch_composite_alarm")).length;
      expect(raw.match(/replace\(/g)).toHaveLength(4 + alarms);
      const text = dashboardText(s);
      expect(text).not.toContain("@@sluice-value-");
      expect(text).toContain('"region":"us-east-1"');
    }
  });

  test("module mode: region and environment are Terraform values too", () => {
    const { s } = synthApp(deployableBrief(), true);
    const raw = String(s.only("aws_cloudwatch_dashboard").dashboard_body);
    expect(raw).toContain(", var.environment)");
    expect(raw).toMatch(/, data\.aws_region\.[\w-]+\.region\)/);
    const body = dashboard(s);
    expect(body.widgets[0]?.properties.markdown).toMatch(
      /^# Sluice adpd-pipeline \(\$\{var\.environment\}\)\n/,
    );
    for (const w of body.widgets.slice(1)) expect(w.properties.region).toMatch(/^\$\{data\.aws_region\./);
  });

  /** A flow whose metrics namespace holds what a quoted Terraform string escapes. */
  function oddNamespaceApp(): Application {
    const app = new Application("odd-app", {
      account: "111122223333",
      region: "us-east-1",
      metricsNamespace: 'Odd/"quoted" back\\slash %{directive} ${interpolation} @@ \u00e9',
    });
    const t = app.timer("tick", "rate(1 hour)", { dimension: "hour" });
    app.data("a", { inputs: [t], compute: prestoSql("SELECT 1 AS one") });
    return app;
  }

  test("quotes, backslashes, %{ and ${ in the body survive the literal", () => {
    const { s, model } = synthApp(oddNamespaceApp());
    const ns = model.application.metricsNamespace;
    const metrics = dashboard(s).widgets.flatMap(
      (w) => (w.properties.metrics as unknown[][] | undefined) ?? [],
    );
    expect(metrics.filter((m) => m[0] === ns)).toHaveLength(DASHBOARD_ROUTE_METRICS.length + 4);
  });

  const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;
  (terraform ? test : test.skip)(
    "Terraform evaluates the replace() chain to the body these tests read (references as placeholders of their own)",
    () => {
      const { s } = synthApp(oddNamespaceApp(), true);
      const raw = String(s.only("aws_cloudwatch_dashboard").dashboard_body);
      // Each reference (the replacement of a replace()) becomes the string "${<reference>}".
      const config = raw.replace(/, ((?:aws_\w+|data\.\w+|var)\.[\w.-]+)\)/g, ', "$$${$1}")');
      expect(config).not.toBe(raw);
      const dir = mkdtempSync(join(tmpdir(), "sluice-diag-tf-"));
      writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ output: { body: { value: config } } }));
      const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
      for (const args of [
        ["init", "-input=false"],
        ["apply", "-auto-approve", "-input=false"],
      ]) {
        const r = spawnSync("terraform", args, { cwd: dir, env, encoding: "utf8" });
        expect({ args, status: r.status, stderr: r.stderr }).toMatchObject({ status: 0 });
      }
      const out = spawnSync("terraform", ["output", "-json", "body"], { cwd: dir, env, encoding: "utf8" });
      expect(out.status).toBe(0);
      const evaluated = JSON.parse(out.stdout) as string;
      expect(evaluated).toBe(dashboardText(s));
      expect(JSON.parse(evaluated)).toEqual(dashboard(s));
      expect(readFileSync(join(dir, "terraform.tfstate"), "utf8")).toContain("body");
    },
    60_000,
  );

  test("the template escapes titles as JSON and lays out widgets on the 24-column grid", () => {
    const body = renderDashboardBody({
      region: "us-east-1",
      heading: 'a "quoted"\nheading with \\ and </script>',
      headingHeight: 2,
      metricWidgets: [
        {
          title: 'x "y"',
          stat: "Sum",
          period: 60,
          metrics: [["NS", "M", "D", "v"]],
          x: 0,
          y: 2,
          width: 12,
          height: 6,
        },
        {
          title: "z",
          stat: "p99",
          period: 60,
          metrics: [[{ expression: "SEARCH('{A,B}', 'Sum', 60)" }]],
          x: 12,
          y: 2,
          width: 12,
          height: 6,
        },
      ],
      alarmWidgets: [],
    });
    const parsed = JSON.parse(body) as { widgets: { x: number; width: number; properties: Json }[] };
    expect(parsed.widgets).toHaveLength(3);
    expect(parsed.widgets[0]?.properties.markdown).toBe('a "quoted"\nheading with \\ and </script>');
    expect(parsed.widgets[1]?.properties.title).toBe('x "y"');
    for (const w of parsed.widgets) expect(w.x + w.width).toBeLessThanOrEqual(24);
  });
});
