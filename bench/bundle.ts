/**
 * Router Lambda bundle benchmark (BRIEF §6, #5): the size of the prebuilt runtime bundle, its cold
 * `require` time in a fresh Node process, and the DynamoDB requests the router makes per event through
 * the real DynamoDbStore (on dynalite, in process). Fixed workloads; every ratio is against a baseline
 * measured in the same run. Run with `npm run bench -- bundle` (from the repository root: run.js sets
 * the working directory, paths below are relative to it).
 *
 * The bundle is `dist/runtime-bundle/index.js` as `npm run build` left it; it is built here only when
 * missing (a stale one is reported, not rebuilt: rebuild with `npm run build`). The cold require is
 * measured against the floor: a bundle built here with the same esbuild options (scripts/build-bundle.js
 * `BUNDLE_OPTIONS`) holding only the DynamoDB and S3 clients, which any router needs, in the handler's
 * shape (DynamoDB imported at the top, S3 required on first use).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { deflateRawSync } from "node:zlib";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type * as Esbuild from "esbuild";
import { Application, dim, inline, range } from "../src/flow";
import type { FlowModel } from "../src/flow/model/flow-model";
import { createRoutingTable, DynamoDbStore } from "../src/runtime-bundle/aws/dynamodb-store";
import { VirtualClock } from "../src/runtime-bundle/core/clock";
import type { Dispatcher } from "../src/runtime-bundle/core/dispatcher";
import { RouteTable } from "../src/runtime-bundle/core/route-table";
import { Router, type ProcessOutcome } from "../src/runtime-bundle/core/router";
import type { Signal } from "../src/runtime-bundle/core/signal";
import type { StoreStats } from "../src/runtime-bundle/core/store";
import { LocalStorage } from "../src/runtime-bundle/local/local-storage";
import { int, median, ops, ratio, table } from "./support/report";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types
const dynalite = require("dynalite") as (options: { createTableMs?: number }) => Server;

// ---------------------------------------------------------------- fixed workloads

const ROOT = process.cwd();
const BUNDLE_DIR = path.join(ROOT, "dist", "runtime-bundle");
const BUNDLE = path.join(BUNDLE_DIR, "index.js");
const SIZE_GOAL_BYTES = 1.5 * 1024 * 1024;
/** Fresh processes per variant for the cold require. */
const SPAWNS = 25;
const REQUIRE_GOAL_MS = 150;
/** Goal of our cold require against the floor bundle's (medians of the in-process require time). */
const FLOOR_GOAL = 1.1;
/** Events per row of the DynamoDB request counts. */
const EVENTS = 200;
/** Events per row on the range-checked reference (each reads 1 + waiting items, the same every time). */
const RANGE_EVENTS = 50;
/** Groups waiting on a range check when the range-checked reference's events arrive. */
const WAITING = 100;
const WAITING_SMALL = 10;
/** Groups of the same route that are pending but not waiting (must not be read). */
const OTHER_PENDING = 1_000;

// ---------------------------------------------------------------- report helpers

const kib = (bytes: number): string => `${int(bytes / 1024)} KiB`;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}
/** Nearest-rank 90th percentile. */
function p90(xs: readonly number[]): number {
  return sorted(xs)[Math.ceil(0.9 * xs.length) - 1] as number;
}

// ---------------------------------------------------------------- 1. size

/** CRC-32 (IEEE) for the zip headers. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A real zip archive (deflate at zlib's default level 6, as zip tools and Terraform's archive_file
 * use by default; no zip64, no timestamps), so the figure includes the headers Lambda's zip has.
 */
function zip(files: readonly { readonly name: string; readonly data: Buffer }[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, "utf8");
    const packed = deflateRawSync(f.data);
    const crc = crc32(f.data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4); // version needed
    head.writeUInt16LE(0x0800, 6); // UTF-8 names
    head.writeUInt16LE(8, 8); // deflate
    head.writeUInt16LE(0, 10); // time
    head.writeUInt16LE(0x21, 12); // date: 1980-01-01
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(packed.length, 18);
    head.writeUInt32LE(f.data.length, 22);
    head.writeUInt16LE(name.length, 26);
    head.writeUInt16LE(0, 28);
    local.push(head, name, packed);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(0x031e, 4); // made by: Unix, 3.0
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt16LE(0, 12);
    entry.writeUInt16LE(0x21, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(packed.length, 20);
    entry.writeUInt32LE(f.data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: -rw-r--r--
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    offset += head.length + name.length + packed.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, dir, end]);
}

/** Files under `dir` modified after `since` (by mtime: a checkout touches files without changing them). */
function newerThan(dir: string, since: number): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isFile() && statSync(p).mtimeMs > since) out.push(path.relative(ROOT, p));
  }
  return out;
}

/** Bytes of the bundle per package (or "sluice src"), from esbuild's metafile. */
function contributors(): [string, number][] {
  const metaFile = path.join(BUNDLE_DIR, "meta.json");
  if (!existsSync(metaFile)) return [];
  const meta = JSON.parse(readFileSync(metaFile, "utf8")) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const output = Object.entries(meta.outputs).find(([k]) => k.endsWith("runtime-bundle/index.js"))?.[1];
  const by = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = m ? (m[1] as string) : input.startsWith("src/") ? "sluice src/" : input;
    by.set(name, (by.get(name) ?? 0) + bytesInOutput);
  }
  return [...by.entries()].sort((a, b) => b[1] - a[1]);
}

function size(): void {
  if (!existsSync(BUNDLE)) {
    console.log("dist/runtime-bundle/index.js missing: building it (node scripts/build-bundle.js)");
    const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-bundle.js")], {
      stdio: "inherit",
      cwd: ROOT,
    });
    if (r.status !== 0) throw new Error(`build-bundle.js failed (exit ${r.status ?? r.signal})`);
  }
  const built = statSync(BUNDLE).mtimeMs;
  const stale = [
    ...newerThan(path.join(ROOT, "src", "runtime-bundle"), built),
    ...newerThan(path.join(ROOT, "src", "flow", "model"), built),
  ];
  console.log(`bundle built ${new Date(built).toISOString()}`);
  if (stale.length > 0)
    console.log(
      `   NOTE: ${stale.length} source file(s) modified after the bundle (${stale.slice(0, 3).join(", ")}` +
        `${stale.length > 3 ? ", …" : ""}); figures are of the bundle as built (npm run build to refresh)`,
    );

  const code = readFileSync(BUNDLE);
  const mapFile = `${BUNDLE}.map`;
  const map = existsSync(mapFile) ? readFileSync(mapFile) : undefined;
  const rows: string[][] = [];
  const row = (label: string, files: { name: string; data: Buffer }[]): void => {
    const raw = files.reduce((n, f) => n + f.data.length, 0);
    const zipped = zip(files).length;
    rows.push([label, kib(raw), kib(zipped), ratio(raw / zipped)]);
  };
  row("index.js", [{ name: "index.js", data: code }]);
  const enginesDir = path.join(BUNDLE_DIR, "engine-entries");
  const engines = existsSync(enginesDir)
    ? readdirSync(enginesDir)
        .filter((f) => f.endsWith(".js"))
        .sort()
        .map((f) => ({ name: `engine-entries/${f}`, data: readFileSync(path.join(enginesDir, f)) }))
    : [];
  for (const e of engines) row(`${e.name} (first use)`, [e]);
  if (engines.length > 0)
    row("code package: index.js + engines", [{ name: "index.js", data: code }, ...engines]);
  if (map) {
    row("index.js.map", [{ name: "index.js.map", data: map }]);
    row("index.js + index.js.map", [
      { name: "index.js", data: code },
      { name: "index.js.map", data: map },
    ]);
  }
  table(
    "1. runtime bundle size (zipped: a real zip written here, deflate level 6, headers included)",
    ["file(s)", "unzipped", "zipped", "unzipped / zipped"],
    rows,
  );
  console.log(
    `   index.js ${mb(code.length)} unzipped = ${ratio(code.length / SIZE_GOAL_BYTES)} of the 1.50 MiB goal ` +
      `(goal ${code.length <= SIZE_GOAL_BYTES ? "met" : "NOT met"}; the source map is not counted: ` +
      `synth decides whether it ships)`,
  );

  const by = contributors();
  if (by.length > 0) {
    const total = by.reduce((n, [, b]) => n + b, 0);
    const top = by.slice(0, 8);
    const rest = by.slice(8).reduce((n, [, b]) => n + b, 0);
    table(
      "   largest contributors to index.js (esbuild metafile, minified bytes)",
      ["package", "bytes", "share"],
      [...top, [`${by.length - top.length} others`, rest] as [string, number]].map(([name, b]) => [
        name,
        kib(b),
        `${((b / total) * 100).toFixed(1)}%`,
      ]),
    );
  }
}

// ---------------------------------------------------------------- 2. cold require

/** Wall time of one `node -e <code>` process, in ms, and what it printed. */
function spawnNode(code: string): { wall: number; out: string } {
  // Without NODE_OPTIONS (Lambda sets none): a caller's --require or source maps would skew both sides.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["-e", code], { cwd: ROOT, env, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`node -e ${JSON.stringify(code)} failed: ${r.stderr}`);
  return { wall, out: r.stdout };
}

/**
 * The floor: the DynamoDB and S3 clients alone, bundled with the runtime bundle's own esbuild options,
 * in the handler's shape (DynamoDB evaluated at load, S3 required on first use), in `dir`.
 */
function buildFloor(dir: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the build script is CommonJS
  const { BUNDLE_OPTIONS } = require(path.join(ROOT, "scripts", "build-bundle.js")) as {
    BUNDLE_OPTIONS: Record<string, unknown>;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- esbuild is loaded only here
  const { buildSync } = require("esbuild") as typeof Esbuild;
  const entry = path.join(dir, "floor.ts");
  writeFileSync(
    entry,
    [
      `import { DynamoDBClient } from "@aws-sdk/client-dynamodb";`,
      `import type * as S3 from "@aws-sdk/client-s3";`,
      `export const dynamodb = (): DynamoDBClient => new DynamoDBClient({});`,
      `export const s3 = (): S3.S3Client => new (require("@aws-sdk/client-s3") as typeof S3).S3Client({});`,
      "",
    ].join("\n"),
  );
  const outfile = path.join(dir, "floor.js");
  buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile,
    nodePaths: [path.join(ROOT, "node_modules")],
  });
  return outfile;
}

function coldRequire(): void {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-bench-floor-"));
  try {
    const floor = buildFloor(dir);
    const timed = (file: string): string =>
      `const t=process.hrtime.bigint();require(${JSON.stringify(file)});` +
      `process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    const variants = { baseline: "0", floor: timed(floor), ours: timed(BUNDLE) } as const;
    type Variant = keyof typeof variants;
    const order: Variant[] = ["baseline", "floor", "ours"];
    // Warm-up (file cache, first exec), not reported.
    for (const v of order) spawnNode(variants[v]);
    const wall: Record<Variant, number[]> = { baseline: [], floor: [], ours: [] };
    const inner: Record<Variant, number[]> = { baseline: [], floor: [], ours: [] };
    for (let i = 0; i < SPAWNS; i++) {
      // Interleaved, rotating which variant goes first.
      for (let j = 0; j < order.length; j++) {
        const v = order[(i + j) % order.length] as Variant;
        const r = spawnNode(variants[v]);
        wall[v].push(r.wall);
        if (v !== "baseline") inner[v].push(Number(r.out));
      }
    }
    const base = median(wall.baseline);
    const floorMs = median(inner.floor);
    const kibOf = (f: string): string => kib(statSync(f).size);
    table(
      `2. cold require against the floor (DynamoDB + S3 clients only, same esbuild options): ${SPAWNS} fresh ` +
        `processes per row, interleaved; node ${process.version} (Lambda runs node22)`,
      ["bundle", "size", "require median", "p90", "vs floor", "process median", "vs node -e 0"],
      [
        ["node -e 0 (baseline)", "—", "—", "—", "—", ms(base), ratio(1)],
        [
          "floor: DynamoDB + S3 clients",
          kibOf(floor),
          ms(floorMs),
          ms(p90(inner.floor)),
          ratio(1),
          ms(median(wall.floor)),
          ratio(median(wall.floor) / base),
        ],
        [
          "dist/runtime-bundle/index.js",
          kibOf(BUNDLE),
          ms(median(inner.ours)),
          ms(p90(inner.ours)),
          ratio(median(inner.ours) / floorMs),
          ms(median(wall.ours)),
          ratio(median(wall.ours) / base),
        ],
      ],
    );
    const vs = median(inner.ours) / floorMs;
    const m = median(inner.ours);
    console.log(
      `   our require is ${ratio(vs)} the floor's (goal ≤ ${ratio(FLOOR_GOAL)}: ${vs <= FLOOR_GOAL ? "met" : "NOT met"}); ` +
        `the floor itself is ${ratio(median(wall.floor) / base)} an empty process (${ms(median(wall.floor) - base)} ` +
        `of SDK); require median ${ms(m)}, p90 ${ms(p90(inner.ours))} (goal < ${REQUIRE_GOAL_MS} ms: ` +
        `${p90(inner.ours) < REQUIRE_GOAL_MS ? "met at p90" : m < REQUIRE_GOAL_MS ? "met at the median, NOT at p90" : "NOT met"})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- 3. DynamoDB requests per event

interface Dynalite {
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  return {
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

const noop: Dispatcher = { start: async () => ({ status: "SUCCEEDED" }) };

interface Harness {
  readonly router: Router;
  readonly store: DynamoDbStore;
}

let tables = 0;

/** Router on a fresh table, LocalStorage in `dir` (empty: no partition exists), virtual clock. */
async function harness(db: Dynalite, model: FlowModel, dir: string): Promise<Harness> {
  const tableName = `bench-${++tables}`;
  await createRoutingTable(db.client, tableName);
  const clock = new VirtualClock();
  const store = new DynamoDbStore({ client: db.client, tableName, clock });
  let n = 0;
  const router = new Router({
    table: new RouteTable(model),
    store,
    storage: new LocalStorage({ root: dir }),
    dispatchers: { lambda: noop, glue: noop, athena: noop, emr: noop, emrServerless: noop },
    clock,
    scheduler: clock,
    environment: { name: "bench", config: {} },
    newId: () => `g${(n++).toString(36)}`,
  });
  return { router, store };
}

const app = (name: string): Application =>
  new Application(name, { account: "111122223333", region: "us-east-1" });

/** Route "n": datasets a and b, daily, linked on day. */
function linkedFlow(): FlowModel {
  const flow = app("bench-ddb");
  const dims = { day: dim.datetime() };
  const a = flow.s3Dataset("a", { bucket: "raw-a", partitions: ["{}"], dimensions: dims });
  const b = flow.s3Dataset("b", { bucket: "raw-b", partitions: ["{}"], dimensions: dims });
  flow.data("n", { inputs: [a, b], compute: inline(async () => undefined) });
  return flow.toModel();
}

/**
 * Route "agg": a timer and an orders dataset trigger (linked on day); a 2-day window of snapshots is a
 * range-checked reference. A group with both triggers waits (no snapshot partition exists); a group
 * with only orders is pending, in a bucket the waiting index does not name.
 */
function rangeCheckedFlow(): FlowModel {
  const flow = app("bench-ranged");
  const tick = flow.timer("tick", "rate(1 day)", { dimension: "day" });
  const dims = { day: dim.datetime() };
  const orders = flow.s3Dataset("orders", { bucket: "raw", partitions: ["dt={}"], dimensions: dims });
  const snaps = flow.s3Dataset("snaps", { bucket: "crm", partitions: ["dt={}"], dimensions: dims });
  flow.data("agg", {
    inputs: { tick, orders, snaps: snaps.at(range(-2)).ref().rangeCheck() },
    compute: inline(async () => undefined),
  });
  return flow.toModel();
}

const DAY0 = Date.UTC(2000, 0, 1);
function day(k: number): string {
  return new Date(DAY0 + k * 86_400_000).toISOString().slice(0, 10);
}

interface Counted {
  /** Mean requests per event. */
  readonly mean: StoreStats;
  /** Fewest and most requests (reads + writes + queries) of one event. */
  readonly min: number;
  readonly max: number;
}

const total = (s: StoreStats): number => s.reads + s.writes + s.queries;

/** Runs `signal(k)` for k < n, checking each outcome; counts the store's requests per event. */
async function count(
  store: DynamoDbStore,
  n: number,
  signal: (k: number) => Signal,
  check: (out: ProcessOutcome) => boolean,
  router: Router,
): Promise<Counted> {
  const sum: StoreStats = { reads: 0, writes: 0, queries: 0 };
  let min = Infinity;
  let max = 0;
  for (let k = 0; k < n; k++) {
    const before = { ...store.stats };
    const out = await router.process(signal(k));
    const d: StoreStats = {
      reads: store.stats.reads - before.reads,
      writes: store.stats.writes - before.writes,
      queries: store.stats.queries - before.queries,
    };
    if (!check(out))
      throw new Error(`unexpected outcome for ${JSON.stringify(signal(k))}: ${JSON.stringify(out)}`);
    sum.reads += d.reads;
    sum.writes += d.writes;
    sum.queries += d.queries;
    min = Math.min(min, total(d));
    max = Math.max(max, total(d));
  }
  return { mean: { reads: sum.reads / n, writes: sum.writes / n, queries: sum.queries / n }, min, max };
}

const opened = (out: ProcessOutcome): boolean => out.matched.length === 1 && out.executions.length === 0;
const executed = (out: ProcessOutcome): boolean => out.executions.length === 1;
const duplicate = (out: ProcessOutcome): boolean => out.unmatched?.startsWith("duplicate delivery") === true;

function cells(c: Counted): string[] {
  return [
    ops(c.mean.reads),
    ops(c.mean.writes),
    ops(c.mean.queries),
    ops(total(c.mean)),
    c.min === c.max ? String(c.min) : `${c.min}–${c.max}`,
  ];
}

async function linkedPaths(db: Dynalite, dir: string): Promise<void> {
  const { router, store } = await harness(db, linkedFlow(), dir);
  const sig = (node: "a" | "b", k: number, eventId?: string): Signal => ({
    node,
    dimensions: { day: day(k) },
    ...(eventId === undefined ? {} : { eventId }),
  });
  const pending = await count(store, EVENTS, (k) => sig("a", k), opened, router);
  const triggering = await count(store, EVENTS, (k) => sig("b", k), executed, router);
  const at = EVENTS; // fresh days for the idempotent rows
  const pendingId = await count(store, EVENTS, (k) => sig("a", at + k, `a-${k}`), opened, router);
  const triggeringId = await count(store, EVENTS, (k) => sig("b", at + k, `b-${k}`), executed, router);
  const redelivered = await count(store, EVENTS, (k) => sig("b", at + k, `b-${k}`), duplicate, router);
  const vs = (x: Counted, base: Counted): string => ratio(total(x.mean) / total(base.mean));
  table(
    `3. DynamoDB requests per event through DynamoDbStore on dynalite (route a + b linked on day, ` +
      `no-op dispatcher; ${EVENTS} events per row, each on its own day)`,
    ["path", "reads", "writes", "queries", "requests", "min–max", "vs row without eventId"],
    [
      ["pending: event opens a group", ...cells(pending), "—"],
      ["triggering: event completes it, executes", ...cells(triggering), "—"],
      ["pending, with eventId (idempotency)", ...cells(pendingId), vs(pendingId, pending)],
      ["triggering, with eventId", ...cells(triggeringId), vs(triggeringId, triggering)],
      ["redelivery of that eventId (dropped)", ...cells(redelivered), vs(redelivered, triggeringId)],
    ],
  );
  console.log(
    "   reads = GetItem/BatchGetItem, writes = Put/DeleteItem (conditional or not), queries = Query; " +
      "the last row is against the first delivery",
  );
}

interface RangeRow {
  readonly waiting: number;
  readonly otherPending: number;
  /** The timer events that made the groups wait. */
  readonly toWaiting: Counted;
  /** Events on the range-checked reference. */
  readonly recheck: Counted;
  readonly buckets: number;
}

async function rangeChecked(
  db: Dynalite,
  dir: string,
  waiting: number,
  otherPending: number,
): Promise<RangeRow> {
  const { router, store } = await harness(db, rangeCheckedFlow(), dir);
  const orders = (k: number): Signal => ({ node: "orders", dimensions: { day: day(k) } });
  // Pending groups the waiting index does not name: orders only, days after the waiting ones.
  for (let k = 0; k < otherPending; k++)
    if (!opened(await router.process(orders(waiting + k)))) throw new Error("prefill");
  for (let k = 0; k < waiting; k++) if (!opened(await router.process(orders(k)))) throw new Error("prefill");
  const toWaiting = await count(
    store,
    waiting,
    (k) => ({ node: "tick", dimensions: { day: day(k) } }),
    opened,
    router,
  );
  const index = (await store.getWaiting("agg"))?.value.keys.length ?? 0;
  const buckets = (await store.buckets("agg")).length;
  if (index !== waiting || buckets !== waiting + otherPending)
    throw new Error(`range prefill: ${index} waiting keys, ${buckets} buckets`);
  // Snapshot days no group's window covers (days far ahead): nothing becomes ready.
  const recheck = await count(
    store,
    RANGE_EVENTS,
    (k) => ({ node: "snaps", dimensions: { day: day(10_000 + k) } }),
    opened,
    router,
  );
  return { waiting, otherPending, toWaiting, recheck, buckets };
}

async function rangePaths(db: Dynalite, dir: string): Promise<void> {
  const rows = [
    await rangeChecked(db, dir, WAITING_SMALL, 0),
    await rangeChecked(db, dir, WAITING, 0),
    await rangeChecked(db, dir, WAITING, OTHER_PENDING),
  ];
  table(
    `   range-checked reference (timer + orders linked on day, snaps.at(range(-2)).ref().rangeCheck()): ` +
      `${RANGE_EVENTS} snaps events per row while groups wait`,
    [
      "waiting groups + other pending",
      "buckets",
      "reads",
      "writes",
      "queries",
      "requests",
      "min–max",
      "expected reads (1 + waiting)",
    ],
    rows.map((r) => [
      `${int(r.waiting)} + ${int(r.otherPending)}`,
      int(r.buckets),
      ...cells(r.recheck),
      int(1 + r.waiting),
    ]),
  );
  const ok = rows.every(
    (r) =>
      r.recheck.mean.reads === 1 + r.waiting &&
      r.recheck.mean.queries === 0 &&
      r.recheck.min === r.recheck.max,
  );
  const big = rows[2] as RangeRow;
  console.log(
    `   1 waiting-index read + the buckets it names, no Query: ${ok ? "met" : "NOT met"} ` +
      `(${int(big.buckets)} buckets on the route, ${ops(big.recheck.mean.reads)} read per event; ` +
      `a scan would be a Query + ${int(big.buckets)} items)`,
  );
  const w = big.toWaiting.mean;
  console.log(
    `   the timer event that completes a group whose window is missing (it waits): ${ops(w.reads)} reads, ` +
      `${ops(w.writes)} writes, ${ops(w.queries)} queries per event (bucket + waiting index, each read and written)`,
  );
}

async function dynamoRequests(): Promise<void> {
  const db = await startDynalite();
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-bench-ddb-"));
  try {
    await linkedPaths(db, dir);
    await rangePaths(db, dir);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now();
  let mark = started;
  const lap = (): void => {
    console.log(`   (section: ${((Date.now() - mark) / 1000).toFixed(1)} s)`);
    mark = Date.now();
  };
  console.log(
    `router Lambda bundle: size, cold require, DynamoDB requests per event; node ${process.version}`,
  );
  size();
  lap();
  coldRequire();
  lap();
  await dynamoRequests();
  lap();
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
