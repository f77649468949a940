/**
 * The router service end to end on local AWS emulators: DynamoDbStore on dynalite and S3Storage on
 * s3rver (both in process, on 127.0.0.1), built by `createService` as the Lambda builds it, fed the
 * real S3 notification payloads of test/fixtures/aws-events rewritten to the flow's buckets.
 *
 * - 20 concurrent invocations (each its own service, as separate Lambda containers) deliver the
 *   events of 5 trigger groups in random order, with duplicates and the same S3 event through
 *   different paths (direct, S3 → SQS, S3 → SNS → SQS, S3 → SNS, EventBridge): one execution per
 *   group, downstream included.
 * - A crash (a store or storage call that throws) injected at every call of a full trigger, then the
 *   redelivery SQS would make and the sweeper: no execution lost, none duplicated, nothing left
 *   pending or running. Likewise for an engine job whose handle was never recorded: recovered, not
 *   started twice (a fake engine, and the real GlueDispatcher against a mocked Glue API).
 * - SQS batch semantics: poison messages dead-lettered, failing ones retried then dead-lettered.
 * - The direct invocation commands.
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  StartJobRunCommand,
  type JobRun,
} from "@aws-sdk/client-glue";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { Application, dim, inline, sparkSql } from "sluice";
import type { FlowModel } from "../../src/flow/model/flow-model";
import type { InlineCompute } from "../../src/flow/model/inline-api";
import { createRoutingTable } from "../../src/runtime-bundle/aws/dynamodb-store";
import { EmfMetrics } from "../../src/runtime-bundle/aws/emf-metrics";
import {
  createService,
  type RouterEnvironment,
  type ServiceOverrides,
} from "../../src/runtime-bundle/aws/handler";
import type { HandleResult, RouterService, SqsRecord } from "../../src/runtime-bundle/aws/service";
import type { TaskMessage } from "../../src/runtime-bundle/aws/sqs-scheduler";
import type { Clock } from "../../src/runtime-bundle/core/clock";
import type { DispatchRequest, DispatchResult, Dispatcher } from "../../src/runtime-bundle/core/dispatcher";
import type { ExecutionRecord } from "../../src/runtime-bundle/core/execution-record";
import type { PendingView, PollResult } from "../../src/runtime-bundle/core/router";
import type { Storage } from "../../src/runtime-bundle/core/storage";
import type { Store } from "../../src/runtime-bundle/core/store";
import { rng, shuffle } from "../support/random";
import { EMULATOR_CREDENTIALS, startEmulators, type Emulators } from "../support/emulators";

import { VECTORS } from "../support/vectors";
const CLICKS_BUCKET = "itest-clicks";
const ORDERS_BUCKET = "itest-orders";
const DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/itest-dlq";
const INTERNAL_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/itest-internal";
const T0 = Date.UTC(2024, 4, 9, 6);
const MINUTE = 60_000;
const CREDENTIALS = EMULATOR_CREDENTIALS;

// ---------------------------------------------------------------- emulators

let emulators: Emulators;
let dynamodb: DynamoDBClient;
let s3: S3Client;
let tableCount = 0;

beforeAll(async () => {
  emulators = await startEmulators({ buckets: [CLICKS_BUCKET, ORDERS_BUCKET] });
  ({ dynamodb, s3 } = emulators);
});

afterAll(() => emulators.stop());

// The crash tests run a full scenario per injected crash.
jest.setTimeout(180_000);

// The service logs a line per signal and per dead letter; the assertions look at what it returns.
let errorLines: string[] = [];
beforeEach(() => {
  errorLines = [];
  jest.spyOn(console, "log").mockImplementation(() => undefined);
  jest.spyOn(console, "error").mockImplementation((line: unknown) => {
    errorLines.push(String(line));
  });
});
afterEach(() => jest.restoreAllMocks());

// ---------------------------------------------------------------- the flow

const dims = { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) };

/** clicks × orders, linked on region and day → joined (inline) → daily (inline). */
function flowModel(joinedEngine: "inline" | "spark" = "inline"): FlowModel {
  const app = new Application("itest", { account: "123456789012", region: "us-east-1" });
  const clicks = app.s3Dataset("clicks", {
    bucket: CLICKS_BUCKET,
    prefix: "raw/clicks",
    partitions: ["region={}", "day={}"],
    dimensions: dims,
    completion: "_SUCCESS",
  });
  const orders = app.s3Dataset("orders", {
    bucket: ORDERS_BUCKET,
    prefix: "exports/orders",
    partitions: ["region={}", "day={}"],
    dimensions: dims,
    completion: "_SUCCESS",
  });
  const joined = app.data("joined", {
    inputs: [clicks, orders],
    compute:
      joinedEngine === "inline"
        ? inline("compute/joined.ts#run")
        : sparkSql("SELECT * FROM clicks JOIN orders USING (region, day)"),
  });
  app.data("daily", { inputs: [joined], compute: inline("compute/daily.ts#run") });
  return app.toModel();
}

/** The user code bundle: each inline target counts its calls and writes one object to its output. */
class UserCode {
  readonly calls: { node: string; key: string }[] = [];
  /** Store calls made when each compute call began (crash-point bookkeeping). */
  readonly callMarks: number[] = [];
  constructor(private readonly faults?: Faults) {}

  count(node: string): InlineCompute {
    return async (_inputs, output) => {
      this.calls.push({ node, key: `${String(output.dimensions.region)}/${String(output.dimensions.day)}` });
      this.callMarks.push(this.faults?.calls ?? 0);
      const { bucket, key } = splitS3(output.paths[0] as string);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}/part-0.json`, Body: "{}" }));
    };
  }

  bundle(): NonNullable<ServiceOverrides["code"]> {
    return {
      refs: { "compute/joined.ts#run": this.count("joined"), "compute/daily.ts#run": this.count("daily") },
    };
  }

  of(node: string): string[] {
    return this.calls.filter((c) => c.node === node).map((c) => c.key);
  }
}

function splitS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3 URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] as string };
}

// ---------------------------------------------------------------- faults

class Crash extends Error {
  override readonly name = "Crash";
}

/** Counts store and storage calls; the `crashAt`-th throws (the invocation dies before that step). */
class Faults {
  calls = 0;
  crashAt: number | undefined;
  /** Every call throws (a dependency that is down). */
  down = false;
  crashed: string | undefined;

  async around<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.down) throw new Error(`${what}: service unavailable`);
    if (this.calls === this.crashAt) {
      this.crashed = what;
      throw new Crash(`crash before call ${this.calls} (${what})`);
    }
    return call();
  }

  wrap<T extends object>(target: T, prefix: string): T {
    return new Proxy(target, {
      get: (t, p, receiver) => {
        const v = Reflect.get(t, p, receiver) as unknown;
        if (typeof v !== "function") return v;
        const fn = v as (...args: unknown[]) => unknown;
        if (p === "partitionPath" || p === "datasetRoot" || p === "constructor") return fn.bind(t);
        return (...args: unknown[]) =>
          this.around(`${prefix}.${String(p)}`, () => fn.apply(t, args) as Promise<unknown>);
      },
    });
  }
}

// ---------------------------------------------------------------- a test world

class MutableClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

/** A fake asynchronous engine (Glue-like): jobs with handles, polled; `recover` finds a job by its attempt. */
class FakeEngine implements Dispatcher {
  readonly starts: DispatchRequest[] = [];
  readonly polls: string[] = [];
  readonly kills: string[] = [];
  /** Polls a job answers RUNNING before SUCCEEDED. */
  runningPolls = 1;
  private readonly jobs = new Map<string, { attempt: string; polls: number; killed: boolean }>();
  constructor(private readonly faults?: Faults) {}
  startMark = 0;

  async start(request: DispatchRequest): Promise<DispatchResult> {
    this.starts.push(request);
    this.startMark = this.faults?.calls ?? 0;
    const handle = `jr_${this.starts.length}`;
    this.jobs.set(handle, { attempt: attemptKey(request), polls: 0, killed: false });
    return { status: "RUNNING", handle };
  }

  async poll(handle: string): Promise<DispatchResult> {
    this.polls.push(handle);
    const job = this.jobs.get(handle);
    if (!job) return { status: "FAILED", error: `no job ${handle}`, transient: false };
    if (job.killed) return { status: "FAILED", error: "stopped", transient: false };
    job.polls++;
    return job.polls > this.runningPolls ? { status: "SUCCEEDED" } : { status: "RUNNING", handle };
  }

  async kill(handle: string): Promise<void> {
    this.kills.push(handle);
    const job = this.jobs.get(handle);
    if (job) job.killed = true;
  }

  async recover(request: DispatchRequest): Promise<DispatchResult | undefined> {
    for (const [handle, job] of this.jobs)
      if (job.attempt === attemptKey(request)) return { status: "RUNNING", handle };
    return undefined;
  }
}

function attemptKey(r: DispatchRequest): string {
  return `${r.executionId}#${r.targetIndex}#${r.attempt}`;
}

interface World {
  readonly table: string;
  /** The application's storage bucket (one per world, so that worlds never share partitions). */
  readonly bucket: string;
  readonly clock: MutableClock;
  readonly code: UserCode;
  readonly faults: Faults;
  readonly sqs: SQSClient;
  readonly sqsMock: ReturnType<typeof mockClient>;
  readonly engine: FakeEngine;
  /** A fresh service, as a new Lambda container would build it. */
  service(): RouterService;
  /** One invocation in a fresh container. */
  invoke(event: unknown): Promise<HandleResult>;
  sweep(): Promise<HandleResult>;
  command<T>(c: Record<string, unknown>): Promise<T>;
  /** Messages sent to the dead-letter queue. */
  deadLetters(): { reason: string; event: unknown }[];
  /** Deferred tasks sent to the internal queue, not yet delivered back. */
  takeTasks(): TaskMessage[];
}

/**
 * `engine`: "fake" (default) runs Glue targets on the FakeEngine; "glue" leaves Glue to the service's
 * own dispatcher (GlueDispatcher behind LazyDispatcher, as in Lambda), whose GlueClient the test mocks.
 */
async function newWorld(
  options: { model?: FlowModel; faults?: Faults; engine?: "fake" | "glue" } = {},
): Promise<World> {
  const table = `itest-${++tableCount}`;
  await createRoutingTable(dynamodb, table);
  const bucket = `itest-storage-${tableCount}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const clock = new MutableClock(T0);
  const faults = options.faults ?? new Faults();
  const code = new UserCode(faults);
  const engine = new FakeEngine(faults);
  const sqs = new SQSClient({ region: "us-east-1", credentials: CREDENTIALS });
  const sqsMock = mockClient(sqs);
  sqsMock.on(SendMessageCommand).resolves({ MessageId: "sent" });
  const model = options.model ?? flowModel();
  const env: RouterEnvironment = {
    SLUICE_TABLE: table,
    SLUICE_BUCKET: bucket,
    SLUICE_ENV: "test",
    SLUICE_DLQ_URL: DLQ_URL,
    SLUICE_INTERNAL_QUEUE_URL: INTERNAL_URL,
  };
  let taken = 0;
  const service = (): RouterService =>
    createService(env, path.join(tmpdir(), "no-assets-here"), {
      model,
      code: code.bundle(),
      dynamodb,
      s3,
      sqs,
      clock,
      dispatchers: options.engine === "glue" ? {} : { glue: engine },
      wrapStore: (store: Store) => faults.wrap(store, "store"),
      wrapStorage: (storage: Storage) => faults.wrap(storage, "storage"),
      metrics: new EmfMetrics({ namespace: "itest", application: "itest", write: () => undefined }),
    });
  const sent = (url: string) =>
    sqsMock
      .commandCalls(SendMessageCommand)
      .map((c) => c.args[0].input as { QueueUrl?: string; MessageBody?: string })
      .filter((i) => i.QueueUrl === url)
      .map((i) => JSON.parse(i.MessageBody ?? "null") as unknown);
  const world: World = {
    table,
    bucket,
    clock,
    code,
    faults,
    sqs,
    sqsMock,
    engine,
    service,
    invoke: (event) => service().handle(event),
    sweep: () => service().handle({ sluice: "sweep" }),
    command: async <T>(c: Record<string, unknown>) => (await service().handle(c)).result as T,
    deadLetters: () => sent(DLQ_URL) as { reason: string; event: unknown }[],
    takeTasks: () => {
      const all = sent(INTERNAL_URL) as TaskMessage[];
      const fresh = all.slice(taken);
      taken = all.length;
      return fresh;
    },
  };
  return world;
}

// ---------------------------------------------------------------- events from the vectors

function vector(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(VECTORS, file), "utf8")) as Record<string, unknown>;
}

/** One object-created event: the same object version, whichever path delivers it. */
interface S3Event {
  readonly bucket: string;
  readonly key: string;
  readonly sequencer: string;
  readonly etag: string;
}

type Path = "s3" | "sqs" | "sns-sqs" | "sns" | "eventbridge";
const PATHS: readonly Path[] = ["s3", "sqs", "sns-sqs", "sns", "eventbridge"];

/** S3 notifications URL-encode keys in form style ("=" → %3D), keeping "/". */
function encodeKey(key: string): string {
  return key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/%20/g, "+"))
    .join("/");
}

/** Rewrites the bucket and object of an S3 notification record (the object's version fields too). */
function rewriteRecord(record: Record<string, unknown>, e: S3Event): void {
  const s3Part = record.s3 as { bucket: Record<string, unknown>; object: Record<string, unknown> };
  s3Part.bucket.name = e.bucket;
  s3Part.bucket.arn = `arn:aws:s3:::${e.bucket}`;
  s3Part.object.key = encodeKey(e.key);
  s3Part.object.sequencer = e.sequencer;
  s3Part.object.eTag = e.etag;
}

function notification(
  file: string,
  pick: (v: Record<string, unknown>) => Record<string, unknown>,
  e: S3Event,
) {
  const v = vector(file);
  const n = pick(v);
  rewriteRecord((n.Records as Record<string, unknown>[])[0] as Record<string, unknown>, e);
  return { v, n };
}

let messageCount = 0;

/** An SQS record of the queue the router reads, with a new message id (a new send). */
function sqsRecord(body: string, template = "sqs.s3-notification.captured.json", receives = 1): SqsRecord {
  const record = (vector(template).Records as Record<string, unknown>[])[0] as Record<string, unknown>;
  return {
    ...(record as unknown as SqsRecord),
    messageId: `msg-${++messageCount}`,
    body,
    attributes: { ApproximateReceiveCount: String(receives) },
  };
}

/** The SQS record of one event through S3 → SQS or S3 → SNS → SQS. */
function queued(e: S3Event, via: "sqs" | "sns-sqs"): SqsRecord {
  if (via === "sqs") {
    const template = vector("sqs.s3-notification.captured.json");
    const record = (template.Records as { body: string }[])[0] as { body: string };
    const body = JSON.parse(record.body) as Record<string, unknown>;
    rewriteRecord((body.Records as Record<string, unknown>[])[0] as Record<string, unknown>, e);
    return sqsRecord(JSON.stringify(body));
  }
  const template = vector("sqs.sns-envelope.captured.json");
  const envelope = JSON.parse((template.Records as { body: string }[])[0]?.body as string) as Record<
    string,
    unknown
  >;
  // The SNS envelope carries the S3 notification as its Message (non-raw delivery).
  const { n } = notification(
    "sns.s3-notification.captured.json",
    (v) =>
      JSON.parse((v.Records as { Sns: { Message: string } }[])[0]?.Sns.Message as string) as Record<
        string,
        unknown
      >,
    e,
  );
  envelope.Message = JSON.stringify(n);
  return sqsRecord(JSON.stringify(envelope), "sqs.sns-envelope.captured.json");
}

/** A Lambda event that delivers `e` through `via` (SQS paths: a batch of one). */
function delivery(e: S3Event, via: Path): unknown {
  switch (via) {
    case "s3":
      return notification("s3-notification.objectcreated-put.awsdocs.json", (v) => v, e).v;
    case "sqs":
    case "sns-sqs":
      return { Records: [queued(e, via)] };
    case "sns": {
      const v = vector("sns.s3-notification.captured.json");
      const sns = (v.Records as { Sns: { Message: string } }[])[0]?.Sns as { Message: string };
      const n = JSON.parse(sns.Message) as Record<string, unknown>;
      rewriteRecord((n.Records as Record<string, unknown>[])[0] as Record<string, unknown>, e);
      sns.Message = JSON.stringify(n);
      return v;
    }
    case "eventbridge": {
      const v = vector("s3-eventbridge.object-created.captured.json");
      const detail = v.detail as { bucket: Record<string, unknown>; object: Record<string, unknown> };
      v.resources = [`arn:aws:s3:::${e.bucket}`];
      detail.bucket.name = e.bucket;
      detail.object.key = e.key;
      detail.object.sequencer = e.sequencer;
      detail.object.etag = e.etag;
      return v;
    }
  }
}

interface Group {
  readonly region: string;
  readonly day: string;
  readonly clicks: S3Event;
  readonly orders: S3Event;
}

function group(region: string, day: string, n: number): Group {
  const version = (k: number) => ({
    sequencer: `0066${String(n).padStart(4, "0")}${k}ABCDEF0123`,
    etag: `${String(n).padStart(8, "0")}${k}e0d1c2b3a4f5e6d7c8b9a0f1e2d3`,
  });
  return {
    region,
    day,
    clicks: { bucket: CLICKS_BUCKET, key: `raw/clicks/region=${region}/day=${day}/_SUCCESS`, ...version(1) },
    orders: {
      bucket: ORDERS_BUCKET,
      key: `exports/orders/region=${region}/day=${day}/_SUCCESS`,
      ...version(2),
    },
  };
}

const GROUPS: readonly Group[] = [
  group("NA", "2024-05-07", 1),
  group("EU", "2024-05-07", 2),
  group("JP", "2024-05-07", 3),
  group("NA", "2024-05-08", 4),
  group("EU", "2024-05-08", 5),
];

// ---------------------------------------------------------------- assertions

const key = (r: { dimensions: Record<string, unknown> }): string =>
  `${String(r.dimensions.region)}/${String(r.dimensions.day)}`;

async function executions(w: World, node: string): Promise<ExecutionRecord[]> {
  return w.command<ExecutionRecord[]>({ sluice: "executions", node });
}

/** Every group executed exactly once on both nodes, all SUCCEEDED, nothing pending, no slot held. */
async function expectExactlyOnce(w: World, groups: readonly Group[]): Promise<void> {
  const expected = groups.map((g) => `${g.region}/${g.day}`).sort();
  for (const node of ["joined", "daily"]) {
    const records = await executions(w, node);
    expect({ node, executions: records.map(key).sort() }).toEqual({ node, executions: expected });
    expect({ node, statuses: [...new Set(records.map((r) => r.status))] }).toEqual({
      node,
      statuses: ["SUCCEEDED"],
    });
    expect(await w.command<PendingView[]>({ sluice: "pending", node })).toEqual([]);
    for (const g of groups) {
      const polled = await w.command<PollResult>({
        sluice: "poll",
        node,
        dimensions: { region: g.region, day: g.day },
      });
      expect(polled.path).toBe(`s3://${w.bucket}/internal_data/${node}/${g.region}/${g.day}`);
      const marker = splitS3(`${polled.path}/_SUCCESS`);
      await s3.send(new GetObjectCommand({ Bucket: marker.bucket, Key: marker.key }));
    }
  }
}

// ---------------------------------------------------------------- concurrency

describe("concurrent invocations", () => {
  test.each([1, 2, 3])(
    "20 invocations, random order, duplicates, several paths per event (seed %i): one execution per group",
    async (seed) => {
      const w = await newWorld();
      const random = rng(seed);
      const events = GROUPS.flatMap((g) => [g.clicks, g.orders]);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
      // 20 invocations: each event at least once (the first 10), duplicates through random paths;
      // SQS deliveries come in batches of 1 to 3 messages.
      const ordered = Array.from({ length: 20 }, (_, i) => {
        const first = i < events.length ? (events[i] as S3Event) : pick(events);
        const via = pick(PATHS);
        if (via !== "sqs" && via !== "sns-sqs") return delivery(first, via);
        const more = Array.from({ length: Math.floor(random() * 3) }, () =>
          queued(pick(events), pick(["sqs", "sns-sqs"] as const)),
        );
        return { Records: shuffle([queued(first, via), ...more], random) };
      });
      const invocations = shuffle(ordered, random);

      const results = await Promise.all(invocations.map((e) => w.invoke(e)));

      for (const [i, r] of results.entries()) {
        if (isBatch(invocations[i])) expect(r.batchItemFailures).toEqual([]);
      }
      expect(w.deadLetters()).toEqual([]);
      await expectExactlyOnce(w, GROUPS);
      const want = GROUPS.map((g) => `${g.region}/${g.day}`).sort();
      expect(w.code.of("joined").sort()).toEqual(want);
      expect(w.code.of("daily").sort()).toEqual(want);

      // Redelivering everything again (a day later, every id recorded as seen) changes nothing.
      w.clock.t += 24 * 3600_000;
      await Promise.all(invocations.map((e) => w.invoke(e)));
      await w.sweep();
      await expectExactlyOnce(w, GROUPS);
      expect(w.code.calls).toHaveLength(2 * GROUPS.length);
    },
  );
});

function isBatch(e: unknown): boolean {
  const records = (e as { Records?: { eventSource?: string }[] }).Records;
  return Array.isArray(records) && records.every((r) => r.eventSource === "aws:sqs");
}

// ---------------------------------------------------------------- crashes

/**
 * Delivers the clicks then the orders event of one group through SQS with a crash before the
 * `crashAt`-th store/storage call. A crashed message is redelivered after the visibility timeout, as
 * SQS does; the sweeper runs before or after that. Returns what happened.
 */
async function crashRun(
  crashAt: number | undefined,
  order: "redeliver-then-sweep" | "sweep-then-redeliver",
): Promise<{ world: World; crashed: string | undefined; calls: number }> {
  const faults = new Faults();
  const w = await newWorld({ faults });
  faults.crashAt = crashAt;
  const g = GROUPS[0] as Group;
  const messages = [queued(g.clicks, "sqs"), queued(g.orders, "sqs")];
  const redeliver: SqsRecord[] = [];
  for (const m of messages) {
    const r = await w.invoke({ Records: [m] });
    if ((r.batchItemFailures ?? []).length > 0) redeliver.push(m);
    w.clock.t += 1000;
  }
  const calls = faults.calls;
  w.clock.t += 20 * MINUTE; // past the visibility timeout and the dispatch timeout
  const again = async () => {
    for (const m of redeliver) {
      const r = await w.invoke({
        Records: [{ ...m, attributes: { ApproximateReceiveCount: "2" } }],
      });
      expect(r.batchItemFailures).toEqual([]);
    }
  };
  if (order === "redeliver-then-sweep") {
    await again();
    await w.sweep();
  } else {
    await w.sweep();
    await again();
    await w.sweep();
  }
  return { world: w, crashed: faults.crashed, calls };
}

describe("a crash between any two steps, then redelivery and the sweeper", () => {
  let fullRun = 0;
  let computeAt: { joined: number; daily: number } = { joined: 0, daily: 0 };

  beforeAll(async () => {
    // Without a crash: how many store and storage calls the two deliveries take.
    const run = await crashRun(undefined, "redeliver-then-sweep");
    fullRun = run.calls;
    const marks = run.world.code.callMarks;
    computeAt = { joined: marks[0] as number, daily: marks[1] as number };
    await expectExactlyOnce(run.world, [GROUPS[0] as Group]);
  });

  test("a full run takes a few dozen calls", () => {
    expect(fullRun).toBeGreaterThan(30);
    expect(fullRun).toBeLessThan(120);
    expect(computeAt.joined).toBeGreaterThan(0);
    expect(computeAt.daily).toBeGreaterThan(computeAt.joined);
  });

  test.each(["redeliver-then-sweep", "sweep-then-redeliver"] as const)(
    "crash before each call k = 1 … N (%s): exactly once, nothing left pending or running",
    async (order) => {
      const crashedAt: string[] = [];
      for (let k = 1; k <= fullRun; k++) {
        const { world: w, crashed } = await crashRun(k, order);
        expect({ k, crashed: crashed !== undefined }).toEqual({ k, crashed: true });
        crashedAt.push(crashed as string);
        try {
          await expectExactlyOnce(w, [GROUPS[0] as Group]);
        } catch (e) {
          throw new Error(`crash before call ${k} (${String(crashed)}): ${(e as Error).message}`, {
            cause: e,
          });
        }
        // Compute that ran before the crash cut its result short runs again (at least once); compute
        // the crash came before runs once.
        const joined = w.code.of("joined").length;
        const daily = w.code.of("daily").length;
        expect({ k, joined: k <= computeAt.joined ? joined === 1 : joined <= 2 }).toEqual({
          k,
          joined: true,
        });
        expect({ k, daily: k <= computeAt.daily ? daily === 1 : daily <= 2 }).toEqual({ k, daily: true });
      }
      // Every kind of step was hit: bucket, record, slot, idempotency and storage calls.
      for (const op of [
        "store.eventSeen",
        "store.getItem",
        "store.putItem",
        "store.queryBucket",
        "store.createExecution",
        "store.getSlot",
        "store.putSlot",
        "store.getExecution",
        "store.putExecution",
        "store.claimEvent",
        "storage.clear",
        "storage.writeMarker",
      ])
        expect(crashedAt).toContain(op);
    },
  );
});

describe("an engine job whose handle was never recorded", () => {
  test.each([1, 2])(
    "a crash %i call(s) after the start, before the handle is recorded: recovered from the engine, not started again",
    async (after) => {
      // Find the call index of the start, then crash `after` calls later (before the handle is written).
      const probe = await newWorld({ model: flowModel("spark") });
      const g = GROUPS[1] as Group;
      await probe.invoke(delivery(g.clicks, "eventbridge"));
      await probe.invoke(delivery(g.orders, "eventbridge"));
      expect(probe.engine.starts).toHaveLength(1);
      const startAt = probe.engine.startMark;

      const faults = new Faults();
      const w = await newWorld({ model: flowModel("spark"), faults });
      faults.crashAt = startAt + after;
      await w.invoke(delivery(g.clicks, "eventbridge"));
      await expect(w.invoke(delivery(g.orders, "eventbridge"))).rejects.toThrow(Crash);
      expect(w.engine.starts).toHaveLength(1);
      const [running] = await executions(w, "joined");
      expect(running).toMatchObject({ status: "RUNNING" });
      expect(running?.targets[0]?.handle).toBeUndefined();

      // Too early for the sweeper to take the dispatch over: the invocation might still be alive.
      w.clock.t += 5 * MINUTE;
      await w.sweep();
      expect((await executions(w, "joined"))[0]?.targets[0]?.handle).toBeUndefined();

      // Past the dispatch timeout: the sweeper finds the job through the engine and records it.
      w.clock.t += 15 * MINUTE;
      await w.sweep();
      expect(w.engine.starts).toHaveLength(1);
      expect((await executions(w, "joined"))[0]?.targets[0]).toMatchObject({
        status: "RUNNING",
        handle: "jr_1",
      });

      // The polls come back through the internal queue.
      for (let i = 0; i < 5 && (await executions(w, "joined"))[0]?.status === "RUNNING"; i++) {
        w.clock.t += 31_000;
        for (const task of w.takeTasks())
          expect((await w.invoke({ Records: [sqsRecord(JSON.stringify(task))] })).batchItemFailures).toEqual(
            [],
          );
      }
      expect(w.engine.starts).toHaveLength(1);
      expect(w.engine.polls.length).toBeGreaterThanOrEqual(2);
      await expectExactlyOnce(w, [g]);
    },
  );

  test("a lost poll task: the sweeper polls once a poll is overdue, and a late task is dropped", async () => {
    const w = await newWorld({ model: flowModel("spark") });
    const g = GROUPS[2] as Group;
    w.engine.runningPolls = 2;
    await w.invoke(delivery(g.clicks, "s3"));
    await w.invoke(delivery(g.orders, "s3"));
    const [first] = w.takeTasks();
    expect(first?.task).toMatchObject({ kind: "poll", targetIndex: 0 });

    // Not overdue yet: the sweeper leaves the job alone.
    w.clock.t += 20_000;
    await w.sweep();
    expect(w.engine.polls).toEqual([]);
    // Overdue (the task was lost): the sweeper polls, once even when two sweepers run together.
    w.clock.t += 20_000;
    await Promise.all([w.sweep(), w.sweep()]);
    expect(w.engine.polls).toEqual(["jr_1"]);
    // The lost task turns up late: someone has acted since it was scheduled, so it is dropped.
    await w.invoke({ Records: [sqsRecord(JSON.stringify(first))] });
    expect(w.engine.polls).toEqual(["jr_1"]);
    // The sweeper's own poll chain carries on to the end.
    for (let i = 0; i < 5 && (await executions(w, "joined"))[0]?.status === "RUNNING"; i++) {
      w.clock.t += 31_000;
      for (const task of w.takeTasks()) await w.invoke({ Records: [sqsRecord(JSON.stringify(task))] });
    }
    expect(w.engine.polls).toEqual(["jr_1", "jr_1", "jr_1"]);
    expect(w.engine.starts).toHaveLength(1);
    await expectExactlyOnce(w, [g]);
  });
});

describe("a Glue job run whose id was never recorded (GlueDispatcher, mocked Glue API)", () => {
  /**
   * Glue behind every GlueClient: StartJobRun records a run (noting the store/storage call count it
   * came at), GetJobRuns lists the job's runs newest first, two a page, GetJobRun answers RUNNING
   * then SUCCEEDED. Runs that are not Sluice's are there from the start, and `foreign` adds newer ones.
   */
  function fakeGlue(faults: () => Faults) {
    const mock = mockClient(GlueClient);
    const runs: (JobRun & { polls: number })[] = [];
    let startMark = 0;
    const foreign = (n: number, newer = true): void => {
      for (let k = 0; k < n; k++) {
        const run = {
          Id: `jr_foreign_${runs.length + 1}`,
          JobName: "itest-glue-sql-4-0",
          JobRunState: "SUCCEEDED" as const,
          Arguments: { "--job-bookmark-option": "job-bookmark-disable" },
          polls: 0,
        };
        if (newer) runs.unshift(run);
        else runs.push(run);
      }
    };
    const reset = (): void => {
      runs.length = 0;
      mock.resetHistory();
      foreign(3, false);
    };
    reset();
    mock
      .on(StartJobRunCommand)
      .callsFake((input: { JobName?: string; Arguments?: Record<string, string> }) => {
        startMark = faults().calls;
        const id = `jr_run_${runs.length + 1}`;
        runs.unshift({
          Id: id,
          JobName: input.JobName,
          JobRunState: "RUNNING",
          Arguments: input.Arguments,
          polls: 0,
        });
        return { JobRunId: id };
      });
    mock.on(GetJobRunsCommand).callsFake((input: { JobName?: string; NextToken?: string }) => {
      const mine = runs.filter((r) => r.JobName === input.JobName);
      const from = Number(input.NextToken ?? "0");
      const page = mine.slice(from, from + 2).map(({ polls: _polls, ...run }) => run);
      return { JobRuns: page, ...(from + 2 < mine.length ? { NextToken: String(from + 2) } : {}) };
    });
    mock.on(GetJobRunCommand).callsFake((input: { RunId?: string }) => {
      const run = runs.find((r) => r.Id === input.RunId);
      if (!run) throw Object.assign(new Error("no such run"), { name: "EntityNotFoundException" });
      run.polls++;
      return { JobRun: { Id: run.Id, JobRunState: run.polls > 1 ? "SUCCEEDED" : "RUNNING" } };
    });
    return {
      mock,
      starts: () => mock.commandCalls(StartJobRunCommand).length,
      startMark: () => startMark,
      reset,
      foreign,
    };
  }

  test.each([1, 2])(
    "a crash %i call(s) after StartJobRun, before the run id is recorded: the sweeper finds the run, StartJobRun is called once",
    async (after) => {
      let faults = new Faults();
      const glue = fakeGlue(() => faults);
      try {
        // Find the call index of the start, then crash `after` calls later (before the handle is written).
        const probe = await newWorld({ model: flowModel("spark"), faults, engine: "glue" });
        const g = GROUPS[3] as Group;
        await probe.invoke(delivery(g.clicks, "eventbridge"));
        await probe.invoke(delivery(g.orders, "eventbridge"));
        expect(glue.starts()).toBe(1);
        const startAt = glue.startMark();
        glue.reset();

        faults = new Faults();
        const w = await newWorld({ model: flowModel("spark"), faults, engine: "glue" });
        faults.crashAt = startAt + after;
        await w.invoke(delivery(g.clicks, "eventbridge"));
        await expect(w.invoke(delivery(g.orders, "eventbridge"))).rejects.toThrow(Crash);
        expect(glue.starts()).toBe(1);
        const runId = (await glue.mock.commandCalls(StartJobRunCommand)[0]?.returnValue)?.JobRunId;
        expect(runId).toMatch(/^jr_run_/);
        const [running] = await executions(w, "joined");
        expect(running).toMatchObject({ status: "RUNNING" });
        expect(running?.targets[0]?.handle).toBeUndefined();

        // The job has run others since: the run is on the second page of GetJobRuns.
        glue.foreign(2);
        // Too early for the sweeper to take the dispatch over: the invocation might still be alive.
        w.clock.t += 5 * MINUTE;
        await w.sweep();
        expect(glue.mock.commandCalls(GetJobRunsCommand)).toHaveLength(0);
        // Past the dispatch timeout: the sweeper asks Glue and records the run.
        w.clock.t += 15 * MINUTE;
        await w.sweep();
        expect(glue.mock.commandCalls(GetJobRunsCommand).map((c) => c.args[0].input.NextToken)).toEqual([
          undefined,
          "2",
        ]);
        expect(glue.starts()).toBe(1);
        expect((await executions(w, "joined"))[0]?.targets[0]).toMatchObject({
          status: "RUNNING",
          handle: runId,
        });

        // The polls come back through the internal queue until the run succeeds.
        for (let i = 0; i < 5 && (await executions(w, "joined"))[0]?.status === "RUNNING"; i++) {
          w.clock.t += 31_000;
          for (const task of w.takeTasks())
            expect(
              (await w.invoke({ Records: [sqsRecord(JSON.stringify(task))] })).batchItemFailures,
            ).toEqual([]);
        }
        expect(glue.mock.commandCalls(GetJobRunCommand).length).toBeGreaterThanOrEqual(2);
        expect(glue.starts()).toBe(1);
        await expectExactlyOnce(w, [g]);
      } finally {
        glue.mock.restore();
      }
    },
  );
});

// ---------------------------------------------------------------- SQS batches and the DLQ

describe("SQS batches", () => {
  test("a poison message (not JSON) is dead-lettered with its reason and does not fail the batch", async () => {
    const w = await newWorld();
    const g = GROUPS[0] as Group;
    const poison = sqsRecord("this is not JSON {", "sqs.rawsns.plain.captured.json");
    const good = queued(g.clicks, "sqs");
    const r = await w.invoke({ Records: [poison, good] });
    expect(r.batchItemFailures).toEqual([]);
    expect(r.signals).toBe(1);
    const letters = w.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toMatch(/not JSON/);
    expect(JSON.stringify(letters[0]?.event)).toContain(poison.messageId);
    expect(await w.command<PendingView[]>({ sluice: "pending", node: "joined" })).toEqual([
      expect.objectContaining({ received: ["clicks"] }),
    ]);
  });

  test("a message that throws fails alone until its receive count reaches the maximum, then is dead-lettered", async () => {
    const w = await newWorld();
    const g = GROUPS[0] as Group;
    const good = queued(g.orders, "sqs");
    const failing = queued(g.clicks, "sqs");
    for (let receives = 1; receives <= 5; receives++) {
      w.faults.down = true;
      const r = await w.invoke({
        Records: [{ ...failing, attributes: { ApproximateReceiveCount: String(receives) } }],
      });
      w.faults.down = false;
      if (receives < 5) {
        expect(r.batchItemFailures).toEqual([{ itemIdentifier: failing.messageId }]);
        expect(w.deadLetters()).toEqual([]);
      } else {
        expect(r.batchItemFailures).toEqual([]);
        expect(w.deadLetters()).toEqual([
          expect.objectContaining({
            reason: expect.stringMatching(/^failed 5 times: .*service unavailable/),
          }),
        ]);
      }
    }
    // The other messages of a batch are not held back by a failing one.
    w.faults.crashAt = w.faults.calls + 1;
    const r = await w.invoke({ Records: [failing, good] });
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: failing.messageId }]);
    expect(await w.command<PendingView[]>({ sluice: "pending", node: "joined" })).toEqual([
      expect.objectContaining({ received: ["orders"] }),
    ]);
  });
});

// ---------------------------------------------------------------- direct invocations

describe("direct invocation commands", () => {
  test("process, pending, executions, execute, poll, kill and sweep against dynalite", async () => {
    const w = await newWorld({ model: flowModel("spark") });
    const na = { region: "NA", day: "2024-05-07" };
    const eu = { region: "EU", day: "2024-05-07" };

    expect(await w.command({ sluice: "poll", node: "joined", dimensions: na })).toEqual({});
    expect(await w.command({ sluice: "kill", node: "joined", dimensions: na })).toEqual({ killed: null });

    const processed = await w.command({ sluice: "process", node: "clicks", dimensions: na });
    expect(processed).toEqual({ matched: [{ route: "joined", input: "clicks" }], executions: [] });
    expect(await w.command<PendingView[]>({ sluice: "pending", node: "joined" })).toEqual([
      expect.objectContaining({ dimensions: na, received: ["clicks"], state: "pending" }),
    ]);

    // execute: an execution of its own (pending groups are left alone), on the async engine.
    const started = await w.command<ExecutionRecord>({ sluice: "execute", node: "joined", dimensions: eu });
    expect(started).toMatchObject({ status: "RUNNING", dimensions: eu });
    expect(started.targets[0]).toMatchObject({ status: "RUNNING", handle: "jr_1" });
    expect(await w.command({ sluice: "poll", node: "joined", dimensions: eu })).toEqual({});
    expect(await w.command<PendingView[]>({ sluice: "pending", node: "joined" })).toHaveLength(1);

    // kill: the engine job stops, the record says KILLED, poll shows it.
    const killed = await w.command<{ killed: ExecutionRecord }>({
      sluice: "kill",
      node: "joined",
      dimensions: eu,
    });
    expect(killed.killed).toMatchObject({ id: started.id, status: "KILLED" });
    expect(w.engine.kills).toEqual(["jr_1"]);
    const polled = await w.command<PollResult>({ sluice: "poll", node: "joined", dimensions: eu });
    expect(polled.records?.map((r) => r.status)).toEqual(["KILLED"]);

    // Executed again, to the end through the internal queue's poll tasks.
    w.takeTasks();
    w.clock.t += MINUTE;
    const again = await w.command<ExecutionRecord>({ sluice: "execute", node: "joined", dimensions: eu });
    expect(again.targets[0]).toMatchObject({ status: "RUNNING", handle: "jr_2" });
    w.clock.t += 31_000;
    for (const task of w.takeTasks()) await w.invoke({ Records: [sqsRecord(JSON.stringify(task))] });
    w.clock.t += 31_000;
    for (const task of w.takeTasks()) await w.invoke({ Records: [sqsRecord(JSON.stringify(task))] });
    const done = await w.command<PollResult>({ sluice: "poll", node: "joined", dimensions: eu });
    expect(done).toEqual({ path: `s3://${w.bucket}/internal_data/joined/EU/2024-05-07` });

    const records = await w.command<ExecutionRecord[]>({ sluice: "executions", node: "joined" });
    expect(records.map((r) => [r.id, r.status])).toEqual([
      [again.id, "SUCCEEDED"],
      [started.id, "KILLED"],
    ]);
    // The success was pushed downstream: daily ran for EU.
    expect(await w.command<PollResult>({ sluice: "poll", node: "daily", dimensions: eu })).toEqual({
      path: `s3://${w.bucket}/internal_data/daily/EU/2024-05-07`,
    });
    expect(await w.command({ sluice: "sweep" })).toEqual({ swept: true });
    // The sweeper's own schedule is recognised by its rule name.
    const sweeperEvent = {
      ...vector("eventbridge.scheduled-event.awsdocs.json"),
      resources: ["arn:aws:events:us-east-1:123456789012:rule/itest-sweeper"],
    };
    expect((await w.invoke(sweeperEvent)).result).toEqual({ swept: true });
  });
});
