/**
 * An environment's dataset bindings reach the deployed router: `createService` binds SLUICE_DATASETS
 * into the model, so an event on the bound bucket and prefix signals the dataset, the job is told the
 * bound location and format, and a binding that does not fit the flow stops the router at start.
 * DynamoDbStore on dynalite, S3Storage on s3rver (both in process).
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Application, dim, sparkSql } from "sluice";
import { bindDatasets, DatasetBindingError } from "../../src/flow/model/dataset-bindings";
import type { FlowModel } from "../../src/flow/model/flow-model";
import { createRoutingTable } from "../../src/runtime-bundle/aws/dynamodb-store";
import { EmfMetrics } from "../../src/runtime-bundle/aws/emf-metrics";
import { createService, type RouterEnvironment } from "../../src/runtime-bundle/aws/handler";
import type { DispatchRequest, Dispatcher } from "../../src/runtime-bundle/core/dispatcher";
import { startEmulators, type Emulators } from "../support/emulators";

import { VECTORS } from "../support/vectors";
const STORAGE = "bindings-storage";
const DEV_BUCKET = "dev-raw-orders";
const PROD_BUCKET = "prod-raw-orders";

let emulators: Emulators;
let dynamodb: DynamoDBClient;
let s3: S3Client;

beforeAll(async () => {
  emulators = await startEmulators({ buckets: [STORAGE, DEV_BUCKET, PROD_BUCKET] });
  ({ dynamodb, s3 } = emulators);
});

afterAll(() => emulators.stop());

beforeEach(() => {
  jest.spyOn(console, "log").mockImplementation(() => undefined);
  jest.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

function flow(): FlowModel {
  const app = new Application("bindings", { account: "123456789012", region: "us-east-1" });
  app.environment("prod", {
    account: "999988887777",
    region: "us-east-1",
    datasets: { orders: { bucket: PROD_BUCKET, prefix: "exports/v2/", format: "csv" } },
  });
  const orders = app.s3Dataset("orders", {
    bucket: DEV_BUCKET,
    prefix: "exports",
    partitions: ["day={}"],
    dimensions: { day: dim.datetime() },
    format: "parquet",
    completion: "_SUCCESS",
  });
  app.data("totals", { inputs: [orders], compute: sparkSql("SELECT COUNT(*) AS n FROM orders") });
  return app.toModel();
}

/** A Glue stand-in that records what it is asked to run and reports it running. */
class RecordingEngine implements Dispatcher {
  readonly requests: DispatchRequest[] = [];
  async start(request: DispatchRequest) {
    this.requests.push(request);
    return { status: "RUNNING" as const, handle: `run-${this.requests.length}` };
  }
  async poll() {
    return { status: "RUNNING" as const, handle: "run" };
  }
}

function objectCreated(bucket: string, key: string): Record<string, unknown> {
  const v = JSON.parse(
    readFileSync(path.join(VECTORS, "s3-eventbridge.object-created.awsdocs.json"), "utf8"),
  ) as { detail: { bucket: { name: string }; object: { key: string; sequencer: string } } } & Record<
    string,
    unknown
  >;
  v.detail.bucket.name = bucket;
  v.detail.object.key = key;
  v.detail.object.sequencer = `seq-${bucket}-${key}`;
  v.resources = [`arn:aws:s3:::${bucket}`];
  return v;
}

let tables = 0;
async function service(datasets: string | undefined) {
  const table = `bindings-${++tables}`;
  await createRoutingTable(dynamodb, table);
  const engine = new RecordingEngine();
  const env: RouterEnvironment = {
    SLUICE_TABLE: table,
    SLUICE_BUCKET: STORAGE,
    SLUICE_ENV: "prod",
    ...(datasets === undefined ? {} : { SLUICE_DATASETS: datasets }),
  };
  const build = () =>
    createService(env, path.join(tmpdir(), "no-assets-here"), {
      model: flow(),
      code: { refs: {} },
      dynamodb,
      s3,
      dispatchers: { glue: engine },
      metrics: new EmfMetrics({ namespace: "itest", application: "bindings", write: () => undefined }),
    });
  return { engine, build };
}

test("the environment's bucket, prefix and format reach event matching, storage paths and the job", async () => {
  const { engine, build } = await service(JSON.stringify(flow().environments.prod?.datasets));
  const key = "exports/v2/day=2024-05-07/_SUCCESS";
  await s3.send(new PutObjectCommand({ Bucket: PROD_BUCKET, Key: key, Body: "" }));

  // The flow's own (dev) location is not where prod's data is.
  const dev = await build().handle(objectCreated(DEV_BUCKET, "exports/day=2024-05-07/_SUCCESS"));
  expect(JSON.stringify(dev)).toMatch(/no s3Dataset on bucket/);
  expect(engine.requests).toHaveLength(0);

  await build().handle(objectCreated(PROD_BUCKET, key));
  expect(engine.requests).toHaveLength(1);
  const input = engine.requests[0]?.inputs.orders;
  expect(input?.paths).toEqual([`s3://${PROD_BUCKET}/exports/v2/day=2024-05-07`]);
  expect(input?.format).toBe("csv");
});

test("without bindings the flow's declaration holds", async () => {
  const { engine, build } = await service(undefined);
  const key = "exports/day=2024-05-07/_SUCCESS";
  await s3.send(new PutObjectCommand({ Bucket: DEV_BUCKET, Key: key, Body: "" }));
  await build().handle(objectCreated(DEV_BUCKET, key));
  expect(engine.requests.map((r) => [r.inputs.orders?.paths, r.inputs.orders?.format])).toEqual([
    [[`s3://${DEV_BUCKET}/exports/day=2024-05-07`], "parquet"],
  ]);
});

test("a binding that does not fit the flow stops the router at start, naming every problem", async () => {
  const { build } = await service(
    JSON.stringify({ orders: { format: "xml", database: "d" }, totals: { bucket: "b" }, gone: {} }),
  );
  expect(build).toThrow(DatasetBindingError);
  expect(build).toThrow(
    'dataset bindings: dataset "gone": no such node; dataset "orders" (s3Dataset): "database" cannot be bound; ' +
      'dataset "orders", field "format": "xml" is not one of avro, csv, json, orc, parquet, text; ' +
      'dataset "totals": is a data, not an s3Dataset or glueTable',
  );
});

describe("bindDatasets", () => {
  const model = (): FlowModel => {
    const app = new Application("binder", { account: "123456789012", region: "us-east-1" });
    app.s3Dataset("raw", {
      bucket: "raw",
      prefix: "p",
      partitions: [],
      dimensions: {},
      encryptionKey: "alias/raw",
    });
    app.glueTable("events", { database: "db", table: "t", dimensions: {} });
    return app.toModel();
  };

  test("binds field by field; null, absent and an empty key keep the declaration", () => {
    const bound = bindDatasets(model(), {
      raw: { bucket: "prod-raw", prefix: "/a/b/", encryptionKey: "", account: null, region: "eu-west-1" },
      events: { database: "prod_db", account: "210987654321" },
    });
    expect(bound.nodes.raw).toMatchObject({
      bucket: "prod-raw",
      prefix: "a/b",
      encryptionKey: "alias/raw",
      account: "123456789012",
      region: "eu-west-1",
      format: "parquet",
    });
    expect(bound.nodes.events).toMatchObject({ database: "prod_db", table: "t", account: "210987654321" });
    // The input model is not changed.
    expect(model().nodes.raw).toEqual(bindDatasets(model(), {}).nodes.raw);
  });

  test("a value that is not a string is a problem", () => {
    expect(() => bindDatasets(model(), { raw: { bucket: 7 } })).toThrow(
      'dataset "raw", field "bucket": 7 is not a string',
    );
  });
});
