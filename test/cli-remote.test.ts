/**
 * `sluice remote` end to end: the CLI's real Lambda client talks to an in-process Lambda endpoint
 * (`--endpoint-lambda`) whose Invoke runs the real router service (`createService`, as the deployed
 * handler builds it) on dynalite and s3rver; the CLI's DynamoDB client reads dynalite
 * (`--endpoint-dynamodb`); CloudWatch is mocked with aws-sdk-client-mock.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { Application, dim, inline } from "sluice";
import { loadFlow } from "../src/cli/load-flow";
import { main, type Output } from "../src/cli/main";
import { defaultClientFactory, setRemoteClientFactory } from "../src/cli/remote/clients";
import type { RemoteTarget } from "../src/cli/remote/target";
import { backfillPlan } from "../src/cli/remote/values";
import type { FlowModel, NodeModel } from "../src/flow/model/flow-model";
import type { InlineCompute } from "../src/flow/model/inline-api";
import { resourceNames } from "../src/flow/model/resource-names";
import { createRoutingTable } from "../src/runtime-bundle/aws/dynamodb-store";
import { EmfMetrics } from "../src/runtime-bundle/aws/emf-metrics";
import { createService } from "../src/runtime-bundle/aws/handler";
import type { Store } from "../src/runtime-bundle/core/store";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types
const dynalite = require("dynalite") as (options: { createTableMs?: number }) => Server;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types
const S3rver = require("s3rver") as new (options: Record<string, unknown>) => S3rverInstance;

const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const APP = "rtest";
const STORAGE_BUCKET = "rtest-storage";
const STAGING_ARN = `arn:aws:lambda:eu-west-1:210987654321:function:${resourceNames.routerFunction(APP)}`;
const DEFAULT_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${resourceNames.routerFunction(APP)}`;

const FLOW = `import { Application, dim, inline } from "sluice";
const app = new Application("${APP}", { account: "123456789012", region: "us-east-1" });
app.environment("staging", { account: "210987654321", region: "eu-west-1" });
const dims = { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) };
const clicks = app.s3Dataset("clicks", {
  bucket: "rtest-clicks", prefix: "raw/clicks", partitions: ["region={}", "day={}"], dimensions: dims, completion: "_SUCCESS",
});
const orders = app.s3Dataset("orders", {
  bucket: "rtest-orders", prefix: "raw/orders", partitions: ["region={}", "day={}"], dimensions: dims, completion: "_SUCCESS",
});
const joined = app.data("joined", { inputs: [clicks, orders], compute: inline("compute/joined.ts#run") });
app.data("daily", { inputs: [joined], compute: inline("compute/daily.ts#run") });
app.alarm("joined_failures", {
  metric: app.routeMetrics(joined).get("ExecutionFailure"),
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
});
app.alarm("daily_failures", {
  alarmName: "rtest-daily-failures",
  metric: app.routeMetrics(joined).get("ExecutionFailure"),
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
});
export default app;
`;

// ---------------------------------------------------------------- the deployed environment, in process

let dynamoServer: Server;
let dynamoEndpoint: string;
let dynamodb: DynamoDBClient;
let s3rver: S3rverInstance;
let s3Dir: string;
let s3: S3Client;
let lambdaServer: Server;
let lambdaEndpoint: string;
let flowFile: string;
let model: FlowModel;

/** What the fake Lambda endpoint received. */
const invocations: { functionName: string; invocationType: string | undefined; payload: unknown }[] = [];
/** When set, every routing-table call of the router throws (the function fails). */
let storeDown = false;
/** Partitions the user code has computed, "node region/day". */
const computed: string[] = [];

function compute(node: string): InlineCompute {
  return async (_inputs, output) => {
    if (output.dimensions.region === "XX") throw new Error(`no data for region XX`);
    computed.push(`${node} ${String(output.dimensions.region)}/${String(output.dimensions.day)}`);
  };
}

/** The router service as the deployed handler builds it, on dynalite and s3rver. */
function service() {
  return createService(
    { SLUICE_TABLE: resourceNames.routingTable(APP), SLUICE_BUCKET: STORAGE_BUCKET, SLUICE_ENV: "staging" },
    path.join(tmpdir(), "no-assets-here"),
    {
      model,
      code: {
        refs: { "compute/joined.ts#run": compute("joined"), "compute/daily.ts#run": compute("daily") },
      },
      dynamodb,
      s3,
      metrics: new EmfMetrics({ namespace: "Sluice/rtest", application: APP, write: () => undefined }),
      wrapStore: (store: Store) =>
        new Proxy(store, {
          get: (t, p, receiver) => {
            const v = Reflect.get(t, p, receiver) as unknown;
            if (typeof v !== "function") return v;
            return (...args: unknown[]) => {
              if (storeDown)
                throw new Error("routing table unavailable: ProvisionedThroughputExceededException");
              return (v as (...a: unknown[]) => unknown).apply(t, args);
            };
          },
        }),
    },
  );
}

/** Lambda's Invoke API (POST /2015-03-31/functions/{name}/invocations), as the SDK speaks it. */
async function lambdaApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? "");
  const functionName = decodeURIComponent(m?.[1] ?? "");
  const payload = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  invocations.push({
    functionName,
    invocationType: req.headers["x-amz-invocation-type"] as string | undefined,
    payload,
  });
  if (functionName !== STAGING_ARN && functionName !== DEFAULT_ARN) {
    res.writeHead(404, {
      "content-type": "application/json",
      "x-amzn-errortype": "ResourceNotFoundException",
    });
    res.end(JSON.stringify({ Type: "User", message: `Function not found: ${functionName}` }));
    return;
  }
  try {
    const result = await service().handle(payload);
    res.writeHead(200, { "content-type": "application/json", "x-amz-executed-version": "$LATEST" });
    res.end(JSON.stringify(result));
  } catch (e) {
    const err = e as Error;
    res.writeHead(200, {
      "content-type": "application/json",
      "x-amz-executed-version": "$LATEST",
      "x-amz-function-error": "Unhandled",
    });
    res.end(
      JSON.stringify({
        errorType: err.name,
        errorMessage: err.message,
        trace: (err.stack ?? "").split("\n"),
      }),
    );
  }
}

const savedEnv = { ...process.env };

beforeAll(async () => {
  // The CLI's clients take credentials from the default provider chain: the environment's, here.
  process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;

  dynamoServer = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamoServer.listen(0, "127.0.0.1", resolve));
  dynamoEndpoint = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;
  dynamodb = new DynamoDBClient({ endpoint: dynamoEndpoint, region: "eu-west-1", credentials: CREDENTIALS });
  await createRoutingTable(dynamodb, resourceNames.routingTable(APP));

  s3Dir = mkdtempSync(path.join(tmpdir(), "sluice-remote-s3rver-"));
  s3rver = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: s3Dir });
  const { port } = await s3rver.run();
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "eu-west-1",
    forcePathStyle: true,
    credentials: CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: STORAGE_BUCKET }));

  lambdaServer = createServer((req, res) => {
    lambdaApi(req, res).catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => lambdaServer.listen(0, "127.0.0.1", resolve));
  lambdaEndpoint = `http://127.0.0.1:${(lambdaServer.address() as AddressInfo).port}`;

  const dir = mkdtempSync(path.join(tmpdir(), "sluice-remote-flow-"));
  flowFile = path.join(dir, "flow.ts");
  writeFileSync(flowFile, FLOW);
  model = loadFlow(flowFile).toModel();
});

afterAll(async () => {
  process.env = savedEnv;
  dynamodb.destroy();
  s3.destroy();
  await new Promise<void>((resolve) => lambdaServer.close(() => resolve()));
  await new Promise<void>((resolve, reject) => dynamoServer.close((e) => (e ? reject(e) : resolve())));
  await s3rver.close();
  await rm(s3Dir, { recursive: true, force: true });
});

jest.setTimeout(60_000);

const cloudwatch = mockClient(CloudWatchClient);

beforeEach(() => {
  invocations.length = 0;
  storeDown = false;
  cloudwatch.reset();
  // The router logs a line per signal.
  jest.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

// ---------------------------------------------------------------- the CLI

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const sink = (f: (s: string) => void): Output => ({ write: (s: string) => f(s) });
  const code = await main(
    args,
    sink((s) => (out += s)),
    sink((s) => (err += s)),
  );
  return { code, out, err };
}

/** `sluice remote <flow> --env staging --endpoint-… <action…>`. */
function remote(...action: string[]) {
  return run(
    "remote",
    flowFile,
    "--env",
    "staging",
    "--endpoint-lambda",
    lambdaEndpoint,
    "--endpoint-dynamodb",
    dynamoEndpoint,
    ...action,
  );
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

// ---------------------------------------------------------------- process, execute, poll, kill

test("two inputs processed through the CLI trigger an execution that remote poll shows", async () => {
  const first = await remote("process", "clicks", "NA", "2024-05-07");
  expect(first).toEqual({
    code: 0,
    out: "clicks region=NA day=2024-05-07: offered to joined (as clicks); no execution started\n",
    err: "",
  });
  expect(await remote("poll", "joined", "NA", "2024-05-07")).toMatchObject({
    code: 0,
    out: "joined region=NA day=2024-05-07: no finished execution\n",
  });

  // An ISO timestamp is coerced to the dimension's format and granularity.
  const second = await remote("process", "orders", "NA", "2024-05-07T13:45:00Z");
  expect(second.code).toBe(0);
  expect(second.out).toMatch(
    /^orders region=NA day=2024-05-07: offered to joined \(as orders\); started joined-\S+\n$/,
  );
  expect(computed).toEqual(expect.arrayContaining(["joined NA/2024-05-07", "daily NA/2024-05-07"]));

  const polled = await remote("poll", "joined", "NA", "2024-05-07");
  expect(polled).toEqual({
    code: 0,
    out: `joined region=NA day=2024-05-07: SUCCEEDED → s3://${STORAGE_BUCKET}/internal_data/joined/NA/2024-05-07\n`,
    err: "",
  });
  const asJson = await remote("poll", "daily", "NA", "2024-05-07", "--json");
  expect(JSON.parse(asJson.out)).toEqual({
    action: "poll",
    node: "daily",
    dimensions: { region: "NA", day: "2024-05-07" },
    result: { path: `s3://${STORAGE_BUCKET}/internal_data/daily/NA/2024-05-07` },
  });

  // Every call was a RequestResponse invocation of the staging account's router, by ARN.
  expect(new Set(invocations.map((i) => i.functionName))).toEqual(new Set([STAGING_ARN]));
  expect(new Set(invocations.map((i) => i.invocationType))).toEqual(new Set(["RequestResponse"]));
  expect(invocations[0]?.payload).toEqual({
    sluice: "process",
    node: "clicks",
    dimensions: { region: "NA", day: "2024-05-07" },
  });
});

test("execute, execute --recursive and kill", async () => {
  const executed = await remote("execute", "joined", "EU", "2024-05-07");
  expect(executed.code).toBe(0);
  expect(executed.out).toMatch(
    /^joined region=EU day=2024-05-07: execution \S+ SUCCEEDED \(attempt 1, ended [\dT:-]+Z\) → s3:\/\/rtest-storage\/internal_data\/joined\/EU\/2024-05-07\n$/,
  );
  // A success is pushed downstream.
  expect(computed).toContain("daily EU/2024-05-07");

  // --recursive: the missing upstream partition (joined JP) is executed first.
  const recursive = await remote("execute", "daily", "JP", "2024-05-10", "--recursive", "--json");
  expect(recursive.code).toBe(0);
  expect(JSON.parse(recursive.out)).toMatchObject({
    action: "execute",
    node: "daily",
    dimensions: { region: "JP", day: "2024-05-10" },
    result: { node: "daily", status: "SUCCEEDED", dimensions: { region: "JP", day: "2024-05-10" } },
  });
  expect(invocations.at(-1)?.payload).toEqual({
    sluice: "execute",
    node: "daily",
    dimensions: { region: "JP", day: "2024-05-10" },
    recursive: true,
  });
  expect(computed.indexOf("joined JP/2024-05-10")).toBeGreaterThanOrEqual(0);
  expect(computed.indexOf("joined JP/2024-05-10")).toBeLessThan(computed.indexOf("daily JP/2024-05-10"));

  expect(await remote("kill", "joined", "EU", "2024-05-07")).toEqual({
    code: 0,
    out: "joined region=EU day=2024-05-07: no running execution\n",
    err: "",
  });

  // An execution that fails: its record on stdout, one error line, exit 4.
  const failed = await remote("execute", "joined", "XX", "2024-05-07");
  expect(failed.code).toBe(4);
  expect(failed.out).toMatch(/FAILED .*no data for region XX/);
  expect(lines(failed.err)).toHaveLength(1);
  expect(failed.err).toMatch(/^sluice remote: execution \S+ of joined region=XX day=2024-05-07 FAILED: .*XX/);
  const polled = await remote("poll", "joined", "XX", "2024-05-07");
  expect(polled.out).toMatch(/^joined region=XX day=2024-05-07: not succeeded\n {2}execution \S+ FAILED/);
});

// ---------------------------------------------------------------- status

test("status: executions and pending groups per data node, alarm states and 24h route metrics", async () => {
  // A group left pending on joined (clicks without orders).
  await remote("process", "clicks", "JP", "2024-05-09");
  const updated = new Date(Date.UTC(2024, 4, 9, 6, 30));
  cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      {
        AlarmName: "rtest-joined_failures",
        StateValue: "ALARM",
        StateUpdatedTimestamp: updated,
        StateReason: "Threshold Crossed: 1 datapoint [2.0 (09/05/24 06:25:00)] was >= the threshold (1.0).",
      },
    ],
  });
  const values: Record<string, Record<string, number[]>> = {
    joined: { ExecutionSuccess: [3, 2], ExecutionFailure: [1] },
    daily: { ExecutionSuccess: [4], ExecutionFailure: [] },
  };
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const metric = q.MetricStat?.Metric;
      const route = metric?.Dimensions?.find((d) => d.Name === "Route")?.Value ?? "";
      return { Id: q.Id, Values: values[route]?.[metric?.MetricName ?? ""] ?? [], StatusCode: "Complete" };
    }),
  }));

  const before = Date.now();
  const status = await remote("status");
  expect(status.err).toBe("");
  expect(status.code).toBe(0);
  const out = lines(status.out);
  expect(out[0]).toBe("rtest · environment staging · account 210987654321 · eu-west-1");
  expect(out[1]).toMatch(/^router rtest-router · routing table rtest-routing \(ACTIVE\)$/);
  const header = out.find((l) => l.startsWith("route "));
  expect(header?.split(/\s{2,}/)).toEqual([
    "route",
    "executions",
    "running",
    "succeeded",
    "failed",
    "killed",
    "pending",
    "last",
    "success 24h",
    "failure 24h",
  ]);
  const joined = out.find((l) => l.startsWith("joined "));
  expect(joined).toMatch(
    /^joined\s+\d+\s+0\s+\d+\s+\d+\s+0\s+1\s+(SUCCEEDED|FAILED) region=\S+ day=\S+ at \S+\s+5\s+1$/,
  );
  expect(out.find((l) => l.startsWith("daily "))).toMatch(/\s+4\s+0$/);
  expect(out.find((l) => l.startsWith("joined_failures "))).toMatch(
    /^joined_failures\s+rtest-joined_failures\s+ALARM\s+2024-05-09T06:30:00Z\s+Threshold Crossed/,
  );
  expect(out.find((l) => l.startsWith("daily_failures "))).toMatch(
    /^daily_failures\s+rtest-daily-failures\s+NOT_FOUND\s+-$/,
  );

  // CloudWatch was asked for the flow's own alarm names and both route metrics of both data nodes.
  const describe = cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input;
  expect([...(describe?.AlarmNames ?? [])].sort()).toEqual(["rtest-daily-failures", "rtest-joined_failures"]);
  const metricInput = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
  const queries = metricInput?.MetricDataQueries ?? [];
  expect(queries).toHaveLength(4);
  expect(queries[0]?.MetricStat).toEqual({
    Metric: {
      Namespace: model.application.metricsNamespace,
      MetricName: "ExecutionSuccess",
      Dimensions: [
        { Name: "Application", Value: "rtest" },
        { Name: "Route", Value: "daily" },
      ],
    },
    Period: 3600,
    Stat: "Sum",
  });
  const start = (metricInput?.StartTime as Date).getTime();
  const end = (metricInput?.EndTime as Date).getTime();
  expect(end - start).toBe(24 * 3600_000);
  expect(Math.abs(end - before)).toBeLessThan(2 * 60_000);

  const asJson = JSON.parse((await remote("status", "--json")).out);
  expect(asJson).toMatchObject({
    application: "rtest",
    environment: "staging",
    account: "210987654321",
    region: "eu-west-1",
    function: "rtest-router",
    table: { name: "rtest-routing", status: "ACTIVE" },
    errors: [],
  });
  const joinedJson = asJson.routes.find((r: { node: string }) => r.node === "joined");
  expect(joinedJson).toMatchObject({ pending: 1, metrics: { ExecutionSuccess: 5, ExecutionFailure: 1 } });
  expect(joinedJson.byStatus.SUCCEEDED).toBeGreaterThanOrEqual(1);
  expect(asJson.alarms).toEqual([
    { node: "daily_failures", name: "rtest-daily-failures", type: "metric", state: "NOT_FOUND" },
    {
      node: "joined_failures",
      name: "rtest-joined_failures",
      type: "metric",
      state: "ALARM",
      since: "2024-05-09T06:30:00Z",
      reason: expect.stringMatching(/^Threshold Crossed/),
    },
  ]);
});

test("status: CloudWatch that cannot be read is reported on one line each; the router's part stands", async () => {
  const denied = Object.assign(new Error("User is not authorized to perform: cloudwatch:DescribeAlarms"), {
    name: "AccessDenied",
  });
  cloudwatch.on(DescribeAlarmsCommand).rejects(denied);
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  const status = await remote("status");
  expect(status.code).toBe(4);
  expect(lines(status.err)).toEqual([
    "sluice remote status: alarm states (CloudWatch DescribeAlarms): AccessDenied: User is not authorized to perform: cloudwatch:DescribeAlarms (are these the environment account's credentials?)",
  ]);
  expect(status.out).toMatch(/^joined\s+\d+/m);
});

// ---------------------------------------------------------------- backfill

test("backfill: one execution per value, a progress line per completion and a summary", async () => {
  const r = await remote(
    "backfill",
    "joined",
    "--fixed",
    "region=SA,XX",
    "--from",
    "2024-05-01",
    "--to",
    "2024-05-03",
    "--concurrency",
    "2",
  );
  expect(r.code).toBe(4); // region XX fails
  const out = lines(r.out);
  expect(out).toHaveLength(7);
  for (const [i, l] of out.slice(0, 6).entries())
    expect(l).toMatch(
      new RegExp(`^\\[${i + 1}/6\\] joined region=(SA|XX) day=2024-05-0[123] (SUCCEEDED|FAILED)`),
    );
  expect(out.filter((l) => / FAILED: .*no data for region XX/.test(l))).toHaveLength(3);
  expect(out[6]).toMatch(/^backfill joined: 6 executions \(3 FAILED, 3 SUCCEEDED\) in \d+\.\ds$/);
  const executed = invocations.map(
    (i) => i.payload as { sluice: string; dimensions: Record<string, string> },
  );
  expect(executed.every((p) => p.sluice === "execute")).toBe(true);
  expect(executed.map((p) => `${p.dimensions.region}/${p.dimensions.day}`).sort()).toEqual([
    "SA/2024-05-01",
    "SA/2024-05-02",
    "SA/2024-05-03",
    "XX/2024-05-01",
    "XX/2024-05-02",
    "XX/2024-05-03",
  ]);

  const ok = await remote(
    "backfill",
    "joined",
    "--fixed",
    "region=SA",
    "--from",
    "2024-05-04",
    "--to",
    "2024-05-05",
    "--json",
  );
  expect(ok.code).toBe(0);
  expect(lines(ok.err)).toHaveLength(2); // progress on stderr with --json
  expect(JSON.parse(ok.out)).toMatchObject({ node: "joined", total: 2, counts: { SUCCEEDED: 2 } });
});

test("backfill usage errors are one line, exit 2, before any invocation", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["backfill", "joined", "--from", "2024-05-01", "--to", "2024-05-03"],
      /give them with --fixed region=VALUE/,
    ],
    [
      ["backfill", "joined", "region=NA", "--from", "2024-05-01", "--to", "2024-05-03"],
      /give other dimensions with --fixed/,
    ],
    [
      ["backfill", "joined", "--fixed", "market=3", "--from", "2024-05-01", "--to", "2024-05-03"],
      /has no dimension "market"/,
    ],
    [
      ["backfill", "joined", "--fixed", "day=2024-05-01", "--from", "2024-05-01", "--to", "2024-05-03"],
      /is the dimension the backfill runs over/,
    ],
    [
      ["backfill", "joined", "--fixed", "region=NA", "--from", "2024-05-03", "--to", "2024-05-01"],
      /is after --to/,
    ],
    [["backfill", "joined", "--fixed", "region=NA", "--to", "2024-05-01"], /needs --from and --to/],
    [
      [
        "backfill",
        "joined",
        "--fixed",
        "region=NA",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-03",
        "--concurrency",
        "0",
      ],
      /--concurrency must be/,
    ],
    [
      ["backfill", "joined", "--fixed", "region=NA", "--from", "May 1st", "--to", "2024-05-03"],
      /dimension "day"/,
    ],
    [
      [
        "backfill",
        "joined",
        "--fixed",
        "region=NA",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-03",
        "--dimension",
        "region",
      ],
      /is a STRING/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await remote(...args);
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(message);
  }
  expect(invocations).toEqual([]);
});

// ---------------------------------------------------------------- errors

test("a function error is one line with the error message, exit 4", async () => {
  storeDown = true;
  const r = await remote("poll", "joined", "NA", "2024-05-07");
  expect(r.code).toBe(4);
  expect(r.out).toBe("");
  expect(lines(r.err)).toEqual([
    "sluice remote: poll on rtest-router (staging, eu-west-1) failed: routing table unavailable: ProvisionedThroughputExceededException",
  ]);
});

test("an environment the flow does not declare is a usage error, exit 2", async () => {
  const r = await run("remote", flowFile, "--env", "prod", "--endpoint-lambda", lambdaEndpoint, "status");
  expect(r.code).toBe(2);
  expect(lines(r.err)).toEqual([
    `sluice remote: environment "prod" is not declared in rtest (declared: staging); omit --env for the application's own account`,
  ]);
  expect(invocations).toEqual([]);
});

test("without --env: the application's own account and region; --region moves the router's ARN", async () => {
  const own = await run(
    "remote",
    flowFile,
    "--endpoint-lambda",
    lambdaEndpoint,
    "poll",
    "joined",
    "NA",
    "2024-05-07",
  );
  expect(own.code).toBe(0);
  expect(invocations.map((i) => i.functionName)).toEqual([DEFAULT_ARN]);

  // Not deployed in us-west-2: Lambda answers ResourceNotFoundException.
  const elsewhere = await remote("--region", "us-west-2", "poll", "joined", "NA", "2024-05-07");
  expect(elsewhere.code).toBe(4);
  expect(invocations.at(-1)?.functionName).toBe(
    "arn:aws:lambda:us-west-2:210987654321:function:rtest-router",
  );
  expect(lines(elsewhere.err)).toHaveLength(1);
  expect(elsewhere.err).toMatch(
    /^sluice remote: poll on rtest-router \(staging, us-west-2\): .*not found.*is the environment deployed/,
  );
});

test("a backfill stops at the first invocation that fails outside the function", async () => {
  const r = await remote(
    "--region",
    "us-west-2",
    "backfill",
    "joined",
    "--fixed",
    "region=NA",
    "--from",
    "2024-05-01",
    "--to",
    "2024-05-10",
    "--concurrency",
    "1",
  );
  expect(r.code).toBe(4);
  expect(invocations).toHaveLength(1);
  expect(lines(r.out)).toEqual([
    expect.stringMatching(/^\[ 1\/10\] joined region=NA day=2024-05-01 ERROR: .*Function not found/),
    expect.stringMatching(
      /^backfill joined: 1 of 10 executions \(1 ERROR\) in \d+\.\ds; stopped after an invocation error$/,
    ),
  ]);
  expect(lines(r.err)).toHaveLength(1);
});

test("--profile and --region reach the clients; missing credentials are one line, exit 4", async () => {
  const targets: RemoteTarget[] = [];
  setRemoteClientFactory((target) => {
    targets.push(target);
    const clients = defaultClientFactory(target);
    const noCredentials = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
    });
    return {
      lambda: { send: () => Promise.reject(noCredentials) } as unknown as typeof clients.lambda,
      dynamodb: clients.dynamodb,
      cloudwatch: clients.cloudwatch,
      destroy: () => clients.destroy(),
    };
  });
  try {
    const r = await run(
      "remote",
      flowFile,
      "--profile",
      "ops",
      "--region",
      "eu-central-1",
      "kill",
      "joined",
      "NA",
      "2024-05-07",
    );
    expect(r.code).toBe(4);
    expect(lines(r.err)).toEqual([
      "sluice remote: kill on rtest-router (default, eu-central-1): no AWS credentials (Could not load credentials from any providers); set them in the environment, or pass --profile",
    ]);
    expect(targets).toEqual([
      expect.objectContaining({
        environment: "default",
        account: "123456789012",
        region: "eu-central-1",
        profile: "ops",
        functionArn: "arn:aws:lambda:eu-central-1:123456789012:function:rtest-router",
        tableName: "rtest-routing",
        endpoints: {},
      }),
    ]);
  } finally {
    setRemoteClientFactory(undefined);
  }
});

test("values are coerced with the node's dimension spec; mistakes are one line, exit 2", async () => {
  const cases: [string[], string][] = [
    [
      ["poll", "joined", "NA"],
      `node "joined" takes 2 values (region: STRING, day: DATETIME %Y-%m-%d, in this order), got 1: NA`,
    ],
    [["poll", "joined", "NA", "yesterday"], `node "joined", dimension "day" (DATETIME %Y-%m-%d): `],
    [["poll", "nowhere", "NA", "2024-05-07"], `unknown node "nowhere" (data nodes: daily, joined)`],
    [
      ["execute", "clicks", "NA", "2024-05-07"],
      `node "clicks" (s3Dataset) is not a data node: execute takes one of daily, joined`,
    ],
    [["process", "clicks", "", "2024-05-07"], `node "clicks", dimension "region" (STRING): empty string`],
    [
      ["frobnicate"],
      `unknown action "frobnicate" (actions: process, execute, poll, kill, status, pending, facts, backfill)`,
    ],
    [[], `missing <action>`],
    [["poll", "joined", "NA", "2024-05-07", "--from", "x"], `--from is an option of backfill, not of poll`],
    [["status", "--verbose"], `unknown option --verbose`],
  ];
  for (const [args, message] of cases) {
    const r = await remote(...args);
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toContain(message);
  }
  expect(invocations).toEqual([]);
});

test("sluice help lists remote", async () => {
  expect((await run("help")).out).toMatch(/^ {2}remote {5}a deployed environment/m);
  const r = await run("help", "remote");
  expect(r.out).toContain("remote <flow.ts> [--env E] <action>");
});

test("a backfill plan: the range outermost, other dimensions from --fixed or their declared filter", () => {
  const app = new Application("plan-test", { account: "123456789012", region: "us-east-1" });
  const ev = app.s3Dataset("ev", {
    bucket: "raw",
    dimensions: {
      region: dim.string(),
      batch: dim.long(),
      hour: dim.datetime({ format: "%Y%m%d%H", granularity: "HOUR" }),
    },
    filter: { region: ["NA", "EU"] },
  });
  app.data("out", { inputs: [ev], compute: inline("compute/out.ts#run") });
  const node = app.toModel().nodes.out as NodeModel;
  // The filter's values come in its canonical (sorted) order.
  const plan = backfillPlan(node, {
    from: "2024-05-07T22:00:00Z",
    to: "2024050800",
    dimension: "hour",
    fixed: "batch=1,2",
  });
  expect(plan.map((d) => `${d.hour} ${d.region} ${d.batch}`)).toEqual([
    "2024050722 EU 1",
    "2024050722 EU 2",
    "2024050722 NA 1",
    "2024050722 NA 2",
    "2024050723 EU 1",
    "2024050723 EU 2",
    "2024050723 NA 1",
    "2024050723 NA 2",
    "2024050800 EU 1",
    "2024050800 EU 2",
    "2024050800 NA 1",
    "2024050800 NA 2",
  ]);
  // Over a LONG dimension, with --fixed overriding the filter.
  expect(
    backfillPlan(node, { from: "3", to: "5", dimension: "batch", fixed: "region=EU,hour=2024050700" }),
  ).toEqual([3, 4, 5].map((batch) => ({ region: "EU", batch, hour: "2024050700" })));
  expect(() => backfillPlan(node, { from: "3", to: "5", dimension: undefined, fixed: undefined })).toThrow(
    /several ordered dimensions \(batch, hour\); choose one with --dimension/,
  );
});

test("pending and facts: per group the output partition, inputs received and missing; facts separately", async () => {
  await remote("process", "clicks", "EU", "2024-06-01");
  const text = await remote("pending", "joined");
  expect(text.err).toBe("");
  expect(text.code).toBe(0);
  expect(text.out).toMatch(/^region\s+day\s+received\s+missing\s+state\s+created\s+expires$/m);
  expect(text.out).toMatch(/^EU\s+2024-06-01\s+clicks\s+orders\s+pending\s+\S+Z\s+\S+Z$/m);
  const json = JSON.parse((await remote("pending", "joined", "--json")).out);
  expect(json.node).toBe("joined");
  expect(json.facts).toEqual([]);
  const group = json.groups.find((g: { dimensions: { day: string } }) => g.dimensions.day === "2024-06-01");
  expect(group).toMatchObject({
    dimensions: { region: "EU", day: "2024-06-01" },
    received: ["clicks"],
    missing: ["orders"],
    state: "pending",
  });
  for (const g of json.groups) expect(Object.values(g.dimensions)).not.toContain("*");
  expect(await remote("facts", "joined")).toEqual({ code: 0, out: "joined: no live facts\n", err: "" });
  expect(JSON.parse((await remote("facts", "joined", "--json")).out)).toEqual({ node: "joined", facts: [] });
  expect((await remote("pending", "clicks")).err).toMatch(
    /node "clicks" \(s3Dataset\) is not a data node: pending takes one of daily, joined/,
  );
  expect((await remote("process", "clicks", "XX", "2024-06-01")).code).toBe(0); // no filter declared
});
