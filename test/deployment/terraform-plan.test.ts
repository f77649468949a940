/**
 * The deployment twin's Terraform piece: a module converted provider-free (aws_* → terraform_data,
 * references → realistic placeholders), then planned offline by the real binary and read back.
 * The conversion tests always run; the plans need `terraform` on PATH and are skipped without it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthModule } from "../../src/cli/synth-module";
import type { Application } from "../../src/flow/application";
import {
  ACCOUNT,
  catalog,
  DATA_SOURCES,
  HAND,
  placeholderTable,
  REGION,
  resolved,
  STORES,
} from "./terraform-plan.fixtures";
import { parseTwinName, twinName } from "./twin/provider-free";
import type { RenderedPlan, TerraformJson } from "./twin/terraform-plan";
import { planModule, providerFreeModule, TerraformPlanError, terraformVersion } from "./twin/terraform-plan";

const ROOT = join(__dirname, "..", "..");
const OPTS = { account: ACCOUNT, region: REGION };

type Resource = Record<string, unknown> & { input: Record<string, unknown> };
const converted = (json: TerraformJson, name: string): Resource =>
  json.resource?.terraform_data?.[name] as Resource;

describe("providerFreeModule", () => {
  const json = providerFreeModule(HAND, { ...OPTS, dataSources: DATA_SOURCES });

  test("an aws_* resource is a terraform_data whose input is its attributes as written; meta-arguments stay", () => {
    expect(Object.keys(json.resource ?? {})).toEqual(["terraform_data"]);
    const fn = converted(json, "aws_lambda_function__fn");
    expect(fn.input.function_name).toBe("app-fn");
    expect(fn.input.tracing_config).toEqual({ mode: "Active" }); // a nested block, as written
    expect(fn.depends_on).toEqual([
      "terraform_data.aws_s3_bucket__data_bucket",
      "terraform_data.data__aws_region__here",
    ]);
    expect(fn.lifecycle).toEqual({ create_before_destroy: true }); // ignore_changes names AWS attributes
    expect(fn.provider).toBe("terraform.west");
    expect(converted(json, "aws_kms_key__key").count).toBe(2);
    expect(converted(json, "aws_sqs_queue__queue").for_each).toBe("${var.queues}");
    expect(converted(json, "aws_s3_bucket_lifecycle_configuration__lifecycle").input.rule).toEqual([
      { id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: { days: 7 } },
    ]);
    // The AWS provider is gone; the built-in one takes the alias.
    expect(json.terraform).toEqual({
      required_providers: {
        terraform: { source: "terraform.io/builtin/terraform", configuration_aliases: ["terraform.west"] },
      },
    });
    expect(json.variable).toEqual(HAND.variable);
  });

  test("references become placeholders computed from the referenced resource's input", () => {
    const role = "terraform_data.aws_iam_role__role.input";
    expect(converted(json, "aws_lambda_function__fn").input.role).toBe(
      `\${"arn:aws:iam::${ACCOUNT}:role\${${role}.path}\${${role}.name}"}`,
    );
    const vars = (
      converted(json, "aws_lambda_function__fn").input.environment as { variables: Record<string, string> }
    ).variables;
    expect(vars.QUEUE_URL).toBe(
      `\${"https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/\${terraform_data.aws_sqs_queue__queue["ingest"].input.name}"}`,
    );
    expect(vars.BUCKET_ARN).toBe(
      '${"arn:aws:s3:::${terraform_data.aws_s3_bucket__data_bucket.input.bucket}"}',
    );
    expect(vars.KEY_ARN).toBe(
      `\${"arn:aws:kms:${REGION}:${ACCOUNT}:key/\${uuidv5("url", "twin://aws/${ACCOUNT}/${REGION}/aws_kms_key.key[\${jsonencode(1)}]")}"}`,
    );
    expect(vars.STORES).toBe(
      "${terraform_data.data__aws_glue_catalog_table__stores.input.storage_descriptor[0].location}",
    );
    expect(vars.NESTED).toBe(
      '${substr("x-${terraform_data.aws_s3_bucket__data_bucket.input.bucket}", 0, 6)}',
    );
    expect(vars.ESCAPED).toBe("$${aws_s3_bucket.data_bucket.arn}"); // an escape, not an interpolation
    expect(vars.LITERAL).toBe("aws_s3_bucket.data_bucket.arn"); // literal text
    expect(converted(json, "aws_s3_bucket_lifecycle_configuration__lifecycle").input.bucket).toBe(
      "${terraform_data.aws_s3_bucket__data_bucket.input.bucket}",
    );
    expect(json.output?.retry_queue?.value).toBe(
      `\${"arn:aws:sqs:${REGION}:${ACCOUNT}:\${terraform_data.aws_sqs_queue__queue["retry"].input.name}"}`,
    );
    expect(json.locals?.prefix).toBe(
      "app-${terraform_data.data__aws_caller_identity__me.input.account_id}-${terraform_data.data__aws_region__here.input.region}",
    );
  });

  test("data sources are terraform_data holding the resolved attributes beside their arguments", () => {
    expect(converted(json, "data__aws_caller_identity__me").input).toMatchObject({
      account_id: ACCOUNT,
      id: ACCOUNT,
    });
    expect(converted(json, "data__aws_region__here").input).toMatchObject({ region: REGION, name: REGION });
    // Pure: the resolver sees the arguments as written; the expression is evaluated by Terraform.
    expect(resolved).toContainEqual({ database_name: '${lower("REFERENCE")}', name: "stores" });
    expect(converted(json, "data__aws_glue_catalog_table__stores").input).toEqual({
      ...STORES,
      database_name: '${lower("REFERENCE")}',
      name: "stores",
    });
    const cn = providerFreeModule(
      { data: { aws_partition: { p: {} } }, output: { p: { value: "${data.aws_partition.p.dns_suffix}" } } },
      { account: ACCOUNT, region: "cn-north-1", partition: "aws-cn" },
    );
    expect(converted(cn, "data__aws_partition__p").input).toMatchObject({
      partition: "aws-cn",
      dns_suffix: "amazonaws.com.cn",
    });
    // Resolved values are literal: a ${ in them stays text.
    const literal = providerFreeModule(
      { data: { aws_glue_catalog_table: { t: { name: "t", database_name: "d" } } } },
      { ...OPTS, dataSources: { aws_glue_catalog_table: () => ({ description: "${not.a.reference}" }) } },
    );
    expect(converted(literal, "data__aws_glue_catalog_table__t").input.description).toBe(
      "$${not.a.reference}",
    );
  });

  test("the partition and a resource's own region argument enter the ARNs", () => {
    const module: TerraformJson = {
      resource: {
        aws_s3_bucket: { b: { bucket: "b" } },
        aws_dynamodb_table: { t: { name: "t", region: "eu-west-1" } },
      },
      output: { b: { value: "${aws_s3_bucket.b.arn}" }, t: { value: "${aws_dynamodb_table.t.arn}" } },
    };
    const out = providerFreeModule(module, {
      account: ACCOUNT,
      region: "cn-north-1",
      partition: "aws-cn",
    }).output;
    expect(out?.b?.value).toBe('${"arn:aws-cn:s3:::${terraform_data.aws_s3_bucket__b.input.bucket}"}');
    expect(out?.t?.value).toBe(
      `\${"arn:aws-cn:dynamodb:\${terraform_data.aws_dynamodb_table__t.input.region}:${ACCOUNT}:table/\${terraform_data.aws_dynamodb_table__t.input.name}"}`,
    );
  });

  test("names are reversible", () => {
    for (const address of [
      { mode: "managed", type: "aws_sqs_queue", name: "processor_dead-letter-queue_774EE583" },
      { mode: "data", type: "aws_glue_catalog_table", name: "t__x" },
    ] as const) {
      expect(parseTwinName(twinName(address))).toEqual(address);
    }
    expect(parseTwinName("something_else")).toBeUndefined();
  });

  test.each([
    [
      "${aws_s3_bucket.b.website_endpoint}",
      "aws_s3_bucket.b.website_endpoint: no placeholder for attribute 'website_endpoint' of aws_s3_bucket",
    ],
    [
      "${aws_route53_zone.z.zone_id}",
      "aws_route53_zone.z.zone_id: no placeholders for resource type aws_route53_zone",
    ],
    [
      "${aws_s3_bucket.missing.arn}",
      "aws_s3_bucket.missing.arn: no resource aws_s3_bucket.missing in the module",
    ],
    ["${aws_s3_bucket.b}", "aws_s3_bucket.b: references to a whole resource are not supported"],
    ["${data.aws_region.r.nope}", "data.aws_region.r.nope: data source aws_region has no attribute 'nope'"],
    ["${aws_s3_object.o.content}", "aws_s3_object.o.content: the resource does not set 'content'"],
    ["${aws_s3_bucket.b[*].arn}", "Splat references are not supported"],
  ])("an unknown reference is an error naming it: %s", (value, message) => {
    const module: TerraformJson = {
      data: { aws_region: { r: {} } },
      resource: {
        aws_s3_bucket: { b: { bucket: "b" } },
        aws_route53_zone: { z: { name: "z" } },
        aws_s3_object: { o: { bucket: "b", key: "k", source: "f" } },
      },
      output: { o: { value } },
    };
    expect(() => providerFreeModule(module, OPTS)).toThrow(message);
  });

  test("a data source without a resolver is an error naming it", () => {
    expect(() => providerFreeModule({ data: { aws_vpc: { main: {} } } }, OPTS)).toThrow(
      "data.aws_vpc.main: no resolver for data source type aws_vpc (pass dataSources.aws_vpc to resolve it)",
    );
  });
});

const VERSION = terraformVersion();
const withTerraform = VERSION ? describe : describe.skip;
if (!VERSION) {
  console.warn("terraform is not on PATH: the Terraform plans of terraform-plan.test.ts are skipped");
}

withTerraform(`planModule (terraform ${VERSION ?? "missing"})`, () => {
  // planModule's temporary folders go to `scratch`: it must be empty after each plan, failed or not.
  let scratch: string;
  let work: string;
  const savedTmp = process.env.TMPDIR;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "sluice-tfplan-modules-"));
    scratch = mkdtempSync(join(tmpdir(), "sluice-tfplan-test-"));
    process.env.TMPDIR = scratch;
  });
  afterEach(() => {
    expect(readdirSync(scratch)).toEqual([]);
  });
  afterAll(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(scratch, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  function moduleDir(name: string, json: TerraformJson): string {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "main.tf.json"), JSON.stringify(json));
    return dir;
  }

  test("the hand-written module: count, for_each, an alias, nested blocks, data sources", async () => {
    resolved.length = 0;
    const plan = await planModule({
      moduleDir: moduleDir("hand", HAND),
      variables: { environment: "prod" },
      ...OPTS,
      dataSources: DATA_SOURCES,
    });
    const bucket = `app-${ACCOUNT}-${REGION}`;
    expect(plan.resource("aws_s3_bucket").values).toEqual({ bucket, tags: { env: "prod" } });
    const queues = plan.all("aws_sqs_queue");
    expect(queues.map((q) => [q.address, q.index, q.values.name])).toEqual([
      ['aws_sqs_queue.queue["ingest"]', "ingest", "app-ingest"],
      ['aws_sqs_queue.queue["retry"]', "retry", "app-retry"],
    ]);
    const keys = plan.all("aws_kms_key");
    expect(keys.map((k) => k.address)).toEqual(["aws_kms_key.key[0]", "aws_kms_key.key[1]"]);
    const keyArn = (i: number): string =>
      String(plan.resource("aws_kms_key", (k) => k.index === i).attributes?.arn);
    expect(keyArn(1)).toMatch(
      new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$`),
    );
    expect(keyArn(0)).not.toBe(keyArn(1));
    expect(queues[0]?.values.kms_master_key_id).toBe(keyArn(0));

    const fn = plan.resource("aws_lambda_function", "fn");
    expect(fn.values.role).toBe(`arn:aws:iam::${ACCOUNT}:role/service/app-role`);
    expect(fn.values.tracing_config).toEqual([{ mode: "Active" }]); // the provider's shape
    expect(fn.input.tracing_config).toEqual({ mode: "Active" }); // as written
    expect(fn.values.environment).toEqual([
      {
        variables: {
          QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/app-ingest`,
          BUCKET_ARN: `arn:aws:s3:::${bucket}`,
          KEY_ARN: keyArn(1),
          STORES: "s3://reference/stores/",
          NESTED: `x-${bucket}`.slice(0, 6),
          ESCAPED: "${aws_s3_bucket.data_bucket.arn}",
          LITERAL: "aws_s3_bucket.data_bucket.arn",
        },
      },
    ]);
    expect(plan.resource("aws_s3_bucket_lifecycle_configuration").values.rule).toEqual([
      { id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: 7 }] },
    ]);
    expect(plan.outputs).toEqual({ retry_queue: `arn:aws:sqs:${REGION}:${ACCOUNT}:app-retry` });
    // planModule's resolvers see the arguments evaluated (a first plan evaluates them).
    expect(resolved).toContainEqual({ database_name: "reference", name: "stores" });
    expect(plan.timings.data).toBeGreaterThan(0);
    expect(plan.data.find((d) => d.type === "aws_glue_catalog_table")?.values).toEqual({
      ...STORES,
      database_name: "reference",
      name: "stores",
    });
    expect(plan.data.map((d) => d.address)).toEqual([
      "data.aws_caller_identity.me",
      "data.aws_glue_catalog_table.stores",
      "data.aws_region.here",
    ]);
  }, 60_000);

  test("the placeholder table renders each attribute in the provider's format", async () => {
    const region = "eu-west-1";
    const { module, expected } = placeholderTable(region);
    const plan = await planModule({ moduleDir: moduleDir("table", module), account: ACCOUNT, region });
    const refs = plan.outputs.refs as Record<string, string>;
    for (const [ref, value] of Object.entries(expected)) {
      if (value instanceof RegExp) expect([ref, refs[ref]]).toEqual([ref, expect.stringMatching(value)]);
      else expect([ref, refs[ref]]).toEqual([ref, value]);
    }
    // Consistent across references: ids inside ARNs, and what the resources' own attributes say.
    expect(refs["aws_kms_key.k.arn"]).toBe(
      `arn:aws:kms:${region}:${ACCOUNT}:key/${refs["aws_kms_key.k.key_id"]}`,
    );
    expect(refs["aws_emrserverless_application.x.arn"]).toContain(
      `/applications/${refs["aws_emrserverless_application.x.id"]}`,
    );
    expect(plan.resource("aws_kms_alias").values.target_key_id).toBe(refs["aws_kms_key.k.id"]);
    expect(plan.resource("aws_iam_role_policy_attachment").values.policy_arn).toBe(
      refs["aws_iam_policy.p.arn"],
    );
    expect(plan.resource("aws_sqs_queue", "q").attributes).toEqual({
      arn: refs["aws_sqs_queue.q.arn"],
      id: refs["aws_sqs_queue.q.url"],
      name: "q1",
      url: refs["aws_sqs_queue.q.url"],
    });
  }, 60_000);

  describe("daily-aggregation, synthesized", () => {
    let plan: RenderedPlan;
    beforeAll(async () => {
      const out = join(work, "daily-aggregation");
      synthModule(loadExample("daily-aggregation"), { out });
      plan = await planModule({
        moduleDir: out,
        variables: { environment: "prod" },
        ...OPTS,
        dataSources: {
          aws_glue_catalog_table: catalog({ "reference.stores": "s3://acme-reference/stores/" }),
        },
      });
      console.log(`daily-aggregation planned in ${plan.timings.total} ms: ${JSON.stringify(plan.timings)}`);
    }, 120_000);

    test("the router's SLUICE_TABLE is the rendered routing table's name", () => {
      const fn = plan.resource("aws_lambda_function");
      const table = plan.resource("aws_dynamodb_table");
      const env = (fn.values.environment as { variables: Record<string, string> }[])[0]?.variables;
      expect(env?.SLUICE_TABLE).toBe(table.values.name);
      expect(table.values.name).toBe("daily-sales-routing");
      expect(env?.SLUICE_ENV).toBe("prod");
      expect(env?.SLUICE_BUCKET).toBe(`daily-sales-${ACCOUNT}-${REGION}`);
      expect(env?.SLUICE_INTERNAL_QUEUE_URL).toBe(
        plan.resource("aws_sqs_queue", "processor_internal-queue").attributes?.url,
      );
      expect(plan.outputs.table).toBe(table.values.name);
      expect(fn.values.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/); // filebase64sha256 of router.zip
    });

    test("the router role's policy is JSON naming the table's ARN", () => {
      const policy = JSON.parse(
        String(plan.resource("aws_iam_role_policy", "roles_router-policy").values.policy),
      ) as {
        Statement: { Resource: string | string[] }[];
      };
      const resources = policy.Statement.flatMap((s) => s.Resource);
      expect(resources).toContain(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/daily-sales-routing`);
      expect(resources).toContain(plan.resource("aws_dynamodb_table").attributes?.arn);
    });

    test("event rules' patterns are JSON", () => {
      const rules = plan.all("aws_cloudwatch_event_rule").filter((r) => r.values.event_pattern !== undefined);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) expect(() => JSON.parse(String(rule.values.event_pattern))).not.toThrow();
      const s3 = JSON.parse(
        String(plan.resource("aws_cloudwatch_event_rule", "processor_rule-s3-orders").values.event_pattern),
      );
      // The dataset's bucket and prefix, rendered from the module's locals and variables.
      expect(s3.detail.bucket).toEqual({ name: ["acme-raw-orders"] });
      expect(JSON.stringify(s3.detail.object)).toContain('"orders/');
    });
  });

  // The defect: a flow without external datasets referenced an undeclared local.datasets.
  test.each(["two-apps", "alarm-reactor"])(
    "the checked-in modules/%s plans (a flow without external datasets declares local.datasets)",
    async (name) => {
      const dir = join(work, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "main.tf.json"), readFileSync(join(ROOT, "modules", name, "main.tf.json")));
      writeFileSync(join(dir, "router.zip"), "not a zip: only hashed");
      writeFileSync(join(dir, "sluice_driver.py"), "# only hashed");
      const plan = await planModule({ moduleDir: dir, ...OPTS });
      expect(plan.resource("aws_lambda_function").values.function_name).toBeDefined();
    },
    60_000,
  );

  test("a Terraform failure is a TerraformPlanError with the command and its diagnostics", async () => {
    const dir = moduleDir("broken", {
      resource: { aws_s3_bucket: { b: { bucket: "${var.missing}" } } },
    });
    const error = await planModule({ moduleDir: dir, ...OPTS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TerraformPlanError);
    const failure = error as TerraformPlanError;
    expect(failure.command).toBe("terraform validate -json -no-color");
    expect(failure.diagnostics.map((d) => d.summary)).toEqual(["Reference to undeclared input variable"]);
    expect(failure.message).toContain('An input variable with the name "missing" has not been declared');
    expect(failure.message).toContain("twin/main.tf.json:");
  }, 60_000);

  test("values unknown at plan time are an error listing them", async () => {
    const dir = moduleDir("unknown", { resource: { aws_s3_bucket: { b: { bucket: "b-${uuid()}" } } } });
    await expect(planModule({ moduleDir: dir, ...OPTS })).rejects.toThrow(
      "values unknown at plan time:\n- aws_s3_bucket.b.input.bucket",
    );
  }, 60_000);
});

function loadExample(name: string): Application {
  let app: Application | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module registry per example
    app = (require(join(ROOT, "examples", name, "flow.ts")) as { default: Application }).default;
  });
  return app as Application;
}
