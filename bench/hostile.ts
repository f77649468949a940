/**
 * Handler batch benchmark (issue 12): records/s through the router's Lambda service (`createService`,
 * `RouterService.handle`) on 10-record SQS batches of S3 notifications, good records only against
 * the same batches with half of the records bad (not JSON, truncated, an unknown source, `abc` for a
 * LONG dimension, an impossible date), in one run. Run with `npm run bench -- hostile`.
 *
 * What is measured is the service's own work: unwrapping, adapting, routing, trigger groups and
 * executions on a MemoryStore, dead letters built and handed to a stub SQS client; not DynamoDB, S3 or
 * the network. Log lines are dropped (console.log and console.error are stubbed while timing).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { Application, dim, inline } from "../src/flow";
import type { FlowModel } from "../src/flow/model/flow-model";
import { EmfMetrics } from "../src/runtime-bundle/aws/emf-metrics";
import { createService } from "../src/runtime-bundle/aws/handler";
import type { SqsRecord } from "../src/runtime-bundle/aws/service";
import { MemoryStore } from "../src/runtime-bundle/core/memory-store";
import type { Storage } from "../src/runtime-bundle/core/storage";
import { readVector } from "../test/support/vectors";
import { int, median, ratio, table } from "./support/report";

/** Batches per timed run (10 records each), and runs (the median is reported). */
const BATCHES = 400;
const REPEAT = 5;
const BUCKET = "bench-clicks";

function flowModel(): FlowModel {
  const app = new Application("bench", { account: "123456789012", region: "us-east-1" });
  const clicks = app.s3Dataset("clicks", {
    bucket: BUCKET,
    prefix: "raw/clicks",
    partitions: ["day={}", "n={}"],
    dimensions: { day: dim.datetime({ format: "%Y-%m-%d" }), n: dim.long() },
    completion: "_SUCCESS",
  });
  app.data("copy", { inputs: [clicks], compute: inline("compute/copy.ts#run") });
  return app.toModel();
}

const storage: Storage = {
  partitionPath: (node, dims) => `mem://${node.id}/${Object.values(dims).join("/")}`,
  exists: async () => true,
  writeMarker: async () => undefined,
  clear: async () => undefined,
};

let letters = 0;
const sqs = { send: async () => ((letters += 1), { MessageId: "m" }) } as unknown as SQSClient;

function service() {
  return createService(
    { SLUICE_TABLE: "bench", SLUICE_BUCKET: "bench-storage", SLUICE_DLQ_URL: "https://sqs/dlq" },
    join(tmpdir(), "no-assets-here"),
    {
      model: flowModel(),
      code: { refs: { "compute/copy.ts#run": async () => undefined } },
      dynamodb: {} as DynamoDBClient,
      sqs,
      wrapStore: () => new MemoryStore(),
      wrapStorage: () => storage,
      metrics: new EmfMetrics({ namespace: "bench", application: "bench", write: () => undefined }),
    },
  );
}

const template = readVector("sqs.s3-notification.captured.json") as { Records: SqsRecord[] };
const notification = JSON.parse((template.Records[0] as SqsRecord).body) as {
  Records: { s3: { bucket: { name: string }; object: { key: string; sequencer: string } } }[];
};
let sequence = 0;

function record(body: string): SqsRecord {
  return { ...(template.Records[0] as SqsRecord), messageId: `m-${++sequence}`, body };
}

function good(n: number): SqsRecord {
  const r = notification.Records[0] as (typeof notification.Records)[number];
  r.s3.bucket.name = BUCKET;
  r.s3.object.key = `raw/clicks/day%3D2024-05-07/n%3D${n}/_SUCCESS`;
  r.s3.object.sequencer = `00${String(++sequence).padStart(14, "0")}`;
  return record(JSON.stringify(notification));
}

function bad(i: number, n: number): SqsRecord {
  switch (i % 5) {
    case 0:
      return record("not json at all");
    case 1:
      return record(good(n).body.slice(0, 300));
    case 2:
      return record('{"hello":"router"}');
    case 3:
      return record(good(n).body.replace(`n%3D${n}`, "n%3Dabc"));
    default:
      return record(good(n).body.replace("2024-05-07", "2024-02-30"));
  }
}

/** Batches of 10: good records only, or 5 good and 5 bad interleaved; new partitions every batch. */
function batches(mixed: boolean, offset: number): { Records: SqsRecord[] }[] {
  return Array.from({ length: BATCHES }, (_, b) => ({
    Records: Array.from({ length: 10 }, (_, i) => {
      const n = offset + b * 10 + i;
      return mixed && i % 2 === 1 ? bad(b + i, n) : good(n);
    }),
  }));
}

async function timed(mixed: boolean, offset: number): Promise<{ recordsPerSecond: number; letters: number }> {
  const s = service();
  const input = batches(mixed, offset);
  const before = letters;
  const start = process.hrtime.bigint();
  for (const event of input) {
    const r = await s.handle(event);
    if ((r.batchItemFailures ?? []).length > 0) throw new Error("a record failed");
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { recordsPerSecond: (input.length * 10 * 1000) / ms, letters: letters - before };
}

async function main(): Promise<void> {
  const log = console.log;
  const error = console.error;
  const results: Record<"good" | "mixed", number[]> = { good: [], mixed: [] };
  const lettersPerRun: Record<"good" | "mixed", number> = { good: 0, mixed: 0 };
  try {
    console.log = () => undefined;
    console.error = () => undefined;
    await timed(false, 0); // warm-up
    await timed(true, 0);
    for (let r = 0; r < REPEAT; r++) {
      for (const kind of ["good", "mixed"] as const) {
        const run = await timed(kind === "mixed", (r + 1) * 1_000_000);
        results[kind].push(run.recordsPerSecond);
        lettersPerRun[kind] = run.letters;
      }
    }
  } finally {
    console.log = log;
    console.error = error;
  }
  const good = median(results.good);
  const mixed = median(results.mixed);
  table(
    `Handler, 10-record SQS batches (${BATCHES} batches per run, median of ${REPEAT} runs, MemoryStore)`,
    ["batch", "records/s", "batches/s", "dead letters per run", "vs good only"],
    [
      ["good records only", int(good), int(good / 10), int(lettersPerRun.good), ratio(1)],
      ["5 good + 5 bad", int(mixed), int(mixed / 10), int(lettersPerRun.mixed), ratio(mixed / good)],
    ],
  );
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
