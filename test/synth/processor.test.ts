/**
 * Processor: the router Lambda, its code asset, queues, EventBridge rules and the router's grants,
 * asserted on the synthesized Terraform JSON. Security assertions carry the Checkov id they match.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  anyOf,
  Application,
  custom,
  dim,
  inline,
  link,
  prestoSql,
  pySpark,
  sparkSql,
  type FlowModel,
} from "sluice";
import { canonicalJson } from "../../src/flow/model/canonical-json";
import { resourceNames } from "../../src/flow/model/resource-names";
import { adaptEvent } from "../../src/runtime-bundle/aws/events/adapt";
import { PARTITION_CREATIONS } from "../../src/runtime-bundle/aws/events/glue-catalog";
import { SourceIndex } from "../../src/runtime-bundle/aws/events/source-index";
import { MODEL_FILE, USER_CODE_FILE } from "../../src/runtime-bundle/aws/handler";
import { WILDCARD_STATEMENTS } from "../../src/synth/batch-compute";
import { readZip } from "../../src/synth/code-package";
import {
  BUNDLE_FILES,
  CODE_PACKAGE_FILE,
  GLUE_PARTITION_CHANGES,
  defaultBundleDir,
  type ProcessorSizing,
} from "../../src/synth/processor";
import { Token } from "../../src/synth/cdktf";
import { SynthError } from "../../src/synth/synth-error";
import { BINDINGS_KEY } from "../../src/flow/model/deployment-contract";
import { matchesPattern, type EventPattern } from "../deployment/twin/event-pattern";
import { accountWide, policy, synth, type Synthesized } from "./support";

// A loaded CI machine needs more than 5 s for the first synths (loading cdktf and the provider).
jest.setTimeout(60_000);

// ---------------------------------------------------------------- fixtures

import { VECTORS } from "../support/vectors";
const ACCOUNT = "111122223333";
const PROD = "999988887777";
const EVENTS_KEY = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/** A folder of user code: handlers, a helper module they import, custom mappers. */
function userCodeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "sluice-processor-"));
  mkdirSync(join(root, "handlers", "lib"), { recursive: true });
  writeFileSync(
    join(root, "handlers", "lib", "tag.ts"),
    `export function tag(what: string): string { return "tagged:" + what; }\n`,
  );
  writeFileSync(
    join(root, "handlers", "page.ts"),
    [
      `import { tag } from "./lib/tag";`,
      `export const page = async () => tag("page");`,
      `export const onFailure = () => tag("failure");`,
      `export function checkpoint() { return tag("checkpoint"); }`,
      ``,
    ].join("\n"),
  );
  writeFileSync(
    join(root, "handlers", "mappers.ts"),
    [
      `const ids: Record<string, number> = { NA: 1, EU: 2, JP: 3 };`,
      `export const regionId = (v: string[]) => ids[v[0]];`,
      `export const regionName = (v: number[]) => Object.keys(ids).find((k) => ids[k] === v[0]);`,
      ``,
    ].join("\n"),
  );
  return root;
}

/**
 * A flow with every kind of event source and every engine: an s3Dataset with a prefix and one
 * without, a glueTable, two timers (one with a long id), an external alarm and a composite alarm used
 * as inputs, an alarm that is not an input, and Glue, Athena, EMR, EMR Serverless and inline targets.
 */
function fullApp(root: string): Application {
  const app = new Application("proc-test", { account: ACCOUNT, region: "us-east-1", root });
  app.environment("prod", {
    account: PROD,
    region: "us-east-1",
    datasets: { events: { bucket: "prod-raw", prefix: "landing/events", encryptionKey: "alias/raw-data" } },
    config: { threshold: 10 },
  });
  const events = app.s3Dataset("events", {
    account: "444455556666",
    bucket: "raw",
    prefix: "events",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
    filter: { region: ["NA", "EU", "JP"] },
    encryptionKey: EVENTS_KEY,
  });
  const whole = app.s3Dataset("whole", { bucket: "whole-bucket", dimensions: { day: dim.datetime() } });
  const customers = app.glueTable("customers", {
    database: "crm",
    table: "customers",
    dimensions: { region_id: dim.long() },
  });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  const noon = app.timer(
    "a_timer_whose_id_is_long_enough_to_need_a_hash_in_its_rule_name",
    "cron(0 12 * * ? *)",
    {
      dimension: "day",
    },
  );
  const upstream = app.externalAlarm("upstream_health", {
    account: "222233334444",
    region: "us-west-2",
    alarmName: "foo-availability",
  });
  const joined = app.data("joined", {
    inputs: [daily, events, customers.ref()],
    links: [
      link(
        customers.dim("region_id"),
        custom("handlers/mappers.ts#regionId", { inverse: "handlers/mappers.ts#regionName" }),
        events.dim("region"),
      ),
    ],
    output: { region: dim.string(), day: dim.datetime() },
    compute: sparkSql("SELECT * FROM events"),
  });
  app.data("whole_copy", {
    inputs: [whole, noon],
    compute: pySpark("output = whole", { emr: { serverless: true } }),
  });
  app.data("queried", { inputs: [joined], compute: prestoSql("SELECT 1") });
  app.data("on_emr", {
    inputs: [joined],
    compute: pySpark("output = joined", { emr: { instanceCount: 2 } }),
  });
  const failures = app.alarm("joined_failures", {
    metric: app.routeMetrics(joined).get("ExecutionFailure"),
    statistic: "Sum",
    periodSeconds: 300,
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
  });
  // A composite names alarms of its own account only; another account's alarm is a data input (on_upstream).
  const monitor = app.compositeAlarm("monitor", { rule: anyOf(failures.is("ALARM")) });
  app.data("on_alarm", {
    inputs: [monitor.is("ALARM")],
    compute: inline("handlers/page.ts#page"),
    hooks: {
      onFailure: "handlers/page.ts#onFailure",
      checkpoints: [{ afterSeconds: 600, handler: "handlers/page.ts#checkpoint" }],
    },
  });
  app.data("on_upstream", { inputs: [upstream.is("ALARM")], compute: inline("handlers/page.ts#page") });
  return app;
}

/** The bindings object of a synthesized stack. */
function bindingsObject(x: Synthesized): Record<string, unknown> {
  const found = Object.values(x.resources("aws_s3_object")).find((o) => o.key === BINDINGS_KEY);
  if (!found) throw new Error("no bindings object");
  return found;
}

/** A small flow: one dataset, one inline target. */
function smallApp(root: string, compute = inline("handlers/page.ts#page")): Application {
  const app = new Application("small", { account: ACCOUNT, region: "us-east-1", root });
  const events = app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events",
    dimensions: { day: dim.datetime() },
  });
  app.data("copy", { inputs: [events], compute });
  return app;
}

type Resource = Record<string, unknown>;

/** `${aws_type.logical.attr}` of the resource of a type whose JSON satisfies `where`. */
function ref(
  s: Synthesized,
  type: string,
  attr: string,
  where: (r: Resource) => boolean = () => true,
): string {
  const hits = Object.entries(s.resources(type)).filter(([, r]) => where(r));
  if (hits.length !== 1) throw new Error(`expected one ${type}, found ${hits.length}`);
  return `\${${type}.${hits[0][0]}.${attr}}`;
}

function fn(s: Synthesized): Resource {
  return s.only("aws_lambda_function");
}

function queue(s: Synthesized, suffix: string): Resource {
  const q = Object.values(s.resources("aws_sqs_queue")).find((r) => String(r.name).endsWith(suffix));
  if (!q) throw new Error(`no queue named *${suffix}`);
  return q;
}

function rules(s: Synthesized): Resource[] {
  return Object.values(s.resources("aws_cloudwatch_event_rule"));
}

function rule(s: Synthesized, name: string): Resource {
  const r = rules(s).find((x) => x.name === name);
  if (!r)
    throw new Error(
      `no rule ${name} (rules: ${rules(s)
        .map((x) => String(x.name))
        .join(", ")})`,
    );
  return r;
}

function pattern(r: Resource): Record<string, unknown> {
  return JSON.parse(String(r.event_pattern)) as Record<string, unknown>;
}

type PolicyStatement = ReturnType<typeof policy>["Statement"][number] & {
  Condition?: Record<string, Record<string, string | string[]>>;
};

function routerStatements(s: Synthesized): PolicyStatement[] {
  const roleRef = ref(s, "aws_iam_role", "id", (r) => String(r.name).startsWith("proc-test-router-role-"));
  const docs = Object.values(s.resources("aws_iam_role_policy")).filter((p) => p.role === roleRef);
  expect(docs).toHaveLength(1);
  return policy(docs[0].policy).Statement as PolicyStatement[];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** EventBridge pattern matching: the deployment twin's faithful matcher. */
function matches(pat: unknown, value: unknown): boolean {
  return matchesPattern(pat as EventPattern, value);
}

/** A sample event of test/fixtures/aws-events, loosely typed so that a test can edit it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- sample JSON edited in place
type Sample = Record<string, any>;

function vector(name: string): Sample {
  return JSON.parse(readFileSync(join(VECTORS, name), "utf8")) as Sample;
}

// ---------------------------------------------------------------- synthesized once per environment

let root: string;
let s: Synthesized;
let prod: Synthesized;
let model: FlowModel;

/** Synthesized on first use and shared. */
function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
/** The full flow again, from the same root. */
const again = memo(() => synth({ app: fullApp(root) }, "again"));
/** The small flow with every sizing prop set. */
const SIZING: ProcessorSizing = {
  memoryMb: 2048,
  timeoutSeconds: 120,
  reservedConcurrency: 20,
  logRetentionDays: 365,
  sweeperSchedule: "rate(2 minutes)",
};
const sized = memo(() => synth({ app: smallApp(userCodeRoot()), processor: SIZING }));
/** The small flow with default sizing. */
const small = memo(() => synth({ app: smallApp(userCodeRoot()) }));

beforeAll(() => {
  root = userCodeRoot();
  const app = fullApp(root);
  model = app.toModel();
  s = synth({ app });
  prod = synth({ app, environment: "prod" }, "prod");
});

// ---------------------------------------------------------------- function

describe("router function", () => {
  test("Node 22 on arm64, the bundle's handler, the router role, default sizing", () => {
    const f = fn(s);
    expect(f.function_name).toBe(resourceNames.routerFunction("proc-test"));
    expect(f.runtime).toBe("nodejs22.x");
    expect(f.architectures).toEqual(["arm64"]);
    expect(f.handler).toBe("index.handler");
    expect(f.role).toBe(
      ref(s, "aws_iam_role", "arn", (r) => r.name === accountWide("proc-test", "router-role")),
    );
    expect(f.memory_size).toBe(1024);
    expect(f.timeout).toBe(300);
    expect(f.reserved_concurrent_executions).toBeUndefined();
  });

  test("sizing props reach the function, queue, log group and sweeper", () => {
    const f = fn(sized());
    expect(f.memory_size).toBe(2048);
    expect(f.timeout).toBe(120);
    expect(queue(sized(), "-internal").visibility_timeout_seconds).toBe(720);
    expect(sized().only("aws_cloudwatch_log_group").retention_in_days).toBe(365);
    expect(rule(sized(), resourceNames.sweeperRule("small")).schedule_expression).toBe("rate(2 minutes)");
  });

  test("CKV_AWS_115 reserved concurrency when sized", () => {
    expect(fn(sized()).reserved_concurrent_executions).toBe(20);
  });

  test("invalid sizing is a SynthError naming each problem", () => {
    expect(() =>
      synth({
        app: smallApp(userCodeRoot()),
        processor: {
          memoryMb: 64,
          timeoutSeconds: 1000,
          logRetentionDays: 42,
          sweeperSchedule: "every 5 min",
        },
      }),
    ).toThrow(/memoryMb 64.*timeoutSeconds 1000.*logRetentionDays 42.*sweeperSchedule/);
  });

  test("CKV_AWS_50 tracing on", () => {
    expect(fn(s).tracing_config).toEqual({ mode: "Active" });
  });

  test("CKV_AWS_173 environment variables encrypted with the application's key", () => {
    expect(fn(s).kms_key_arn).toBe(
      ref(s, "aws_kms_key", "arn", (r) => String(r.description).includes("data")),
    );
  });

  test("CKV_AWS_116 dead-letter queue of asynchronous invocations", () => {
    expect(fn(s).dead_letter_config).toEqual({
      target_arn: ref(s, "aws_sqs_queue", "arn", (q) => q.name === "proc-test-dlq"),
    });
  });

  test("tagged with application and environment", () => {
    expect(fn(prod).tags).toEqual({ "sluice:application": "proc-test", "sluice:environment": "prod" });
  });

  test("environment: exactly the router's variables, wired to the table, bucket and queues", () => {
    const vars = (fn(s).environment as { variables: Record<string, string> }).variables;
    expect(Object.keys(vars).sort()).toEqual(
      [
        "SLUICE_BINDINGS",
        "SLUICE_BINDINGS_SHA256",
        "SLUICE_BUCKET",
        "SLUICE_DLQ_URL",
        "SLUICE_DRIVER_SCRIPT",
        "SLUICE_EMR_EXECUTION_ROLE",
        "SLUICE_EMR_JOB_FLOW_ROLE",
        "SLUICE_EMR_LOG_URI",
        "SLUICE_EMR_SERVERLESS_APP_ID",
        "SLUICE_EMR_SERVICE_ROLE",
        "SLUICE_EMR_SUBNET_ID",
        "SLUICE_ENV",
        "SLUICE_INTERNAL_QUEUE_URL",
        "SLUICE_TABLE",
      ].sort(),
    );
    expect(vars.SLUICE_TABLE).toBe(ref(s, "aws_dynamodb_table", "name"));
    expect(vars.SLUICE_BUCKET).toBe(ref(s, "aws_s3_bucket", "bucket"));
    expect(vars.SLUICE_ENV).toBe("default");
    expect(vars.SLUICE_DLQ_URL).toBe(ref(s, "aws_sqs_queue", "url", (q) => q.name === "proc-test-dlq"));
    expect(vars.SLUICE_INTERNAL_QUEUE_URL).toBe(
      ref(s, "aws_sqs_queue", "url", (q) => q.name === "proc-test-internal"),
    );
    // Bindings and table locations are an object of their own (Lambda's environment holds 4 KB).
    expect(vars.SLUICE_BINDINGS).toBe(`s3://${ref(s, "aws_s3_bucket", "bucket")}/${BINDINGS_KEY}`);
    expect(vars.SLUICE_BINDINGS_SHA256).toBe(
      `\${sha256(${ref(s, "aws_s3_object", "content", (o) => o.key === BINDINGS_KEY).slice(2, -1)})}`,
    );
    expect(String(bindingsObject(s).content)).toBe(
      '${jsonencode({ datasets = jsondecode("{}"), tableLocations = { "customers" = local.sluice_tables.customers.location } })}',
    );
    // Batch compute's variables, as it computed them.
    for (const [k, v] of Object.entries(s.stack.batchCompute.routerEnvironment)) {
      expect(vars[k]).toEqual(Token.isUnresolved(v) ? expect.stringMatching(/\$\{/) : v);
    }
  });

  test("environment of an environment: its name and its dataset bindings", () => {
    const vars = (fn(prod).environment as { variables: Record<string, string> }).variables;
    expect(vars.SLUICE_ENV).toBe("prod");
    // Every bound field: the router binds them all into its model (format and key included).
    const content = String(bindingsObject(prod).content);
    const json = /jsondecode\(("(?:[^"\\]|\\.)*")\)/.exec(content)?.[1] as string;
    expect(JSON.parse(JSON.parse(json) as string)).toEqual({
      events: { bucket: "prod-raw", prefix: "landing/events", encryptionKey: "alias/raw-data" },
    });
  });

  test("an application without Spark has no engine variables", () => {
    const vars = (fn(small()).environment as { variables: Record<string, string> }).variables;
    expect(Object.keys(vars).sort()).toEqual([
      "SLUICE_BINDINGS",
      "SLUICE_BINDINGS_SHA256",
      "SLUICE_BUCKET",
      "SLUICE_DLQ_URL",
      "SLUICE_ENV",
      "SLUICE_INTERNAL_QUEUE_URL",
      "SLUICE_TABLE",
    ]);
  });
});

// ---------------------------------------------------------------- log group

describe("log group", () => {
  test("named for the function, which logs to it", () => {
    const group = s.only("aws_cloudwatch_log_group");
    expect(group.name).toBe(`/aws/lambda/${resourceNames.routerFunction("proc-test")}`);
    expect(fn(s).logging_config).toEqual({
      log_format: "Text",
      log_group: ref(s, "aws_cloudwatch_log_group", "name"),
    });
  });

  test("CKV_AWS_158 log group encrypted with a KMS key that lets CloudWatch Logs use it for this group only", () => {
    const group = s.only("aws_cloudwatch_log_group");
    const keyRef = ref(s, "aws_kms_key", "arn", (k) => String(k.description).includes("logs of the router"));
    expect(group.kms_key_id).toBe(keyRef);
    const key = Object.values(s.resources("aws_kms_key")).find((k) =>
      String(k.description).includes("logs of the router"),
    );
    expect(key?.enable_key_rotation).toBe(true); // CKV_AWS_7
    const statements = (JSON.parse(String(key?.policy)) as { Statement: Record<string, unknown>[] })
      .Statement;
    const logs = statements.find((x) => x.Sid === "CloudWatchLogsOfTheRouter");
    expect(logs?.Principal).toEqual({ Service: "logs.us-east-1.amazonaws.com" });
    expect(logs?.Condition).toEqual({
      ArnEquals: {
        "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/proc-test-router`,
      },
    });
  });

  test("CKV_AWS_66 log group retention set (90 days by default)", () => {
    expect(s.only("aws_cloudwatch_log_group").retention_in_days).toBe(90);
  });

  test("CKV_AWS_338 one-year retention when logRetentionDays says so", () => {
    expect(sized().only("aws_cloudwatch_log_group").retention_in_days).toBeGreaterThanOrEqual(365);
  });
});

// ---------------------------------------------------------------- queues

describe("queues", () => {
  test("CKV_AWS_27 both queues encrypted with the application's key", () => {
    const key = ref(s, "aws_kms_key", "arn", (r) => String(r.description).includes("data"));
    for (const suffix of ["-dlq", "-internal"]) expect(queue(s, suffix).kms_master_key_id).toBe(key);
  });

  test("dead-letter queue keeps messages 14 days", () => {
    const dlq = queue(s, "-dlq");
    expect(dlq.name).toBe(resourceNames.deadLetterQueue("proc-test"));
    expect(dlq.message_retention_seconds).toBe(14 * 24 * 3600);
  });

  test("internal queue: visibility ≥ 6× the function timeout, redrive to the DLQ after 5 receives", () => {
    const internal = queue(s, "-internal");
    expect(internal.name).toBe(resourceNames.internalQueue("proc-test"));
    expect(Number(internal.visibility_timeout_seconds)).toBeGreaterThanOrEqual(6 * Number(fn(s).timeout));
    expect(JSON.parse(String(internal.redrive_policy))).toEqual({
      deadLetterTargetArn: ref(s, "aws_sqs_queue", "arn", (q) => q.name === "proc-test-dlq"),
      maxReceiveCount: 5,
    });
  });

  test("the internal queue feeds the function with partial batch responses", () => {
    const mapping = s.only("aws_lambda_event_source_mapping");
    expect(mapping.event_source_arn).toBe(
      ref(s, "aws_sqs_queue", "arn", (q) => q.name === "proc-test-internal"),
    );
    expect(mapping.function_name).toBe(ref(s, "aws_lambda_function", "arn"));
    expect(mapping.function_response_types).toEqual(["ReportBatchItemFailures"]);
  });
});

// ---------------------------------------------------------------- rules

describe("EventBridge rules", () => {
  test("every rule targets the function, which lets EventBridge invoke it for that rule only (CKV_AWS_364)", () => {
    const targets = Object.values(s.resources("aws_cloudwatch_event_target"));
    const permissions = Object.values(s.resources("aws_lambda_permission"));
    const fnArn = ref(s, "aws_lambda_function", "arn");
    const fnName = ref(s, "aws_lambda_function", "function_name");
    const ruleIds = Object.keys(s.resources("aws_cloudwatch_event_rule"));
    expect(targets).toHaveLength(ruleIds.length);
    expect(permissions).toHaveLength(ruleIds.length);
    for (const id of ruleIds) {
      const target = targets.filter((t) => t.rule === `\${aws_cloudwatch_event_rule.${id}.name}`);
      expect(target).toHaveLength(1);
      expect(target[0].arn).toBe(fnArn);
      const permission = permissions.filter(
        (p) => p.source_arn === `\${aws_cloudwatch_event_rule.${id}.arn}`,
      );
      expect(permission).toHaveLength(1);
      expect(permission[0]).toMatchObject({
        action: "lambda:InvokeFunction",
        principal: "events.amazonaws.com",
        function_name: fnName,
      });
    }
    const statementIds = permissions.map((p) => p.statement_id);
    expect(new Set(statementIds).size).toBe(statementIds.length);
  });

  test("names are unique, within 64 characters and deterministic", () => {
    const names = rules(s).map((r) => String(r.name));
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(
      rules(again())
        .map((r) => r.name)
        .sort(),
    ).toEqual([...names].sort());
  });

  test("one rule per event source the flow has, and no other", () => {
    const kinds = s.stack.processor.ruleInfo.map((r) => (r.node ? `${r.kind}:${r.node}` : r.kind)).sort();
    expect(kinds).toEqual(
      [
        "s3Dataset:events",
        "s3Dataset:whole",
        "glueTable:customers",
        "timer:daily",
        "timer:a_timer_whose_id_is_long_enough_to_need_a_hash_in_its_rule_name",
        "alarm:monitor",
        "alarm:upstream_health",
        "engine:glue",
        "engine:athena",
        "engine:emr",
        "engine:emrServerless",
        "sweeper",
      ].sort(),
    );
  });

  test("s3Dataset: its completion markers created in the dataset's bucket under its prefix, by its account", () => {
    expect(pattern(rule(s, "proc-test-s3-events"))).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      account: ["444455556666"],
      detail: {
        bucket: { name: ["raw"] },
        object: { key: ["events/_SUCCESS", { wildcard: "events/*/_SUCCESS" }] },
      },
    });
    // A dataset at the root of its bucket: every completion marker in it.
    expect(pattern(rule(s, "proc-test-s3-whole"))).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      account: ["111122223333"],
      detail: {
        bucket: { name: ["whole-bucket"] },
        object: { key: ["_SUCCESS", { wildcard: "*/_SUCCESS" }] },
      },
    });
  });

  test("s3Dataset in an environment: the bound bucket and prefix", () => {
    expect(pattern(rule(prod, "proc-test-s3-events")).detail).toEqual({
      bucket: { name: ["prod-raw"] },
      object: { key: ["landing/events/_SUCCESS", { wildcard: "landing/events/*/_SUCCESS" }] },
    });
  });

  test("glueTable: partition creations of the table", () => {
    expect(pattern(rule(s, "proc-test-table-customers"))).toEqual({
      source: ["aws.glue"],
      "detail-type": ["Glue Data Catalog Table State Change"],
      account: ["111122223333"],
      detail: { databaseName: ["crm"], tableName: ["customers"], typeOfChange: [...PARTITION_CREATIONS] },
    });
    expect([...GLUE_PARTITION_CHANGES].sort()).toEqual([...PARTITION_CREATIONS].sort());
  });

  test("timer rules are named resourceNames.timerRule and fire on the timer's schedule", () => {
    for (const id of ["daily", "a_timer_whose_id_is_long_enough_to_need_a_hash_in_its_rule_name"]) {
      const timer = model.nodes[id];
      if (timer.kind !== "timer") throw new Error("not a timer");
      const r = rule(s, resourceNames.timerRule("proc-test", id));
      expect(r.schedule_expression).toBe(timer.schedule);
      expect(r.event_pattern).toBeUndefined();
      expect(r.tags).toMatchObject({ "sluice:node": id });
      expect(String(r.name).length).toBeLessThanOrEqual(64);
    }
  });

  test("alarms that trigger data nodes: their state changes (another account's with its account)", () => {
    expect(pattern(rule(s, "proc-test-alarm-upstream_health"))).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      account: ["222233334444"],
      detail: { alarmName: ["foo-availability"] },
    });
    const monitor = model.nodes.monitor;
    if (monitor.kind !== "compositeAlarm") throw new Error("not a composite alarm");
    expect(pattern(rule(s, "proc-test-alarm-monitor"))).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      account: ["111122223333"],
      detail: { alarmName: [monitor.alarmName] },
    });
    // joined_failures feeds the composite alarm only, not a data node.
    expect(rules(s).some((r) => String(r.name).includes("joined_failures"))).toBe(false);
  });

  test("engines: the application's Glue jobs, its workgroup, Sluice's EMR steps, its EMR Serverless application", () => {
    const bc = s.stack.batchCompute;
    expect(pattern(rule(s, "proc-test-glue-jobs"))).toEqual({
      source: ["aws.glue"],
      "detail-type": ["Glue Job State Change"],
      account: ["111122223333"],
      detail: { jobName: Object.keys(bc.glueJobs).sort() },
    });
    expect(Object.keys(bc.glueJobs)).toContain(resourceNames.glueJob("proc-test", "sql", "4.0"));
    expect(pattern(rule(s, "proc-test-athena-queries"))).toEqual({
      source: ["aws.athena"],
      "detail-type": ["Athena Query State Change"],
      account: ["111122223333"],
      detail: { workgroupName: [ref(s, "aws_athena_workgroup", "name")] },
    });
    expect(pattern(rule(s, "proc-test-emr-steps"))).toEqual({
      source: ["aws.emr"],
      "detail-type": ["EMR Step Status Change"],
      account: ["111122223333"],
      detail: { name: [{ prefix: "sluice-" }] },
    });
    expect(pattern(rule(s, "proc-test-emr-serverless-jobs"))).toEqual({
      source: ["aws.emr-serverless"],
      "detail-type": ["EMR Serverless Job Run State Change"],
      account: ["111122223333"],
      detail: { applicationId: [ref(s, "aws_emrserverless_application", "id")] },
    });
  });

  test("engines the flow does not use have no rule", () => {
    expect(
      small()
        .stack.processor.ruleInfo.map((r) => r.kind)
        .sort(),
    ).toEqual(["s3Dataset", "sweeper"]);
  });

  test("the sweeper schedule is named resourceNames.sweeperRule, every 5 minutes by default", () => {
    const r = rule(s, resourceNames.sweeperRule("proc-test"));
    expect(r.schedule_expression).toBe("rate(5 minutes)");
  });

  test("the rules match AWS's own events, and the router turns what they match into work", () => {
    const index = new SourceIndex({ model, storageBucket: "proc-test-bucket" });
    const deliver = (name: string, edit: (e: Sample) => void, ruleName: string) => {
      const event = vector(name);
      edit(event);
      const r = rule(s, ruleName);
      // A schedule's events name their rule in `resources`; a pattern must match the event.
      if (r.schedule_expression === undefined) expect(matches(pattern(r), event)).toBe(true);
      else expect(event.resources).toEqual([expect.stringMatching(new RegExp(`:rule/${String(r.name)}$`))]);
      return adaptEvent(event, index);
    };
    // S3 Object Created: the completion marker of a partition.
    const created = deliver(
      "s3-eventbridge.object-created.awsdocs.json",
      (e) => {
        e.account = "444455556666";
        e.detail.bucket.name = "raw";
        e.detail.object.key = "events/region=NA/2024-05-07/_SUCCESS";
      },
      "proc-test-s3-events",
    );
    expect(created.signals.map((x) => x.node)).toEqual(["events"]);
    // A key outside the prefix does not match.
    const outside = vector("s3-eventbridge.object-created.awsdocs.json");
    outside.account = "444455556666";
    outside.detail.bucket.name = "raw";
    outside.detail.object.key = "other/region=NA/2024-05-07/_SUCCESS";
    expect(matches(pattern(rule(s, "proc-test-s3-events")), outside)).toBe(false);
    // Nor does a data file of the partition: only its completion marker invokes the router.
    const part = vector("s3-eventbridge.object-created.awsdocs.json");
    part.account = "444455556666";
    part.detail.bucket.name = "raw";
    part.detail.object.key = "events/region=NA/2024-05-07/part-0000.parquet";
    expect(matches(pattern(rule(s, "proc-test-s3-events")), part)).toBe(false);
    // Glue catalog partitions.
    const partitions = deliver(
      "glue.data-catalog-table-state-change.batchcreatepartition.awsdocs.json",
      (e) => {
        e.account = ACCOUNT;
        e.detail.databaseName = "crm";
        e.detail.tableName = "customers";
        e.detail.changedPartitions = ["1", "2"];
      },
      "proc-test-table-customers",
    );
    expect(partitions.signals.map((x) => x.node)).toEqual(["customers", "customers"]);
    // Timers: the scheduled event names the rule.
    const fired = deliver(
      "eventbridge.scheduled-event.awsdocs.json",
      (e) => {
        e.resources = [
          `arn:aws:events:us-east-1:${ACCOUNT}:rule/${resourceNames.timerRule("proc-test", "daily")}`,
        ];
      },
      resourceNames.timerRule("proc-test", "daily"),
    );
    expect(fired.signals.map((x) => x.node)).toEqual(["daily"]);
    // The external alarm, forwarded from its account.
    const alarm = deliver(
      "cloudwatch.alarm-state-change.single-metric.awsdocs.json",
      (e) => {
        e.account = "222233334444";
        e.detail.alarmName = "foo-availability";
      },
      "proc-test-alarm-upstream_health",
    );
    expect(alarm.signals.map((x) => x.node)).toEqual(["upstream_health"]);
    // Glue job state changes of the application's jobs.
    const job = deliver(
      "glue.job-state-change.succeeded.awsdocs.json",
      (e) => {
        e.account = ACCOUNT;
        e.detail.jobName = resourceNames.glueJob("proc-test", "sql", "4.0");
      },
      "proc-test-glue-jobs",
    );
    expect(job.engineEvents.map((x) => x.engine)).toEqual(["glue"]);
    // Another application's job does not match.
    expect(
      matches(
        pattern(rule(s, "proc-test-glue-jobs")),
        vector("glue.job-state-change.succeeded.awsdocs.json"),
      ),
    ).toBe(false);
  });
});

// ---------------------------------------------------------------- code asset

/** The entries of a synthesized router.zip, by name, in the archive's order. */
function codeFiles(x: Synthesized): Map<string, Buffer> {
  return new Map(readZip(readFileSync(x.stack.processor.codePackage.path)).map((f) => [f.name, f.data]));
}

/** A synthesized router.zip unpacked into a temp folder (to require its files). */
function extracted(x: Synthesized): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-code-"));
  for (const [name, data] of codeFiles(x)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
  return dir;
}

describe("code asset", () => {
  test("the function's code is router.zip, a file asset versioned by its SHA-256", () => {
    const asset = s.stack.processor.asset;
    const pkg = s.stack.processor.codePackage;
    expect(fn(s).filename).toBe(asset.path);
    expect(fn(s).source_code_hash).toBe(asset.assetHash);
    expect(asset.assetHash).toBe(pkg.sha256);
    expect(String(fn(s).filename)).toBe(
      `${asset.path.slice(0, asset.path.lastIndexOf("/"))}/${CODE_PACKAGE_FILE}`,
    );
    expect(String(fn(s).filename)).toMatch(/^assets\/[^/]+\/[0-9A-F]{64}\/router\.zip$/);
    const zip = readFileSync(pkg.path);
    expect(createHash("sha256").update(zip).digest("hex").toUpperCase()).toBe(pkg.sha256);
    expect(createHash("sha256").update(zip).digest("base64")).toBe(pkg.sha256Base64);
  });

  test("router.zip: the prebuilt bundle without source maps, the canonical route table, the user code", () => {
    const files = codeFiles(s);
    const names = [...files.keys()];
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(s.stack.processor.codePackage.files);
    expect(names).toEqual(expect.arrayContaining(["index.js", MODEL_FILE, USER_CODE_FILE]));
    for (const f of names) expect([...BUNDLE_FILES, MODEL_FILE, USER_CODE_FILE]).toContain(f);
    expect(names.filter((f) => f.endsWith(".map"))).toEqual([]);
    for (const f of BUNDLE_FILES.filter((b) => names.includes(b)))
      expect(files.get(f)?.equals(readFileSync(join(defaultBundleDir(), f)))).toBe(true);
    const text = files.get(MODEL_FILE)?.toString("utf8");
    expect(text).toBe(`${canonicalJson(model)}\n`);
    // The source maps are beside the package, by name, from the bundle.
    for (const [name, file] of Object.entries(s.stack.processor.sourceMaps)) {
      expect(name).toMatch(/^router(\.[a-z-]+)?\.js\.map$/);
      expect(file.startsWith(defaultBundleDir())).toBe(true);
    }
  });

  test("router.zip: sorted entries, fixed times and modes (1980-01-01 00:00, -rw-r--r--)", () => {
    const zip = readFileSync(s.stack.processor.codePackage.path);
    const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    let at = zip.readUInt32LE(end + 16);
    for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
      expect(zip.readUInt16LE(at + 12)).toBe(0); // time
      expect(zip.readUInt16LE(at + 14)).toBe(0x21); // date
      expect(zip.readUInt32LE(at + 38) >>> 16).toBe(0o100644);
      at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    }
  });

  test("user-code.js exports refs for every module reference, resolved and bundled", () => {
    const file = join(extracted(s), USER_CODE_FILE);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle is CommonJS, as Lambda loads it
    const bundle = require(file) as { refs: Record<string, (...args: unknown[]) => unknown> };
    expect(Object.keys(bundle.refs).sort()).toEqual([
      "handlers/mappers.ts#regionId",
      "handlers/mappers.ts#regionName",
      "handlers/page.ts#checkpoint",
      "handlers/page.ts#onFailure",
      "handlers/page.ts#page",
    ]);
    expect(s.stack.processor.userCode.map((r) => r.key)).toEqual(Object.keys(bundle.refs).sort());
    expect(bundle.refs["handlers/mappers.ts#regionId"](["EU"])).toBe(2);
    expect(bundle.refs["handlers/mappers.ts#regionName"]([3])).toBe("JP");
    expect(bundle.refs["handlers/page.ts#onFailure"]()).toBe("tagged:failure");
    // Everything the user code imports is inside: no require of the user's files at run time.
    const code = readFileSync(file, "utf8");
    expect(code).not.toMatch(/require\(["'][./]/);
    expect(code).not.toContain(root);
  });

  test("user code of an example synthesizes (handlers relative to the flow's root)", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- examples export their Application
    const example = require("../../examples/alarm-reactor/flow").default as Application;
    const ex = synth({ app: example }, "example");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(extracted(ex), USER_CODE_FILE)) as {
      refs: Record<string, unknown>;
    };
    expect(Object.keys(bundle.refs).sort()).toEqual([
      "handlers/report.ts#pageOnCall",
      "handlers/report.ts#writeIncidentReport",
    ]);
  });

  test("the package is deterministic: two synths of the same flow give identical router.zip bytes", () => {
    const first = readFileSync(s.stack.processor.codePackage.path);
    const second = readFileSync(again().stack.processor.codePackage.path);
    expect(second.equals(first)).toBe(true);
    expect(again().stack.processor.asset.assetHash).toBe(s.stack.processor.asset.assetHash);
    expect(fn(again()).filename).toBe(fn(s).filename);
    // A flow copied to another folder bundles to the same bytes.
    const elsewhere = synth({ app: fullApp(userCodeRoot()) }, "elsewhere");
    expect(readFileSync(elsewhere.stack.processor.codePackage.path).equals(first)).toBe(true);
    expect(elsewhere.stack.processor.asset.assetHash).toBe(s.stack.processor.asset.assetHash);
  });

  test("a flow without user code ships an empty refs", () => {
    const noCode = synth({ app: smallApp(userCodeRoot(), sparkSql("SELECT 1")) });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(extracted(noCode), USER_CODE_FILE)) as { refs: object };
    expect(bundle.refs).toEqual({});
  });

  test("a bare inline function is a SynthError naming the node and the place", () => {
    const app = smallApp(
      userCodeRoot(),
      inline(async () => undefined),
    );
    expect(() => synth({ app })).toThrow(SynthError);
    expect(() => synth({ app })).toThrow(/node "copy" compute 1.*module reference/);
  });

  test("a bare hook function is a SynthError naming the hook", () => {
    const root2 = userCodeRoot();
    const app = new Application("hooks", { account: ACCOUNT, region: "us-east-1", root: root2 });
    const events = app.s3Dataset("events", { bucket: "raw", dimensions: { day: dim.datetime() } });
    app.data("copy", {
      inputs: [events],
      compute: inline("handlers/page.ts#page"),
      hooks: { onSuccess: () => undefined, checkpoints: [{ afterSeconds: 60, handler: () => undefined }] },
    });
    expect(() => synth({ app })).toThrow(/node "copy" hook onSuccess; node "copy" checkpoint 1/);
  });

  test("a missing module or export is a SynthError naming the reference", () => {
    expect(() => synth({ app: smallApp(userCodeRoot(), inline("handlers/nope.ts#page")) })).toThrow(
      /"handlers\/nope\.ts#page" \(node "copy" compute 1 \(inline\)\): module not found/,
    );
    expect(() => synth({ app: smallApp(userCodeRoot(), inline("handlers/page.ts#nope")) })).toThrow(
      /"handlers\/page\.ts#nope" \(node "copy" compute 1 \(inline\)\): the module has no export "nope"/,
    );
  });

  test("an absolute module reference works", () => {
    const dir = userCodeRoot();
    const abs = join(dir, "handlers", "page.ts");
    const ok = synth({ app: smallApp(dir, inline(`${abs}#page`)) });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(extracted(ok), USER_CODE_FILE)) as { refs: object };
    expect(Object.keys(bundle.refs)).toEqual([`${abs}#page`]);
  });

  test("a missing runtime bundle is a SynthError saying to run npm run build", () => {
    const empty = mkdtempSync(join(tmpdir(), "sluice-no-bundle-"));
    expect(() => synth({ app: smallApp(userCodeRoot()), bundleDir: empty })).toThrow(/npm run build/);
  });
});

// ---------------------------------------------------------------- IAM

/** Statements of the router's policy allowed `Resource: "*"`, and why. */
const ROUTER_WILDCARDS: Readonly<Record<string, string>> = {
  XRay: "xray:PutTraceSegments / PutTelemetryRecords have no resource-level permissions",
  ...WILDCARD_STATEMENTS,
};

describe("router IAM (least privilege)", () => {
  test('CKV_AWS_355 Resource "*" only in allow-listed statements', () => {
    for (const synthesized of [s, prod]) {
      for (const st of routerStatements(synthesized)) {
        if (!list(st.Resource).includes("*")) continue;
        expect(ROUTER_WILDCARDS).toHaveProperty([String(st.Sid)]);
      }
    }
    const xray = routerStatements(s).find((st) => st.Sid === "XRay");
    expect(list(xray?.Action).sort()).toEqual(["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
  });

  test("no dynamodb:Scan anywhere; table item actions on the table only", () => {
    expect(JSON.stringify(s.json)).not.toContain("dynamodb:Scan");
    const table = ref(s, "aws_dynamodb_table", "arn");
    const dynamo = routerStatements(s).filter((st) => list(st.Action).some((a) => a.startsWith("dynamodb:")));
    expect(dynamo).toHaveLength(1);
    expect(list(dynamo[0].Resource)).toEqual([table]);
    expect(list(dynamo[0].Action).sort()).toEqual(
      ["BatchGetItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"].map((a) => `dynamodb:${a}`),
    );
  });

  test("CKV_AWS_290 writes only under the application's own bucket prefixes; reads its assets", () => {
    const bucket = ref(s, "aws_s3_bucket", "arn");
    const writes = routerStatements(s).filter((st) =>
      list(st.Action).some((a) => /^s3:(Put|Delete|AbortMultipartUpload)/.test(a)),
    );
    expect(writes.length).toBeGreaterThan(0);
    // Its partitions (internal_data/), for batch compute result and log folders under assets/, and
    // events too large for an SQS dead letter (dead_letters/, put only).
    for (const st of writes) {
      for (const r of list(st.Resource))
        expect(r).toMatch(new RegExp(`^${escape(bucket)}/(internal_data|assets|dead_letters)/`));
    }
    expect(routerStatements(s).find((st) => st.Sid === "DeadLetters")).toMatchObject({
      Action: "s3:PutObject",
      Resource: `${bucket}/dead_letters/*`,
    });
    const internal = routerStatements(s).find((st) => st.Sid === "InternalData");
    expect(internal).toMatchObject({
      Action: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
      Resource: `${bucket}/internal_data/*`,
    });
    const assets = routerStatements(s).find((st) => st.Sid === "Assets");
    expect(assets).toMatchObject({ Action: "s3:GetObject", Resource: `${bucket}/assets/*` });
  });

  test("external datasets: read-only on the declared prefix, decrypt with the declared key", () => {
    const st = routerStatements(s);
    expect(st.find((x) => x.Sid === "Readevents")).toMatchObject({
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::raw/events/*",
    });
    expect(st.find((x) => x.Sid === "ReadeventsList")).toMatchObject({
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::raw",
      Condition: { StringLike: { "s3:prefix": ["events/*"] } },
    });
    expect(st.find((x) => x.Sid === "ReadeventsKey")).toMatchObject({
      Action: "kms:Decrypt",
      Resource: EVENTS_KEY,
    });
    expect(st.find((x) => x.Sid === "Readwhole")).toMatchObject({ Resource: "arn:aws:s3:::whole-bucket/*" });
    // No write of any kind on an external bucket.
    for (const x of st) {
      const external = list(x.Resource).some((r) => /^arn:aws:s3:::(raw|whole-bucket|prod-raw)/.test(r));
      if (external)
        for (const a of list(x.Action))
          expect(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]).toContain(a);
    }
  });

  test("external datasets in an environment: the bound prefix, and its key alias by condition", () => {
    const st = routerStatements(prod);
    expect(st.find((x) => x.Sid === "Readevents")).toMatchObject({
      Resource: "arn:aws:s3:::prod-raw/landing/events/*",
    });
    expect(st.find((x) => x.Sid === "ReadeventsKey")).toMatchObject({
      Action: "kms:Decrypt",
      Resource: "arn:aws:kms:us-east-1:444455556666:key/*",
      Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": ["alias/raw-data"] } },
    });
  });

  test("queues, key, logs: exactly the router's own", () => {
    const st = routerStatements(s);
    const dlq = ref(s, "aws_sqs_queue", "arn", (q) => q.name === "proc-test-dlq");
    const internal = ref(s, "aws_sqs_queue", "arn", (q) => q.name === "proc-test-internal");
    expect(st.find((x) => x.Sid === "Queues")).toMatchObject({
      Action: "sqs:SendMessage",
      Resource: [dlq, internal],
    });
    expect(st.find((x) => x.Sid === "InternalQueueConsume")).toMatchObject({
      Action: ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
      Resource: internal,
    });
    expect(st.find((x) => x.Sid === "DataKey")).toMatchObject({
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      Resource: ref(s, "aws_kms_key", "arn", (k) => String(k.description).includes("data")),
    });
    expect(st.find((x) => x.Sid === "Logs")).toMatchObject({
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${ref(s, "aws_cloudwatch_log_group", "arn")}:*`,
    });
  });
});
