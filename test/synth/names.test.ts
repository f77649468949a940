/**
 * Names and account-level details a deployment depends on: the storage bucket at S3's 63 characters
 * (never a trailing hyphen, never shared by two regions), account-wide IAM names unique per region and
 * environment, every name within its service's limit for the longest application name, own-account
 * metric alarms following the module's account, trust policies bound to the account, and the function
 * created after its role's permissions.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Application, dim, sparkSql } from "sluice";
import { resourceNames } from "../../src/flow/model/resource-names";
import { synthModule } from "../../src/cli/synth-module";
import { accountWide, synth, type TerraformJson } from "./support";

const LONGEST = "a".repeat(36) + "-app"; // 40 characters, the longest application name

function app(name: string, region = "us-east-1"): Application {
  const a = new Application(name, { account: "111122223333", region });
  a.environment("dev", { account: "111122223333", region });
  a.environment("prod", { account: "111122223333", region });
  const clicks = a.s3Dataset("clicks", { bucket: "acme-clicks", dimensions: { day: dim.datetime() } });
  const daily = a.timer("daily", "rate(1 day)", { dimension: "day" });
  a.data("joined", { inputs: [clicks, daily], compute: sparkSql("SELECT 1") });
  a.alarm("own_errors", {
    metric: a
      .externalMetric("ingest", { namespace: "AWS/Lambda", subDimensions: { FunctionName: "ingest" } })
      .get("Errors"),
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
  });
  return a;
}

describe("the storage bucket", () => {
  test("fits S3's 63 characters as it is, one more gets the digest", () => {
    // 63 exactly: kept.
    const fits = resourceNames.storageBucket("a".repeat(40), "111122223333", "us-east-1");
    expect(fits).toHaveLength(63);
    expect(fits).toBe(`${"a".repeat(40)}-111122223333-us-east-1`);
    // 64: cut to 54 and a digest of the whole.
    const long = resourceNames.storageBucket("a".repeat(40), "111122223333", "us-east-10");
    expect(long).toHaveLength(63);
    const full = `${"a".repeat(40)}-111122223333-us-east-10`;
    expect(long).toBe(`${full.slice(0, 54)}-${createHash("sha1").update(full).digest("hex").slice(0, 8)}`);
  });

  test("never ends in a hyphen and never collides across regions (the issue's two cases)", () => {
    // 36 characters in ap-southeast-1 used to end in "-"; 40 in ap-southeast-1/-2 used to collide.
    const a36 = resourceNames.storageBucket("b".repeat(36), "111122223333", "ap-southeast-1");
    expect(a36).not.toMatch(/-$/);
    expect(a36).toMatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
    const one = resourceNames.storageBucket(LONGEST, "111122223333", "ap-southeast-1");
    const two = resourceNames.storageBucket(LONGEST, "111122223333", "ap-southeast-2");
    expect(one).not.toBe(two);
    expect([one.length, two.length]).toEqual([63, 63]);
  });

  test("a module computes the same name at plan time (the expression agrees with resourceNames)", () => {
    const out = mkdtempSync(join(tmpdir(), "sluice-names-"));
    try {
      synthModule(app(LONGEST), { out });
      const json = JSON.parse(readFileSync(join(out, "main.tf.json"), "utf8")) as TerraformJson;
      const bucket = String(Object.values(json.resource.aws_s3_bucket ?? {})[0]?.bucket);
      expect(bucket).toContain("<= 63");
      expect(bucket).toContain('substr(join("-", [');
      expect(bucket).toContain('sha1(join("-", [');
      expect(bucket).toContain(", 0, 54)");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("names within their limits for the longest application name", () => {
  const s = synth({ app: app(LONGEST), environment: "prod" });
  const LIMITS: [string, string, number][] = [
    ["aws_s3_bucket", "bucket", 63],
    ["aws_iam_role", "name", 64],
    ["aws_lambda_function", "function_name", 64],
    ["aws_sqs_queue", "name", 80],
    ["aws_cloudwatch_event_rule", "name", 64],
    ["aws_iam_role_policy", "name", 128],
    ["aws_glue_job", "name", 255],
    ["aws_dynamodb_table", "name", 255],
  ];
  test.each(LIMITS)("%s.%s ≤ %d, no trailing hyphen", (type, attribute, max) => {
    const names = Object.values(s.resources(type)).map((r) => String(r[attribute]));
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(max);
      expect(n).not.toMatch(/-$/);
    }
  });
});

describe("account-wide names", () => {
  test("IAM role names differ between environments and regions of one application in one account", () => {
    const dev = synth({ app: app("shop"), environment: "dev" }, "dev");
    const prod = synth({ app: app("shop"), environment: "prod" }, "prod");
    const west = synth({ app: app("shop", "us-west-2"), environment: "prod" }, "west");
    const roles = (x: ReturnType<typeof synth>) =>
      Object.values(x.resources("aws_iam_role"))
        .map((r) => String(r.name))
        .sort();
    const [a, b, c] = [roles(dev), roles(prod), roles(west)];
    expect(a.filter((n) => b.includes(n) || c.includes(n))).toEqual([]);
    expect(b.filter((n) => c.includes(n))).toEqual([]);
    expect(b).toContain(accountWide("shop", "router-role", "us-east-1", "prod"));
  });

  test("trust policies name the account they act for (aws:SourceAccount)", () => {
    const s = synth({ app: app("shop") });
    for (const role of Object.values(s.resources("aws_iam_role"))) {
      const trust = JSON.parse(String(role.assume_role_policy)) as {
        Statement: { Condition?: Record<string, Record<string, string>> }[];
      };
      expect(trust.Statement[0]?.Condition).toEqual({
        StringEquals: { "aws:SourceAccount": "111122223333" },
      });
    }
  });

  test("the router function depends on its role's permissions and on its bindings object", () => {
    const s = synth({ app: app("shop") });
    const fn = s.only("aws_lambda_function");
    const deps = (fn.depends_on as string[]).map((d) => d.split(".")[0]);
    expect(deps.sort()).toEqual(["aws_iam_role_policy", "aws_s3_object"]);
  });
});

describe("metric alarms", () => {
  test("the application's own metrics carry no account id: a module's alarm watches the account it is applied in", () => {
    const out = mkdtempSync(join(tmpdir(), "sluice-names-"));
    try {
      synthModule(app("shop"), { out });
      const json = JSON.parse(readFileSync(join(out, "main.tf.json"), "utf8")) as TerraformJson;
      const alarm = Object.values(json.resource.aws_cloudwatch_metric_alarm ?? {}).find((a) =>
        String(a.alarm_name).includes("own_errors"),
      );
      expect(alarm).toBeDefined();
      expect(JSON.stringify(alarm)).not.toContain("111122223333");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
