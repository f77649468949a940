/**
 * The authorization requests AWS makes for an AWS SDK v3 command: a pure mapping from (service, command,
 * input) to IAM action, resource ARN and request context keys, after the Service Authorization Reference
 * (action names, resource types and ARN formats, condition keys) and the services' own authorization docs
 * (Glue Data Catalog ARNs, S3 and KMS). Context keys are given only where they are derivable from the
 * input alone; keys that depend on stored state (`s3:ExistingObjectTag/…`, `aws:ResourceTag/…`,
 * `dynamodb:LeadingKeys`, `dynamodb:Attributes`) are not modelled.
 *
 * An unknown service or command throws: a twin must not silently allow what it cannot map.
 */
import { emrRequests, emrServerlessRequests } from "./sdk-requests-emr";
import {
  arn,
  type AuthorizationContext,
  type AuthorizationRequest,
  list,
  num,
  optStr,
  record,
  str,
} from "./sdk-requests-shared";

export type { AuthorizationContext, AuthorizationRequest } from "./sdk-requests-shared";

/**
 * The authorization requests AWS evaluates for one SDK command, in the order AWS makes them.
 *
 * @param service the client's `serviceId` ("S3", "DynamoDB", "SQS", "Glue", "Athena", "EMR Serverless",
 *   "EMR", "Lambda", "CloudWatch", "KMS"); case, spaces, dashes and a trailing "Client" are ignored
 * @param command the command name, with or without the "Command" suffix
 * @param input the command's input
 * @throws Error for a service or command it does not know, or an input it cannot map
 */
export function authorizationsFor(
  service: string,
  command: string,
  input: Record<string, unknown>,
  ctx: AuthorizationContext,
): AuthorizationRequest[] {
  const svc = service
    .toLowerCase()
    .replace(/client$/, "")
    .replace(/[\s_-]/g, "");
  const op = command.replace(/Command$/, "");
  const mapper = MAPPERS[svc];
  const result = mapper?.(op, input, ctx);
  if (!result) throw new Error(`twin IAM: no authorization mapping for ${service} ${op}`);
  return result;
}

type Mapper = (
  op: string,
  input: Record<string, unknown>,
  ctx: AuthorizationContext,
) => AuthorizationRequest[] | undefined;

const MAPPERS: Record<string, Mapper> = {
  s3: s3Requests,
  dynamodb: dynamoRequests,
  sqs: sqsRequests,
  glue: glueRequests,
  athena: athenaRequests,
  emrserverless: emrServerlessRequests,
  emr: emrRequests,
  lambda: lambdaRequests,
  cloudwatch: cloudWatchRequests,
  kms: kmsRequests,
};

// ---------------------------------------------------------------- S3

/** The ARN of an S3 bucket, or of an object in it. */
export function s3Arn(ctx: Pick<AuthorizationContext, "partition">, bucket: string, key?: string): string {
  return `arn:${ctx.partition}:s3:::${bucket}${key === undefined ? "" : `/${key}`}`;
}

function s3Requests(op: string, input: Record<string, unknown>, ctx: AuthorizationContext) {
  const bucket = () => str(input, "Bucket");
  const object = () => s3Arn(ctx, bucket(), str(input, "Key"));
  const versioned = (action: string) => (optStr(input, "VersionId") ? `${action}Version` : action);
  switch (op) {
    case "GetObject":
    case "HeadObject":
      return [{ action: versioned("s3:GetObject"), resource: object(), context: {} }];
    case "PutObject":
      return [{ action: "s3:PutObject", resource: object(), context: s3WriteContext(input) }];
    case "DeleteObject":
      return [{ action: versioned("s3:DeleteObject"), resource: object(), context: {} }];
    case "DeleteObjects": {
      const objects = list(record(input, "Delete"), "Objects");
      return objects.map((o) => ({
        action: optStr(o, "VersionId") ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
        resource: s3Arn(ctx, bucket(), str(o, "Key")),
        context: {},
      }));
    }
    case "CopyObject": {
      const source = parseCopySource(str(input, "CopySource"));
      const context = s3WriteContext(input);
      context["s3:x-amz-copy-source"] = str(input, "CopySource");
      const directive = optStr(input, "MetadataDirective");
      if (directive) context["s3:x-amz-metadata-directive"] = directive;
      return [
        {
          action: source.versionId ? "s3:GetObjectVersion" : "s3:GetObject",
          resource: s3Arn(ctx, source.bucket, source.key),
          context: {},
        },
        { action: "s3:PutObject", resource: object(), context },
      ];
    }
    case "ListObjectsV2":
    case "ListObjects": {
      const context: Record<string, string> = {};
      const prefix = optStr(input, "Prefix");
      if (prefix !== undefined) context["s3:prefix"] = prefix;
      const delimiter = optStr(input, "Delimiter");
      if (delimiter !== undefined) context["s3:delimiter"] = delimiter;
      const maxKeys = num(input, "MaxKeys");
      if (maxKeys !== undefined) context["s3:max-keys"] = String(maxKeys);
      return [{ action: "s3:ListBucket", resource: s3Arn(ctx, bucket()), context }];
    }
    case "HeadBucket":
      return [{ action: "s3:ListBucket", resource: s3Arn(ctx, bucket()), context: {} }];
    default:
      return undefined;
  }
}

function s3WriteContext(input: Record<string, unknown>): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  const header: [string, string][] = [
    ["ACL", "s3:x-amz-acl"],
    ["ServerSideEncryption", "s3:x-amz-server-side-encryption"],
    ["SSEKMSKeyId", "s3:x-amz-server-side-encryption-aws-kms-key-id"],
    ["StorageClass", "s3:x-amz-storage-class"],
    ["IfNoneMatch", "s3:if-none-match"],
    ["IfMatch", "s3:if-match"],
  ];
  for (const [field, key] of header) {
    const value = optStr(input, field);
    if (value !== undefined) context[key] = value;
  }
  const tagging = optStr(input, "Tagging");
  if (tagging) {
    const tags = new URLSearchParams(tagging);
    for (const [k, v] of tags) context[`s3:RequestObjectTag/${k}`] = v;
    context["s3:RequestObjectTagKeys"] = [...tags.keys()];
  }
  return context;
}

/** Splits CopyObject's `CopySource` ("bucket/key", URL-encoded, optionally "?versionId=…"). */
export function parseCopySource(source: string): { bucket: string; key: string; versionId?: string } {
  const [path = "", query] = source.replace(/^\//, "").split("?", 2);
  const slash = path.indexOf("/");
  if (slash <= 0) throw new Error(`twin IAM: CopySource ${source} is not bucket/key`);
  const versionId = query ? new URLSearchParams(query).get("versionId") : null;
  return {
    bucket: decodeURIComponent(path.slice(0, slash)),
    key: decodeURIComponent(path.slice(slash + 1)),
    ...(versionId ? { versionId } : {}),
  };
}

// ---------------------------------------------------------------- DynamoDB

function tableArn(ctx: AuthorizationContext, table: string): string {
  return table.startsWith("arn:") ? table : arn(ctx, "dynamodb", `table/${table}`);
}

function dynamoContext(input: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const field of keys) {
    const value = optStr(input, field);
    if (value !== undefined) context[`dynamodb:${field}`] = value;
  }
  return context;
}

const ITEM_WRITE_KEYS = ["ReturnValues", "ReturnConsumedCapacity"] as const;

function dynamoRequests(op: string, input: Record<string, unknown>, ctx: AuthorizationContext) {
  const table = () => tableArn(ctx, str(input, "TableName"));
  switch (op) {
    case "GetItem":
      return [
        {
          action: "dynamodb:GetItem",
          resource: table(),
          context: dynamoContext(input, ["ReturnConsumedCapacity"]),
        },
      ];
    case "PutItem":
    case "UpdateItem":
    case "DeleteItem":
      return [
        { action: `dynamodb:${op}`, resource: table(), context: dynamoContext(input, ITEM_WRITE_KEYS) },
      ];
    case "Query":
    case "Scan": {
      const index = optStr(input, "IndexName");
      const resource = index ? `${table()}/index/${index}` : table();
      return [
        {
          action: `dynamodb:${op}`,
          resource,
          context: dynamoContext(input, ["Select", "ReturnConsumedCapacity"]),
        },
      ];
    }
    case "BatchGetItem":
    case "BatchWriteItem":
      return Object.keys(record(input, "RequestItems")).map((name) => ({
        action: `dynamodb:${op}`,
        resource: tableArn(ctx, name),
        context: dynamoContext(input, ["ReturnConsumedCapacity"]),
      }));
    case "TransactWriteItems":
      return list(input, "TransactItems").map((item) => {
        const [kind, body] = transactEntry(item);
        const action =
          kind === "Update" ? "UpdateItem" : kind === "ConditionCheck" ? "ConditionCheckItem" : `${kind}Item`;
        return {
          action: `dynamodb:${action}`,
          resource: tableArn(ctx, str(body, "TableName")),
          context: { "dynamodb:EnclosingOperation": "TransactWriteItems" },
        };
      });
    case "TransactGetItems":
      return list(input, "TransactItems").map((item) => ({
        action: "dynamodb:GetItem",
        resource: tableArn(ctx, str(record(item, "Get"), "TableName")),
        context: { "dynamodb:EnclosingOperation": "TransactGetItems" },
      }));
    case "DescribeTable":
    case "CreateTable":
    case "UpdateTimeToLive":
    case "DescribeTimeToLive":
      return [{ action: `dynamodb:${op}`, resource: table(), context: {} }];
    default:
      return undefined;
  }
}

function transactEntry(item: Record<string, unknown>): [string, Record<string, unknown>] {
  for (const kind of ["Put", "Update", "Delete", "ConditionCheck"]) {
    const body = item[kind];
    if (body && typeof body === "object") return [kind, body as Record<string, unknown>];
  }
  throw new Error(`twin IAM: TransactWriteItems entry without Put/Update/Delete/ConditionCheck`);
}

// ---------------------------------------------------------------- SQS

/** The queue ARN of an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>` or any host). */
export function queueArn(ctx: AuthorizationContext, url: string): string {
  const parsed = new URL(url);
  const parts = parsed.pathname.split("/").filter(Boolean);
  const [account, name] = parts.slice(-2);
  if (!account || !name || !/^\d{12}$/.test(account)) throw new Error(`twin IAM: ${url} is no queue URL`);
  const region =
    /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(parsed.hostname)?.[1] ??
    /^([a-z0-9-]+)\.queue\.amazonaws\.com/.exec(parsed.hostname)?.[1] ??
    ctx.region;
  return `arn:${ctx.partition}:sqs:${region}:${account}:${name}`;
}

const SQS_ACTIONS: Record<string, string> = {
  SendMessage: "sqs:SendMessage",
  SendMessageBatch: "sqs:SendMessage",
  ReceiveMessage: "sqs:ReceiveMessage",
  DeleteMessage: "sqs:DeleteMessage",
  DeleteMessageBatch: "sqs:DeleteMessage",
  ChangeMessageVisibility: "sqs:ChangeMessageVisibility",
  ChangeMessageVisibilityBatch: "sqs:ChangeMessageVisibility",
  GetQueueAttributes: "sqs:GetQueueAttributes",
};

function sqsRequests(op: string, input: Record<string, unknown>, ctx: AuthorizationContext) {
  if (op === "GetQueueUrl") {
    const account = optStr(input, "QueueOwnerAWSAccountId") ?? ctx.account;
    return [
      {
        action: "sqs:GetQueueUrl",
        resource: `arn:${ctx.partition}:sqs:${ctx.region}:${account}:${str(input, "QueueName")}`,
        context: {},
      },
    ];
  }
  const action = SQS_ACTIONS[op];
  if (!action) return undefined;
  return [{ action, resource: queueArn(ctx, str(input, "QueueUrl")), context: {} }];
}

// ---------------------------------------------------------------- Glue

function glueCatalog(ctx: AuthorizationContext, input: Record<string, unknown>) {
  const catalogId = optStr(input, "CatalogId");
  const account = catalogId && /^\d{12}$/.test(catalogId) ? catalogId : ctx.account;
  const at = (resource: string) => `arn:${ctx.partition}:glue:${ctx.region}:${account}:${resource}`;
  return {
    catalog: at("catalog"),
    database: (db: string) => at(`database/${db}`),
    table: (db: string, t: string) => at(`table/${db}/${t}`),
  };
}

function glueRequests(op: string, input: Record<string, unknown>, ctx: AuthorizationContext) {
  const each = (action: string, resources: string[]) =>
    resources.map((resource) => ({ action, resource, context: {} }));
  const c = glueCatalog(ctx, input);
  switch (op) {
    case "StartJobRun":
    case "GetJobRun":
    case "GetJobRuns":
    case "BatchStopJobRun":
      return each(`glue:${op}`, [arn(ctx, "glue", `job/${str(input, "JobName")}`)]);
    case "GetTable": {
      const db = str(input, "DatabaseName");
      return each("glue:GetTable", [c.catalog, c.database(db), c.table(db, str(input, "Name"))]);
    }
    case "GetPartition":
    case "GetPartitions": {
      const db = str(input, "DatabaseName");
      return each(`glue:${op}`, [c.catalog, c.database(db), c.table(db, str(input, "TableName"))]);
    }
    case "GetDatabase":
      return each("glue:GetDatabase", [c.catalog, c.database(str(input, "Name"))]);
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- Athena

function athenaRequests(op: string, input: Record<string, unknown>, ctx: AuthorizationContext) {
  const workgroup = (name: string) => arn(ctx, "athena", `workgroup/${name}`);
  switch (op) {
    case "StartQueryExecution":
      return [
        {
          action: "athena:StartQueryExecution",
          resource: workgroup(optStr(input, "WorkGroup") ?? "primary"),
          context: {},
        },
      ];
    case "GetQueryExecution":
    case "StopQueryExecution":
    case "GetQueryResults": {
      const id = str(input, "QueryExecutionId");
      const name = ctx.queryWorkGroup?.(id);
      if (!name) {
        throw new Error(
          `twin IAM: Athena authorizes ${op} against the workgroup of query ${id}, which is unknown (give ctx.queryWorkGroup)`,
        );
      }
      return [{ action: `athena:${op}`, resource: workgroup(name), context: {} }];
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- Lambda, CloudWatch, KMS

/** The function ARN Lambda authorizes for FunctionName (name, name:qualifier, partial or full ARN). */
export function functionArn(ctx: AuthorizationContext, functionName: string, qualifier?: string): string {
  const full = /^arn:[^:]+:lambda:([^:]+):(\d{12}):function:([^:]+)(?::(.+))?$/.exec(functionName);
  const partial = /^(\d{12}):function:([^:]+)(?::(.+))?$/.exec(functionName);
  const bare = /^([^:]+)(?::(.+))?$/.exec(functionName);
  const [region, account, name, q] = full
    ? [full[1], full[2], full[3], full[4]]
    : partial
      ? [ctx.region, partial[1], partial[2], partial[3]]
      : [ctx.region, ctx.account, bare?.[1], bare?.[2]];
  if (!name) throw new Error(`twin IAM: ${functionName} is no Lambda function name`);
  const suffix = qualifier ?? q;
  return `arn:${ctx.partition}:lambda:${region}:${account}:function:${name}${suffix ? `:${suffix}` : ""}`;
}

function lambdaRequests(op: string, input: Record<string, unknown>, ctx: AuthorizationContext) {
  if (op !== "Invoke") return undefined;
  const resource = functionArn(ctx, str(input, "FunctionName"), optStr(input, "Qualifier"));
  return [{ action: "lambda:InvokeFunction", resource, context: {} }];
}

function cloudWatchRequests(op: string, input: Record<string, unknown>) {
  if (op !== "PutMetricData") return undefined;
  return [
    {
      action: "cloudwatch:PutMetricData",
      resource: "*",
      context: { "cloudwatch:namespace": str(input, "Namespace") },
    },
  ];
}

/** The key ARN KMS authorizes for a KeyId (key ID or key ARN; aliases are refused: KMS authorizes the key). */
export function kmsKeyArn(ctx: AuthorizationContext, keyId: string): string {
  if (/^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(keyId)) return keyId;
  if (/^(mrk-)?[0-9a-f-]{32,36}$/i.test(keyId)) return arn(ctx, "kms", `key/${keyId}`);
  throw new Error(`twin IAM: KMS authorizes against the key, not alias ${keyId}: give the key ID or ARN`);
}

function kmsRequests(op: string, input: Record<string, unknown>, ctx: AuthorizationContext) {
  if (op !== "Decrypt" && op !== "GenerateDataKey") return undefined;
  const keyId = optStr(input, "KeyId");
  if (!keyId)
    throw new Error(`twin IAM: KMS ${op} without KeyId (the key inside the ciphertext is not modelled)`);
  const context: Record<string, string | string[]> = { "kms:CallerAccount": ctx.account };
  const encryptionContext = input["EncryptionContext"];
  if (encryptionContext && typeof encryptionContext === "object") {
    const entries = Object.entries(encryptionContext as Record<string, string>);
    for (const [k, v] of entries) context[`kms:EncryptionContext:${k}`] = v;
    context["kms:EncryptionContextKeys"] = entries.map(([k]) => k);
  }
  const algorithm = optStr(input, "EncryptionAlgorithm");
  if (algorithm) context["kms:EncryptionAlgorithm"] = algorithm;
  return [{ action: `kms:${op}`, resource: kmsKeyArn(ctx, keyId), context }];
}
