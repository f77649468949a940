import { Application, dim, sparkSql } from "sluice";
import { policy, synth } from "./support";

const UP = { account: "111111111111", region: "us-east-1" };

function upstreamApp(): Application {
  const app = new Application("orders", UP);
  app.authorizeDownstream("reports", { account: "222222222222", region: "us-west-2" });
  app.authorizeDownstream("audit", { account: "333333333333", region: "us-east-1" });
  const raw = app.s3Dataset("raw", { bucket: "raw-orders", dimensions: { day: dim.datetime() } });
  app.data("daily_orders", { inputs: [raw], compute: sparkSql("select * from raw") });
  return app;
}

function principals(statement: unknown): string[] {
  const aws = (statement as { Principal: { AWS: string | string[] } }).Principal.AWS;
  return (Array.isArray(aws) ? aws : [aws]).slice().sort();
}

const AUTHORIZED = ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"];

test("upstream: bucket policy, KMS grants and forwarding rule name exactly the authorized accounts", () => {
  const s = synth({ app: upstreamApp() });
  const statements = policy(s.only("aws_s3_bucket_policy").policy).Statement;
  const read = statements.find((x) => x.Sid === "DownstreamReadInternalData");
  const list = statements.find((x) => x.Sid === "DownstreamListInternalData");
  expect(principals(read)).toEqual(AUTHORIZED);
  expect(read).toMatchObject({ Action: "s3:GetObject" });
  expect(String(read?.Resource)).toMatch(/\/internal_data\/\*$/);
  expect(principals(list)).toEqual(AUTHORIZED);
  expect(list).toMatchObject({
    Action: "s3:ListBucket",
    Condition: { StringLike: { "s3:prefix": ["internal_data/*"] } },
  });
  // No other statement grants anything to another account.
  expect(statements.filter((x) => x.Effect === "Allow").map((x) => x.Sid)).toEqual([
    "DownstreamReadInternalData",
    "DownstreamListInternalData",
  ]);

  const grants = Object.values(s.resources("aws_kms_grant"));
  expect(grants.map((g) => g.grantee_principal).sort()).toEqual(AUTHORIZED);
  for (const g of grants) expect(g.operations).toEqual(["Decrypt", "DescribeKey"]);

  const rule = Object.values(s.resources("aws_cloudwatch_event_rule")).find(
    (r) => r.name === "orders-forward-downstream",
  ) as { event_pattern: string };
  expect(JSON.parse(rule.event_pattern)).toMatchObject({
    source: ["aws.s3"],
    "detail-type": ["Object Created"],
    detail: { object: { key: [{ prefix: "internal_data/" }] } },
  });
  const targets = Object.values(s.resources("aws_cloudwatch_event_target"))
    .map((t) => String(t.arn))
    .filter((arn) => arn.includes(":event-bus/"));
  expect(targets.sort()).toEqual([
    "arn:aws:events:us-east-1:333333333333:event-bus/default",
    "arn:aws:events:us-west-2:222222222222:event-bus/default",
  ]);
  const forward = Object.values(s.resources("aws_iam_role_policy")).find((p) =>
    String(p.policy).includes("events:PutEvents"),
  );
  expect(policy(forward?.policy).Statement[0]?.Resource).toEqual(targets.sort());

  const manifest = Object.values(s.resources("aws_s3_object")).find(
    (o) => o.key === "sluice/manifest.json",
  ) as { content: string };
  expect(JSON.parse(manifest.content)).toEqual(upstreamApp().toModel());
  expect(s.json.output?.manifest).toBeDefined();
});

test("an application without downstreams grants nothing and publishes no manifest", () => {
  const app = new Application("alone", UP);
  app.timer("t", "rate(1 day)");
  const s = synth({ app });
  const statements = policy(s.only("aws_s3_bucket_policy").policy).Statement;
  expect(statements.every((x) => x.Effect === "Deny")).toBe(true);
  expect(s.resources("aws_kms_grant")).toEqual({});
  expect(s.resources("aws_s3_object")).toEqual({});
  expect(s.json.output?.manifest).toBeUndefined();
});

test("downstream: the router reads the imported prefixes of the upstream bucket and decrypts through S3", () => {
  const app = new Application("reports", { account: "222222222222", region: "us-west-2" });
  const orders = app.importUpstream("orders", { ...UP, manifest: upstreamApp().toModel() });
  app.data("report", {
    inputs: [orders.node("daily_orders")],
    compute: sparkSql("select * from daily_orders"),
  });
  const s = synth({ app });
  const router = s.stack.roles.statementsOf("router");
  const bucket = "orders-111111111111-us-east-1";
  expect(router).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        actions: ["s3:GetObject"],
        resources: [`arn:aws:s3:::${bucket}/internal_data/daily_orders/*`],
      }),
      expect.objectContaining({
        actions: ["s3:ListBucket"],
        resources: [`arn:aws:s3:::${bucket}`],
        conditions: { StringLike: { "s3:prefix": ["internal_data/daily_orders/*"] } },
      }),
      expect.objectContaining({
        actions: ["kms:Decrypt"],
        conditions: expect.objectContaining({
          StringEquals: expect.objectContaining({ "kms:ViaService": ["s3.us-east-1.amazonaws.com"] }),
        }),
      }),
    ]),
  );
  const permission = s.only("aws_cloudwatch_event_permission");
  expect(permission).toMatchObject({ principal: "111111111111", event_bus_name: "default" });
});
