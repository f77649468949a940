/**
 * The twin's IAM middleware on real SDK clients against the local stand-ins (dynalite, s3rver): allowed
 * calls pass, denied ones fail with the exact SDK errors of AWS's responses, S3's 404→403 rule, S3
 * server-side KMS against the key policy, and the evaluation log.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeClusterCommand, EMRClient } from "@aws-sdk/client-emr";
import { EMRServerlessClient, GetJobRunCommand as GetJobRunCommand2 } from "@aws-sdk/client-emr-serverless";
import { GetJobRunCommand, GlueClient, StartJobRunCommand } from "@aws-sdk/client-glue";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { HttpResponse } from "@smithy/core/protocols";
import { EMULATOR_CREDENTIALS, startEmulators, type Emulators } from "../support/emulators";
import { ACCOUNT, KEY, REGION, ROLE, allow, evaluator, policy } from "./iam-fixtures";
import type { PolicyDocument } from "./twin/iam-evaluator";
import {
  authorizeClient,
  type AuthorizableClient,
  type AuthorizationRecord,
  type AuthorizeClientOptions,
} from "./twin/iam-middleware";

describe("authorizeClient on the stand-ins", () => {
  let emulators: Emulators;
  const servers: Server[] = [];
  const clients: { destroy(): void }[] = [];
  const track = <C extends { destroy(): void }>(client: C): C => (clients.push(client), client);
  const DATA = "data";
  const SECURE = "secure";

  beforeAll(async () => {
    emulators = await startEmulators({ region: REGION, buckets: [DATA, SECURE] });
    await emulators.dynamodb.send(
      new CreateTableCommand({
        TableName: "records",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await emulators.s3.send(new PutObjectCommand({ Bucket: DATA, Key: "in/present.csv", Body: "a,b\n" }));
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    for (const server of servers) server.close();
    await emulators.stop();
  });

  type Setup = Omit<AuthorizeClientOptions, "principal" | "evaluator" | "identityPolicies"> & {
    policies: PolicyDocument[];
  };
  const options = ({ policies, ...rest }: Setup): AuthorizeClientOptions => ({
    principal: ROLE,
    evaluator,
    identityPolicies: () => policies,
    ...rest,
  });
  const s3At = (endpoint: string) =>
    track(
      new S3Client({
        endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: EMULATOR_CREDENTIALS,
        maxAttempts: 1,
      }),
    );
  const dynamoAt = (endpoint: string) =>
    track(
      new DynamoDBClient({ endpoint, region: REGION, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 }),
    );
  const s3As = (setup: Setup) => authorizeClient(s3At(emulators.s3Endpoint), options(setup));
  const dynamoAs = (setup: Setup) => authorizeClient(dynamoAt(emulators.dynamoEndpoint), options(setup));
  const failure = async (promise: Promise<unknown>) => {
    const error = (await promise.then(
      () => undefined,
      (e: unknown) => e,
    )) as
      { name: string; message: string; $fault: string; $metadata: { httpStatusCode?: number } } | undefined;
    if (!error) throw new Error("the call succeeded");
    return {
      name: error.name,
      fault: error.$fault,
      status: error.$metadata.httpStatusCode,
      message: error.message,
    };
  };

  it("lets allowed S3 calls through to the stand-in, and records each evaluation", async () => {
    const log: AuthorizationRecord[] = [];
    const s3 = s3As({
      policies: [policy(allow(["s3:PutObject", "s3:GetObject"], `arn:aws:s3:::${DATA}/*`))],
      log,
    });
    await s3.send(new PutObjectCommand({ Bucket: DATA, Key: "out/x.csv", Body: "1" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: DATA, Key: "out/x.csv" }));
    expect(await got.Body?.transformToString()).toBe("1");
    expect(log.map((r) => [r.action, r.resource, r.decision, r.purpose])).toEqual([
      ["s3:PutObject", `arn:aws:s3:::${DATA}/out/x.csv`, "Allowed", "command"],
      ["s3:GetObject", `arn:aws:s3:::${DATA}/out/x.csv`, "Allowed", "command"],
    ]);
    expect(log.every((r) => r.principal === ROLE && r.service === "S3")).toBe(true);
  });

  it("fails a denied GetObject with S3's AccessDenied 403", async () => {
    const s3 = s3As({ policies: [policy(allow("s3:PutObject", `arn:aws:s3:::${DATA}/*`))] });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: DATA, Key: "in/present.csv" })))).toEqual({
      name: "AccessDenied",
      fault: "client",
      status: 403,
      message:
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/sluice-router/sluice-twin is not authorized to perform: s3:GetObject ` +
        `on resource: "arn:aws:s3:::${DATA}/in/present.csv" because no identity-based policy allows the s3:GetObject action`,
    });
  });

  it("answers a missing key 404 only to callers allowed s3:ListBucket (without s3:prefix)", async () => {
    const read = allow("s3:GetObject", `arn:aws:s3:::${DATA}/*`);
    const head = (s3: S3Client) =>
      failure(s3.send(new HeadObjectCommand({ Bucket: DATA, Key: "in/missing.csv" })));
    const get = (s3: S3Client) =>
      failure(s3.send(new GetObjectCommand({ Bucket: DATA, Key: "in/missing.csv" })));
    const lister = s3As({ policies: [policy(read, allow("s3:ListBucket", `arn:aws:s3:::${DATA}`))] });
    expect(await head(lister)).toMatchObject({ name: "NotFound", status: 404 });
    expect(await get(lister)).toMatchObject({ name: "NoSuchKey", status: 404 });
    const log: AuthorizationRecord[] = [];
    const reader = s3As({ policies: [policy(read)], log });
    const headDenied = await head(reader);
    expect(headDenied).toMatchObject({ fault: "client", status: 403 });
    expect(headDenied.name).toBe(HEAD_403_NAME);
    expect(await get(reader)).toEqual({
      name: "AccessDenied",
      fault: "client",
      status: 403,
      message: "Access Denied",
    });
    expect(log.filter((r) => r.purpose === "s3-not-found").map((r) => [r.action, r.decision])).toEqual([
      ["s3:ListBucket", "ImplicitlyDenied"],
      ["s3:ListBucket", "ImplicitlyDenied"],
    ]);
    const prefixed = s3As({
      policies: [
        policy(
          read,
          allow("s3:ListBucket", `arn:aws:s3:::${DATA}`, {
            Condition: { StringLike: { "s3:prefix": "in/*" } },
          }),
        ),
      ],
    });
    expect(await head(prefixed)).toMatchObject({ status: 403 });
    const listed = await prefixed.send(new ListObjectsV2Command({ Bucket: DATA, Prefix: "in/" }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["in/present.csv"]);
  });

  it("fails a denied DynamoDB PutItem with AccessDeniedException, and records that no Scan was needed", async () => {
    const log: AuthorizationRecord[] = [];
    const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/records`;
    const dynamo = dynamoAs({ policies: [policy(allow("dynamodb:GetItem", tableArn))], log });
    expect(
      await failure(dynamo.send(new PutItemCommand({ TableName: "records", Item: { pk: { S: "a" } } }))),
    ).toEqual({
      name: "AccessDeniedException",
      fault: "client",
      status: 400,
      message:
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/sluice-router/sluice-twin is not authorized to perform: dynamodb:PutItem ` +
        `on resource: ${tableArn} because no identity-based policy allows the dynamodb:PutItem action`,
    });
    const item = await dynamo.send(new GetItemCommand({ TableName: "records", Key: { pk: { S: "a" } } }));
    expect(item.Item).toBeUndefined();
    expect(log.map((r) => `${r.action} ${r.decision}`)).toEqual([
      "dynamodb:PutItem ImplicitlyDenied",
      "dynamodb:GetItem Allowed",
    ]);
    expect(log.some((r) => r.action === "dynamodb:Scan")).toBe(false);
  });

  it("requires the KMS key policy for S3 server-side encryption with the bucket's key", async () => {
    const s3Access = allow(["s3:PutObject", "s3:GetObject"], `arn:aws:s3:::${SECURE}/*`);
    const kmsAccess = allow(["kms:GenerateDataKey", "kms:Decrypt"], KEY, {
      Condition: { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } },
    });
    const rootDelegation = policy(
      allow("kms:*", "*", { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }),
    );
    const adminOnly = policy(
      allow("kms:*", "*", { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` } }),
    );
    const withKey = (keyPolicy: PolicyDocument, policies: PolicyDocument[], log?: AuthorizationRecord[]) =>
      s3As({
        policies,
        bucketKey: (bucket) => (bucket === SECURE ? KEY : undefined),
        resourcePolicy: (arn) => (arn === KEY ? keyPolicy : undefined),
        ...(log ? { log } : {}),
      });
    const put = (s3: S3Client) => s3.send(new PutObjectCommand({ Bucket: SECURE, Key: "k.csv", Body: "s" }));

    const noDelegation = withKey(adminOnly, [policy(s3Access, kmsAccess)]);
    expect(await failure(put(noDelegation))).toMatchObject({
      name: "AccessDenied",
      status: 403,
      message: expect.stringContaining(
        `kms:GenerateDataKey on resource: "${KEY}" because no resource-based policy allows`,
      ),
    });
    const log: AuthorizationRecord[] = [];
    const delegated = withKey(rootDelegation, [policy(s3Access, kmsAccess)], log);
    await put(delegated);
    expect(
      await (
        await delegated.send(new GetObjectCommand({ Bucket: SECURE, Key: "k.csv" }))
      ).Body?.transformToString(),
    ).toBe("s");
    expect(log.filter((r) => r.purpose === "s3-kms")).toEqual([
      expect.objectContaining({
        action: "kms:GenerateDataKey",
        resource: KEY,
        decision: "Allowed",
        context: expect.objectContaining({
          "kms:ViaService": `s3.${REGION}.amazonaws.com`,
          "kms:CallerAccount": ACCOUNT,
          "kms:EncryptionContext:aws:s3:arn": `arn:aws:s3:::${SECURE}/k.csv`,
        }),
      }),
      expect.objectContaining({ action: "kms:Decrypt", decision: "Allowed" }),
    ]);
    const writeOnly = withKey(rootDelegation, [policy(s3Access, allow("kms:GenerateDataKey", KEY))]);
    expect(
      await failure(writeOnly.send(new GetObjectCommand({ Bucket: SECURE, Key: "k.csv" }))),
    ).toMatchObject({
      name: "AccessDenied",
      status: 403,
      message: expect.stringContaining("because no identity-based policy allows the kms:Decrypt action"),
    });
    await expect(
      writeOnly.send(new HeadObjectCommand({ Bucket: SECURE, Key: "k.csv" })),
    ).resolves.toBeDefined();
    const bucketKeys = s3As({
      policies: [policy(s3Access, kmsAccess)],
      bucketKey: () => KEY,
      bucketKeyEnabled: () => true,
      resourcePolicy: () =>
        policy(
          allow("kms:*", "*", {
            Principal: { AWS: ROLE },
            Condition: { StringEquals: { "kms:EncryptionContext:aws:s3:arn": `arn:aws:s3:::${SECURE}` } },
          }),
        ),
    });
    await put(bucketKeys);
  });

  it("can record a denial and let the call through instead", async () => {
    const denials: string[] = [];
    const s3 = s3As({ policies: [], onDeny: (d) => (denials.push(`${d.action} ${d.deniedBy}`), "allow") });
    await s3.send(new PutObjectCommand({ Bucket: DATA, Key: "out/y.csv", Body: "2" }));
    expect(denials).toEqual(["s3:PutObject identity"]);
  });

  it("guards commands a service twin answers later in the initialize step, and learns Athena workgroups", async () => {
    const answered: string[] = [];
    const answering = <C extends { middlewareStack: { add: (...a: never[]) => void } }>(
      client: C,
      output: object,
    ): C => {
      const add = client.middlewareStack.add as (mw: unknown, o: object) => void;
      add(
        () => async (args: { input: object }) => {
          answered.push(JSON.stringify(args.input));
          return { output: { $metadata: { httpStatusCode: 200 }, ...output }, response: {} };
        },
        { step: "initialize", priority: "low", name: "answer" },
      );
      return client;
    };
    const unreachable = {
      endpoint: "http://127.0.0.1:9",
      region: REGION,
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    };
    const log: AuthorizationRecord[] = [];
    const glue = authorizeClient(
      answering(track(new GlueClient(unreachable)), { JobRunId: "jr_1" }),
      options({
        policies: [policy(allow("glue:GetJobRun", `arn:aws:glue:${REGION}:${ACCOUNT}:job/compact`))],
        log,
      }),
    );
    expect(await failure(glue.send(new StartJobRunCommand({ JobName: "compact" })))).toMatchObject({
      name: "AccessDeniedException",
      fault: "client",
      status: 400,
    });
    expect(answered).toEqual([]);
    await glue.send(new GetJobRunCommand({ JobName: "compact", RunId: "jr_1" }));
    expect(answered).toHaveLength(1);
    const athena = authorizeClient(
      answering(track(new AthenaClient(unreachable)), { QueryExecutionId: "q-1" }),
      options({
        policies: [policy(allow("athena:*", `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/etl`))],
        log,
      }),
    );
    await athena.send(new StartQueryExecutionCommand({ QueryString: "select 1", WorkGroup: "etl" }));
    await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: "q-1" }));
    expect(log.slice(-2).map((r) => `${r.action} ${r.resource} ${r.decision}`)).toEqual([
      `athena:StartQueryExecution arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/etl Allowed`,
      `athena:GetQueryExecution arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/etl Allowed`,
    ]);
  });

  it("makes the same SDK errors of its denials as each SDK makes of the same response over HTTP", async () => {
    const serve = async (response: HttpResponse) => {
      const server = createServer((req, res) => {
        req.resume();
        res.writeHead(response.statusCode, response.headers);
        res.end(response.body as Buffer | undefined);
      });
      servers.push(server);
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    type Sendable = { send(command: never): Promise<unknown> };
    const at =
      <C extends Sendable>(make: (config: object) => C) =>
      (endpoint: string) =>
        track(
          make({ endpoint, region: REGION, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 }) as C & {
            destroy(): void;
          },
        );
    const queueUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
    const cases: [string, (endpoint: string) => Sendable, object][] = [
      [
        "S3 HEAD",
        at((c) => new S3Client({ ...c, forcePathStyle: true })),
        new HeadObjectCommand({ Bucket: DATA, Key: "k" }),
      ],
      [
        "S3 GET",
        at((c) => new S3Client({ ...c, forcePathStyle: true })),
        new GetObjectCommand({ Bucket: DATA, Key: "k" }),
      ],
      [
        "DynamoDB",
        at((c) => new DynamoDBClient(c)),
        new GetItemCommand({ TableName: "records", Key: { pk: { S: "a" } } }),
      ],
      ["SQS", at((c) => new SQSClient(c)), new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "m" })],
      ["Glue", at((c) => new GlueClient(c)), new StartJobRunCommand({ JobName: "compact" })],
      ["Athena", at((c) => new AthenaClient(c)), new StartQueryExecutionCommand({ QueryString: "select 1" })],
      ["EMR", at((c) => new EMRClient(c)), new DescribeClusterCommand({ ClusterId: "j-1" })],
      [
        "EMR Serverless",
        at((c) => new EMRServerlessClient(c)),
        new GetJobRunCommand2({ applicationId: "a", jobRunId: "r" }),
      ],
      ["Lambda", at((c) => new LambdaClient(c)), new InvokeCommand({ FunctionName: "f" })],
      [
        "CloudWatch",
        at((c) => new CloudWatchClient(c)),
        new PutMetricDataCommand({ Namespace: "Sluice", MetricData: [] }),
      ],
    ];
    const seen: Record<string, unknown> = {};
    for (const [label, client, command] of cases) {
      // nothing listens on port 9: were the call allowed, it would fail to connect, not reach AWS
      const twin = authorizeClient(
        client("http://127.0.0.1:9") as Sendable & AuthorizableClient,
        options({ policies: [] }),
      );
      const denial = await twin.send(command as never).then(
        () => undefined,
        (e: unknown) => e as { $response: HttpResponse },
      );
      if (!denial) throw new Error(`${label}: the call succeeded`);
      const viaHttp = await failure(client(await serve(denial.$response)).send(command as never));
      seen[label] = await failure(Promise.reject(denial));
      expect({ label, ...viaHttp }).toEqual({ label, ...(seen[label] as object) });
    }
    const denied = (action: string, resource: string) =>
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/sluice-router/sluice-twin is not authorized to perform: ${action} ` +
      `on resource: ${resource} because no identity-based policy allows the ${action} action`;
    const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
    expect(seen).toEqual({
      "S3 HEAD": { name: HEAD_403_NAME, fault: "client", status: 403, message: "UnknownError" },
      "S3 GET": {
        name: "AccessDenied",
        fault: "client",
        status: 403,
        message: denied("s3:GetObject", `"arn:aws:s3:::${DATA}/k"`),
      },
      DynamoDB: {
        name: "AccessDeniedException",
        fault: "client",
        status: 400,
        message: denied("dynamodb:GetItem", arn("dynamodb", "table/records")),
      },
      SQS: {
        name: "AccessDenied",
        fault: "client",
        status: 403,
        message: denied("sqs:sendmessage", "arn:aws:sqs:us-east-1:123456789012:q"),
      },
      Glue: {
        name: "AccessDeniedException",
        fault: "client",
        status: 400,
        message: denied("glue:StartJobRun", arn("glue", "job/compact")),
      },
      Athena: {
        name: "AccessDeniedException",
        fault: "client",
        status: 400,
        message: denied("athena:StartQueryExecution", arn("athena", "workgroup/primary")),
      },
      EMR: {
        name: "AccessDeniedException",
        fault: "client",
        status: 400,
        message: denied("elasticmapreduce:DescribeCluster", arn("elasticmapreduce", "cluster/j-1")),
      },
      "EMR Serverless": {
        name: "AccessDeniedException",
        fault: "client",
        status: 403,
        message: denied("emr-serverless:GetJobRun", arn("emr-serverless", "/applications/a/jobruns/r")),
      },
      Lambda: {
        name: "AccessDeniedException",
        fault: "client",
        status: 403,
        message: denied("lambda:InvokeFunction", arn("lambda", "function:f")),
      },
      CloudWatch: {
        name: "AccessDenied",
        fault: "client",
        status: 403,
        message: denied("cloudwatch:PutMetricData", "*").replace(" on resource: *", ""),
      },
    });
  });
});

/** What the SDK names an S3 HEAD 403 (a body-less response): see "the same SDK errors" test. */
const HEAD_403_NAME = "Unknown";
