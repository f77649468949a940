/**
 * Two applications across accounts, each deployed in its own twin (examples/two-apps): the upstream
 * (orders, account 111122223333) computes a partition and its router writes the completion marker;
 * its module forwards that marker's event to the downstream's bus; the downstream (store-reports,
 * account 444455556666) admits it through its upstream rule and reads the upstream's bucket as its own
 * Glue role, allowed by its identity policy and by the upstream's rendered bucket policy.
 */
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { describeWithTerraform, example, objectCreated, twinOf } from "./support";
import { matchesPattern } from "./twin/event-pattern";
import type { PolicyDocument } from "./twin/iam-evaluator";
import type { DeploymentTwin } from "./twin/twin";

jest.setTimeout(240_000);

type Twin = DeploymentTwin & { dispose(): Promise<void> };
const UPSTREAM = "111122223333";
const DOWNSTREAM = "444455556666";
const DAY = "2024-05-07";

describeWithTerraform("two applications across accounts, deployed", () => {
  let upstream: Twin;
  let downstream: Twin | undefined;
  let marker: unknown;
  let bucket: string;

  beforeAll(async () => {
    upstream = await twinOf(example("two-apps/upstream"), {
      account: UPSTREAM,
      externalBuckets: ["acme-raw-orders"],
    });
    bucket = upstream.environment.SLUICE_BUCKET as string;
  });
  afterAll(async () => {
    await downstream?.dispose();
    await upstream?.dispose();
  });

  test("upstream: an order export runs daily_store_totals; its router writes the completion marker", async () => {
    await upstream.land("acme-raw-orders", `orders/dt=${DAY}/part-0.parquet`, "o1\no2\n");
    await upstream.land("acme-raw-orders", `orders/dt=${DAY}/_SUCCESS`, "");
    expect(
      await upstream.publish(objectCreated("acme-raw-orders", `orders/dt=${DAY}/_SUCCESS`, UPSTREAM)),
    ).toHaveLength(1);
    await upstream.settle();
    const keys = await upstream.keys(bucket, "internal_data/daily_store_totals/");
    expect(keys).toContain(`internal_data/daily_store_totals/${DAY}/_SUCCESS`);
    expect(upstream.denials()).toEqual([]);
    marker = objectCreated(bucket, `internal_data/daily_store_totals/${DAY}/_SUCCESS`, UPSTREAM);
  });

  test("upstream: its module forwards the marker's event, and only markers, to the downstream account's bus", () => {
    const bus = `arn:aws:events:us-east-1:${DOWNSTREAM}:event-bus/default`;
    const forwarding = upstream.plan
      .all("aws_cloudwatch_event_rule")
      .filter((r) =>
        upstream.plan
          .all("aws_cloudwatch_event_target")
          .some((t) => t.values.rule === r.values.name && t.values.arn === bus),
      );
    expect(forwarding).toHaveLength(1);
    const pattern = String(forwarding[0]?.values.event_pattern);
    expect(matchesPattern(pattern, marker)).toBe(true);
    const part = objectCreated(
      bucket,
      `internal_data/daily_store_totals/${DAY}/part-00000.parquet`,
      UPSTREAM,
    );
    expect(matchesPattern(pattern, part)).toBe(false);
  });

  test("downstream: the forwarded marker runs store_ranking, which reads the upstream's bucket across accounts", async () => {
    const policy = upstream.plan.all("aws_s3_bucket_policy").find((p) => p.values.bucket === bucket);
    expect(policy).toBeDefined();
    downstream = await twinOf(example("two-apps"), {
      account: DOWNSTREAM,
      externalBuckets: [bucket],
      foreignResources: {
        [`arn:aws:s3:::${bucket}`]: {
          account: UPSTREAM,
          policy: JSON.parse(String(policy?.values.policy)) as PolicyDocument,
        },
      },
    });
    // The upstream's partition, as it is in the upstream's bucket.
    const listed = await upstream.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "internal_data/" }),
    );
    for (const o of listed.Contents ?? []) {
      const got = await upstream.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      await downstream.land(bucket, o.Key as string, (await got.Body?.transformToString()) ?? "");
    }
    expect(await downstream.publish(marker)).toHaveLength(1);
    await downstream.settle();
    const runs = (await downstream.invoke({ sluice: "executions", node: "store_ranking" })) as {
      result: { status: string; targets: { error?: string }[] }[];
    };
    expect(runs.result.map((r) => [r.status, r.targets.map((t) => t.error)])).toEqual([
      ["SUCCEEDED", [undefined]],
    ]);
    const crossAccountReads = downstream.authorizations.filter(
      (a) => a.resource.startsWith(`arn:aws:s3:::${bucket}`) && a.decision === "Allowed",
    );
    expect(crossAccountReads.length).toBeGreaterThan(0);
    expect(downstream.denials()).toEqual([]);
  });

  test("downstream: the same marker event from a third account matches no rule", () => {
    const forged = { ...(marker as Record<string, unknown>), account: "999988887777" };
    expect(downstream?.routing.route(forged)).toEqual([]);
  });
});
