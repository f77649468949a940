/**
 * The twin's mapping from AWS SDK v3 commands to the authorization requests AWS makes, checked command
 * family by command family and against iam-simulate's action, resource and condition-key data.
 */
import { ACCOUNT, CTX, KEY, OTHER, REGION, ROLE, allow, evaluator, policy } from "./iam-fixtures";
import { authorizationsFor, type AuthorizationContext } from "./twin/sdk-requests";

describe("authorizationsFor", () => {
  const map = (
    service: string,
    command: string,
    input: Record<string, unknown>,
    ctx: AuthorizationContext = CTX,
  ) => authorizationsFor(service, command, input, ctx);
  const table = (t: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${t}`;

  it("maps S3 object and bucket commands", () => {
    expect(map("S3", "GetObjectCommand", { Bucket: "b", Key: "a/b.csv" })).toEqual([
      { action: "s3:GetObject", resource: "arn:aws:s3:::b/a/b.csv", context: {} },
    ]);
    expect(map("S3", "HeadObject", { Bucket: "b", Key: "k" })[0]?.action).toBe("s3:GetObject");
    expect(map("S3", "GetObject", { Bucket: "b", Key: "k", VersionId: "v1" })[0]?.action).toBe(
      "s3:GetObjectVersion",
    );
    expect(
      map("S3", "PutObject", { Bucket: "b", Key: "k", ServerSideEncryption: "aws:kms", SSEKMSKeyId: KEY }),
    ).toEqual([
      {
        action: "s3:PutObject",
        resource: "arn:aws:s3:::b/k",
        context: {
          "s3:x-amz-server-side-encryption": "aws:kms",
          "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY,
        },
      },
    ]);
    expect(map("S3", "DeleteObject", { Bucket: "b", Key: "k" })[0]?.action).toBe("s3:DeleteObject");
    expect(map("S3", "CopyObject", { Bucket: "dst", Key: "n", CopySource: "src/a%20b.csv" })).toEqual([
      { action: "s3:GetObject", resource: "arn:aws:s3:::src/a b.csv", context: {} },
      {
        action: "s3:PutObject",
        resource: "arn:aws:s3:::dst/n",
        context: { "s3:x-amz-copy-source": "src/a%20b.csv" },
      },
    ]);
    expect(map("S3", "ListObjectsV2", { Bucket: "b", Prefix: "in/", Delimiter: "/" })).toEqual([
      {
        action: "s3:ListBucket",
        resource: "arn:aws:s3:::b",
        context: { "s3:prefix": "in/", "s3:delimiter": "/" },
      },
    ]);
    expect(map("S3", "ListObjectsV2", { Bucket: "b" })).toEqual([
      { action: "s3:ListBucket", resource: "arn:aws:s3:::b", context: {} },
    ]);
    expect(map("S3", "HeadBucket", { Bucket: "b" })).toEqual([
      { action: "s3:ListBucket", resource: "arn:aws:s3:::b", context: {} },
    ]);
  });

  it("maps DynamoDB commands, with index ARNs and one request per table or transaction item", () => {
    for (const op of ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable"]) {
      expect(map("DynamoDB", op, { TableName: "T" })).toEqual([
        { action: `dynamodb:${op}`, resource: table("T"), context: {} },
      ]);
    }
    expect(map("DynamoDB", "Query", { TableName: "T", IndexName: "byGroup" })[0]?.resource).toBe(
      `${table("T")}/index/byGroup`,
    );
    expect(map("DynamoDB", "Query", { TableName: "T", Select: "COUNT" })[0]).toEqual({
      action: "dynamodb:Query",
      resource: table("T"),
      context: { "dynamodb:Select": "COUNT" },
    });
    expect(
      map("DynamoDB", "BatchGetItem", { RequestItems: { A: {}, B: {} } }).map((r) => [r.action, r.resource]),
    ).toEqual([
      ["dynamodb:BatchGetItem", table("A")],
      ["dynamodb:BatchGetItem", table("B")],
    ]);
    expect(map("DynamoDB", "BatchWriteItem", { RequestItems: { A: [] } })[0]?.action).toBe(
      "dynamodb:BatchWriteItem",
    );
    const items = [
      { Put: { TableName: "A" } },
      { Update: { TableName: "B" } },
      { ConditionCheck: { TableName: "A" } },
      { Delete: { TableName: "C" } },
    ];
    expect(
      map("DynamoDB", "TransactWriteItems", { TransactItems: items }).map((r) => [r.action, r.resource]),
    ).toEqual([
      ["dynamodb:PutItem", table("A")],
      ["dynamodb:UpdateItem", table("B")],
      ["dynamodb:ConditionCheckItem", table("A")],
      ["dynamodb:DeleteItem", table("C")],
    ]);
  });

  it("maps SQS commands to the queue ARN of the queue URL, whatever its host", () => {
    const arnOf = (QueueUrl: string, op = "SendMessage") => map("SQS", op, { QueueUrl })[0];
    expect(arnOf("https://sqs.eu-west-1.amazonaws.com/123456789012/q1")).toEqual({
      action: "sqs:SendMessage",
      resource: "arn:aws:sqs:eu-west-1:123456789012:q1",
      context: {},
    });
    expect(arnOf("http://127.0.0.1:9324/123456789012/q2", "ReceiveMessage")).toEqual({
      action: "sqs:ReceiveMessage",
      resource: `arn:aws:sqs:${REGION}:123456789012:q2`,
      context: {},
    });
    expect(arnOf("https://sqs.us-east-1.amazonaws.com/123456789012/q1", "SendMessageBatch")?.action).toBe(
      "sqs:SendMessage",
    );
    expect(arnOf("https://sqs.us-east-1.amazonaws.com/123456789012/q1", "DeleteMessage")?.action).toBe(
      "sqs:DeleteMessage",
    );
    expect(() => arnOf("https://sqs.us-east-1.amazonaws.com/q1")).toThrow(/no queue URL/);
  });

  it("maps Glue jobs to the job ARN and catalog reads to catalog, database and table ARNs", () => {
    const glue = (r: string) => `arn:aws:glue:${REGION}:${ACCOUNT}:${r}`;
    for (const op of ["StartJobRun", "GetJobRun", "BatchStopJobRun"]) {
      expect(map("Glue", op, { JobName: "compact" })).toEqual([
        { action: `glue:${op}`, resource: glue("job/compact"), context: {} },
      ]);
    }
    const resources = (op: string, input: Record<string, unknown>) =>
      map("Glue", op, input).map((r) => r.resource);
    expect(resources("GetTable", { DatabaseName: "db", Name: "t" })).toEqual([
      glue("catalog"),
      glue("database/db"),
      glue("table/db/t"),
    ]);
    expect(resources("GetPartitions", { DatabaseName: "db", TableName: "t" })).toEqual([
      glue("catalog"),
      glue("database/db"),
      glue("table/db/t"),
    ]);
    expect(resources("GetPartition", { DatabaseName: "db", TableName: "t", CatalogId: OTHER })[0]).toBe(
      `arn:aws:glue:${REGION}:${OTHER}:catalog`,
    );
    expect(resources("GetDatabase", { Name: "db" })).toEqual([glue("catalog"), glue("database/db")]);
  });

  it("maps Athena commands to the workgroup, which follow-up calls need from the context", () => {
    const wg = (w: string) => `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/${w}`;
    expect(map("Athena", "StartQueryExecution", { QueryString: "select 1" })[0]?.resource).toBe(
      wg("primary"),
    );
    expect(map("Athena", "StartQueryExecution", { WorkGroup: "etl" })[0]?.resource).toBe(wg("etl"));
    const ctx = { ...CTX, queryWorkGroup: (id: string) => (id === "q-1" ? "etl" : undefined) };
    for (const op of ["GetQueryExecution", "StopQueryExecution", "GetQueryResults"]) {
      expect(map("Athena", op, { QueryExecutionId: "q-1" }, ctx)).toEqual([
        { action: `athena:${op}`, resource: wg("etl"), context: {} },
      ]);
    }
    expect(() => map("Athena", "GetQueryExecution", { QueryExecutionId: "q-2" }, ctx)).toThrow(
      /workgroup of query q-2/,
    );
  });

  it("maps EMR Serverless job runs, passing the execution role to emr-serverless", () => {
    const app = `arn:aws:emr-serverless:${REGION}:${ACCOUNT}:/applications/00abc`;
    expect(
      map("EMR Serverless", "StartJobRun", {
        applicationId: "00abc",
        executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/job`,
        tags: { team: "data" },
      }),
    ).toEqual([
      {
        action: "emr-serverless:StartJobRun",
        resource: app,
        context: { "aws:RequestTag/team": "data", "aws:TagKeys": ["team"] },
      },
      {
        action: "iam:PassRole",
        resource: `arn:aws:iam::${ACCOUNT}:role/job`,
        context: { "iam:PassedToService": "emr-serverless.amazonaws.com" },
      },
    ]);
    for (const op of ["GetJobRun", "CancelJobRun"]) {
      expect(map("emr-serverless", op, { applicationId: "00abc", jobRunId: "r1" })[0]?.resource).toBe(
        `${app}/jobruns/r1`,
      );
    }
  });

  it("maps EMR clusters: RunJobFlow with tags and both passed roles, steps on the cluster ARN", () => {
    const role = (r: string) => `arn:aws:iam::${ACCOUNT}:role/${r}`;
    const run = map("EMR", "RunJobFlow", {
      Name: "c",
      ServiceRole: "EMR_DefaultRole",
      JobFlowRole: "EMR_EC2_DefaultRole",
      Tags: [{ Key: "for-use-with-amazon-emr-managed-policies", Value: "true" }],
    });
    expect(run).toEqual([
      {
        action: "elasticmapreduce:RunJobFlow",
        resource: "*",
        context: {
          "aws:RequestTag/for-use-with-amazon-emr-managed-policies": "true",
          "elasticmapreduce:RequestTag/for-use-with-amazon-emr-managed-policies": "true",
          "aws:TagKeys": ["for-use-with-amazon-emr-managed-policies"],
        },
      },
      {
        action: "iam:PassRole",
        resource: role("EMR_DefaultRole"),
        context: { "iam:PassedToService": "elasticmapreduce.amazonaws.com" },
      },
      {
        action: "iam:PassRole",
        resource: role("EMR_EC2_DefaultRole"),
        context: { "iam:PassedToService": "ec2.amazonaws.com" },
      },
    ]);
    const profiled = map(
      "EMR",
      "RunJobFlow",
      { JobFlowRole: `arn:aws:iam::${ACCOUNT}:instance-profile/nodes` },
      {
        ...CTX,
        instanceProfileRole: (p) => (p === "nodes" ? "node-role" : undefined),
      },
    );
    expect(profiled[1]?.resource).toBe(role("node-role"));
    const cluster = `arn:aws:elasticmapreduce:${REGION}:${ACCOUNT}:cluster/j-ABC`;
    expect(map("EMR", "AddJobFlowSteps", { JobFlowId: "j-ABC", Steps: [] })[0]?.resource).toBe(cluster);
    for (const op of ["DescribeStep", "DescribeCluster", "ListSteps", "CancelSteps"]) {
      expect(map("EMR", op, { ClusterId: "j-ABC" })).toEqual([
        { action: `elasticmapreduce:${op}`, resource: cluster, context: {} },
      ]);
    }
    expect(
      map("EMR", "TerminateJobFlows", { JobFlowIds: ["j-ABC", "j-DEF"] }).map((r) => r.resource),
    ).toEqual([cluster, cluster.replace("j-ABC", "j-DEF")]);
  });

  it("maps Lambda Invoke, CloudWatch PutMetricData and KMS", () => {
    const fn = (s: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${s}`;
    expect(map("Lambda", "Invoke", { FunctionName: "router" })).toEqual([
      { action: "lambda:InvokeFunction", resource: fn("router"), context: {} },
    ]);
    expect(map("Lambda", "Invoke", { FunctionName: "router:live" })[0]?.resource).toBe(fn("router:live"));
    expect(map("Lambda", "Invoke", { FunctionName: fn("router"), Qualifier: "3" })[0]?.resource).toBe(
      fn("router:3"),
    );
    expect(map("Lambda", "Invoke", { FunctionName: `${OTHER}:function:x` })[0]?.resource).toBe(
      `arn:aws:lambda:${REGION}:${OTHER}:function:x`,
    );
    expect(map("CloudWatch", "PutMetricData", { Namespace: "Sluice", MetricData: [] })).toEqual([
      { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "Sluice" } },
    ]);
    expect(
      map("KMS", "Decrypt", { KeyId: KEY, EncryptionContext: { "aws:s3:arn": "arn:aws:s3:::b/k" } }),
    ).toEqual([
      {
        action: "kms:Decrypt",
        resource: KEY,
        context: {
          "kms:CallerAccount": ACCOUNT,
          "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b/k",
          "kms:EncryptionContextKeys": ["aws:s3:arn"],
        },
      },
    ]);
    expect(
      map("KMS", "GenerateDataKey", { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" })[0]?.resource,
    ).toBe(KEY);
    expect(() => map("KMS", "GenerateDataKey", { KeyId: "alias/data" })).toThrow(/not alias/);
  });

  it("refuses commands and services it does not know", () => {
    expect(() => map("S3", "PutBucketPolicy", { Bucket: "b" })).toThrow(
      /no authorization mapping for S3 PutBucketPolicy/,
    );
    expect(() => map("SNS", "Publish", {})).toThrow(/no authorization mapping/);
  });

  it("produces only requests iam-simulate accepts, with context keys that apply", async () => {
    const ctx = { ...CTX, queryWorkGroup: () => "primary" };
    const samples: [string, string, Record<string, unknown>][] = [
      [
        "S3",
        "CopyObject",
        { Bucket: "b", Key: "k", CopySource: "s/k", MetadataDirective: "REPLACE", Tagging: "a=1" },
      ],
      ["S3", "ListObjectsV2", { Bucket: "b", Prefix: "p/", Delimiter: "/", MaxKeys: 10 }],
      [
        "DynamoDB",
        "UpdateItem",
        { TableName: "T", ReturnValues: "ALL_NEW", ReturnConsumedCapacity: "TOTAL" },
      ],
      ["DynamoDB", "Query", { TableName: "T", IndexName: "I", Select: "COUNT" }],
      ["DynamoDB", "TransactWriteItems", { TransactItems: [{ Put: { TableName: "T" } }] }],
      ["SQS", "SendMessageBatch", { QueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q" }],
      ["Glue", "GetPartitions", { DatabaseName: "db", TableName: "t" }],
      ["Athena", "GetQueryResults", { QueryExecutionId: "q" }],
      ["EMR Serverless", "StartJobRun", { applicationId: "a", executionRoleArn: "r", tags: { k: "v" } }],
      ["EMR", "RunJobFlow", { ServiceRole: "s", JobFlowRole: "p", Tags: [{ Key: "k", Value: "v" }] }],
      ["EMR", "AddJobFlowSteps", { JobFlowId: "j-1", ExecutionRoleArn: `arn:aws:iam::${ACCOUNT}:role/r` }],
      ["Lambda", "Invoke", { FunctionName: "f:live" }],
      ["CloudWatch", "PutMetricData", { Namespace: "N" }],
      [
        "KMS",
        "Decrypt",
        { KeyId: KEY, EncryptionContext: { a: "b" }, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" },
      ],
    ];
    const everything = [policy(allow("*"))];
    for (const [service, command, input] of samples) {
      for (const request of authorizationsFor(service, command, input, ctx)) {
        const result = await evaluator.evaluate({
          principal: ROLE,
          ...request,
          identityPolicies: everything,
        });
        expect({ command, action: request.action, ignored: result.ignoredContextKeys }).toEqual({
          command,
          action: request.action,
          ignored: [],
        });
      }
    }
  });
});
