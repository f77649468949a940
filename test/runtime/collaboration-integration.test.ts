/**
 * Collaboration between two deployed applications, end to end on local AWS emulators: two router
 * services built by `createService` as their Lambdas build them (DynamoDbStore on dynalite, S3Storage
 * on s3rver, both in process), sharing one S3 as two accounts share the S3 namespace.
 *
 * - "orders" (upstream, account 111111111111) turns a raw S3 export into its data node daily_orders
 *   and authorizes "reports".
 * - "reports" (downstream, account 222222222222) imports daily_orders. The upstream's bucket forwards
 *   the "Object Created" event of each `_SUCCESS` marker under internal_data/ to the downstream's bus
 *   (synth's rules), so the downstream router receives the upstream's EventBridge event as is: the
 *   vector test/fixtures/aws-events/s3-eventbridge.object-created.awsdocs.json with the upstream's
 *   account, bucket and marker key.
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { Application, dim, inline } from "sluice";
import type { FlowModel } from "../../src/flow/model/flow-model";
import type { InlineCompute } from "../../src/flow/model/inline-api";
import { resourceNames } from "../../src/flow/model/resource-names";
import { createRoutingTable } from "../../src/runtime-bundle/aws/dynamodb-store";
import { EmfMetrics } from "../../src/runtime-bundle/aws/emf-metrics";
import {
  createService,
  type RouterEnvironment,
  type ServiceOverrides,
} from "../../src/runtime-bundle/aws/handler";
import type { HandleResult, RouterService } from "../../src/runtime-bundle/aws/service";
import type { Clock } from "../../src/runtime-bundle/core/clock";
import type { ExecutionRecord } from "../../src/runtime-bundle/core/execution-record";
import type { PendingView, PollResult } from "../../src/runtime-bundle/core/router";
import { EMULATOR_CREDENTIALS, startEmulators, type Emulators } from "../support/emulators";

import { VECTORS } from "../support/vectors";
const CREDENTIALS = EMULATOR_CREDENTIALS;
const T0 = Date.UTC(2024, 4, 8, 6);

const UP = { account: "111111111111", region: "us-east-1" };
const DOWN = { account: "222222222222", region: "us-west-2" };
const RAW_BUCKET = "ctest-raw-orders";
/** The storage buckets, as synth names them. */
const UP_BUCKET = resourceNames.storageBucket("orders", UP.account, UP.region);
const DOWN_BUCKET = resourceNames.storageBucket("reports", DOWN.account, DOWN.region);
const DAY = "2024-05-07";

// ---------------------------------------------------------------- emulators

let emulators: Emulators;
let dynamodb: DynamoDBClient;
let s3: S3Client;

beforeAll(async () => {
  emulators = await startEmulators({ buckets: [RAW_BUCKET, UP_BUCKET, DOWN_BUCKET] });
  ({ dynamodb, s3 } = emulators);
});

afterAll(() => emulators.stop());

jest.setTimeout(60_000);

// The services log a line per signal; the assertions look at what they return.
beforeEach(() => {
  jest.spyOn(console, "log").mockImplementation(() => undefined);
  jest.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

// ---------------------------------------------------------------- S3 helpers

function splitS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3 URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] as string };
}

async function put(uri: string, body: string): Promise<void> {
  const { bucket, key } = splitS3(uri);
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }),
  );
}

async function get(uri: string): Promise<string> {
  const { bucket, key } = splitS3(uri);
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? "";
}

async function keysOf(bucket: string, prefix = ""): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key as string).sort();
}

/** The JSON lines of every data file (not `_…`) of a partition folder. */
async function readPartition(uri: string): Promise<unknown[]> {
  const { bucket, key } = splitS3(uri);
  const rows: unknown[] = [];
  for (const k of await keysOf(bucket, `${key}/`)) {
    if (path.posix.basename(k).startsWith("_")) continue;
    const text = await get(`s3://${bucket}/${k}`);
    for (const line of text.split("\n")) if (line.trim() !== "") rows.push(JSON.parse(line));
  }
  return rows;
}

// ---------------------------------------------------------------- the two applications

interface Order {
  readonly id: string;
  readonly amount: number;
}

/** "orders": raw exports (a JSON-lines file and a _SUCCESS per day) → daily_orders (inline). */
function ordersApp(): Application {
  const app = new Application("orders", UP);
  app.authorizeDownstream("reports", DOWN);
  const raw = app.s3Dataset("raw", {
    bucket: RAW_BUCKET,
    prefix: "exports",
    partitions: ["{}"],
    dimensions: { day: dim.datetime({ format: "%Y-%m-%d" }) },
    completion: "_SUCCESS",
    format: "json",
  });
  app.data("daily_orders", { inputs: [raw], format: "json", compute: inline("compute/orders.ts#daily") });
  return app;
}

/** "reports": imports orders' daily_orders → report (inline). */
function reportsModel(upstream: FlowModel): FlowModel {
  const app = new Application("reports", DOWN);
  const orders = app.importUpstream("orders", { ...UP, manifest: upstream });
  app.data("report", {
    inputs: { orders: orders.node("daily_orders") },
    format: "json",
    compute: inline("compute/reports.ts#run"),
  });
  return app.toModel();
}

/** What the inline computes saw. */
interface Seen {
  readonly node: string;
  readonly inputPaths: readonly string[];
  readonly outputPath: string;
  readonly rows: readonly unknown[];
}

/** The user code of both applications: daily_orders keeps orders over 10; report totals them. */
class UserCode {
  readonly calls: Seen[] = [];

  private readonly daily: InlineCompute = async (inputs, output) => {
    const inputPaths = inputs.raw?.paths ?? [];
    const rows = (await readPartition(inputPaths[0] as string)) as Order[];
    this.calls.push({ node: "daily_orders", inputPaths, outputPath: output.paths[0], rows });
    const kept = rows.filter((o) => o.amount > 10).map((o) => ({ ...o, day: output.dimensions.day }));
    await put(`${output.paths[0]}/part-00000.json`, kept.map((o) => JSON.stringify(o)).join("\n"));
  };

  private readonly report: InlineCompute = async (inputs, output) => {
    const inputPaths = inputs.orders?.paths ?? [];
    const rows = (await readPartition(inputPaths[0] as string)) as Order[];
    this.calls.push({ node: "report", inputPaths, outputPath: output.paths[0], rows });
    const total = rows.reduce((sum, o) => sum + o.amount, 0);
    await put(
      `${output.paths[0]}/part-00000.json`,
      JSON.stringify({ day: output.dimensions.day, orders: rows.length, total }),
    );
  };

  bundle(): NonNullable<ServiceOverrides["code"]> {
    return { refs: { "compute/orders.ts#daily": this.daily, "compute/reports.ts#run": this.report } };
  }

  of(node: string): Seen[] {
    return this.calls.filter((c) => c.node === node);
  }
}

// ---------------------------------------------------------------- the services

class MutableClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

let tableCount = 0;

interface Deployed {
  readonly bucket: string;
  /** One invocation in a fresh container. */
  invoke(event: unknown): Promise<HandleResult>;
  command<T>(c: Record<string, unknown>): Promise<T>;
  /** Messages sent to the dead-letter queue. */
  deadLetters(): unknown[];
}

/** An application's router as its Lambda builds it: its own table and bucket, the shared emulators. */
async function deploy(model: FlowModel, code: UserCode, clock: Clock): Promise<Deployed> {
  const app = model.application.name;
  const table = `ctest-${app}-${++tableCount}`;
  await createRoutingTable(dynamodb, table);
  const bucket = resourceNames.storageBucket(app, model.application.account, model.application.region);
  const queue = (name: string) =>
    `https://sqs.${model.application.region}.amazonaws.com/${model.application.account}/${app}-${name}`;
  const sqs = new SQSClient({ region: "us-east-1", credentials: CREDENTIALS });
  const sqsMock = mockClient(sqs);
  sqsMock.on(SendMessageCommand).resolves({ MessageId: "sent" });
  const env: RouterEnvironment = {
    SLUICE_TABLE: table,
    SLUICE_BUCKET: bucket,
    SLUICE_ENV: "test",
    SLUICE_DLQ_URL: queue("dlq"),
    SLUICE_INTERNAL_QUEUE_URL: queue("internal"),
  };
  const service = (): RouterService =>
    createService(env, path.join(tmpdir(), "no-assets-here"), {
      model,
      code: code.bundle(),
      dynamodb,
      s3,
      sqs,
      clock,
      metrics: new EmfMetrics({ namespace: "ctest", application: app, write: () => undefined }),
    });
  return {
    bucket,
    invoke: (event) => service().handle(event),
    command: async <T>(c: Record<string, unknown>) => (await service().handle(c)).result as T,
    deadLetters: () =>
      sqsMock
        .commandCalls(SendMessageCommand)
        .map((c) => c.args[0].input as { QueueUrl?: string; MessageBody?: string })
        .filter((i) => i.QueueUrl === env.SLUICE_DLQ_URL)
        .map((i) => JSON.parse(i.MessageBody ?? "null") as unknown),
  };
}

// ---------------------------------------------------------------- events from the vectors

function vector(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(VECTORS, file), "utf8")) as Record<string, unknown>;
}

/** The S3 notification of an object the upstream's own bucket notifications deliver (Records form). */
function rawNotification(key: string, etag: string): unknown {
  const v = vector("s3-notification.objectcreated-put.awsdocs.json");
  const record = (v.Records as Record<string, unknown>[])[0] as Record<string, unknown>;
  const s3Part = record.s3 as { bucket: Record<string, unknown>; object: Record<string, unknown> };
  s3Part.bucket.name = RAW_BUCKET;
  s3Part.bucket.arn = `arn:aws:s3:::${RAW_BUCKET}`;
  s3Part.object.key = key;
  s3Part.object.eTag = etag;
  s3Part.object.sequencer = "0066ABCDEF00000001";
  return v;
}

/**
 * The EventBridge "Object Created" event of an object of the upstream's bucket, as the upstream's bus
 * forwards it to the downstream's: the awsdocs vector with the upstream's account, bucket and key.
 */
function forwarded(key: string, etag: string, sequencer: string): unknown {
  const v = vector("s3-eventbridge.object-created.awsdocs.json");
  const detail = v.detail as { bucket: Record<string, unknown>; object: Record<string, unknown> };
  v.account = UP.account;
  v.region = UP.region;
  v.resources = [`arn:aws:s3:::${UP_BUCKET}`];
  detail.bucket.name = UP_BUCKET;
  detail.object.key = key;
  detail.object.size = 0;
  detail.object.etag = etag;
  detail.object.sequencer = sequencer;
  return v;
}

async function etagOf(bucket: string, key: string): Promise<string> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return (head.ETag ?? "").replace(/"/g, "");
}

// ---------------------------------------------------------------- the test

describe("an upstream data node's partitions reach a downstream application's router", () => {
  test("upstream success → forwarded _SUCCESS event → downstream execution reading the upstream's partition, once", async () => {
    const clock = new MutableClock(T0);
    const code = new UserCode();
    const upstreamModel = ordersApp().toModel();
    const orders = await deploy(upstreamModel, code, clock);
    const reports = await deploy(reportsModel(upstreamModel), code, clock);
    expect(orders.bucket).toBe(UP_BUCKET);
    expect(reports.bucket).toBe(DOWN_BUCKET);

    // The upstream: a day of raw orders lands, its _SUCCESS completes the partition.
    const rawOrders: Order[] = [
      { id: "o-1", amount: 5 },
      { id: "o-2", amount: 25 },
      { id: "o-3", amount: 40 },
    ];
    await put(
      `s3://${RAW_BUCKET}/exports/${DAY}/orders.json`,
      rawOrders.map((o) => JSON.stringify(o)).join("\n"),
    );
    await put(`s3://${RAW_BUCKET}/exports/${DAY}/_SUCCESS`, "");
    const rawMarker = `exports/${DAY}/_SUCCESS`;
    const upResult = await orders.invoke(rawNotification(rawMarker, await etagOf(RAW_BUCKET, rawMarker)));
    expect(upResult.signals).toBe(1);

    const upExecutions = await orders.command<ExecutionRecord[]>({
      sluice: "executions",
      node: "daily_orders",
    });
    expect(upExecutions.map((r) => [r.dimensions, r.status])).toEqual([[{ day: DAY }, "SUCCEEDED"]]);
    const upstreamPartition = `s3://${UP_BUCKET}/internal_data/daily_orders/${DAY}`;
    expect(
      await orders.command<PollResult>({ sluice: "poll", node: "daily_orders", dimensions: { day: DAY } }),
    ).toEqual({ path: upstreamPartition });
    const marker = `internal_data/daily_orders/${DAY}/_SUCCESS`;
    const upstreamKeys = await keysOf(UP_BUCKET);
    expect(upstreamKeys).toEqual([marker, `internal_data/daily_orders/${DAY}/part-00000.json`]);
    const kept = [
      { id: "o-2", amount: 25, day: DAY },
      { id: "o-3", amount: 40, day: DAY },
    ];
    expect(await readPartition(upstreamPartition)).toEqual(kept);

    // The upstream's bus forwards the marker's "Object Created" event to the downstream's router.
    const event = forwarded(marker, await etagOf(UP_BUCKET, marker), "0066ABCDEF00000002");
    const downResult = await reports.invoke(event);
    expect(downResult).toMatchObject({ signals: 1 });
    expect(downResult.ignored ?? []).toEqual([]);

    const records = await reports.command<ExecutionRecord[]>({ sluice: "executions", node: "report" });
    expect(records.map((r) => [r.dimensions, r.status])).toEqual([[{ day: DAY }, "SUCCEEDED"]]);
    // The downstream's compute read the upstream's partition, in the upstream's bucket.
    expect(code.of("report")).toEqual([
      {
        node: "report",
        inputPaths: [upstreamPartition],
        outputPath: `s3://${DOWN_BUCKET}/internal_data/report/${DAY}`,
        rows: kept,
      },
    ]);
    expect(await readPartition(`s3://${DOWN_BUCKET}/internal_data/report/${DAY}`)).toEqual([
      { day: DAY, orders: 2, total: 65 },
    ]);
    expect(await keysOf(DOWN_BUCKET)).toEqual([
      `internal_data/report/${DAY}/_SUCCESS`,
      `internal_data/report/${DAY}/part-00000.json`,
    ]);
    // The downstream only reads the upstream's bucket.
    expect(await keysOf(UP_BUCKET)).toEqual(upstreamKeys);

    // Redelivered (EventBridge delivers at least once), now and later: the same object version never
    // runs the report again.
    await reports.invoke(event);
    clock.t += 3600_000;
    await reports.invoke(event);
    await reports.command({ sluice: "sweep" });
    expect(code.of("report")).toHaveLength(1);
    expect(
      (await reports.command<ExecutionRecord[]>({ sluice: "executions", node: "report" })).map(
        (r) => r.status,
      ),
    ).toEqual(["SUCCEEDED"]);
    expect(await reports.command<PendingView[]>({ sluice: "pending", node: "report" })).toEqual([]);
    expect(code.of("daily_orders")).toHaveLength(1);
    expect(orders.deadLetters()).toEqual([]);
    expect(reports.deadLetters()).toEqual([]);
  });

  test("a marker the downstream missed (deployed later): processing the imported node by hand reads the upstream's partition", async () => {
    const clock = new MutableClock(T0);
    const code = new UserCode();
    const upstreamModel = ordersApp().toModel();
    const reports = await deploy(reportsModel(upstreamModel), code, clock);
    // The upstream partition is there already (its forwarded event went nowhere).
    const day = "2024-05-08";
    const upstreamPartition = `s3://${UP_BUCKET}/internal_data/daily_orders/${day}`;
    await put(`${upstreamPartition}/part-00000.json`, JSON.stringify({ id: "o-9", amount: 12, day }));
    await put(`${upstreamPartition}/_SUCCESS`, "");

    // What `sluice remote <flow> process daily_orders 2024-05-08` sends to the router.
    const processed = await reports.command<unknown>({
      sluice: "process",
      node: "daily_orders",
      dimensions: { day },
    });
    expect(processed).toBeDefined();
    expect(code.of("report")).toEqual([
      {
        node: "report",
        inputPaths: [upstreamPartition],
        outputPath: `s3://${DOWN_BUCKET}/internal_data/report/${day}`,
        rows: [{ id: "o-9", amount: 12, day }],
      },
    ]);
  });
});
