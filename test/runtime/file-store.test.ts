/**
 * FileStore beyond the shared Store contract (test/runtime/dynamodb-store.test.ts): state survives a
 * new instance on the same folder, any key makes a file name, the lock, and LocalRuntime continuing a
 * persisted store and clock.
 */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Application, dim, inline } from "sluice";
import type { ExecutionRecord } from "../../src/runtime-bundle/core/execution-record";
import { FileStore, FileStoreLockedError } from "../../src/runtime-bundle/local/file-store";
import { ITEM_SCHEMA, type BucketItem } from "../../src/runtime-bundle/core/store";
import { LocalRuntime } from "../../src/runtime-bundle/local/local-runtime";

let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "sluice-file-store-test-"));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const T0 = Date.UTC(2024, 0, 1);

function execution(id: string, startedAt: number): ExecutionRecord {
  return {
    id,
    node: "route",
    dimensions: { day: "2024-05-07" },
    status: "PENDING",
    attempts: 1,
    startedAt,
    targets: [{ kind: "inline", engine: "lambda", status: "PENDING" }],
    path: "/data/route/2024-05-07",
    inputs: { a: { day: "2024-05-07" } },
  };
}

/** Every file under a folder, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

test("a new instance on the same folder sees everything, versions included", async () => {
  const a = new FileStore(tmp);
  const g: BucketItem = {
    kind: "group",
    schema: ITEM_SCHEMA,
    signature: "s",
    id: "g",
    partition: { day: "2024-05-07" },
    createdAt: T0,
    expiresAt: T0 + 1,
    tokens: {},
    state: "pending",
  };
  await a.putItem("r", "b/1", "G#k", g, undefined);
  await a.putSlot("r", "o", { active: "e2", latest: "e2" }, undefined);
  await a.createExecution(execution("e1", T0));
  await a.createExecution(execution("e2", T0 + 1));
  await a.claimEvent("evt", T0);
  await a.putHandle("glue", "jr_1", { executionId: "e2", targetIndex: 0 }, T0);
  await a.putWaiting("r", { keys: ["k"] }, undefined);

  const b = new FileStore(tmp);
  const item = await b.getItem("r", "b/1", "G#k");
  expect(item?.value).toEqual(g);
  expect((await b.buckets("r")).map((x) => x.bucket)).toEqual(["b/1"]);
  expect((await b.queryBucket("r", "b/1", "")).map((x) => x.key)).toEqual(["G#k"]);
  expect(await b.putItem("r", "b/1", "G#k", undefined, item?.version)).toBe(true);
  expect(await b.activeSlots("r")).toEqual([{ outputKey: "o", active: "e2" }]);
  expect((await b.listExecutions("route")).map((r) => r.id)).toEqual(["e2", "e1"]);
  expect(await b.claimEvent("evt", T0)).toBe(false);
  expect(await b.getHandle("glue", "jr_1")).toEqual({ executionId: "e2", targetIndex: 0 });
  expect((await b.getWaiting("r"))?.value).toEqual({ keys: ["k"] });
  // Writes leave no temporary files behind.
  expect(files(tmp).filter((f) => !f.endsWith(".json"))).toEqual([]);
});

test("any key makes a file name: separators, dots, unicode, empty, very long", async () => {
  const store = new FileStore(tmp);
  const keys = [
    "",
    ".",
    "..",
    "a/b\\c",
    "NA|2024-05-07",
    "%41",
    "~x",
    "zürich ☃",
    "k".repeat(600),
    "k".repeat(601),
  ];
  for (const k of keys) {
    expect(await store.putSlot("r/../x", k, { active: `e-${k.length}` }, undefined)).toBe(true);
  }
  expect((await store.activeSlots("r/../x")).map((s) => s.outputKey)).toEqual([...keys].sort());
  for (const k of keys)
    expect((await store.getSlot("r/../x", k))?.value).toEqual({ active: `e-${k.length}` });
  expect(await store.activeSlots("r")).toEqual([]);
  expect(await store.activeSlots("x")).toEqual([]);
});

test("the lock: one holder at a time; released by close(); a dead holder's lock is taken over", () => {
  const first = new FileStore(tmp, { lock: true });
  expect(() => new FileStore(tmp, { lock: true })).toThrow(FileStoreLockedError);
  expect(() => new FileStore(tmp, { lock: true })).toThrow(/in use by another sluice process \(pid \d+\)/);
  first.close();
  const second = new FileStore(tmp, { lock: true });
  second.close();
  writeFileSync(join(tmp, "LOCK"), "999999999\n");
  const third = new FileStore(tmp, { lock: true });
  expect(files(tmp)).toEqual(["LOCK"]);
  third.close();
  expect(files(tmp)).toEqual([]);
});

test("LocalRuntime on a FileStore and a clock file continues where the last runtime stopped", async () => {
  const app = new Application("persisted", { account: "111122223333", region: "us-east-1" });
  const dims = { day: dim.datetime() };
  const a = app.s3Dataset("a", { bucket: "raw-a", partitions: ["{}"], dimensions: dims });
  const b = app.s3Dataset("b", { bucket: "raw-b", partitions: ["{}"], dimensions: dims });
  const n = app.data("n", { inputs: [a, b], compute: inline(async () => undefined) });
  const state = join(tmp, "state");
  const clockFile = join(tmp, "clock.json");

  const start = async () => {
    const store = new FileStore(state, { lock: true });
    const runtime = await LocalRuntime.start(app, { dir: tmp, store, clockFile, startTime: T0 });
    return { store, runtime };
  };

  const one = await start();
  expect(one.runtime.now()).toBe(T0);
  await one.runtime.process(a.at("2024-05-07"));
  await one.runtime.advance(60_000);
  await one.runtime.stop();
  one.store.close();

  const two = await start();
  expect(two.runtime.now()).toBe(T0 + 60_000);
  expect(await two.runtime.pending(n)).toEqual([expect.objectContaining({ received: ["a"] })]);
  await two.runtime.process(b.at("2024-05-07"));
  expect(await two.runtime.executions(n)).toEqual([
    expect.objectContaining({ status: "SUCCEEDED", startedAt: T0 + 60_000 }),
  ]);
  await two.runtime.stop();
  two.store.close();
});
