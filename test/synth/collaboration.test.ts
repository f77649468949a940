import { BINDINGS_KEY } from "../../src/flow/model/deployment-contract";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Application, dim, prestoSql, pySpark, sparkSql } from "sluice";
import type { FlowModel } from "../../src/flow/model/flow-model";
import { publishedManifest } from "../../src/flow/model/manifest";
import { WILDCARD_STATEMENTS } from "../../src/synth/batch-compute";
import { policy, synth, type Synthesized } from "./support";

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
  // Where the bucket is: Athena and Spark's S3 clients ask, and a prefix condition would deny it.
  const location = statements.find((x) => x.Sid === "DownstreamBucketLocation");
  expect(principals(location)).toEqual(AUTHORIZED);
  expect(location).toMatchObject({ Action: "s3:GetBucketLocation" });
  expect(location).not.toHaveProperty("Condition");
  // No other statement grants anything to another account.
  expect(statements.filter((x) => x.Effect === "Allow").map((x) => x.Sid)).toEqual([
    "DownstreamReadInternalData",
    "DownstreamListInternalData",
    "DownstreamReadManifest",
    "DownstreamBucketLocation",
  ]);
  const manifestRead = statements.find((x) => x.Sid === "DownstreamReadManifest");
  expect(principals(manifestRead)).toEqual(AUTHORIZED);
  expect(manifestRead).toMatchObject({ Action: "s3:GetObject" });
  expect(String(manifestRead?.Resource)).toMatch(/\/sluice\/manifest\.json$/);

  const grants = Object.values(s.resources("aws_kms_grant"));
  expect(grants.map((g) => g.grantee_principal).sort()).toEqual(AUTHORIZED);
  for (const g of grants) expect(g.operations).toEqual(["Decrypt", "DescribeKey"]);

  const rule = Object.values(s.resources("aws_cloudwatch_event_rule")).find(
    (r) => r.name === "orders-forward-downstream",
  ) as { event_pattern: string };
  // Only the completion markers, of every data node at any depth (EventBridge's wildcard * matches "/"),
  // of this account's own bucket events.
  expect(JSON.parse(rule.event_pattern)).toEqual({
    source: ["aws.s3"],
    "detail-type": ["Object Created"],
    account: ["111111111111"],
    detail: {
      bucket: { name: [expect.stringMatching(/^\$\{aws_s3_bucket\.storage_bucket_\w+\.bucket\}$/)] },
      object: { key: [{ wildcard: "internal_data/*/_SUCCESS" }] },
    },
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
  // The published manifest: the FlowModel without environments; the authorized downstreams stay
  // (an import checks it is one of them).
  const published = JSON.parse(manifest.content) as FlowModel;
  expect(published).toEqual(publishedManifest(upstreamApp().toModel()));
  expect(published.environments).toEqual({});
  expect(published.application.downstream?.map((d) => d.account)).toEqual(["333333333333", "222222222222"]);
  // A downstream importing the published manifest (as JSON) is authorized by it.
  const reports = new Application("reports", { account: "222222222222", region: "us-west-2" });
  const imported = reports.importUpstream("orders", { ...UP, manifest: published });
  reports.data("r", { inputs: [imported.node("daily_orders")], compute: sparkSql("select 1") });
  expect(() => reports.toModel()).not.toThrow();
  expect(s.json.output?.manifest).toBeDefined();
});

test("an application without downstreams grants nothing and forwards nothing, but publishes its manifest", () => {
  const app = new Application("alone", UP);
  app.timer("t", "rate(1 day)");
  const s = synth({ app });
  const statements = policy(s.only("aws_s3_bucket_policy").policy).Statement;
  expect(statements.every((x) => x.Effect === "Deny")).toBe(true);
  expect(s.resources("aws_kms_grant")).toEqual({});
  const rules = Object.values(s.resources("aws_cloudwatch_event_rule")).map((r) => r.name);
  expect(rules).not.toContain("alone-forward-downstream");
  // A downstream imports from the manifest, which the team may publish before it authorizes anyone.
  const objects = Object.entries(s.resources("aws_s3_object")).filter(([, o]) => o.key !== BINDINGS_KEY);
  const [id, manifest] = objects[0] ?? [];
  expect(objects.map(([k]) => k)).toEqual([id]);
  expect(manifest).toMatchObject({
    key: "sluice/manifest.json",
    content_type: "application/json",
    server_side_encryption: "aws:kms",
  });
  expect(JSON.parse(String(manifest?.content))).toEqual(app.toModel());
  expect(s.json.output?.manifest?.value).toBe(`\${aws_s3_object.${id}.content}`);
});

test("the manifest keeps user text literal: Terraform reads ${ and %{ in a string as a template", () => {
  const app = new Application("literal", UP);
  app.environment("prod", { ...UP, config: { secret: "not published" } });
  const t = app.timer("t", "rate(1 day)");
  app.data("d", { inputs: [t], compute: sparkSql("SELECT '${x}' AS a, '%{y}' AS b") });
  const s = synth({ app });
  const manifest = Object.values(s.resources("aws_s3_object")).find(
    (o) => o.key === "sluice/manifest.json",
  ) as { content: string };
  expect(manifest.content).toContain("SELECT '$${x}' AS a, '%%{y}' AS b");
  expect(manifest.content).not.toContain("not published");
  // What Terraform renders (each $${ → ${, %%{ → %{) is the model as published.
  const rendered = manifest.content.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
  expect(JSON.parse(rendered)).toEqual(publishedManifest(app.toModel()));
});

// ---------------------------------------------------------------- downstream

const DOWN = { account: "222222222222", region: "us-west-2" };
const UPSTREAM_BUCKET = "orders-111111111111-us-east-1";

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

/** The upstream with a second data node, which the downstream imports under another id. */
function upstreamWithTotals(): Application {
  const app = upstreamApp();
  const stores = app.s3Dataset("stores", { bucket: "raw-stores", dimensions: { day: dim.datetime() } });
  app.data("store_totals", { inputs: [stores], compute: sparkSql("select * from stores") });
  return app;
}

/**
 * A downstream importing two nodes of "orders" (`store_totals` as `totals`): Glue reads daily_orders,
 * EMR Serverless reads both, Athena reads totals.
 */
function downstream(): Synthesized {
  const app = new Application("reports", DOWN);
  const orders = app.importUpstream("orders", { ...UP, manifest: upstreamWithTotals().toModel() });
  const daily = orders.node("daily_orders");
  const totals = orders.node("store_totals", "totals");
  app.data("on_glue", { inputs: [daily], compute: sparkSql("select * from daily_orders") });
  app.data("on_emrs", {
    inputs: [daily, totals],
    compute: pySpark("def run(inputs): return inputs['totals']", { engine: "emrServerless" }),
  });
  app.data("on_athena", { inputs: [totals], compute: prestoSql("select * from totals") });
  return synth({ app, bundleDir: BUNDLE });
}

type Stmt = ReturnType<typeof policy>["Statement"][number] & { Condition?: unknown };

function roleStatements(s: Synthesized, name: string): Stmt[] {
  const p = Object.values(s.resources("aws_iam_role_policy")).find((x) => x.name === name);
  if (p === undefined) throw new Error(`no role policy ${name}`);
  return policy(p.policy).Statement as Stmt[];
}

/** The statements of a policy that touch the upstream bucket (by resource or by condition). */
function upstreamStatements(statements: readonly Stmt[]): Stmt[] {
  return statements.filter((x) => JSON.stringify(x).includes(UPSTREAM_BUCKET));
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/** Exactly the statements upstreamReadStatements makes for `nodes` (upstream ids). */
function upstreamRead(sidPrefix: string, nodes: string[]): Stmt[] {
  const paths = nodes.map((n) => `internal_data/${n}`);
  const one = <T>(xs: T[]): T | T[] => (xs.length === 1 ? (xs[0] as T) : xs);
  return [
    {
      Sid: `${sidPrefix}UpstreamList1`,
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: `arn:aws:s3:::${UPSTREAM_BUCKET}`,
      Condition: { StringLike: { "s3:prefix": paths.flatMap((p) => [p, `${p}/*`]) } },
    },
    {
      Sid: `${sidPrefix}UpstreamLocation1`,
      Effect: "Allow",
      Action: "s3:GetBucketLocation",
      Resource: `arn:aws:s3:::${UPSTREAM_BUCKET}`,
    },
    {
      Sid: `${sidPrefix}UpstreamRead1`,
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: one(paths.map((p) => `arn:aws:s3:::${UPSTREAM_BUCKET}/${p}/*`)),
    },
    {
      Sid: `${sidPrefix}UpstreamDecrypt`,
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        StringEquals: {
          "kms:ViaService": ["s3.us-east-1.amazonaws.com"],
          "kms:CallerAccount": DOWN.account,
        },
        StringLike: {
          "kms:EncryptionContext:aws:s3:arn": [
            `arn:aws:s3:::${UPSTREAM_BUCKET}`,
            `arn:aws:s3:::${UPSTREAM_BUCKET}/*`,
          ],
        },
      },
    },
  ];
}

describe("downstream", () => {
  const s = downstream();

  test("one rule per upstream application routes the completion markers of exactly the imported nodes to the router", () => {
    const rules = Object.entries(s.resources("aws_cloudwatch_event_rule")).filter(([, r]) =>
      String(r.event_pattern).includes(UPSTREAM_BUCKET),
    );
    expect(rules.map(([, r]) => r.name)).toEqual(["reports-upstream-orders"]);
    const [id, rule] = rules[0] as [string, Record<string, unknown>];
    // Upstream ids (not the local "totals"), sorted; each at the node's root and below its dimensions.
    expect(JSON.parse(String(rule.event_pattern))).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      account: ["111111111111"],
      detail: {
        bucket: { name: [UPSTREAM_BUCKET] },
        object: {
          key: [
            "internal_data/daily_orders/_SUCCESS",
            { wildcard: "internal_data/daily_orders/*/_SUCCESS" },
            "internal_data/store_totals/_SUCCESS",
            { wildcard: "internal_data/store_totals/*/_SUCCESS" },
          ],
        },
      },
    });
    const fn = Object.keys(s.resources("aws_lambda_function"));
    expect(fn).toHaveLength(1);
    const router = `aws_lambda_function.${fn[0]}`;
    const targets = Object.values(s.resources("aws_cloudwatch_event_target")).filter(
      (t) => t.rule === `\${aws_cloudwatch_event_rule.${id}.name}`,
    );
    expect(targets).toEqual([expect.objectContaining({ arn: `\${${router}.arn}`, target_id: "router" })]);
    const permissions = Object.values(s.resources("aws_lambda_permission")).filter(
      (p) => p.source_arn === `\${aws_cloudwatch_event_rule.${id}.arn}`,
    );
    expect(permissions).toEqual([
      expect.objectContaining({
        action: "lambda:InvokeFunction",
        principal: "events.amazonaws.com",
        function_name: `\${${router}.function_name}`,
      }),
    ]);
    expect(s.stack.processor.ruleInfo.filter((r) => r.kind === "upstream")).toHaveLength(1);
    // The upstream's account may put events on the default bus.
    expect(s.only("aws_cloudwatch_event_permission")).toMatchObject({
      principal: "111111111111",
      event_bus_name: "default",
    });
  });

  test("each role reads exactly the imported prefixes its targets read, and decrypts through S3 only", () => {
    // Glue runs on_glue (daily_orders); EMR Serverless runs on_emrs (both).
    expect(upstreamStatements(roleStatements(s, "reports-glue-policy"))).toEqual(
      upstreamRead("BatchGlue", ["daily_orders"]),
    );
    expect(upstreamStatements(roleStatements(s, "reports-emr-policy"))).toEqual(
      upstreamRead("BatchEmrServerless", ["daily_orders", "store_totals"]),
    );
    // The router reads every imported node (Athena queries on_athena's input as the router), once.
    expect(upstreamStatements(roleStatements(s, "reports-router-policy"))).toEqual(
      upstreamRead("", ["daily_orders", "store_totals"]),
    );
  });

  test('Resource "*" only in allow-listed statements (the upstream decrypt among them)', () => {
    const allowed = { XRay: "xray", ...WILDCARD_STATEMENTS };
    let wildcards = 0;
    for (const p of Object.values(s.resources("aws_iam_role_policy"))) {
      for (const st of policy(p.policy).Statement) {
        if (!list(st.Resource).includes("*")) continue;
        wildcards++;
        expect(allowed).toHaveProperty([String(st.Sid)]);
      }
    }
    expect(wildcards).toBeGreaterThanOrEqual(3);
  });

  test("Athena reads an imported node through a table of the application's database at the upstream location", () => {
    const tables = Object.values(s.resources("aws_glue_catalog_table"));
    expect(tables.map((t) => t.name)).toEqual(["totals"]);
    const t = tables[0] as Record<string, unknown>;
    const database = Object.keys(s.resources("aws_glue_catalog_database"));
    expect(t).toMatchObject({
      database_name: `\${aws_glue_catalog_database.${database[0]}.name}`,
      table_type: "EXTERNAL_TABLE",
      partition_keys: [{ name: "day", type: "string" }],
      storage_descriptor: {
        location: `s3://${UPSTREAM_BUCKET}/internal_data/store_totals/`,
        input_format: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
      },
      parameters: expect.objectContaining({
        classification: "parquet",
        "storage.location.template": `s3://${UPSTREAM_BUCKET}/internal_data/store_totals/$\${day}`,
      }),
    });
    expect(String(t.description)).toContain("upstream application orders");
    const catalog = roleStatements(s, "reports-router-policy").find((x) => x.Sid === "BatchAthenaCatalog");
    expect(list(catalog?.Resource)).toContain(
      "arn:aws:glue:us-west-2:222222222222:table/reports_sluice/totals",
    );
  });
});
