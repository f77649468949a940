/**
 * What AWS would return for the attributes a module reads of its own resources, as Terraform
 * template text computed from the resource's converted `input` (its written arguments): an S3
 * bucket's ARN from its `bucket`, a queue's URL from its `name`, a KMS key's id from its address.
 * Values follow the provider's documented formats so that the rendered plan reads like a real one
 * and stays consistent across the resources that reference each other.
 */
import { escapeTemplate } from "./hcl-references";

/** Where a placeholder is computed: one instance of a converted resource. */
export interface PlaceholderContext {
  /** The converted instance, e.g. `terraform_data.aws_s3_bucket__store["k"]`. */
  readonly instance: string;
  /** Template text of the original instance address, e.g. `aws_kms_key.k[${jsonencode(0)}]`. */
  readonly address: string;
  /** The resource's configuration as written (meta-arguments excluded). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** The reference being replaced, for messages. */
  readonly reference: string;
}

/** Template text of one attribute's value. */
export type Placeholder = (c: PlaceholderContext) => string;

const isSet = (c: PlaceholderContext, attr: string): boolean =>
  c.config[attr] !== undefined && c.config[attr] !== null;

/** An argument as written (evaluated by Terraform); an error when the resource does not set it. */
export function arg(c: PlaceholderContext, attr: string): string {
  if (!isSet(c, attr)) {
    throw new Error(`${c.reference}: the resource does not set '${attr}', which the placeholder needs`);
  }
  return `\${${c.instance}.input.${attr}}`;
}

const optArg = (c: PlaceholderContext, attr: string, fallback: string): string =>
  isSet(c, attr) ? arg(c, attr) : fallback;

/** An expression of deterministic hex digits of the instance's address (and account and region). */
const digestExpr = (c: PlaceholderContext, length: number, salt: string): string =>
  `substr(sha1("${salt}${c.partition}:${c.account}:${c.region}:${c.address}"), 0, ${length})`;
const digest = (c: PlaceholderContext, length: number, salt: string): string =>
  `\${${digestExpr(c, length, salt)}}`;

/** A name the resource sets, or what the provider generates from a prefix or from nothing. */
function name(c: PlaceholderContext, attr = "name", prefixAttr = "name_prefix"): string {
  if (isSet(c, attr)) return arg(c, attr);
  const generated = digest(c, 26, "name:");
  return isSet(c, prefixAttr) ? `${arg(c, prefixAttr)}${generated}` : `terraform-${generated}`;
}

const region = (c: PlaceholderContext): string => optArg(c, "region", c.region);

/** `arn:<partition>:<service>:<region or empty>:<account>:<resource>`. */
const arn =
  (service: string, regional: boolean, resource: Placeholder): Placeholder =>
  (c) =>
    `arn:${c.partition}:${service}:${regional ? region(c) : ""}:${c.account}:${resource(c)}`;

/** A UUID derived from the address (KMS key ids, event source mapping ids). */
const uuid = (c: PlaceholderContext): string =>
  `\${uuidv5("url", "twin://${c.partition}/${c.account}/${c.region}/${c.address}")}`;

/** An IAM unique id: a 4-letter type prefix and 17 characters. */
const uniqueId =
  (prefix: string): Placeholder =>
  (c) =>
    `${prefix}\${upper(${digestExpr(c, 17, "id:")})}`;

/** IAM names include the path: `role/<path><name>` with the default path `/`. */
const iamPath = (c: PlaceholderContext): string => optArg(c, "path", "/");

/** The attributes that echo the resource's own arguments. */
const echo = (...attrs: string[]): Record<string, Placeholder> =>
  Object.fromEntries(attrs.map((a) => [a, (c: PlaceholderContext) => arg(c, a)]));

/** `${B == "default" ? "" : "${B}/"}` with B the bus name of an event rule (name or ARN). */
function busPrefix(c: PlaceholderContext): string {
  if (!isSet(c, "event_bus_name")) return "";
  const bus = `reverse(split("/", ${c.instance}.input.event_bus_name))[0]`;
  return `\${${bus} == "default" ? "" : "\${${bus}}/"}`;
}

const s3Bucket = (c: PlaceholderContext): string => name(c, "bucket", "bucket_prefix");
const kmsKeyId = uuid;
const emrApplicationId = (c: PlaceholderContext): string => `00${digest(c, 14, "emr:")}`;
const lambdaVersion = (c: PlaceholderContext): string => (c.config.publish === true ? "1" : "$LATEST");
const lambdaArn = arn("lambda", true, (c) => `function:${arg(c, "function_name")}`);
const eventSourceMappingId = uuid;

/** Sub-resources of a bucket (versioning, policy, ...): their id is the bucket. */
const bucketSubresource = { id: (c: PlaceholderContext) => arg(c, "bucket"), ...echo("bucket") };

/** By AWS resource type, by attribute: the placeholder of each attribute a reference may read. */
export const RESOURCE_PLACEHOLDERS: Readonly<Record<string, Readonly<Record<string, Placeholder>>>> = {
  aws_athena_workgroup: {
    id: (c) => arg(c, "name"),
    arn: arn("athena", true, (c) => `workgroup/${arg(c, "name")}`),
    ...echo("name"),
  },
  aws_cloudwatch_composite_alarm: {
    id: (c) => arg(c, "alarm_name"),
    arn: arn("cloudwatch", true, (c) => `alarm:${arg(c, "alarm_name")}`),
    ...echo("alarm_name"),
  },
  aws_cloudwatch_dashboard: {
    id: (c) => arg(c, "dashboard_name"),
    dashboard_arn: arn("cloudwatch", false, (c) => `dashboard/${arg(c, "dashboard_name")}`),
    ...echo("dashboard_name"),
  },
  aws_cloudwatch_event_permission: { id: (c) => arg(c, "statement_id"), ...echo("statement_id") },
  aws_cloudwatch_event_rule: {
    id: (c) => `${busPrefix(c)}${name(c)}`,
    name: (c) => name(c),
    arn: arn("events", true, (c) => `rule/${busPrefix(c)}${name(c)}`),
  },
  aws_cloudwatch_event_target: echo("arn", "rule", "target_id"),
  aws_cloudwatch_log_group: {
    id: (c) => name(c),
    name: (c) => name(c),
    // The provider strips the `:*` the API appends.
    arn: arn("logs", true, (c) => `log-group:${name(c)}`),
  },
  aws_cloudwatch_metric_alarm: {
    id: (c) => arg(c, "alarm_name"),
    arn: arn("cloudwatch", true, (c) => `alarm:${arg(c, "alarm_name")}`),
    ...echo("alarm_name"),
  },
  aws_dynamodb_table: {
    id: (c) => arg(c, "name"),
    arn: arn("dynamodb", true, (c) => `table/${arg(c, "name")}`),
    stream_arn: arn("dynamodb", true, (c) => `table/${arg(c, "name")}/stream/1970-01-01T00:00:00.000`),
    ...echo("name", "hash_key", "range_key"),
  },
  aws_emrserverless_application: {
    id: emrApplicationId,
    arn: arn("emr-serverless", true, (c) => `/applications/${emrApplicationId(c)}`),
    ...echo("name", "release_label", "type"),
  },
  aws_glue_catalog_database: {
    id: (c) => `${optArg(c, "catalog_id", c.account)}:${arg(c, "name")}`,
    arn: arn("glue", true, (c) => `database/${arg(c, "name")}`),
    catalog_id: (c) => optArg(c, "catalog_id", c.account),
    ...echo("name"),
  },
  aws_glue_catalog_table: {
    id: (c) => `${optArg(c, "catalog_id", c.account)}:${arg(c, "database_name")}:${arg(c, "name")}`,
    arn: arn("glue", true, (c) => `table/${arg(c, "database_name")}/${arg(c, "name")}`),
    catalog_id: (c) => optArg(c, "catalog_id", c.account),
    ...echo("name", "database_name"),
  },
  aws_glue_job: {
    id: (c) => arg(c, "name"),
    arn: arn("glue", true, (c) => `job/${arg(c, "name")}`),
    ...echo("name"),
  },
  aws_glue_security_configuration: { id: (c) => arg(c, "name"), ...echo("name") },
  aws_iam_instance_profile: {
    id: (c) => name(c),
    name: (c) => name(c),
    arn: arn("iam", false, (c) => `instance-profile${iamPath(c)}${name(c)}`),
    unique_id: uniqueId("AIPA"),
    ...echo("role"),
  },
  aws_iam_policy: {
    id: arn("iam", false, (c) => `policy${iamPath(c)}${name(c)}`),
    arn: arn("iam", false, (c) => `policy${iamPath(c)}${name(c)}`),
    name: (c) => name(c),
    policy_id: uniqueId("ANPA"),
    ...echo("policy"),
  },
  aws_iam_role: {
    id: (c) => name(c),
    name: (c) => name(c),
    arn: arn("iam", false, (c) => `role${iamPath(c)}${name(c)}`),
    unique_id: uniqueId("AROA"),
  },
  aws_iam_role_policy: {
    id: (c) => `${arg(c, "role")}:${name(c)}`,
    name: (c) => name(c),
    ...echo("role", "policy"),
  },
  aws_iam_role_policy_attachment: {
    id: (c) => `${arg(c, "role")}/${arg(c, "policy_arn")}`,
    ...echo("role", "policy_arn"),
  },
  aws_kms_alias: {
    id: (c) => name(c),
    name: (c) => name(c),
    arn: arn("kms", true, (c) => name(c)),
    ...echo("target_key_id"),
  },
  aws_kms_key: {
    id: kmsKeyId,
    key_id: kmsKeyId,
    arn: arn("kms", true, (c) => `key/${kmsKeyId(c)}`),
  },
  aws_lambda_event_source_mapping: {
    id: eventSourceMappingId,
    uuid: eventSourceMappingId,
    arn: arn("lambda", true, (c) => `event-source-mapping:${eventSourceMappingId(c)}`),
    ...echo("event_source_arn", "function_name"),
  },
  aws_lambda_function: {
    id: (c) => arg(c, "function_name"),
    arn: lambdaArn,
    invoke_arn: (c) =>
      `arn:${c.partition}:apigateway:${region(c)}:lambda:path/2015-03-31/functions/${lambdaArn(c)}/invocations`,
    qualified_arn: (c) => `${lambdaArn(c)}:${lambdaVersion(c)}`,
    qualified_invoke_arn: (c) =>
      `arn:${c.partition}:apigateway:${region(c)}:lambda:path/2015-03-31/functions/${lambdaArn(c)}:${lambdaVersion(c)}/invocations`,
    version: lambdaVersion,
    ...echo("function_name", "role", "handler", "runtime"),
  },
  aws_lambda_permission: { id: (c) => arg(c, "statement_id"), ...echo("statement_id", "function_name") },
  aws_s3_bucket: {
    id: s3Bucket,
    bucket: s3Bucket,
    arn: (c) => `arn:${c.partition}:s3:::${s3Bucket(c)}`,
    bucket_domain_name: (c) => `${s3Bucket(c)}.s3.amazonaws.com`,
    bucket_regional_domain_name: (c) => `${s3Bucket(c)}.s3.${region(c)}.amazonaws.com`,
    region,
  },
  aws_s3_bucket_lifecycle_configuration: bucketSubresource,
  aws_s3_bucket_notification: bucketSubresource,
  aws_s3_bucket_ownership_controls: bucketSubresource,
  aws_s3_bucket_policy: { ...bucketSubresource, ...echo("policy") },
  aws_s3_bucket_public_access_block: bucketSubresource,
  aws_s3_bucket_server_side_encryption_configuration: bucketSubresource,
  aws_s3_bucket_versioning: bucketSubresource,
  aws_s3_object: {
    id: (c) => `${arg(c, "bucket")}/${arg(c, "key")}`,
    arn: (c) => `arn:${c.partition}:s3:::${arg(c, "bucket")}/${arg(c, "key")}`,
    ...echo("bucket", "key", "content", "content_type"),
  },
  aws_sns_topic: {
    id: arn("sns", true, (c) => name(c)),
    arn: arn("sns", true, (c) => name(c)),
    name: (c) => name(c),
  },
  aws_sqs_queue: {
    id: (c) => `https://sqs.${region(c)}.amazonaws.com/${c.account}/${name(c)}`,
    url: (c) => `https://sqs.${region(c)}.amazonaws.com/${c.account}/${name(c)}`,
    arn: arn("sqs", true, (c) => name(c)),
    name: (c) => name(c),
  },
};

/** Where a data source is resolved: its address and the caller's account, region and partition. */
export interface DataSourceContext {
  /** e.g. `data.aws_glue_catalog_table.stores` */
  readonly address: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/**
 * Resolves a data source: given its configuration as written (strings may be Terraform templates,
 * e.g. `${local.datasets.stores.table}`: they are not evaluated), the attributes it reads. Values are
 * literal (a `${` in a string stays text); the configuration's own arguments are kept beside them.
 */
export type DataSourceResolver = (
  config: Readonly<Record<string, unknown>>,
  context: DataSourceContext,
) => Record<string, unknown>;

/** Resolvers by data source type (e.g. `aws_glue_catalog_table`). */
export type DataSourceResolvers = Readonly<Record<string, DataSourceResolver>>;

const dnsSuffix = (partition: string): string =>
  partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";

/**
 * The data sources every module may read, resolved from the caller's account, region and partition.
 * Their values are template text (the `aws_region` of a `region` argument is that argument).
 */
export const BUILTIN_DATA_SOURCES: Readonly<
  Record<string, (config: Readonly<Record<string, unknown>>, c: DataSourceContext) => Record<string, unknown>>
> = {
  aws_caller_identity: (_config, c) => ({
    id: c.account,
    account_id: c.account,
    arn: `arn:${c.partition}:iam::${c.account}:user/sluice-twin`,
    user_id: "AIDASLUICETWIN0000000",
  }),
  aws_region: (config, c) => {
    const region = typeof config.region === "string" ? config.region : escapeTemplate(c.region);
    return {
      id: region,
      region,
      name: region,
      endpoint: `ec2.${region}.${dnsSuffix(c.partition)}`,
      description: region,
    };
  },
  aws_partition: (_config, c) => ({
    id: c.partition,
    partition: c.partition,
    dns_suffix: dnsSuffix(c.partition),
    reverse_dns_prefix: dnsSuffix(c.partition).split(".").reverse().join("."),
  }),
};
