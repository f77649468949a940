/**
 * Issue 11's concurrency acceptance, on dynalite: 60 regional S3 events and the day's EventBridge
 * tick, delivered concurrently in random order (each invocation its own service, as separate Lambda
 * containers), give exactly 60 executions and no failed invocation. The tick is a fact for every
 * region of its day; each region's event is a token for its (region, day). With one item per group,
 * the 60 regions never write the same item, and the tick's fact item is written once.
 */
import * as path from "node:path";
import { tmpdir } from "node:os";
import { readFileSync } from "node:fs";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { Application, dim, inline } from "sluice";
import type { FlowModel } from "../../src/flow/model/flow-model";
import { resourceNames } from "../../src/flow/model/resource-names";
import { createRoutingTable } from "../../src/runtime-bundle/aws/dynamodb-store";
import { EmfMetrics } from "../../src/runtime-bundle/aws/emf-metrics";
import { createService } from "../../src/runtime-bundle/aws/handler";
import type { HandleResult } from "../../src/runtime-bundle/aws/service";
import type { ExecutionRecord } from "../../src/runtime-bundle/core/execution-record";
import type { FactView, PendingView } from "../../src/runtime-bundle/core/router";
import { startEmulators, type Emulators } from "../support/emulators";
import { rng, shuffle } from "../support/random";
import { VECTORS } from "../support/vectors";

const APP = "conc";
const RAW = "conc-raw";
/** The day of the tick: the vector's event time, truncated to the timer's day. */
const DAY = "2015-10-08";
const REGIONS = Array.from({ length: 60 }, (_, i) => `R${String(i).padStart(2, "0")}`);
const T0 = Date.UTC(2015, 9, 8, 6);

let emulators: Emulators;
let dynamodb: DynamoDBClient;
let s3: S3Client;
let worlds = 0;

beforeAll(async () => {
  emulators = await startEmulators({ buckets: [RAW] });
  ({ dynamodb, s3 } = emulators);
});

afterAll(() => emulators.stop());

jest.setTimeout(120_000);

beforeEach(() => {
  jest.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

function flowModel(): FlowModel {
  const app = new Application(APP, { account: "123456789012", region: "us-east-1" });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  const events = app.s3Dataset("events", {
    bucket: RAW,
    prefix: "events",
    partitions: ["region={}", "day={}"],
    dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
    completion: "_SUCCESS",
  });
  app.data("joined", {
    inputs: [daily, events],
    output: { region: dim.string(), day: dim.datetime() },
    compute: inline("compute/joined.ts#run"),
  });
  return app.toModel();
}

function vector(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(VECTORS, file), "utf8")) as Record<string, unknown>;
}

/** The S3 notification of `events/region=<region>/day=<DAY>/_SUCCESS` (its own object version). */
function landed(region: string, n: number): unknown {
  const v = vector("s3-notification.objectcreated-put.awsdocs.json");
  const record = (v.Records as Record<string, unknown>[])[0] as {
    s3: { bucket: Record<string, unknown>; object: Record<string, unknown> };
  };
  record.s3.bucket.name = RAW;
  record.s3.bucket.arn = `arn:aws:s3:::${RAW}`;
  record.s3.object.key = `events/region%3D${region}/day%3D${DAY}/_SUCCESS`;
  record.s3.object.sequencer = `0066${String(n).padStart(6, "0")}ABCDEF`;
  record.s3.object.eTag = `${String(n).padStart(8, "0")}e0d1c2b3a4f5e6d7c8b9a0f1e2d3`;
  return v;
}

/** The day's tick: EventBridge's scheduled event on the timer's rule. */
function tick(): unknown {
  const v = vector("eventbridge.scheduled-event.awsdocs.json");
  return {
    ...v,
    resources: [`arn:aws:events:us-east-1:123456789012:rule/${resourceNames.timerRule(APP, "daily")}`],
  };
}

async function world() {
  const table = `conc-${++worlds}`;
  await createRoutingTable(dynamodb, table);
  const bucket = `conc-storage-${worlds}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const model = flowModel();
  const calls: string[] = [];
  const metricLines: string[] = [];
  const service = () =>
    createService(
      { SLUICE_TABLE: table, SLUICE_BUCKET: bucket, SLUICE_ENV: "test" },
      path.join(tmpdir(), "no-assets-here"),
      {
        model,
        code: {
          refs: {
            "compute/joined.ts#run": async (
              _inputs: unknown,
              output: { dimensions: Record<string, unknown> },
            ) => {
              calls.push(`${String(output.dimensions.region)}/${String(output.dimensions.day)}`);
            },
          },
        },
        dynamodb,
        s3,
        clock: { now: () => T0 },
        metrics: new EmfMetrics({
          namespace: APP,
          application: APP,
          write: (line) => void metricLines.push(line),
        }),
      },
    );
  const conflicts = (): number =>
    metricLines.filter((l) => (JSON.parse(l) as Record<string, unknown>).StoreConflicts !== undefined).length;
  return { service, calls, conflicts };
}

test.each([1, 2, 3])(
  "60 concurrent region events and the day's tick, in random order (seed %i): exactly 60 executions, no failed invocation",
  async (seed) => {
    const w = await world();
    const deliveries = shuffle([tick(), ...REGIONS.map((r, i) => landed(r, i + 1))], rng(seed));
    const settled = await Promise.allSettled(deliveries.map((d) => w.service().handle(d)));
    const failed = settled
      .filter((s) => s.status === "rejected")
      .map((s) => String((s as PromiseRejectedResult).reason));
    expect(failed).toEqual([]);
    for (const s of settled) expect((s as PromiseFulfilledResult<HandleResult>).value.signals).toBe(1);

    const command = async <T>(c: Record<string, unknown>): Promise<T> =>
      (await w.service().handle(c)).result as T;
    const runs = await command<ExecutionRecord[]>({ sluice: "executions", node: "joined" });
    expect(runs.map((r) => `${String(r.dimensions.region)}/${String(r.dimensions.day)}`).sort()).toEqual(
      REGIONS.map((r) => `${r}/${DAY}`),
    );
    expect(runs.every((r) => r.status === "SUCCEEDED")).toBe(true);
    expect(w.calls.sort()).toEqual(REGIONS.map((r) => `${r}/${DAY}`));
    expect(await command<PendingView[]>({ sluice: "pending", node: "joined" })).toEqual([]);
    // The tick stays live (never consumed) for the node's pending TTL.
    const facts = await command<FactView[]>({ sluice: "facts", node: "joined" });
    expect(facts).toEqual([
      expect.objectContaining({ input: "daily", dimensions: { day: DAY }, pins: { day: DAY } }),
    ]);
    // Conflicts are allowed (and counted as StoreConflicts); failures are not.
    expect(w.conflicts()).toBeGreaterThanOrEqual(0);
  },
);
