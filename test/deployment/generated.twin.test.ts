/**
 * Generated flows in the deployment twin, each at what breaks deployments beyond the examples:
 * every engine in one flow, thirty external datasets feeding one engine (IAM and Lambda quotas),
 * an alarm of another account as a data input, and two applications across accounts.
 */
import { join } from "node:path";
import { Application, dim, inline, prestoSql, pySpark, sparkSql } from "sluice";
import { policyChars, INLINE_POLICY_CHARS } from "../../src/synth/policy-quota";
import { readVector } from "../support/vectors";
import { ACCOUNT, describeWithTerraform, objectCreated, twinOf } from "./support";
import type { DeploymentTwin } from "./twin/twin";
import { environmentOf, LAMBDA_ENVIRONMENT_BYTES } from "./twin/quotas";

jest.setTimeout(240_000);

type Twin = DeploymentTwin & { dispose(): Promise<void> };
const FIXTURES = join(__dirname, "fixtures");
const DAY = "2024-05-07";
const OTHER = "222233334444";

function executions(
  twin: DeploymentTwin,
  node: string,
): Promise<{ status: string; targets: { error?: string }[] }[]> {
  return twin
    .invoke({ sluice: "executions", node })
    .then((r) => (r as { result: { status: string; targets: { error?: string }[] }[] }).result);
}

async function tick(twin: DeploymentTwin, timer: string): Promise<void> {
  const rule = twin.plan
    .all("aws_cloudwatch_event_rule")
    .find((r) => String(r.values.name).endsWith(`-timer-${timer}`));
  if (!rule) throw new Error(`no rule of timer ${timer}`);
  await twin.publish(twin.scheduledEvent(String(rule.values.name)));
}

// ---------------------------------------------------------------- every engine

function everyEngine(): Application {
  const app = new Application("twin-engines", { account: ACCOUNT, region: "us-east-1", root: FIXTURES });
  const daily = app.timer("daily", "cron(0 6 * * ? *)", { dimension: "day" });
  const clicks = app.s3Dataset("clicks", {
    bucket: "acme-clicks",
    prefix: "clicks",
    partitions: ["{}"],
    dimensions: { day: dim.datetime() },
    completion: "_SUCCESS",
  });
  const markets = app.glueTable("markets", { database: "reference", table: "markets" });
  const base = app.data("base", {
    inputs: { tick: daily, clicks, markets: markets.ref() },
    output: { day: dim.datetime() },
    compute: sparkSql("SELECT * FROM clicks JOIN markets USING (market)"),
  });
  app.data("on_emr_serverless", {
    inputs: [base],
    compute: pySpark("output = base", { emr: { serverless: true } }),
  });
  app.data("on_emr", { inputs: [base], compute: pySpark("output = base", { emr: { instanceCount: 2 } }) });
  app.data("on_athena", { inputs: [base], compute: prestoSql("SELECT COUNT(*) AS n FROM base") });
  app.data("on_lambda", { inputs: [base], compute: inline("handlers.ts#summarize") });
  return app;
}

describeWithTerraform("every engine, deployed", () => {
  let twin: Twin;
  beforeAll(async () => {
    twin = await twinOf(everyEngine(), {
      variables: { emr_subnet_id: "subnet-0123456789abcdef0" },
      catalog: { "reference.markets": "s3://acme-reference/markets" },
      externalBuckets: ["acme-clicks", "acme-reference"],
    });
    await twin.land("acme-reference", "markets/part-0.parquet", "NA\nEU\n");
    await twin.land("acme-clicks", `clicks/${DAY}/part-0.parquet`, "c1\nc2\n");
    await twin.land("acme-clicks", `clicks/${DAY}/_SUCCESS`, "");
    expect(await twin.publish(objectCreated("acme-clicks", `clicks/${DAY}/_SUCCESS`))).toHaveLength(1);
    await tick(twin, "daily");
    await twin.settle();
  });
  afterAll(async () => twin?.dispose());

  test.each(["base", "on_emr_serverless", "on_emr", "on_athena", "on_lambda"])(
    "%s ran once and succeeded, its output and marker in the bucket",
    async (node) => {
      const runs = await executions(twin, node);
      expect(runs.map((r) => [r.status, r.targets.map((t) => t.error)])).toEqual([
        ["SUCCEEDED", [undefined]],
      ]);
      const keys = await twin.keys(twin.environment.SLUICE_BUCKET as string, `internal_data/${node}/${DAY}/`);
      expect(keys).toContain(`internal_data/${node}/${DAY}/_SUCCESS`);
      expect(keys.length).toBeGreaterThan(1);
    },
  );

  test("no call was denied and nothing was dead-lettered", () => {
    expect(twin.denials()).toEqual([]);
    expect(twin.deadLetters()).toEqual([]);
  });

  test("EMR clusters are tagged for AmazonEMRServicePolicy_v2 and launched into the given subnet", () => {
    const emr = twin.engines.find((e) => e.service === "EMR");
    expect(emr?.started.length).toBe(1);
    const run = emr?.started[0]?.request as { Tags?: unknown } | undefined;
    expect(twin.environment.SLUICE_EMR_SUBNET_ID).toBe("subnet-0123456789abcdef0");
    expect(run).toBeDefined();
  });

  test("inline code wrote through the router's storage, reading its input as the router", async () => {
    const bucket = twin.environment.SLUICE_BUCKET as string;
    const got = await twin.s3.send(
      new (await import("@aws-sdk/client-s3")).GetObjectCommand({
        Bucket: bucket,
        Key: `internal_data/on_lambda/${DAY}/summary.json`,
      }),
    );
    const summary = JSON.parse((await got.Body?.transformToString()) ?? "{}") as {
      counts: Record<string, number>;
    };
    expect(summary.counts).toEqual({ base: 1 });
  });
});

// ---------------------------------------------------------------- thirty datasets

const DATASETS = 30;

function thirtyDatasets(): Application {
  const app = new Application("twin-thirty", { account: ACCOUNT, region: "us-east-1" });
  const inputs: Record<string, ReturnType<Application["s3Dataset"]>> = {};
  for (let i = 1; i <= DATASETS; i++) {
    const id = `feed_${String(i).padStart(2, "0")}`;
    inputs[id] = app.s3Dataset(id, {
      bucket: `acme-feed-${String(i).padStart(2, "0")}-landing-zone`,
      prefix: `exports/${id}/daily`,
      partitions: ["dt={}"],
      dimensions: { day: dim.datetime() },
      completion: "_SUCCESS",
    });
  }
  app.data("merged", {
    inputs,
    output: { day: dim.datetime() },
    compute: sparkSql("SELECT 1"),
  });
  return app;
}

describeWithTerraform("thirty external datasets feeding one engine, deployed", () => {
  let twin: Twin;
  const buckets = Array.from(
    { length: DATASETS },
    (_, i) => `acme-feed-${String(i + 1).padStart(2, "0")}-landing-zone`,
  );
  beforeAll(async () => {
    twin = await twinOf(thirtyDatasets(), { externalBuckets: buckets });
  });
  afterAll(async () => twin?.dispose());

  test("the Glue role's permissions are split into managed policies, each within IAM's quota", () => {
    const glueRole = twin.roles.all().find((r) => r.name.startsWith("twin-thirty-glue-role-"));
    expect(glueRole).toBeDefined();
    const attached = twin.plan
      .all("aws_iam_role_policy_attachment")
      .filter((a) => a.values.role === glueRole?.name);
    expect(attached.length).toBeGreaterThan(1);
    const inline = twin.plan.all("aws_iam_role_policy").filter((p) => p.values.role === glueRole?.name);
    expect(inline).toEqual([]);
    for (const p of twin.plan.all("aws_iam_policy"))
      expect(policyChars(String(p.values.policy))).toBeLessThanOrEqual(6144);
    expect(INLINE_POLICY_CHARS).toBe(10240);
  });

  test("the router's environment stays within Lambda's 4 KB: the bindings are an object of their own", () => {
    const env = environmentOf(twin.plan.resource("aws_lambda_function").values.environment);
    const bytes = Object.entries(env).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);
    expect(bytes).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_BYTES);
    expect(env.SLUICE_DATASETS).toBeUndefined();
  });

  test("all thirty partitions land, the job runs once and reads each of them as the Glue role", async () => {
    for (let i = 1; i <= DATASETS; i++) {
      const id = `feed_${String(i).padStart(2, "0")}`;
      const bucket = buckets[i - 1] as string;
      await twin.land(bucket, `exports/${id}/daily/dt=${DAY}/part-0.parquet`, "row\n");
      await twin.land(bucket, `exports/${id}/daily/dt=${DAY}/_SUCCESS`, "");
      await twin.publish(objectCreated(bucket, `exports/${id}/daily/dt=${DAY}/_SUCCESS`));
    }
    await twin.settle();
    const runs = await executions(twin, "merged");
    expect(runs.map((r) => [r.status, r.targets.map((t) => t.error)])).toEqual([["SUCCEEDED", [undefined]]]);
    const glueReads = twin.authorizations.filter(
      (a) => a.action === "s3:GetObject" && a.decision === "Allowed" && a.principal.includes("glue-role"),
    );
    expect(new Set(glueReads.map((a) => a.resource.split("/")[0])).size).toBeGreaterThanOrEqual(DATASETS);
    expect(twin.denials()).toEqual([]);
  });
});

// ---------------------------------------------------------------- another account's alarm

function alarmInput(): Application {
  const app = new Application("twin-alarms", { account: ACCOUNT, region: "us-east-1", root: FIXTURES });
  const upstream = app.externalAlarm("warehouse", {
    account: OTHER,
    region: "us-east-1",
    alarmName: "warehouse-down",
  });
  app.data("on_warehouse", { inputs: [upstream.is("ALARM")], compute: inline("handlers.ts#summarize") });
  return app;
}

describeWithTerraform("an alarm of another account as a data input, deployed", () => {
  let twin: Twin;
  beforeAll(async () => {
    twin = await twinOf(alarmInput());
  });
  afterAll(async () => twin?.dispose());

  function alarmEvent(account: string): unknown {
    const sample = readVector("cloudwatch.alarm-state-change.single-metric.awsdocs.json") as {
      detail: Record<string, unknown>;
    };
    return {
      ...sample,
      id: `alarm-${account}`,
      account,
      time: "2024-05-07T06:00:00Z",
      detail: {
        ...sample.detail,
        alarmName: "warehouse-down",
        state: { value: "ALARM", timestamp: "2024-05-07T06:00:00.000+0000" },
      },
    };
  }

  test("this account's default bus admits the other account's forwarded events", () => {
    const permissions = twin.plan.all("aws_cloudwatch_event_permission").map((p) => p.values.principal);
    expect(permissions).toEqual([OTHER]);
  });

  test("its state change, forwarded from its account, runs the node; the same event from a third account matches nothing", async () => {
    expect(twin.routing.route(alarmEvent("999988887777"))).toEqual([]);
    expect(await twin.publish(alarmEvent(OTHER))).toHaveLength(1);
    await twin.settle();
    const runs = await executions(twin, "on_warehouse");
    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED"]);
    expect(twin.denials()).toEqual([]);
  });
});
