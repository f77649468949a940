/**
 * The Store contract, run against MemoryStore and DynamoDbStore (on dynalite, in process): the same
 * behavioural suite for both, then DynamoDB-only checks (item layout, TTLs, limits, request counts)
 * and the Router end to end on DynamoDbStore.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { Application, dim, inline } from "sluice";
import {
  createRoutingTable,
  DynamoDbStore,
  MAX_DOCUMENT_BYTES,
  routingTableKeySchema,
  StoreItemTooLargeError,
  type DynamoDbStoreProps,
} from "../../src/runtime-bundle/aws/dynamodb-store";
import { VirtualClock } from "../../src/runtime-bundle/core/clock";
import type { DispatchRequest, Dispatcher } from "../../src/runtime-bundle/core/dispatcher";
import type { ExecutionRecord } from "../../src/runtime-bundle/core/execution-record";
import { MemoryStore } from "../../src/runtime-bundle/core/memory-store";
import { RouteTable } from "../../src/runtime-bundle/core/route-table";
import { Router } from "../../src/runtime-bundle/core/router";
import {
  ITEM_SCHEMA,
  type GroupItem,
  type Store,
  type StoreStats,
} from "../../src/runtime-bundle/core/store";
import { FileStore } from "../../src/runtime-bundle/local/file-store";
import { LocalStorage } from "../../src/runtime-bundle/local/local-storage";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types
const dynalite = require("dynalite") as (options: { createTableMs?: number }) => Server;

// ---------------------------------------------------------------- dynalite

let server: Server;
let client: DynamoDBClient;
let tableCount = 0;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
});

/** A fresh table per store, so tests never see each other's items. */
async function newTable(): Promise<string> {
  const name = `routing-${++tableCount}`;
  await createRoutingTable(client, name);
  return name;
}

async function newDynamoStore(props: Partial<DynamoDbStoreProps> = {}): Promise<DynamoDbStore> {
  return new DynamoDbStore({ client, tableName: await newTable(), ...props });
}

async function rawItem(
  table: string,
  pk: string,
  sk: string,
): Promise<Record<string, AttributeValue> | undefined> {
  return (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } })))
    .Item;
}

// ---------------------------------------------------------------- fixtures

type TestStore = Store & { readonly stats: StoreStats };

interface Harness {
  /** `pageSize`: a small Query Limit where the store has one (pagination). */
  make(options?: { pageSize?: number }): Promise<TestStore>;
}

/** FileStores live in folders under one temp folder, removed after the suite. */
const fileStores = mkdtempSync(path.join(tmpdir(), "sluice-file-store-"));
afterAll(() => rm(fileStores, { recursive: true, force: true }));

const harnesses: [string, Harness][] = [
  ["MemoryStore", { make: async () => new MemoryStore() }],
  ["FileStore", { make: async () => new FileStore(mkdtempSync(path.join(fileStores, "s-"))) }],
  [
    "DynamoDbStore",
    {
      make: (o = {}) => newDynamoStore(o.pageSize === undefined ? {} : { pageSize: o.pageSize }),
    },
  ],
];

const T0 = Date.UTC(2024, 0, 1);

function group(id: string, tokens: GroupItem["tokens"] = { a: { day: "2024-05-07" } }): GroupItem {
  return {
    kind: "group",
    schema: ITEM_SCHEMA,
    signature: "sig",
    id,
    partition: { day: "2024-05-07" },
    createdAt: T0,
    expiresAt: T0 + 3600_000,
    state: "pending",
    tokens,
  };
}

/** A group item named after all of `ids` (the tests compare whole items). */
function bucket(...ids: string[]): GroupItem {
  return group(ids.join("+"));
}

function execution(id: string, startedAt: number, node = "route"): ExecutionRecord {
  return {
    id,
    node,
    dimensions: { day: "2024-05-07", n: 3 },
    status: "PENDING",
    attempts: 1,
    startedAt,
    targets: [{ kind: "inline", engine: "lambda", status: "PENDING" }],
    path: `/data/${node}/2024-05-07`,
    inputs: { a: { day: "2024-05-07" }, b: { day: "2024-05-07", region: "NA" } },
  };
}

// ---------------------------------------------------------------- the shared contract

describe.each(harnesses)("%s", (_name, harness) => {
  let store: TestStore;

  beforeEach(async () => {
    store = await harness.make();
  });

  describe("bucket items", () => {
    test("create, conflict, update at the current version only", async () => {
      expect(await store.getItem("r", "b", "G#k")).toBeUndefined();
      expect(await store.putItem("r", "b", "G#k", bucket("g1"), undefined)).toBe(true);
      expect(await store.putItem("r", "b", "G#k", bucket("other"), undefined)).toBe(false);
      const v1 = await store.getItem("r", "b", "G#k");
      expect(v1?.value).toEqual(bucket("g1"));
      const version = v1?.version as number;
      expect(await store.putItem("r", "b", "G#k", bucket("g1", "g2"), version)).toBe(true);
      expect(await store.putItem("r", "b", "G#k", bucket("stale"), version)).toBe(false);
      const v2 = await store.getItem("r", "b", "G#k");
      expect(v2?.value).toEqual(bucket("g1", "g2"));
      expect(v2?.version).not.toBe(version);
    });

    test("keeps item fields exactly (states, execution ids, numeric dimensions, facts)", async () => {
      const g: GroupItem = {
        ...group("g1", { a: { day: "2024-05-07", n: 3 } }),
        state: "triggering",
        executionId: "route-g1",
      };
      await store.putItem("r", "b", "G#k", g, undefined);
      expect((await store.getItem("r", "b", "G#k"))?.value).toEqual(g);
      const f = {
        kind: "fact" as const,
        schema: ITEM_SCHEMA,
        signature: "sig",
        alias: "t",
        dims: { day: "2024-05-07" },
        pins: { day: "2024-05-07" },
        arrival: "e1",
        ids: ["e1"],
        createdAt: T0,
        arrivedAt: T0,
        expiresAt: T0 + 1000,
      };
      await store.putItem("r", "b", "F#t#2024-05-07", f, undefined);
      expect((await store.getItem("r", "b", "F#t#2024-05-07"))?.value).toEqual(f);
    });

    test("a delete is conditional", async () => {
      await store.putItem("r", "b", "G#k", bucket("g1"), undefined);
      const v = (await store.getItem("r", "b", "G#k"))?.version as number;
      expect(await store.putItem("r", "b", "G#k", undefined, v + 100)).toBe(false);
      expect(await store.putItem("r", "b", "G#k", undefined, undefined)).toBe(false);
      expect(await store.getItem("r", "b", "G#k")).toBeDefined();
      expect(await store.putItem("r", "b", "G#k", undefined, v)).toBe(true);
      expect(await store.getItem("r", "b", "G#k")).toBeUndefined();
      expect(await store.buckets("r")).toEqual([]);
      expect(await store.putItem("r", "b", "G#k", bucket("g3"), undefined)).toBe(true);
    });

    test("queryBucket reads one bucket's items (by prefix), buckets lists one route's buckets", async () => {
      for (const k of ["b", "a|x", "c/2024"]) {
        await store.putItem("r", k, "G#1", bucket("g"), undefined);
        await store.putItem("r", k, "F#t#1", bucket("f"), undefined);
      }
      await store.putItem("r", "a|xy", "G#2", bucket("other"), undefined);
      await store.putItem("r2", "z", "G#1", bucket("g"), undefined);
      await store.putSlot("r", "out", { active: "x" }, undefined);
      await store.createExecution(execution("r-1", T0, "r"));
      expect((await store.queryBucket("r", "a|x", "")).map((i) => i.key)).toEqual(["F#t#1", "G#1"]);
      expect((await store.queryBucket("r", "a|x", "G#")).map((i) => i.key)).toEqual(["G#1"]);
      expect((await store.buckets("r")).map((b) => b.bucket)).toEqual(["a|x", "a|xy", "b", "c/2024"]);
      expect((await store.buckets("r2")).map((b) => b.bucket)).toEqual(["z"]);
      expect(await store.buckets("none")).toEqual([]);
    });
  });

  describe("slots", () => {
    test("create, conflict, update, optional fields", async () => {
      expect(await store.getSlot("r", "o")).toBeUndefined();
      expect(await store.putSlot("r", "o", { active: "e1", latest: "e1" }, undefined)).toBe(true);
      expect(await store.putSlot("r", "o", { active: "e2", latest: "e2" }, undefined)).toBe(false);
      const v = await store.getSlot("r", "o");
      expect(v?.value).toEqual({ active: "e1", latest: "e1" });
      expect(await store.putSlot("r", "o", { latest: "e1" }, v?.version)).toBe(true);
      expect(await store.putSlot("r", "o", { active: "e3" }, v?.version)).toBe(false);
      expect((await store.getSlot("r", "o"))?.value).toEqual({ latest: "e1" });
      // Slots of other routes and outputs are separate items.
      expect(await store.getSlot("r", "o2")).toBeUndefined();
      expect(await store.getSlot("r2", "o")).toBeUndefined();
    });

    test("activeSlots: the route's slots that have an active execution, and nothing else", async () => {
      expect(await store.activeSlots("r")).toEqual([]);
      await store.putSlot("r", "o-b", { active: "e2", latest: "e2" }, undefined);
      await store.putSlot("r", "o-a", { active: "e1", latest: "e1" }, undefined);
      await store.putSlot("r", "o-done", { latest: "e0" }, undefined);
      await store.putSlot("r2", "o-a", { active: "x1" }, undefined);
      // Items of other kinds in the same route partition are not slots.
      await store.putItem("r", "o-a", "G#o-a", bucket("g"), undefined);
      await store.createExecution(execution("e9", T0, "r"));
      expect(await store.activeSlots("r")).toEqual([
        { outputKey: "o-a", active: "e1" },
        { outputKey: "o-b", active: "e2" },
      ]);
      const v = await store.getSlot("r", "o-a");
      await store.putSlot("r", "o-a", { latest: "e1" }, v?.version);
      expect(await store.activeSlots("r")).toEqual([{ outputKey: "o-b", active: "e2" }]);
      expect(await store.activeSlots("r2")).toEqual([{ outputKey: "o-a", active: "x1" }]);
    });
  });

  describe("executions", () => {
    test("create twice → false; the first record stays", async () => {
      const r = execution("r-1", T0);
      expect(await store.createExecution(r)).toBe(true);
      expect(await store.createExecution({ ...r, startedAt: T0 + 5, attempts: 9 })).toBe(false);
      expect(await store.getExecution("r-1")).toEqual({ value: r, version: expect.any(Number) });
      expect(await store.listExecutions("route")).toEqual([r]);
    });

    test("putExecution at the current version only", async () => {
      const r = execution("r-1", T0);
      await store.createExecution(r);
      const v = (await store.getExecution("r-1"))?.version as number;
      const running: ExecutionRecord = { ...r, status: "RUNNING" };
      expect(await store.putExecution(running, v)).toBe(true);
      expect(await store.putExecution({ ...r, status: "KILLED" }, v)).toBe(false);
      const now = await store.getExecution("r-1");
      expect(now?.value).toEqual(running);
      const done: ExecutionRecord = { ...running, status: "SUCCEEDED", endedAt: T0 + 1000 };
      expect(await store.putExecution(done, now?.version as number)).toBe(true);
      expect((await store.getExecution("r-1"))?.value).toEqual(done);
      expect(await store.listExecutions("route")).toEqual([done]);
    });

    test("putExecution of a record that does not exist → false", async () => {
      expect(await store.putExecution(execution("nope", T0), 1)).toBe(false);
      expect(await store.getExecution("nope")).toBeUndefined();
    });

    test("listExecutions: newest first, across pages and batches (> 100), one route only", async () => {
      const paged = await harness.make({ pageSize: 7 });
      const ids = Array.from({ length: 130 }, (_, i) => `route-${String(i).padStart(3, "0")}`);
      for (const [i, id] of ids.entries()) await paged.createExecution(execution(id, T0 + i * 1000));
      await paged.createExecution(execution("other-1", T0 + 999_999, "other"));
      await paged.createExecution(execution("route2-1", T0 + 999_999, "route2"));

      const list = await paged.listExecutions("route");
      expect(list.map((r) => r.id)).toEqual([...ids].reverse());
      expect(list[0]).toEqual(execution("route-129", T0 + 129_000));
      expect((await paged.listExecutions("other")).map((r) => r.id)).toEqual(["other-1"]);
      expect(await paged.listExecutions("none")).toEqual([]);
    });
  });

  test("buckets and queryBucket paginate", async () => {
    const paged = await harness.make({ pageSize: 4 });
    const keys = Array.from({ length: 23 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    for (const k of [...keys].reverse()) await paged.putItem("r", k, "G#1", bucket("g"), undefined);
    for (const k of keys) await paged.putItem("r", "one", `G#${k}`, bucket("g"), undefined);
    expect((await paged.buckets("r")).map((b) => b.bucket)).toEqual([...keys, "one"]);
    expect((await paged.queryBucket("r", "one", "G#")).map((i) => i.key)).toEqual(keys.map((k) => `G#${k}`));
  });

  test("activeSlots paginates (and filters across pages)", async () => {
    const paged = await harness.make({ pageSize: 3 });
    const active: { outputKey: string; active: string }[] = [];
    for (let i = 0; i < 17; i++) {
      const outputKey = `o${String(i).padStart(2, "0")}`;
      const finished = i % 3 === 0;
      await paged.putSlot("r", outputKey, finished ? { latest: `e${i}` } : { active: `e${i}` }, undefined);
      if (!finished) active.push({ outputKey, active: `e${i}` });
    }
    expect(await paged.activeSlots("r")).toEqual(active);
  });

  test("claimEvent: first true, then false; eventSeen tells", async () => {
    expect(await store.eventSeen("evt-1")).toBe(false);
    expect(await store.claimEvent("evt-1", T0 + 1000)).toBe(true);
    expect(await store.eventSeen("evt-1")).toBe(true);
    expect(await store.claimEvent("evt-1", T0 + 2000)).toBe(false);
    expect(await store.eventSeen("evt-2")).toBe(false);
    expect(await store.claimEvent("evt-2", T0 + 1000)).toBe(true);
  });

  test("handles: put, get, overwrite; per engine", async () => {
    expect(await store.getHandle("glue", "jr_1")).toBeUndefined();
    await store.putHandle("glue", "jr_1", { executionId: "r-1", targetIndex: 0 }, T0);
    expect(await store.getHandle("glue", "jr_1")).toEqual({ executionId: "r-1", targetIndex: 0 });
    expect(await store.getHandle("athena", "jr_1")).toBeUndefined();
    await store.putHandle("glue", "jr_1", { executionId: "r-2", targetIndex: 3 }, T0);
    expect(await store.getHandle("glue", "jr_1")).toEqual({ executionId: "r-2", targetIndex: 3 });
  });

  describe("concurrency", () => {
    test("20 writers racing on one version: exactly one wins each round", async () => {
      const create = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.putItem("r", "b", "G#k", bucket(`c${i}`), undefined)),
      );
      expect(create.filter(Boolean)).toHaveLength(1);
      for (let round = 0; round < 3; round++) {
        const current = await store.getItem("r", "b", "G#k");
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.putItem("r", "b", "G#k", bucket(`r${round}-${i}`), current?.version),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.getItem("r", "b", "G#k"))?.value).toEqual(bucket(`r${round}-${winner}`));
      }
    });

    test("20 read-modify-write loops: every write lands, one success per version", async () => {
      let successes = 0;
      let conflicts = 0;
      const versions: number[] = [];
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          for (;;) {
            const current = await store.getItem("r", "b", "G#k");
            const had = current?.value.kind === "group" ? current.value.id : "";
            if (await store.putItem("r", "b", "G#k", group(`${had}+w${i}`), current?.version)) {
              successes++;
              versions.push(current?.version ?? 0);
              return;
            }
            conflicts++;
          }
        }),
      );
      expect(successes).toBe(20);
      expect(new Set(versions).size).toBe(20); // each expected version was won exactly once
      const final = await store.getItem("r", "b", "G#k");
      expect((final?.value.kind === "group" ? final.value.id : "").split("+").filter(Boolean).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `w${i}`).sort(),
      );
      expect(conflicts).toBeGreaterThan(0);
    });

    test("20 parallel creates and claims of one id: exactly one true", async () => {
      const creates = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.createExecution(execution("r-1", T0 + i))),
      );
      expect(creates.filter(Boolean)).toHaveLength(1);
      expect(await store.listExecutions("route")).toHaveLength(1);
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.claimEvent("e", T0)));
      expect(claims.filter(Boolean)).toHaveLength(1);
    });
  });
});

// ---------------------------------------------------------------- DynamoDB only

describe("DynamoDbStore on DynamoDB", () => {
  const DAY = 24 * 3600;

  test("routingTableKeySchema: pk/sk strings, ttl", () => {
    expect(routingTableKeySchema).toEqual({
      attributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      keySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      ttlAttributeName: "ttl",
      billingMode: "PAY_PER_REQUEST",
    });
  });

  test("item layout: keys, versions, and ttl only on history", async () => {
    const table = await newTable();
    const clock = { now: () => T0 };
    const store = new DynamoDbStore({ client, tableName: table, clock });

    await store.putItem("r", "b", "G#k", bucket("g1"), undefined);
    const b = await rawItem(table, "R#r", "B#b#G#k");
    expect(b).toMatchObject({
      ver: { N: "1" },
      kind: { S: "group" },
      doc: { S: JSON.stringify(bucket("g1")) },
    });
    expect(b?.ttl).toBeUndefined();

    await store.putSlot("r", "out/1", { active: "e1" }, undefined);
    expect(await rawItem(table, "R#r", "O#out/1")).toEqual({
      pk: { S: "R#r" },
      sk: { S: "O#out/1" },
      ver: { N: "1" },
      active: { S: "e1" },
      // The request token of the conditional write (ambiguous outcomes are resolved by reading it).
      rt: { S: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });

    const r = execution("r-1", T0);
    await store.createExecution(r);
    const created = await rawItem(table, "X#r-1", "X");
    expect(created).toMatchObject({ ver: { N: "1" }, status: { S: "PENDING" } });
    expect(created?.ttl).toBeUndefined(); // a live execution never expires
    expect(await rawItem(table, "R#route", `E#00${T0}#r-1`)).toEqual({
      pk: { S: "R#route" },
      sk: { S: `E#00${T0}#r-1` },
      id: { S: "r-1" },
      startedAt: { N: String(T0) },
      ttl: { N: String(T0 / 1000 + 30 * DAY + 7 * DAY) },
    });

    await store.putExecution({ ...r, status: "RUNNING" }, 1);
    expect((await rawItem(table, "X#r-1", "X"))?.ttl).toBeUndefined();
    const ended = T0 + 3600_000;
    await store.putExecution({ ...r, status: "FAILED", endedAt: ended }, 2);
    expect((await rawItem(table, "X#r-1", "X"))?.ttl).toEqual({ N: String(ended / 1000 + 30 * DAY) });

    // Idempotency keys and handles: the caller's expiry, or the history TTL when that is later.
    await store.claimEvent("evt", T0 + 7 * DAY * 1000);
    expect(await rawItem(table, "E#evt", "E")).toEqual({
      pk: { S: "E#evt" },
      sk: { S: "E" },
      rt: { S: expect.any(String) },
      ttl: { N: String(T0 / 1000 + 30 * DAY) },
    });
    await store.putHandle("glue", "jr_1", { executionId: "r-1", targetIndex: 2 }, T0 + 90 * DAY * 1000);
    expect(await rawItem(table, "H#glue#jr_1", "H")).toEqual({
      pk: { S: "H#glue#jr_1" },
      sk: { S: "H" },
      executionId: { S: "r-1" },
      targetIndex: { N: "2" },
      ttl: { N: String(T0 / 1000 + 90 * DAY) },
    });
  });

  test("historyTtlSeconds sets the TTL of finished executions", async () => {
    const table = await newTable();
    const store = new DynamoDbStore({ client, tableName: table, historyTtlSeconds: 60 });
    const r = { ...execution("r-1", T0), status: "SKIPPED" as const, endedAt: T0 + 2000 };
    await store.createExecution(r);
    expect((await rawItem(table, "X#r-1", "X"))?.ttl).toEqual({ N: String(T0 / 1000 + 2 + 60) });
  });

  test("each operation is one request, createExecution two (index item + record)", async () => {
    const store = await newDynamoStore();
    const ops: [string, () => Promise<unknown>, Partial<StoreStats>][] = [
      ["getItem", () => store.getItem("r", "b", "G#k"), { reads: 1 }],
      ["putItem", () => store.putItem("r", "b", "G#k", bucket("g"), undefined), { writes: 1 }],
      ["queryBucket", () => store.queryBucket("r", "b", ""), { queries: 1 }],
      ["putItem delete", () => store.putItem("r", "b", "G#k", undefined, 1), { writes: 1 }],
      ["buckets", () => store.buckets("r"), { queries: 1 }],
      ["getSlot", () => store.getSlot("r", "o"), { reads: 1 }],
      ["putSlot", () => store.putSlot("r", "o", {}, undefined), { writes: 1 }],
      ["activeSlots", () => store.activeSlots("r"), { queries: 1 }],
      ["createExecution", () => store.createExecution(execution("r-1", T0)), { writes: 2 }],
      ["getExecution", () => store.getExecution("r-1"), { reads: 1 }],
      ["putExecution", () => store.putExecution(execution("r-1", T0), 1), { writes: 1 }],
      ["listExecutions", () => store.listExecutions("route"), { queries: 1, reads: 1 }],
      ["claimEvent", () => store.claimEvent("e", T0), { writes: 1 }],
      ["eventSeen", () => store.eventSeen("e"), { reads: 1 }],
      [
        "putHandle",
        () => store.putHandle("glue", "h", { executionId: "x", targetIndex: 0 }, T0),
        { writes: 1 },
      ],
      ["getHandle", () => store.getHandle("glue", "h"), { reads: 1 }],
    ];
    for (const [name, op, expected] of ops) {
      const before = { ...store.stats };
      await op();
      const delta = {
        reads: store.stats.reads - before.reads,
        writes: store.stats.writes - before.writes,
        queries: store.stats.queries - before.queries,
      };
      expect({ name, ...delta }).toEqual({ name, reads: 0, writes: 0, queries: 0, ...expected });
    }
  });

  test("listExecutions skips index items of losing duplicate creates and of crashed creates", async () => {
    const table = await newTable();
    const store = new DynamoDbStore({ client, tableName: table });
    const r = execution("r-1", T0 + 10);
    await store.createExecution(r);
    // A later duplicate trigger of the same id writes its own index item, then loses the record.
    expect(await store.createExecution({ ...r, startedAt: T0 + 50 })).toBe(false);
    expect(await store.createExecution({ ...r, startedAt: T0 + 1 })).toBe(false);
    // A create that crashed after its index item.
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: "R#route" },
          sk: { S: `E#00${T0 + 99}#r-lost` },
          id: { S: "r-lost" },
          startedAt: { N: String(T0 + 99) },
        },
      }),
    );
    const r2 = execution("r-2", T0 + 20);
    await store.createExecution(r2);
    expect(await store.listExecutions("route")).toEqual([r2, r]);
  });

  test("an item over the item limit fails with a clear error and writes nothing", async () => {
    const store = await newDynamoStore();
    const big = "x".repeat(MAX_DOCUMENT_BYTES + 10);
    const writesBefore = store.stats.writes;
    await expect(store.putItem("r", "b", "G#k", group("g", { a: { day: big } }), undefined)).rejects.toThrow(
      StoreItemTooLargeError,
    );
    expect(store.stats.writes).toBe(writesBefore);
    expect(await store.getItem("r", "b", "G#k")).toBeUndefined();
  });

  test("errors other than a failed condition propagate", async () => {
    const store = new DynamoDbStore({ client, tableName: "no-such-table" });
    await expect(store.putItem("r", "b", "G#k", bucket("g"), undefined)).rejects.toThrow(
      expect.objectContaining({ name: "ResourceNotFoundException" }),
    );
    await expect(store.claimEvent("e", T0)).rejects.toThrow(
      expect.objectContaining({ name: "ResourceNotFoundException" }),
    );
    await expect(store.getExecution("x")).rejects.toThrow(
      expect.objectContaining({ name: "ResourceNotFoundException" }),
    );
  });
});

// ---------------------------------------------------------------- Router on DynamoDB

describe("Router on DynamoDbStore", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-ddb-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** a and b, daily, linked on "day"; n = f(a, b) computed by a fake inline dispatcher. */
  function setup(store: TestStore) {
    const app = new Application("ddb", { account: "111122223333", region: "us-east-1" });
    const dims = { day: dim.datetime() };
    const a = app.s3Dataset("a", { bucket: "raw-a", partitions: ["{}"], dimensions: dims });
    const b = app.s3Dataset("b", { bucket: "raw-b", partitions: ["{}"], dimensions: dims });
    app.data("n", { inputs: [a, b], compute: inline(async () => undefined) });
    const calls: DispatchRequest[] = [];
    const fake: Dispatcher = {
      start: async (request) => {
        calls.push(request);
        return { status: "SUCCEEDED" };
      },
    };
    const clock = new VirtualClock(T0);
    const router = new Router({
      table: new RouteTable(app.toModel()),
      store,
      storage: new LocalStorage({ root: dir }),
      dispatchers: { lambda: fake },
      clock,
      scheduler: clock,
      environment: { name: "test", config: {} },
      newId: (() => {
        let i = 0;
        return () => `g${++i}`;
      })(),
    });
    return { router, calls };
  }

  async function counted(store: TestStore, work: () => Promise<unknown>): Promise<StoreStats> {
    const before = { ...store.stats };
    await work();
    return {
      reads: store.stats.reads - before.reads,
      writes: store.stats.writes - before.writes,
      queries: store.stats.queries - before.queries,
    };
  }

  test("a two-input linked flow executes exactly once; requests per event", async () => {
    const perStore: Record<string, { pending: StoreStats; triggering: StoreStats; duplicate: StoreStats }> =
      {};
    for (const [name, store] of [
      ["MemoryStore", new MemoryStore()],
      ["DynamoDbStore", await newDynamoStore()],
    ] as [string, TestStore][]) {
      const { router, calls } = setup(store);
      const day = { day: "2024-05-07" };

      let outcome: unknown;
      const pending = await counted(store, async () => {
        outcome = await router.process({ node: "a", dimensions: day, eventId: "evt-a" });
      });
      expect(outcome).toEqual({ matched: [{ route: "n", input: "a" }], executions: [] });
      expect(await router.pending("n")).toEqual([
        expect.objectContaining({ dimensions: day, received: ["a"], state: "pending" }),
      ]);

      const triggering = await counted(store, async () => {
        outcome = await router.process({ node: "b", dimensions: day, eventId: "evt-b" });
      });
      expect(outcome).toEqual({ matched: [{ route: "n", input: "b" }], executions: ["n-g1"] });

      const duplicate = await counted(store, async () => {
        outcome = await router.process({ node: "b", dimensions: day, eventId: "evt-b" });
      });
      expect(outcome).toEqual({ matched: [], executions: [], unmatched: "duplicate delivery evt-b" });

      expect(calls).toHaveLength(1);
      expect(calls[0]?.output.dimensions).toEqual(day);
      expect(Object.keys(calls[0]?.inputs ?? {})).toEqual(["a", "b"]);
      const records = await router.executions("n");
      expect(records).toEqual([
        expect.objectContaining({ id: "n-g1", status: "SUCCEEDED", dimensions: day, attempts: 1 }),
      ]);
      expect(await router.pending("n")).toEqual([]);
      expect(await router.poll("n", day)).toEqual({ path: records[0]?.path });
      perStore[name] = { pending, triggering, duplicate };
    }

    // The DynamoDB store makes one request per store operation, except createExecution (index item
    // + record). Pending path: the seen check, read and write the bucket, record the event as seen.
    // Triggering path: the seen check; bucket read + claim the group; index item + record; slot read
    // + write; record read + RUNNING (claims the target); bucket read + remove the group; target
    // read + write of its result; finish (record read + write); slot read + release; record the
    // event as seen. A duplicate is the seen check alone.
    const mem = perStore.MemoryStore as (typeof perStore)[string];
    const ddb = perStore.DynamoDbStore as (typeof perStore)[string];
    expect(ddb.pending).toEqual(mem.pending);
    expect(ddb.duplicate).toEqual(mem.duplicate);
    expect(ddb.triggering).toEqual({ ...mem.triggering, writes: mem.triggering.writes + 1 });
    expect(ddb.pending).toEqual({ reads: 2, writes: 2, queries: 1 });
    expect(ddb.duplicate).toEqual({ reads: 1, writes: 0, queries: 0 });
    expect(ddb.triggering).toEqual({ reads: 9, writes: 11, queries: 1 });
  });

  test("duplicate concurrent deliveries of the completing event execute once", async () => {
    const store = await newDynamoStore();
    const { router, calls } = setup(store);
    const day = { day: "2024-05-08" };
    await router.process({ node: "a", dimensions: day });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => router.process({ node: "b", dimensions: day })),
    );
    expect(outcomes.flatMap((o) => o.executions)).toEqual(["n-g1"]);
    expect(calls).toHaveLength(1);
    expect(await router.executions("n")).toEqual([
      expect.objectContaining({ id: "n-g1", status: "SUCCEEDED" }),
    ]);
  });
});
