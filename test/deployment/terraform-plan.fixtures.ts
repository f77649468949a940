/**
 * Modules for terraform-plan.test.ts: a hand-written one with what the synthesized modules use and
 * more, and one resource of each placeholder type with what each attribute should render as.
 */
import type { TerraformJson } from "./twin/terraform-plan";

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";

/** A small module with what the synthesized ones use, and more: count, for_each, an alias, a resolver. */
export const HAND: TerraformJson = {
  terraform: { required_providers: { aws: { source: "hashicorp/aws", version: "6.25.0" } } },
  variable: {
    environment: { type: "string", default: "dev" },
    queues: { type: "set(string)", default: ["ingest", "retry"] },
  },
  data: {
    aws_caller_identity: { me: {} },
    aws_region: { here: {} },
    aws_glue_catalog_table: { stores: { database_name: '${lower("REFERENCE")}', name: "stores" } },
  },
  locals: { prefix: "app-${data.aws_caller_identity.me.account_id}-${data.aws_region.here.region}" },
  resource: {
    aws_s3_bucket: { data_bucket: { bucket: "${local.prefix}", tags: { env: "${var.environment}" } } },
    aws_kms_key: { key: { count: 2, description: "key ${count.index}" } },
    aws_sqs_queue: {
      queue: {
        for_each: "${var.queues}",
        name: "app-${each.key}",
        kms_master_key_id: "${aws_kms_key.key[0].arn}",
      },
    },
    aws_iam_role: { role: { name: "app-role", path: "/service/", assume_role_policy: "{}" } },
    aws_lambda_function: {
      fn: {
        function_name: "app-fn",
        role: "${aws_iam_role.role.arn}",
        environment: {
          variables: {
            QUEUE_URL: '${aws_sqs_queue.queue["ingest"].url}',
            BUCKET_ARN: "${aws_s3_bucket.data_bucket.arn}",
            KEY_ARN: "${aws_kms_key.key[1].arn}",
            STORES: "${data.aws_glue_catalog_table.stores.storage_descriptor[0].location}",
            NESTED: '${substr("x-${aws_s3_bucket.data_bucket.bucket}", 0, 6)}',
            ESCAPED: "$${aws_s3_bucket.data_bucket.arn}",
            LITERAL: "aws_s3_bucket.data_bucket.arn",
          },
        },
        tracing_config: { mode: "Active" },
        depends_on: ["aws_s3_bucket.data_bucket", "data.aws_region.here"],
        lifecycle: { create_before_destroy: true, ignore_changes: ["tags"] },
        provider: "aws.west",
      },
    },
    aws_s3_bucket_lifecycle_configuration: {
      lifecycle: {
        bucket: "${aws_s3_bucket.data_bucket.id}",
        rule: [{ id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: { days: 7 } }],
      },
    },
  },
  output: { retry_queue: { value: '${aws_sqs_queue.queue["retry"].arn}' } },
};

export const STORES = {
  storage_descriptor: [{ location: "s3://reference/stores/" }],
  partition_keys: [{ name: "dt" }],
};
/** The arguments the resolver was given, by call. */
export const resolved: Record<string, unknown>[] = [];
export const DATA_SOURCES = {
  aws_glue_catalog_table: (config: Readonly<Record<string, unknown>>) => {
    resolved.push({ ...config });
    return STORES;
  },
};

/** A resolver of Glue tables from their (evaluated) database and name. */
export function catalog(locations: Record<string, string>) {
  return (config: Readonly<Record<string, unknown>>): Record<string, unknown> => {
    const key = `${String(config.database_name)}.${String(config.name)}`;
    const location = locations[key];
    if (location === undefined) throw new Error(`no table ${key} in the test catalog`);
    return { storage_descriptor: [{ location }], partition_keys: [] };
  };
}

/** One resource of each type of the table, an output reading each attribute, and what it should read. */
export function placeholderTable(region: string): {
  module: TerraformJson;
  expected: Record<string, string | RegExp>;
} {
  const arn = (service: string, resource: string, regional = true): string =>
    `arn:aws:${service}:${regional ? region : ""}:${ACCOUNT}:${resource}`;
  const module: TerraformJson = {
    resource: {
      aws_s3_bucket: { b: { bucket: "bkt" } },
      aws_s3_object: { o: { bucket: "${aws_s3_bucket.b.id}", key: "k/x.json", content: "{}" } },
      aws_dynamodb_table: { t: { name: "tbl" } },
      aws_sqs_queue: { q: { name: "q1" }, generated: {} },
      aws_sns_topic: { s: { name: "topic" } },
      aws_kms_key: { k: {} },
      aws_kms_alias: { a: { name: "alias/x", target_key_id: "${aws_kms_key.k.key_id}" } },
      aws_iam_role: { r: { name: "role", path: "/svc/" } },
      aws_iam_policy: { p: { name: "pol", policy: "{}" } },
      aws_iam_role_policy_attachment: {
        pa: { role: "${aws_iam_role.r.name}", policy_arn: "${aws_iam_policy.p.arn}" },
      },
      aws_iam_instance_profile: { ip: { name: "prof", role: "${aws_iam_role.r.name}" } },
      aws_lambda_function: { f: { function_name: "fn", role: "${aws_iam_role.r.arn}" } },
      aws_cloudwatch_event_rule: { e: { name: "rule" }, bus: { name: "rule2", event_bus_name: "bus" } },
      aws_cloudwatch_log_group: { l: { name: "/aws/lambda/fn" } },
      aws_cloudwatch_metric_alarm: { m: { alarm_name: "alarm" } },
      aws_cloudwatch_composite_alarm: { c: { alarm_name: "composite" } },
      aws_glue_job: { j: { name: "job" } },
      aws_glue_security_configuration: { sc: { name: "sec" } },
      aws_glue_catalog_database: { d: { name: "db" } },
      aws_athena_workgroup: { w: { name: "wg" } },
      aws_emrserverless_application: { x: { name: "app", type: "spark", release_label: "emr-7.0.0" } },
    },
  };
  const expected: Record<string, string | RegExp> = {
    "aws_s3_bucket.b.arn": "arn:aws:s3:::bkt",
    "aws_s3_bucket.b.id": "bkt",
    "aws_s3_bucket.b.bucket": "bkt",
    "aws_s3_object.o.key": "k/x.json",
    "aws_s3_object.o.content": "{}",
    "aws_s3_object.o.arn": "arn:aws:s3:::bkt/k/x.json",
    "aws_dynamodb_table.t.arn": arn("dynamodb", "table/tbl"),
    "aws_dynamodb_table.t.name": "tbl",
    "aws_sqs_queue.q.url": `https://sqs.${region}.amazonaws.com/${ACCOUNT}/q1`,
    "aws_sqs_queue.q.arn": arn("sqs", "q1"),
    "aws_sqs_queue.q.name": "q1",
    "aws_sqs_queue.generated.name": /^terraform-[0-9a-f]{26}$/,
    "aws_sns_topic.s.arn": arn("sns", "topic"),
    "aws_kms_key.k.key_id": /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    "aws_kms_key.k.id": /^[0-9a-f-]{36}$/,
    "aws_kms_key.k.arn": new RegExp(`^arn:aws:kms:${region}:${ACCOUNT}:key/[0-9a-f-]{36}$`),
    "aws_kms_alias.a.arn": arn("kms", "alias/x"),
    "aws_iam_role.r.arn": `arn:aws:iam::${ACCOUNT}:role/svc/role`,
    "aws_iam_role.r.id": "role",
    "aws_iam_role.r.unique_id": /^AROA[0-9A-F]{17}$/,
    "aws_iam_policy.p.arn": `arn:aws:iam::${ACCOUNT}:policy/pol`,
    "aws_iam_role_policy_attachment.pa.id": `role/arn:aws:iam::${ACCOUNT}:policy/pol`,
    "aws_iam_instance_profile.ip.arn": `arn:aws:iam::${ACCOUNT}:instance-profile/prof`,
    "aws_iam_instance_profile.ip.name": "prof",
    "aws_lambda_function.f.arn": arn("lambda", "function:fn"),
    "aws_lambda_function.f.function_name": "fn",
    "aws_lambda_function.f.invoke_arn": `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn("lambda", "function:fn")}/invocations`,
    "aws_cloudwatch_event_rule.e.arn": arn("events", "rule/rule"),
    "aws_cloudwatch_event_rule.e.name": "rule",
    "aws_cloudwatch_event_rule.bus.arn": arn("events", "rule/bus/rule2"),
    "aws_cloudwatch_event_rule.bus.id": "bus/rule2",
    "aws_cloudwatch_log_group.l.arn": arn("logs", "log-group:/aws/lambda/fn"),
    "aws_cloudwatch_log_group.l.name": "/aws/lambda/fn",
    "aws_cloudwatch_metric_alarm.m.arn": arn("cloudwatch", "alarm:alarm"),
    "aws_cloudwatch_composite_alarm.c.arn": arn("cloudwatch", "alarm:composite"),
    "aws_glue_job.j.arn": arn("glue", "job/job"),
    "aws_glue_security_configuration.sc.name": "sec",
    "aws_glue_catalog_database.d.arn": arn("glue", "database/db"),
    "aws_glue_catalog_database.d.id": `${ACCOUNT}:db`,
    "aws_athena_workgroup.w.arn": arn("athena", "workgroup/wg"),
    "aws_athena_workgroup.w.name": "wg",
    "aws_emrserverless_application.x.id": /^[0-9a-z]{16}$/,
    "aws_emrserverless_application.x.arn": new RegExp(
      `^arn:aws:emr-serverless:${region}:${ACCOUNT}:/applications/[0-9a-z]{16}$`,
    ),
  };
  const refs = Object.keys(expected).map((ref) => `"${ref}" = ${ref}`);
  module.output = { refs: { value: `\${{ ${refs.join(", ")} }}` } };
  return { module, expected };
}
