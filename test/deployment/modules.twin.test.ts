/**
 * Every example's module, planned by Terraform and run in the deployment twin: the router as the
 * module renders it (environment, IAM, rules). Each example runs a day of its events end to end.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ACCOUNT, describeWithTerraform, example, objectCreated, ROOT, twinOf } from "./support";
import { readVector, VECTORS } from "../support/vectors";
import type { DeploymentTwin } from "./twin/twin";

jest.setTimeout(180_000);

const EXAMPLES = readdirSync(join(ROOT, "examples")).filter((d) =>
  existsSync(join(ROOT, "examples", d, "flow.ts")),
);

type Twin = DeploymentTwin & { dispose(): Promise<void> };

/** The Glue tables the examples read, as their catalogs would answer. */
const CATALOG = {
  "reference.stores": "s3://acme-reference/stores",
  "finance.billing_daily": "s3://acme-finance-eu/billing_daily/",
};
const EXTERNAL_BUCKETS = ["acme-raw-orders", "acme-reference", "acme-finance-eu"];

function ownBucket(twin: DeploymentTwin): string {
  return twin.environment.SLUICE_BUCKET as string;
}

describeWithTerraform.each(EXAMPLES)("modules/%s in the twin", (name) => {
  let twin: Twin;
  beforeAll(async () => {
    twin = await twinOf(example(name), { catalog: CATALOG, externalBuckets: EXTERNAL_BUCKETS });
  });
  afterAll(async () => twin?.dispose());

  test("plans, fits AWS quotas, and its router starts and sweeps with the rendered role", async () => {
    const sweeper = twin.plan
      .all("aws_cloudwatch_event_rule")
      .find((r) => String(r.values.name).endsWith("-sweeper"));
    expect(sweeper).toBeDefined();
    await twin.publish(twin.scheduledEvent(String(sweeper?.values.name)));
    expect(twin.denials()).toEqual([]);
    expect(twin.deadLetters()).toEqual([]);
  });

  test("a data file under an s3Dataset's prefix does not invoke the router; its completion marker does", () => {
    const s3Rules = twin.plan
      .all("aws_cloudwatch_event_rule")
      .filter((r) => String(r.values.name).includes("-s3-"));
    for (const rule of s3Rules) {
      const pattern = JSON.parse(String(rule.values.event_pattern)) as {
        detail: { bucket: { name: string[] }; object?: { key: unknown[] } };
      };
      const bucket = pattern.detail.bucket.name[0] as string;
      const first = pattern.detail.object?.key[0];
      const marker = typeof first === "string" ? first : undefined;
      if (marker === undefined) continue;
      const prefix = marker.slice(0, marker.lastIndexOf("/") + 1);
      expect(twin.routing.route(objectCreated(bucket, `${prefix}dt=2024-05-07/part-0000.parquet`))).toEqual(
        [],
      );
      expect(
        twin.routing.route(objectCreated(bucket, `${prefix}dt=2024-05-07/_SUCCESS`)).map((d) => d.rule),
      ).toEqual([String(rule.values.name)]);
    }
  });

  test("the real AWS samples, re-addressed to this account: each reaches the router only through a rule, and is handled", async () => {
    const samples = readdirSync(VECTORS).filter((f) => f.endsWith(".json"));
    for (const file of samples) {
      const sample = readVector(file) as Record<string, unknown>;
      // Lambda-shaped payloads (S3/SNS/SQS records, alarm actions) never reach the router in this
      // module: it subscribes no queue or topic to them. Only EventBridge events are routed.
      if (typeof sample["detail-type"] !== "string") {
        expect(twin.routing.route(sample)).toEqual([]);
        continue;
      }
      const event = { ...sample, account: ACCOUNT };
      // Handled without a throw and without a denied call, whatever it is.
      await twin.publish(event);
    }
    expect(samples.length).toBeGreaterThan(40);
    expect(twin.denials()).toEqual([]);
  });

  test("a forged engine event from another account matches no rule", () => {
    const forged = {
      version: "0",
      id: "forged",
      "detail-type": "Glue Job State Change",
      source: "aws.glue",
      account: "444455556666",
      region: "us-east-1",
      time: "2024-05-07T06:00:00Z",
      resources: [],
      detail: { jobName: "x", state: "SUCCEEDED", jobRunId: "jr_1" },
    };
    expect(twin.routing.route(forged)).toEqual([]);
  });
});

describeWithTerraform("daily-aggregation: a day of events, deployed", () => {
  let twin: Twin;
  beforeAll(async () => {
    twin = await twinOf(example("daily-aggregation"), {
      catalog: { "reference.stores": "s3://acme-reference/stores" },
      externalBuckets: ["acme-raw-orders", "acme-reference"],
    });
  });
  afterAll(async () => twin?.dispose());

  test("seven days of orders, the stores table and the morning tick run the Glue job once, reading as the Glue role", async () => {
    await twin.land("acme-reference", "stores/part-0000.parquet", "store-1\nstore-2\n");
    const landDay = async (d: number): Promise<void> => {
      const day = `2024-05-0${d}`;
      await twin.land("acme-raw-orders", `orders/dt=${day}/part-0000.parquet`, "o1\no2\n");
      await twin.land("acme-raw-orders", `orders/dt=${day}/_SUCCESS`, "");
      expect(await twin.publish(objectCreated("acme-raw-orders", `orders/dt=${day}/_SUCCESS`))).toHaveLength(
        1,
      );
    };
    // The day's tick before its own orders: the range check looks for 2024-05-07, which is not there.
    // It must wait, not fail: S3 answers a HEAD of a missing key with 403 to a role whose ListBucket
    // is conditioned on a prefix, so existence is asked through a prefixed list.
    for (let d = 1; d <= 6; d++) await landDay(d);
    const tick = twin.plan
      .all("aws_cloudwatch_event_rule")
      .find((r) => String(r.values.name).includes("-timer-daily"));
    await twin.publish(twin.scheduledEvent(String(tick?.values.name)));
    await twin.settle();
    expect(twin.denials()).toEqual([]);
    expect(await twin.invoke({ sluice: "executions", node: "store_revenue_7d" })).toEqual({ result: [] });
    await landDay(7);
    await twin.settle();
    const glue = twin.engines.find((e) => e.service === "Glue");
    expect(glue?.started.map((j) => [j.state, j.error])).toEqual([["SUCCEEDED", undefined]]);
    const keys = await twin.keys(ownBucket(twin), "internal_data/store_revenue_7d/");
    expect(keys).toEqual(expect.arrayContaining(["internal_data/store_revenue_7d/2024-05-07/_SUCCESS"]));
    expect(keys.some((k) => /part-00000-.*\.parquet$/.test(k))).toBe(true);
    expect(twin.denials()).toEqual([]);
    expect(twin.deadLetters()).toEqual([]);
    const executions = (await twin.invoke({ sluice: "executions", node: "store_revenue_7d" })) as {
      result: { status: string }[];
    };
    expect(executions.result.map((e) => e.status)).toEqual(["SUCCEEDED"]);
  });

  test("the Glue job read the stores table's data under its own role", () => {
    const reads = twin.authorizations.filter(
      (a) =>
        a.action === "s3:ListBucket" &&
        a.resource === "arn:aws:s3:::acme-reference" &&
        a.decision === "Allowed",
    );
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((a) => a.principal !== twin.routerRole)).toBe(true);
  });

  test("the account filter: own-account rules carry the caller's account", () => {
    for (const r of twin.plan.all("aws_cloudwatch_event_rule")) {
      if (typeof r.values.event_pattern !== "string") continue;
      const pattern = JSON.parse(r.values.event_pattern) as { account?: string[] };
      expect(pattern.account).toBeDefined();
    }
    expect(ACCOUNT).toBe("111122223333");
  });
});
