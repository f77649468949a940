/**
 * BatchCompute: assertions on the synthesized Terraform JSON. Security assertions carry the Checkov
 * id they correspond to (no scanner is installable here).
 */
import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Application, dim, inline, prestoSql, pySpark, sparkSql } from "sluice";
import {
  defaultBundleDir,
  DRIVER_SCRIPT_KEY,
  glueJobSpecs,
  javaDateFormat,
  projectionOf,
  WILDCARD_STATEMENTS,
} from "../../src/synth/batch-compute";
import type { App } from "../../src/synth/cdktf";
import { BINDINGS_KEY } from "../../src/flow/model/deployment-contract";
import { MANIFEST_KEY } from "../../src/synth/collaboration";
import { SynthError } from "../../src/synth/synth-error";
import { accountWide, policy, synth, type Synthesized } from "./support";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";
const BUCKET = `glue-app-${ACCOUNT}-${REGION}`;

type Json = Record<string, unknown>;
type Stmt = ReturnType<typeof policy>["Statement"][number] & {
  Condition?: Record<string, Record<string, unknown>>;
};

/**
 * A private runtime bundle (stub router, the real driver from src/): the tests do not depend on
 * dist/, which a concurrent `npm run build` may be rewriting.
 */
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

/** A FlowSource whose root holds the handler modules inline targets reference. */
function source(app: Application): { toModel: () => ReturnType<Application["toModel"]>; root: string } {
  const root = mkdtempSync(join(tmpdir(), "sluice-batch-root-"));
  mkdirSync(join(root, "handlers"));
  writeFileSync(join(root, "handlers/run.ts"), "export async function run() { return undefined; }\n");
  return { toModel: () => app.toModel(), root };
}

function newApp(name = "glue-app"): Application {
  return new Application(name, { account: ACCOUNT, region: REGION });
}

/** Glue targets: sparkSql on 4.0 (twice) and 5.0, pySpark on 4.0 → three jobs. */
function glueFlow(): Application {
  const app = newApp();
  app.environment("prod", {
    account: "999988887777",
    region: REGION,
    datasets: { events: { bucket: "prod-raw", prefix: "ev" } },
  });
  const events = app.s3Dataset("events", {
    account: "444455556666",
    bucket: "raw",
    prefix: "events",
    dimensions: { day: dim.datetime({ format: "%Y-%m-%d" }) },
    encryptionKey: "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  });
  const customers = app.glueTable("customers", {
    database: "crm",
    table: "customers",
    dimensions: { region_id: dim.long() },
  });
  const a = app.data("a", { inputs: [events], compute: sparkSql("SELECT * FROM events") });
  app.data("b", {
    inputs: [a],
    compute: [
      sparkSql("SELECT 1 FROM a", { glueVersion: "5.0" }),
      pySpark("output = a", { glueVersion: "4.0" }),
    ],
  });
  app.data("c", { inputs: [a, customers.ref()], compute: sparkSql("SELECT 2 FROM a") });
  return app;
}

/** prestoSql targets reading an s3Dataset with STRING (filtered), LONG and DATETIME dimensions, a data node and a Glue table. */
function athenaFlow(): Application {
  const app = newApp("athena-app");
  const events = app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events/v1",
    partitions: ["region={}", "shard={}", "{}", "hour={}"],
    dimensions: {
      region: dim.string(),
      shard: dim.long({ digits: 3 }),
      day: dim.datetime({ format: "%Y-%m-%d" }),
      hour: dim.long(),
    },
    filter: { region: ["NA", "EU"] },
    format: "csv",
    encryptionKey: "alias/raw-data",
    metadata: {
      columns: [
        { name: "cid", type: "string" },
        { name: "amount", type: "double" },
      ],
    },
  });
  const customers = app.glueTable("customers", {
    database: "crm",
    table: "customers",
    dimensions: { region_id: dim.long() },
  });
  const clean = app.data("clean", {
    inputs: [events],
    compute: prestoSql("SELECT cid, amount FROM events"),
  });
  app.data("report", {
    inputs: [clean, customers.ref()],
    compute: prestoSql("SELECT count(*) AS n FROM clean"),
  });
  // A Glue node reading another dataset: Athena's router grants must not include it, nor Glue's the Athena one.
  const other = app.s3Dataset("other", {
    bucket: "other-bucket",
    prefix: "x",
    dimensions: { day: dim.datetime() },
  });
  app.data("spark", { inputs: [other], compute: sparkSql("SELECT * FROM other") });
  return app;
}

function emrServerlessFlow(label = "emr-7.2.0"): Application {
  const app = newApp("emrs-app");
  const events = app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events",
    dimensions: { day: dim.datetime() },
  });
  const a = app.data("a", {
    inputs: [events],
    compute: sparkSql("SELECT * FROM events", {
      engine: "emrServerless",
      emr: { releaseLabel: "emr-7.2.0" },
    }),
  });
  app.data("b", {
    inputs: [a],
    compute: pySpark("output = a", { emr: { serverless: true, releaseLabel: label } }),
  });
  return app;
}

function emrFlow(): Application {
  const app = newApp("emr-app");
  const events = app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events",
    dimensions: { day: dim.datetime() },
  });
  app.data("a", {
    inputs: [events],
    compute: sparkSql("SELECT * FROM events", {
      emr: { instanceType: "m5.xlarge", instanceCount: 3 },
      permissions: [
        {
          actions: ["dynamodb:GetItem"],
          resources: ["arn:aws:dynamodb:us-east-1:111122223333:table/lookup"],
        },
      ],
    }),
  });
  return app;
}

function inlineFlow(): Application {
  const app = newApp("inline-app");
  const t = app.timer("daily", "rate(1 day)", { dimension: "day" });
  app.data("a", { inputs: [t], compute: inline("handlers/run.ts#run") });
  return app;
}

const cache = new Map<string, Synthesized>();
function synthOf(name: string, app: () => Application, environment?: string): Synthesized {
  const key = `${name}/${environment ?? ""}`;
  let s = cache.get(key);
  if (!s) {
    s = synth({ app: source(app()), bundleDir: BUNDLE, ...(environment ? { environment } : {}) });
    cache.set(key, s);
  }
  return s;
}

const glue = (): Synthesized => synthOf("glue", glueFlow);
const athena = (): Synthesized => synthOf("athena", athenaFlow);
const emrs = (): Synthesized => synthOf("emrs", () => emrServerlessFlow());
const emr = (): Synthesized => synthOf("emr", emrFlow);
const inlineOnly = (): Synthesized => synthOf("inline", inlineFlow);

/** Logical id of the only resource of a type whose attribute `key` equals `value`. */
function idOf(s: Synthesized, type: string, key: string, value: unknown): string {
  const hits = Object.entries(s.resources(type)).filter(([, r]) => r[key] === value);
  if (hits.length !== 1)
    throw new Error(`expected one ${type} with ${key}=${String(value)}, found ${hits.length}`);
  return (hits[0] as [string, Json])[0];
}

/** The statements of the inline policy named `<app>-<what>-policy`. */
function statements(s: Synthesized, name: string): Stmt[] {
  const doc = Object.values(s.resources("aws_iam_role_policy")).find((p) => p.name === name);
  if (!doc) throw new Error(`no policy ${name}`);
  return policy(doc.policy).Statement as Stmt[];
}

function bySid(list: readonly Stmt[], sid: string): Stmt {
  const hit = list.find((x) => x.Sid === sid);
  if (!hit) throw new Error(`no statement ${sid} in ${list.map((x) => x.Sid).join(", ")}`);
  return hit;
}

const arr = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Keys of the S3 objects synth puts in the application's bucket (every flow publishes its manifest). */
function objectKeys(s: Synthesized): string[] {
  return Object.values(s.resources("aws_s3_object"))
    .map((o) => String(o.key))
    .sort();
}

/** The driver script object. */
function driver(s: Synthesized): Json {
  const found = Object.values(s.resources("aws_s3_object")).filter((o) => o.key === DRIVER_SCRIPT_KEY);
  if (found.length !== 1) throw new Error(`expected one driver object, found ${found.length}`);
  return found[0] as Json;
}

function routerEnv(s: Synthesized): Record<string, string> {
  const fn = s.only("aws_lambda_function") as { environment: { variables: Record<string, string> } };
  return fn.environment.variables;
}

// ---------------------------------------------------------------- resources per engine

describe("resources per engine", () => {
  test("Glue flow: driver object, Glue jobs, security configuration; no Athena, no EMR", () => {
    const s = glue();
    expect(objectKeys(s)).toEqual([DRIVER_SCRIPT_KEY, BINDINGS_KEY, MANIFEST_KEY]);
    expect(Object.keys(s.resources("aws_glue_job"))).toHaveLength(3);
    expect(Object.keys(s.resources("aws_glue_security_configuration"))).toHaveLength(1);
    expect(s.resources("aws_athena_workgroup")).toEqual({});
    expect(s.resources("aws_glue_catalog_table")).toEqual({});
    expect(s.resources("aws_emrserverless_application")).toEqual({});
    expect(s.resources("aws_iam_instance_profile")).toEqual({});
    // The application's database always exists.
    expect(s.only("aws_glue_catalog_database").name).toBe("glue_app_sluice");
  });

  test("Athena flow: workgroup and one table per s3Dataset / data node a prestoSql target reads", () => {
    const s = athena();
    expect(s.only("aws_athena_workgroup").name).toBe("athena-app-athena");
    const names = Object.values(s.resources("aws_glue_catalog_table")).map((t) => t.name);
    expect(names.sort()).toEqual(["clean", "events"]);
  });

  test("EMR Serverless flow: the Spark application, no Glue jobs", () => {
    const s = emrs();
    const a = s.only("aws_emrserverless_application");
    expect(a).toMatchObject({ name: "emrs-app-spark", release_label: "emr-7.2.0", type: "spark" });
    expect(a.auto_stop_configuration).toEqual({ enabled: true, idle_timeout_minutes: 15 });
    expect(s.resources("aws_glue_job")).toEqual({});
    expect(s.resources("aws_athena_workgroup")).toEqual({});
  });

  test("EMR flow: a service role with the EMR managed policy and an instance profile", () => {
    const s = emr();
    const roles = Object.values(s.resources("aws_iam_role")).map((r) => r.name);
    expect(roles).toEqual(
      expect.arrayContaining([
        accountWide("emr-app", "emr-service-role"),
        accountWide("emr-app", "emr-instance-role"),
      ]),
    );
    expect(s.only("aws_iam_role_policy_attachment").policy_arn).toBe(
      "arn:aws:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2",
    );
    expect(s.only("aws_iam_instance_profile")).toMatchObject({
      name: accountWide("emr-app", "emr-instance-profile"),
    });
    expect(s.resources("aws_emrserverless_application")).toEqual({});
  });

  test("inline-only flow: no driver, no engines, just the database", () => {
    const s = inlineOnly();
    expect(objectKeys(s)).toEqual([BINDINGS_KEY, MANIFEST_KEY]);
    for (const type of [
      "aws_glue_job",
      "aws_glue_security_configuration",
      "aws_athena_workgroup",
      "aws_glue_catalog_table",
      "aws_emrserverless_application",
    ]) {
      expect(s.resources(type)).toEqual({});
    }
    expect(Object.keys(s.resources("aws_glue_catalog_database"))).toHaveLength(1);
    const env = routerEnv(s);
    expect(
      Object.keys(env).filter((k) => k.startsWith("SLUICE_EMR") || k === "SLUICE_DRIVER_SCRIPT"),
    ).toEqual([]);
  });
});

// ---------------------------------------------------------------- driver script

describe("driver script", () => {
  test("is an S3 object under assets/spark/, from the built bundle", () => {
    const s = glue();
    const o = driver(s);
    expect(o.key).toBe(DRIVER_SCRIPT_KEY);
    expect(o.bucket).toMatch(/^\$\{aws_s3_bucket\.storage_bucket_[A-Z0-9]+\.id\}$/);
    expect(String(o.source)).toMatch(/^assets\/.+\/sluice_driver\.py$/);
    expect(o.source_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(s.stack.batchCompute.driverScriptUri).toBe(`s3://${BUCKET}/assets/spark/sluice_driver.py`);
  });

  test("CKV_AWS_186: the driver object is encrypted with the application's CMK", () => {
    const o = driver(glue());
    expect(o.server_side_encryption).toBe("aws:kms");
    expect(o.kms_key_id).toMatch(/^\$\{aws_kms_key\.storage_key_[A-Z0-9]+\.arn\}$/);
  });

  test("a missing bundle is a SynthError that says to run npm run build", () => {
    const empty = mkdtempSync(join(tmpdir(), "sluice-no-bundle-"));
    const run = (): unknown => synth({ app: source(glueFlow()), bundleDir: empty });
    expect(run).toThrow(SynthError);
    expect(run).toThrow(/npm run build/);
  });

  test("the default bundle dir is the package's dist/runtime-bundle", () => {
    expect(defaultBundleDir()).toBe(join(__dirname, "..", "..", "dist", "runtime-bundle"));
  });
});

// ---------------------------------------------------------------- Glue

describe("Glue", () => {
  test("one job per (language, Glue version) actually used", () => {
    const names = Object.values(glue().resources("aws_glue_job"))
      .map((j) => j.name)
      .sort();
    expect(names).toEqual(["glue-app-glue-python-4-0", "glue-app-glue-sql-4-0", "glue-app-glue-sql-5-0"]);
    expect(glueJobSpecs(glueFlow().toModel()).map((j) => `${j.language}/${j.glueVersion}`)).toEqual([
      "python/4.0",
      "sql/4.0",
      "sql/5.0",
    ]);
  });

  test("an environment's glueVersion override adds that version's job", () => {
    const app = glueFlow();
    // Every environment binds what "prod" binds (a location bound in one environment only is invalid).
    const datasets = { events: { bucket: "raw", prefix: "ev" } };
    app.environment("next", {
      account: ACCOUNT,
      region: REGION,
      datasets,
      compute: { c: { glueVersion: "5.0" } },
    });
    app.environment("py5", {
      account: ACCOUNT,
      region: REGION,
      datasets,
      compute: { b: { glueVersion: "5.0" } },
    });
    const model = app.toModel();
    expect(glueJobSpecs(model, "next").map((j) => j.name)).toHaveLength(3);
    expect(glueJobSpecs(model, "py5").map((j) => j.name)).toContain("glue-app-glue-python-5-0");
  });

  test("jobs run the driver with the Glue role, the security configuration and Sluice's arguments", () => {
    const s = glue();
    const roleId = idOf(s, "aws_iam_role", "name", accountWide("glue-app", "glue-role"));
    const secId = idOf(s, "aws_glue_security_configuration", "name", "glue-app-glue-security");
    for (const job of Object.values(s.resources("aws_glue_job"))) {
      expect(job.command).toEqual({
        name: "glueetl",
        python_version: "3",
        script_location: `s3://${BUCKET}/assets/spark/sluice_driver.py`,
      });
      expect(job.role_arn).toBe(`\${aws_iam_role.${roleId}.arn}`);
      expect(job.default_arguments).toMatchObject({
        "--enable-glue-datacatalog": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--job-language": "python",
        "--TempDir": `s3://${BUCKET}/assets/glue-temp/`,
      });
      expect(job).toMatchObject({
        worker_type: "G.1X",
        number_of_workers: 2,
        max_retries: 0,
        execution_property: { max_concurrent_runs: 100 },
      });
      expect(job.depends_on).toEqual([expect.stringMatching(/^aws_s3_object\.batch_driver_/)]);
      // CKV_AWS_195: a Glue job has a security configuration
      expect(job.security_configuration).toBe(`\${aws_glue_security_configuration.${secId}.name}`);
    }
  });

  test("CKV_AWS_99: the Glue security configuration encrypts S3, CloudWatch logs and job bookmarks", () => {
    const s = glue();
    const c = s.only("aws_glue_security_configuration").encryption_configuration as Record<string, Json>;
    expect(c.s3_encryption).toMatchObject({
      s3_encryption_mode: "SSE-KMS",
      kms_key_arn: expect.stringContaining("aws_kms_key.storage_key_"),
    });
    expect(c.cloudwatch_encryption).toMatchObject({
      cloudwatch_encryption_mode: "SSE-KMS",
      kms_key_arn: expect.stringContaining("aws_kms_key.batch_glue-key_"),
    });
    expect(c.job_bookmarks_encryption).toMatchObject({
      job_bookmarks_encryption_mode: "CSE-KMS",
      kms_key_arn: expect.stringContaining("aws_kms_key.batch_glue-key_"),
    });
  });

  test("CKV_AWS_7: the Glue key rotates, and its policy lets CloudWatch Logs use it for /aws-glue/* only", () => {
    const s = glue();
    const key = s.resources("aws_kms_key")[
      idOf(s, "aws_kms_key", "description", "Sluice glue-app (default): Glue job logs and bookmarks")
    ] as Json;
    expect(key.enable_key_rotation).toBe(true);
    const doc = JSON.parse(String(key.policy)) as {
      Statement: { Sid: string; Principal: Json; Condition?: Json }[];
    };
    const logs = doc.Statement.find((x) => x.Sid === "CloudWatchLogsOfGlue");
    expect(logs?.Principal).toEqual({ Service: "logs.us-east-1.amazonaws.com" });
    expect(logs?.Condition).toEqual({
      ArnLike: {
        "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/*`,
      },
    });
  });

  test("least privilege: the router can start, poll, list (crash recovery) and stop exactly the application's Glue jobs' runs", () => {
    const s = glue();
    const jobs = Object.keys(s.resources("aws_glue_job")).map((id) => `\${aws_glue_job.${id}.arn}`);
    const router = statements(s, "glue-app-router-policy");
    const runs = bySid(router, "BatchGlueJobRuns");
    expect(arr(runs.Action).sort()).toEqual([
      "glue:BatchStopJobRun",
      "glue:GetJobRun",
      "glue:GetJobRuns",
      "glue:StartJobRun",
    ]);
    expect(arr(runs.Resource).sort()).toEqual(jobs.sort());
    // No other statement of the router mentions Glue job runs.
    const others = router.filter(
      (x) => x !== runs && arr(x.Action).some((a) => a.startsWith("glue:") && a.includes("JobRun")),
    );
    expect(others).toEqual([]);
    expect(router.some((x) => arr(x.Action).includes("iam:PassRole"))).toBe(false);
  });

  test("least privilege: the Glue role reads the declared inputs, their key and tables, and writes internal_data only", () => {
    const g = statements(glue(), "glue-app-glue-policy");
    expect(arr(bySid(g, "BatchGlueReadInputs1").Resource)).toEqual(["arn:aws:s3:::raw/events/*"]);
    expect(bySid(g, "BatchGlueListInputs1").Condition).toEqual({
      StringLike: { "s3:prefix": ["events", "events/*"] },
    });
    expect(arr(bySid(g, "BatchGlueInputKeys").Resource)).toEqual([
      "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ]);
    expect(arr(bySid(g, "BatchGlueInputTables").Resource)).toEqual([
      `arn:aws:glue:${REGION}:${ACCOUNT}:catalog`,
      `arn:aws:glue:${REGION}:${ACCOUNT}:database/crm`,
      `arn:aws:glue:${REGION}:${ACCOUNT}:table/crm/customers`,
    ]);
    const writes = g.filter((x) => arr(x.Action).some((a) => a === "s3:PutObject"));
    expect(writes.flatMap((x) => arr(x.Resource)).sort()).toEqual([
      expect.stringMatching(/^\$\{aws_s3_bucket\.storage_bucket_[A-Z0-9]+\.arn\}\/assets\/glue-temp\/\*$/),
      expect.stringMatching(/^\$\{aws_s3_bucket\.storage_bucket_[A-Z0-9]+\.arn\}\/internal_data\/\*$/),
    ]);
    expect(arr(bySid(g, "BatchGlueLogs").Resource)).toEqual([
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/*`,
    ]);
  });

  test("environment bindings move the inputs the Glue role may read", () => {
    const s = synthOf("glue", glueFlow, "prod");
    const g = statements(s, "glue-app-glue-policy");
    expect(arr(bySid(g, "BatchGlueReadInputs1").Resource)).toEqual(["arn:aws:s3:::prod-raw/ev/*"]);
    expect(JSON.stringify(g)).not.toContain("arn:aws:s3:::raw/");
  });

  test("Glue 0.9 (Python 2) is a SynthError", () => {
    const app = newApp();
    const t = app.timer("t", "rate(1 day)", { dimension: "day" });
    app.data("a", { inputs: [t], compute: pySpark("output = None", { glueVersion: "0.9" }) });
    expect(() => synth({ app: source(app), bundleDir: BUNDLE })).toThrow(/Python 2/);
  });
});

// ---------------------------------------------------------------- Athena

describe("Athena", () => {
  test("CKV_AWS_82 / CKV_AWS_159: the workgroup enforces its configuration and encrypts results with the CMK", () => {
    const w = athena().only("aws_athena_workgroup") as { configuration: Json };
    expect(w.configuration.enforce_workgroup_configuration).toBe(true);
    expect(w.configuration.publish_cloudwatch_metrics_enabled).toBe(true);
    expect(w.configuration.result_configuration).toEqual({
      output_location: "s3://athena-app-111122223333-us-east-1/assets/athena-results/",
      encryption_configuration: {
        encryption_option: "SSE_KMS",
        kms_key_arn: expect.stringMatching(/^\$\{aws_kms_key\.storage_key_[A-Z0-9]+\.arn\}$/),
      },
    });
  });

  test("tables are external, in the application's database, at the data's root", () => {
    const s = athena();
    const dbId = idOf(s, "aws_glue_catalog_database", "name", "athena_app_sluice");
    const events = s.resources("aws_glue_catalog_table")[
      idOf(s, "aws_glue_catalog_table", "name", "events")
    ] as Json;
    expect(events.database_name).toBe(`\${aws_glue_catalog_database.${dbId}.name}`);
    expect(events.table_type).toBe("EXTERNAL_TABLE");
    const sd = events.storage_descriptor as Json;
    expect(sd.location).toBe("s3://raw/events/v1/");
    expect(sd.ser_de_info).toMatchObject({
      serialization_library: "org.apache.hadoop.hive.serde2.OpenCSVSerde",
    });
    expect(sd.columns).toEqual([
      { name: "cid", type: "string" },
      { name: "amount", type: "double" },
    ]);
    expect(events.partition_keys).toEqual([
      { name: "region", type: "string" },
      { name: "shard", type: "bigint" },
      { name: "day", type: "string" },
      { name: "hour", type: "bigint" },
    ]);
    const clean = s.resources("aws_glue_catalog_table")[
      idOf(s, "aws_glue_catalog_table", "name", "clean")
    ] as Json;
    expect((clean.storage_descriptor as Json).location).toBe(
      "s3://athena-app-111122223333-us-east-1/internal_data/clean/",
    );
    expect((clean.storage_descriptor as Json).input_format).toBe(
      "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    );
  });

  test("partition projection: enum for filtered values, integer for LONG, date for DATETIME, location template", () => {
    const s = athena();
    const events = s.resources("aws_glue_catalog_table")[
      idOf(s, "aws_glue_catalog_table", "name", "events")
    ] as Json;
    expect(events.parameters).toEqual({
      EXTERNAL: "TRUE",
      classification: "csv",
      "skip.header.line.count": "1",
      "projection.enabled": "true",
      "projection.region.type": "enum",
      "projection.region.values": "EU,NA", // the model keeps filter values sorted
      "projection.shard.type": "integer",
      "projection.shard.range": "0,999",
      "projection.shard.digits": "3",
      "projection.day.type": "date",
      "projection.day.format": "yyyy-MM-dd",
      "projection.day.range": "NOW-20YEARS,NOW+1DAYS",
      "projection.day.interval": "1",
      "projection.day.interval.unit": "DAYS",
      "projection.hour.type": "integer",
      "projection.hour.range": "-2147483648,2147483647",
      // Athena's placeholders, escaped for Terraform (which renders $${ as ${).
      "storage.location.template":
        "s3://raw/events/v1/region=$${region}/shard=$${shard}/$${day}/hour=$${hour}",
    });
  });

  test("a data node's table projects its bare-value segments under internal_data/<id>", () => {
    const s = athena();
    const clean = s.resources("aws_glue_catalog_table")[
      idOf(s, "aws_glue_catalog_table", "name", "clean")
    ] as Json;
    const p = clean.parameters as Record<string, string>;
    expect(p["projection.enabled"]).toBe("true");
    expect(p["storage.location.template"]).toBe(
      "s3://athena-app-111122223333-us-east-1/internal_data/clean/$${region}/$${shard}/$${day}/$${hour}",
    );
    expect(p["projection.region.type"]).toBe("enum");
    expect(p["projection.day.type"]).toBe("date");
  });

  test("strftime → Java DateTimeFormatter, and what cannot be a date projection is injected", () => {
    expect(javaDateFormat("%Y-%m-%d")).toBe("yyyy-MM-dd");
    expect(javaDateFormat("%Y%m%dT%H%M")).toBe("yyyyMMdd'T'HHmm");
    expect(javaDateFormat("%Y/%j")).toBe("yyyy/DDD");
    expect(javaDateFormat("%Y-%m-%d %H:%M:%S")).toBe("yyyy-MM-dd HH:mm:ss");
    expect(javaDateFormat("%Y-%U")).toBeUndefined();
    const hourly = projectionOf(
      { name: "ts", type: "DATETIME", format: "%Y-%m-%d-%H", granularity: "HOUR" },
      "ts",
      "*",
    );
    expect(hourly).toMatchObject({
      "projection.ts.format": "yyyy-MM-dd-HH",
      "projection.ts.interval.unit": "HOURS",
    });
    const monthly = projectionOf(
      { name: "m", type: "DATETIME", format: "%Y-%m", granularity: "MONTH" },
      "m",
      "*",
    );
    expect(monthly["projection.m.interval.unit"]).toBe("MONTHS");
    // A weekly dimension, a format finer than the granularity, an unfiltered string: injected.
    expect(
      projectionOf({ name: "w", type: "DATETIME", format: "%Y-%U", granularity: "WEEK" }, "w", "*"),
    ).toEqual({
      "projection.w.type": "injected",
    });
    expect(
      projectionOf({ name: "d", type: "DATETIME", format: "%Y-%m-%d %H", granularity: "DAY" }, "d", "*"),
    ).toEqual({
      "projection.d.type": "injected",
    });
    expect(projectionOf({ name: "s", type: "STRING" }, "s", "*")).toEqual({
      "projection.s.type": "injected",
    });
    // Filtered values of any type are an enum (LONG values rendered with their digits).
    expect(projectionOf({ name: "n", type: "LONG", digits: 2 }, "n", [1, 12])).toEqual({
      "projection.n.type": "enum",
      "projection.n.values": "01,12",
    });
  });

  test("least privilege: the router queries only its workgroup, its tables and the declared inputs", () => {
    const s = athena();
    const router = statements(s, "athena-app-router-policy");
    const wgId = idOf(s, "aws_athena_workgroup", "name", "athena-app-athena");
    const q = bySid(router, "BatchAthenaQueries");
    expect(arr(q.Action).sort()).toEqual([
      "athena:GetQueryExecution",
      "athena:StartQueryExecution",
      "athena:StopQueryExecution",
    ]);
    expect(arr(q.Resource)).toEqual([`\${aws_athena_workgroup.${wgId}.arn}`]);
    expect(arr(bySid(router, "BatchAthenaCatalog").Resource)).toEqual([
      `arn:aws:glue:${REGION}:${ACCOUNT}:catalog`,
      `arn:aws:glue:${REGION}:${ACCOUNT}:database/athena_app_sluice`,
      `arn:aws:glue:${REGION}:${ACCOUNT}:table/athena_app_sluice/clean`,
      `arn:aws:glue:${REGION}:${ACCOUNT}:table/athena_app_sluice/events`,
    ]);
    expect(arr(bySid(router, "BatchAthenaInputTables").Resource)).toContain(
      `arn:aws:glue:${REGION}:${ACCOUNT}:table/crm/customers`,
    );
    expect(arr(bySid(router, "BatchAthenaReadInputs1").Resource)).toEqual(["arn:aws:s3:::raw/events/v1/*"]);
    // An alias names the input's key through kms:ResourceAliases.
    expect(bySid(router, "BatchAthenaInputKeyAlias1")).toMatchObject({
      Resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/*`,
      Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/raw-data" } },
    });
    const athenaStatements = router.filter((x) => x.Sid?.startsWith("BatchAthena"));
    expect(JSON.stringify(athenaStatements)).not.toContain("other-bucket");
    const write = bySid(router, "BatchAthenaWrite");
    expect(arr(write.Resource)).toEqual([
      expect.stringMatching(/\/internal_data\/\*$/),
      expect.stringMatching(/\/assets\/athena-results\/\*$/),
    ]);
    // …and the Glue role of the Spark node reads its own input only.
    const g = statements(s, "athena-app-glue-policy");
    expect(JSON.stringify(g)).toContain("arn:aws:s3:::other-bucket/x/*");
    expect(JSON.stringify(g)).not.toContain("arn:aws:s3:::raw/");
  });

  test("columns: an object suits formats read by name; csv needs a list (positional)", () => {
    const flow = (format: "parquet" | "csv"): Application => {
      const app = newApp("cols-app");
      const ds = app.s3Dataset("ds", {
        bucket: "raw",
        dimensions: { day: dim.datetime() },
        format,
        metadata: { columns: { b: "int", a: "string" } },
      });
      app.data("q", { inputs: [ds], compute: prestoSql("SELECT a FROM ds") });
      return app;
    };
    const s = synth({ app: source(flow("parquet")), bundleDir: BUNDLE });
    const t = s.only("aws_glue_catalog_table") as { storage_descriptor: Json };
    expect(t.storage_descriptor.columns).toEqual([
      { name: "a", type: "string" },
      { name: "b", type: "int" },
    ]);
    expect(() => synth({ app: source(flow("csv")), bundleDir: BUNDLE })).toThrow(/positional/);
  });

  test("a Glue table's location is the catalog's: read at plan time, into the bindings object, and granted to its readers", () => {
    const s = athena();
    expect(s.stack.batchCompute.tableLocations).toEqual({
      customers: "${local.sluice_tables.customers.location}",
    });
    expect(routerEnv(s).SLUICE_TABLE_LOCATIONS).toBeUndefined();
    const table = Object.values(s.json.data?.aws_glue_catalog_table ?? {});
    expect(table).toHaveLength(1);
    const bindings = Object.values(s.resources("aws_s3_object")).find((o) => o.key === BINDINGS_KEY);
    expect(String(bindings?.content)).toContain(
      'tableLocations = { "customers" = local.sluice_tables.customers.location }',
    );
    const reads = statements(s, "athena-app-router-policy").filter((st) =>
      String(st.Sid).startsWith("BatchAthenaTableData"),
    );
    expect(reads.map((st) => st.Action)).toEqual([
      "s3:GetObject",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "kms:Decrypt",
    ]);
  });
});

// ---------------------------------------------------------------- EMR

describe("EMR", () => {
  test("EMR Serverless: router environment names the application, the execution role and the driver", () => {
    const s = emrs();
    const appId = Object.keys(s.resources("aws_emrserverless_application"))[0];
    const roleId = idOf(s, "aws_iam_role", "name", accountWide("emrs-app", "emr-role"));
    expect(routerEnv(s)).toMatchObject({
      SLUICE_EMR_SERVERLESS_APP_ID: `\${aws_emrserverless_application.${appId}.id}`,
      SLUICE_EMR_EXECUTION_ROLE: `\${aws_iam_role.${roleId}.arn}`,
      SLUICE_DRIVER_SCRIPT: "s3://emrs-app-111122223333-us-east-1/assets/spark/sluice_driver.py",
    });
    expect(routerEnv(s).SLUICE_EMR_SERVICE_ROLE).toBeUndefined();
  });

  test("EMR Serverless: logs go to the bucket, encrypted with the CMK", () => {
    const a = emrs().only("aws_emrserverless_application") as { monitoring_configuration: Json };
    expect(a.monitoring_configuration.s3_monitoring_configuration).toEqual({
      log_uri: "s3://emrs-app-111122223333-us-east-1/assets/emr-serverless-logs/",
      encryption_key_arn: expect.stringMatching(/^\$\{aws_kms_key\.storage_key_/),
    });
  });

  test("least privilege: the router runs jobs on the application only and passes the EMR role to EMR Serverless only", () => {
    const s = emrs();
    const appId = Object.keys(s.resources("aws_emrserverless_application"))[0];
    const roleId = idOf(s, "aws_iam_role", "name", accountWide("emrs-app", "emr-role"));
    const router = statements(s, "emrs-app-router-policy");
    const runs = bySid(router, "BatchEmrServerlessJobRuns");
    expect(arr(runs.Resource)).toEqual([
      `\${aws_emrserverless_application.${appId}.arn}`,
      `\${aws_emrserverless_application.${appId}.arn}/jobruns/*`,
    ]);
    expect(bySid(router, "BatchEmrServerlessPassRole")).toMatchObject({
      Action: "iam:PassRole",
      Resource: `\${aws_iam_role.${roleId}.arn}`,
      Condition: { StringLike: { "iam:PassedToService": "emr-serverless.amazonaws.com" } },
    });
    const e = statements(s, "emrs-app-emr-policy");
    expect(arr(bySid(e, "BatchEmrServerlessReadInputs1").Resource)).toEqual(["arn:aws:s3:::raw/events/*"]);
  });

  test("EMR Serverless targets with different release labels are a SynthError", () => {
    expect(() => synth({ app: source(emrServerlessFlow("emr-6.15.0")), bundleDir: BUNDLE })).toThrow(
      /several release labels/,
    );
  });

  test("EMR on EC2: router environment and grants (RunJobFlow and ListClusters are the actions without resources)", () => {
    const s = emr();
    const profileId = Object.keys(s.resources("aws_iam_instance_profile"))[0];
    const serviceId = idOf(s, "aws_iam_role", "name", accountWide("emr-app", "emr-service-role"));
    const instanceId = idOf(s, "aws_iam_role", "name", accountWide("emr-app", "emr-instance-role"));
    expect(routerEnv(s)).toMatchObject({
      SLUICE_EMR_SERVICE_ROLE: `\${aws_iam_role.${serviceId}.name}`,
      SLUICE_EMR_JOB_FLOW_ROLE: `\${aws_iam_instance_profile.${profileId}.name}`,
      SLUICE_EMR_LOG_URI: "s3://emr-app-111122223333-us-east-1/assets/emr-logs/",
      SLUICE_DRIVER_SCRIPT: "s3://emr-app-111122223333-us-east-1/assets/spark/sluice_driver.py",
    });
    const router = statements(s, "emr-app-router-policy");
    expect(bySid(router, "BatchEmrRunJobFlow")).toMatchObject({
      Action: "elasticmapreduce:RunJobFlow",
      Resource: "*",
    });
    // Crash recovery finds a transient cluster by its name among the active clusters.
    expect(bySid(router, "BatchEmrListClusters")).toMatchObject({
      Action: "elasticmapreduce:ListClusters",
      Resource: "*",
    });
    expect(bySid(router, "BatchEmrSteps").Resource).toBe(
      `arn:aws:elasticmapreduce:${REGION}:${ACCOUNT}:cluster/*`,
    );
    expect(bySid(router, "BatchEmrPassServiceRole")).toMatchObject({
      Resource: `\${aws_iam_role.${serviceId}.arn}`,
      Condition: { StringLike: { "iam:PassedToService": "elasticmapreduce.amazonaws.com*" } },
    });
    expect(bySid(router, "BatchEmrPassInstanceRole")).toMatchObject({
      Resource: `\${aws_iam_role.${instanceId}.arn}`,
      Condition: { StringLike: { "iam:PassedToService": "ec2.amazonaws.com*" } },
    });
  });

  test("EMR on EC2: the instance role reads the inputs, writes internal data and logs, and carries the targets' permissions", () => {
    const i = statements(emr(), "emr-app-emr-instance-policy");
    expect(arr(bySid(i, "BatchEmrReadInputs1").Resource)).toEqual(["arn:aws:s3:::raw/events/*"]);
    expect(arr(bySid(i, "BatchEmrLogs").Resource)).toEqual([
      expect.stringMatching(/\/assets\/emr-logs\/\*$/),
    ]);
    expect(bySid(i, "Usera1")).toMatchObject({
      Action: "dynamodb:GetItem",
      Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/lookup",
    });
  });
});

// ---------------------------------------------------------------- least privilege across the component

describe('CKV_AWS_355 / CKV_AWS_290: no Resource "*" except the listed statements', () => {
  test.each([
    ["glue", glue],
    ["athena", athena],
    ["emr-serverless", emrs],
    ["emr", emr],
  ])("%s flow", (_name, flow) => {
    const s = flow();
    const mine = Object.values(s.resources("aws_iam_role_policy"))
      .flatMap((p) => policy(p.policy).Statement as Stmt[])
      .filter((x) => x.Sid?.startsWith("Batch"));
    expect(mine.length).toBeGreaterThan(0);
    const wildcards = mine.filter((x) => arr(x.Resource).some((r) => r === "*"));
    for (const w of wildcards) expect(Object.keys(WILDCARD_STATEMENTS)).toContain(w.Sid);
    // No action wildcards either (service:* or Get*).
    expect(mine.flatMap((x) => arr(x.Action)).filter((a) => a.includes("*"))).toEqual([]);
  });

  test("the wildcard statements are scoped as far as AWS allows", () => {
    const g = bySid(statements(glue(), "glue-app-glue-policy"), "BatchGlueMetrics");
    expect(g).toMatchObject({
      Action: "cloudwatch:PutMetricData",
      Condition: { StringEquals: { "cloudwatch:namespace": "Glue" } },
    });
  });
});

test("the driver asset is the bundle's driver, copied beside the stack", () => {
  const s = glue();
  const o = driver(s);
  const outdir = (s.stack.node.scope as App).outdir;
  const copied = readFileSync(join(outdir, "stacks", "stack", String(o.source)), "utf8");
  expect(copied).toBe(readFileSync(join(BUNDLE, "spark", "sluice_driver.py"), "utf8"));
  expect(copied).toContain("--sluice_spec");
});
