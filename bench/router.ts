/**
 * Router core benchmark (BRIEF §6, #3 and #5): events/s through Router + MemoryStore + a no-op
 * dispatcher on a virtual clock, and store operations per event. Fixed workloads; every ratio is
 * against a baseline measured in the same run. Run with `npm run bench -- router`.
 *
 * What is measured is the router's own work (matching, trigger groups, the execution state machine,
 * MemoryStore's copies), not an engine or the network: the no-op dispatcher succeeds at once and the
 * storage stub says every partition exists.
 */
import { Application, dim, inline, range } from "../src/flow";
import type { FlowModel } from "../src/flow/model/flow-model";
import { VirtualClock } from "../src/runtime-bundle/core/clock";
import type { Dispatcher } from "../src/runtime-bundle/core/dispatcher";
import { MemoryStore } from "../src/runtime-bundle/core/memory-store";
import { RouteTable, type Route } from "../src/runtime-bundle/core/route-table";
import { Router } from "../src/runtime-bundle/core/router";
import type { Dimensions, Signal } from "../src/runtime-bundle/core/signal";
import type { Storage } from "../src/runtime-bundle/core/storage";
import type { GroupBucket, PendingGroup, StoreStats } from "../src/runtime-bundle/core/store";
import { offer } from "../src/runtime-bundle/core/trigger-groups";
import { int, median, ops, ratio, table } from "./support/report";

// ---------------------------------------------------------------- fixed workloads

const ROUTES = 1_000;
/** Events of the throughput workload (half open a group, half complete one and execute). */
const THROUGHPUT_EVENTS = 10_000;
const PENDING_SMALL = 100;
const PENDING_LARGE = 100_000;
/** Timed joining events per pending-group size. */
const JOIN_EVENTS = 5_000;
const UNLINKED_SMALL = 100;
const UNLINKED_LARGE = 10_000;
/** Timed events per batch, by unlinked size (at 10,000 each event copies a ~1.3 MB bucket). */
const UNLINKED_EVENTS: Readonly<Record<number, number>> = { [UNLINKED_SMALL]: 500, [UNLINKED_LARGE]: 20 };
/** Events per path for store-operation counts. */
const OPS_EVENTS = 1_000;
/** Repetitions of the timed workloads; the median is reported. */
const REPEAT = 3;
const REGIONS = ["NA", "EU", "JP"] as const;

// ---------------------------------------------------------------- harness

const noop: Dispatcher = { start: async () => ({ status: "SUCCEEDED" }) };

const storage: Storage = {
  partitionPath: (node, dims) => `mem://${node.id}/${Object.values(dims).join("/")}`,
  exists: async () => true,
  writeMarker: async () => undefined,
  clear: async () => undefined,
};

interface Harness {
  readonly router: Router;
  readonly store: MemoryStore;
  readonly table: RouteTable;
  readonly clock: VirtualClock;
}

function harness(model: FlowModel): Harness {
  const store = new MemoryStore();
  const clock = new VirtualClock();
  const table = new RouteTable(model);
  let n = 0;
  const router = new Router({
    table,
    store,
    storage,
    dispatchers: { lambda: noop, glue: noop, athena: noop, emr: noop, emrServerless: noop },
    clock,
    scheduler: clock,
    environment: { name: "bench", config: {} },
    newId: () => `g${(n++).toString(36)}`,
  });
  return { router, store, table, clock };
}

/** `n` routes, each with its own dataset (region × day) and timer (day), linked on day. */
function linkedFlow(n: number): FlowModel {
  const app = new Application("bench-linked", { account: "111122223333", region: "us-east-1" });
  for (let i = 0; i < n; i++) {
    const events = app.s3Dataset(`events_${i}`, {
      bucket: "raw",
      prefix: `events_${i}`,
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const tick = app.timer(`tick_${i}`, "rate(1 day)", { dimension: "day" });
    app.data(`route_${i}`, { inputs: [events, tick], compute: inline(async () => undefined) });
  }
  return app.toModel();
}

/** One route whose two inputs share no dimension: no links, so every group is in one bucket. */
function unlinkedFlow(): FlowModel {
  const app = new Application("bench-unlinked", { account: "111122223333", region: "us-east-1" });
  const a = app.s3Dataset("a", {
    bucket: "raw",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime() },
  });
  const b = app.s3Dataset("b", { bucket: "raw", partitions: ["{}"], dimensions: { market: dim.long() } });
  app.data("route_0", { inputs: [a, b], compute: inline(async () => undefined) });
  return app.toModel();
}

/** A timer plus a 7-day range-checked dataset, linked on day (the daily-aggregation shape). */
function rangeCheckedFlow(): FlowModel {
  const app = new Application("bench-ranged", { account: "111122223333", region: "us-east-1" });
  const tick = app.timer("tick", "rate(1 day)", { dimension: "day" });
  const orders = app.s3Dataset("orders", {
    bucket: "raw",
    partitions: ["dt={}"],
    dimensions: { day: dim.datetime() },
  });
  app.data("route_0", {
    inputs: { tick, orders: orders.at(range(-7)).rangeCheck() },
    compute: inline(async () => undefined),
  });
  return app.toModel();
}

const DAY0 = Date.UTC(2000, 0, 1);
/** The k-th distinct day, "%Y-%m-%d" (100,000 days reach into the 23rd century). */
function day(k: number): string {
  return new Date(DAY0 + k * 86_400_000).toISOString().slice(0, 10);
}

const dataset = (i: number, region: string, d: string): Signal => ({
  node: `events_${i}`,
  dimensions: { region, day: d },
});
const timer = (i: number, d: string): Signal => ({ node: `tick_${i}`, dimensions: { day: d } });

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Wall time of `work`, in nanoseconds. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t);
}

function snapshot(s: StoreStats): StoreStats {
  return { reads: s.reads, writes: s.writes, queries: s.queries };
}

function perEvent(before: StoreStats, after: StoreStats, events: number): StoreStats {
  return {
    reads: (after.reads - before.reads) / events,
    writes: (after.writes - before.writes) / events,
    queries: (after.queries - before.queries) / events,
  };
}

// ---------------------------------------------------------------- workloads

interface Throughput {
  /** events/s over the whole workload. */
  readonly all: number;
  /** events/s of events that open a group. */
  readonly opening: number;
  /** events/s of events that complete a group (and run its execution). */
  readonly completing: number;
}

/**
 * THROUGHPUT_EVENTS events spread evenly over `routes` routes, in rounds of ROUTES groups: a round
 * opens ROUTES groups (dataset events), then completes them (timer events; each execution runs).
 * With 1,000 routes a round is one day on every route; with 1 route it is 1,000 days on that route,
 * so both workloads hold the same number of open groups at every step and differ only in routes.
 */
async function throughput(model: FlowModel, routes: number): Promise<Throughput> {
  const { router } = harness(model);
  const rounds = THROUGHPUT_EVENTS / 2 / ROUTES;
  const perRoute = ROUTES / routes;
  let opening = 0;
  let completing = 0;
  gc();
  for (let r = 0; r < rounds; r++) {
    const at = (i: number): [number, string] => [i % routes, day(r * perRoute + Math.floor(i / routes))];
    opening += await timed(async () => {
      for (let i = 0; i < ROUTES; i++) {
        const [route, d] = at(i);
        await router.process(dataset(route, REGIONS[(i + r) % 3] as string, d));
      }
    });
    completing += await timed(async () => {
      for (let i = 0; i < ROUTES; i++) {
        const [route, d] = at(i);
        const out = await router.process(timer(route, d));
        if (out.executions.length !== 1) throw new Error(`route_${route} ${d}: expected one execution`);
      }
    });
  }
  const half = THROUGHPUT_EVENTS / 2;
  return {
    all: THROUGHPUT_EVENTS / ((opening + completing) / 1e9),
    opening: half / (opening / 1e9),
    completing: half / (completing / 1e9),
  };
}

interface JoinBatch {
  readonly eventsPerSecond: number;
  /** Store operations per timed (joining) event. */
  readonly ops: StoreStats;
}

interface Prepared<B> {
  /** events/s of the prefill (events that each open a group), or undefined when written directly. */
  readonly prefillPerSecond?: number;
  /** One timed batch; the state is the same after it as before, so batches repeat. */
  batch(): Promise<B>;
}

/**
 * One linked route with `pending` open groups (dataset events with distinct days). A batch is
 * JOIN_EVENTS timer events, each joining one existing group picked spread over all of them (it
 * completes and executes); after each, an untimed dataset event opens a group with a new day, so the
 * pending count stays put.
 */
async function joinExisting(model: FlowModel, pending: number): Promise<Prepared<JoinBatch>> {
  const { router, store } = harness(model);
  const live: number[] = [];
  gc();
  const prefill = await timed(async () => {
    for (let k = 0; k < pending; k++) {
      await router.process(dataset(0, "NA", day(k)));
      live.push(k);
    }
  });
  const check = async (): Promise<void> => {
    if ((await store.bucketKeys("route_0")).length !== pending) throw new Error("wrong pending group count");
  };
  await check();
  let next = pending;
  let j = 0;
  return {
    prefillPerSecond: pending / (prefill / 1e9),
    async batch() {
      gc();
      let ns = 0;
      const ops: StoreStats = { reads: 0, writes: 0, queries: 0 };
      for (let n = 0; n < JOIN_EVENTS; n++, j++) {
        const slot = (j * 7_919) % pending; // a stride co-prime with both sizes: spread over all groups
        const k = live[slot] as number;
        const s0 = snapshot(store.stats);
        const t = process.hrtime.bigint();
        const out = await router.process(timer(0, day(k)));
        ns += Number(process.hrtime.bigint() - t);
        const s1 = store.stats;
        ops.reads += s1.reads - s0.reads;
        ops.writes += s1.writes - s0.writes;
        ops.queries += s1.queries - s0.queries;
        if (out.executions.length !== 1) throw new Error(`day ${day(k)}: expected one execution`);
        await router.process(dataset(0, "NA", day(next)));
        live[slot] = next++;
      }
      await check();
      return {
        eventsPerSecond: JOIN_EVENTS / (ns / 1e9),
        ops: perEvent({ reads: 0, writes: 0, queries: 0 }, ops, JOIN_EVENTS),
      };
    },
  };
}

interface UnlinkedBatch {
  readonly eventsPerSecond: number;
}

/**
 * The unlinked route with `pending` groups, all in its one bucket. A batch is UNLINKED_EVENTS events
 * on input `a` with new values: each is offered to every group, joins none (their `a` is taken) and
 * opens one more; untimed, the bucket is cut back to `pending` groups after each.
 */
async function unlinked(
  model: FlowModel,
  pending: number,
): Promise<Prepared<UnlinkedBatch> & { readonly bucketKb: number }> {
  const { router, store, table, clock } = harness(model);
  const route = table.route("route_0") as Route;
  const key = route.groupKey("a", { region: "NA", day: day(0) });
  // Prefilled with the groups offer() (the router's own rule) opens, written once: through the router
  // every event rewrites the whole bucket, so filling it event by event is quadratic. An `a` event
  // never joins a group that has its `a`, so each one only appends its own group.
  const groups: PendingGroup[] = [];
  for (let k = 0; k < pending; k++) {
    const dims: Dimensions = { region: "NA", day: day(k) };
    groups.push(...offer(route, undefined, "a", dims, clock.now(), () => `p${k}`).created);
  }
  const bucket: GroupBucket = { groups };
  if (!(await store.putBucket("route_0", key, bucket, undefined))) throw new Error("prefill failed");
  let j = 0;
  return {
    bucketKb: Buffer.byteLength(JSON.stringify(bucket)) / 1024,
    async batch() {
      gc();
      let ns = 0;
      const events = UNLINKED_EVENTS[pending] as number;
      for (let n = 0; n < events; n++, j++) {
        const t = process.hrtime.bigint();
        await router.process({ node: "a", dimensions: { region: "EU", day: day(j) } });
        ns += Number(process.hrtime.bigint() - t);
        const current = await store.getBucket("route_0", key);
        if (current?.value.groups.length !== pending + 1) throw new Error("unlinked: expected one new group");
        const trimmed = { groups: current.value.groups.slice(0, pending) };
        if (!(await store.putBucket("route_0", key, trimmed, current.version)))
          throw new Error("trim failed");
      }
      return { eventsPerSecond: events / (ns / 1e9) };
    },
  };
}

/** Store operations per event on each path of a linked route (no other state in the store). */
async function storeOps(model: FlowModel): Promise<Record<string, StoreStats>> {
  const { router, store } = harness(model);
  const out: Record<string, StoreStats> = {};
  let s = snapshot(store.stats);
  for (let k = 0; k < OPS_EVENTS; k++) await router.process(dataset(0, "NA", day(k)));
  out["pending path (event opens a group)"] = perEvent(s, store.stats, OPS_EVENTS);
  s = snapshot(store.stats);
  for (let k = 0; k < OPS_EVENTS; k++) await router.process(timer(0, day(k)));
  out["triggering path (completes + executes)"] = perEvent(s, store.stats, OPS_EVENTS);
  s = snapshot(store.stats);
  for (let k = 0; k < OPS_EVENTS; k++)
    await router.process({ ...dataset(0, "NA", day(OPS_EVENTS + k)), eventId: `e${k}` });
  out["pending path, with an idempotency key"] = perEvent(s, store.stats, OPS_EVENTS);
  s = snapshot(store.stats);
  for (let k = 0; k < OPS_EVENTS; k++)
    await router.process({ ...dataset(0, "NA", day(OPS_EVENTS + k)), eventId: `d${k}` });
  out["redelivery, new idempotency key (no-op)"] = perEvent(s, store.stats, OPS_EVENTS);
  s = snapshot(store.stats);
  for (let k = 0; k < OPS_EVENTS; k++)
    await router.process({ ...dataset(0, "NA", day(OPS_EVENTS + k)), eventId: `d${k}` });
  out["redelivery, same idempotency key"] = perEvent(s, store.stats, OPS_EVENTS);
  return out;
}

/**
 * The daily-aggregation shape: `buckets` open groups (timer events, distinct days), then events on
 * the range-checked input. Each event re-checks the route's waiting groups (Router.recheckWaiting).
 */
const RANGE_EVENTS = 100;

async function rangeCheckedOps(model: FlowModel, buckets: number): Promise<StoreStats> {
  const { router, store } = harness(model);
  for (let k = 0; k < buckets; k++) await router.process({ node: "tick", dimensions: { day: day(k) } });
  const n = RANGE_EVENTS;
  const s = snapshot(store.stats);
  // Days past the prefilled ones: each opens its own group (no execution), like most orders events.
  for (let k = 0; k < n; k++)
    await router.process({ node: "orders", dimensions: { day: day(buckets + 10 + k) } });
  return perEvent(s, store.stats, n);
}

// ---------------------------------------------------------------- report

async function main(): Promise<void> {
  const started = Date.now();
  let mark = started;
  /** Wall time of the section just printed. */
  const lap = (): void => {
    console.log(`   (section: ${((Date.now() - mark) / 1000).toFixed(1)} s)`);
    mark = Date.now();
  };
  console.log(
    `router core: Router + MemoryStore + no-op dispatcher + virtual clock; node ${process.version}; ` +
      `timed figures are the median of ${REPEAT} runs, the two sides of a ratio interleaved`,
  );
  const many = linkedFlow(ROUTES);
  const one = linkedFlow(1);

  // Warm-up (JIT), not reported.
  await throughput(linkedFlow(10), 10);
  await throughput(one, 1);
  await (await joinExisting(one, 1_000)).batch();

  // 1. Throughput at 1,000 routes, against 1 route with the same events.
  const at1000: Throughput[] = [];
  const at1: Throughput[] = [];
  for (let r = 0; r < REPEAT; r++) {
    at1000.push(await throughput(many, ROUTES));
    at1.push(await throughput(one, 1));
  }
  const pick = (xs: Throughput[], k: keyof Throughput): number => median(xs.map((x) => x[k]));
  table(
    `1. events/s, ${int(THROUGHPUT_EVENTS)} events spread evenly over the routes ` +
      `(each route: dataset region×day + timer, linked on day)`,
    ["events", "1,000 routes", "1 route", "1 route / 1,000 routes"],
    (["all", "opening", "completing"] as const).map((k) => [
      {
        all: "all",
        opening: "…that open a group",
        completing: "…that complete it (+ execute)",
      }[k],
      int(pick(at1000, k)),
      int(pick(at1, k)),
      ratio(pick(at1, k) / pick(at1000, k)),
    ]),
  );
  lap();

  // 2. Joining an existing group among 100 vs 100,000 pending groups.
  const small = await joinExisting(one, PENDING_SMALL);
  const large = await joinExisting(one, PENDING_LARGE);
  const bSmall: JoinBatch[] = [];
  const bLarge: JoinBatch[] = [];
  for (let r = 0; r < REPEAT; r++) {
    bSmall.push(await small.batch());
    bLarge.push(await large.batch());
  }
  const eSmall = median(bSmall.map((x) => x.eventsPerSecond));
  const eLarge = median(bLarge.map((x) => x.eventsPerSecond));
  table(
    `2. one linked route: ${int(JOIN_EVENTS)} events that each join an existing group on the linked path ` +
      `(and complete it); pending count held constant`,
    ["pending groups", "events/s", "reads/ev", "writes/ev", "queries/ev", "prefill events/s"],
    [
      [
        int(PENDING_SMALL),
        int(eSmall),
        ...opsCells((bSmall[0] as JoinBatch).ops),
        int(small.prefillPerSecond ?? 0),
      ],
      [
        int(PENDING_LARGE),
        int(eLarge),
        ...opsCells((bLarge[0] as JoinBatch).ops),
        int(large.prefillPerSecond ?? 0),
      ],
    ],
  );
  const slowdown = eSmall / eLarge;
  console.log(
    `   slowdown ${int(PENDING_SMALL)} → ${int(PENDING_LARGE)} pending groups: ${ratio(slowdown)} ` +
      `(goal < 2x: ${slowdown < 2 ? "met" : "NOT met"})`,
  );
  lap();

  // 3. Store operations per event.
  const counted = await storeOps(one);
  table(
    `3. MemoryStore operations per event (one linked route, ${int(OPS_EVENTS)} events per row)`,
    ["path", "reads", "writes", "queries"],
    Object.entries(counted).map(([k, s]) => [k, ...opsCells(s)]),
  );
  const ranged = rangeCheckedFlow();
  const r10 = await rangeCheckedOps(ranged, 10);
  const r1000 = await rangeCheckedOps(ranged, 1_000);
  table(
    "   events on a range-checked input (daily-aggregation shape): reads the waiting index and only the buckets it names",
    ["open buckets (mean, as events arrive)", "reads", "writes", "queries"],
    [
      [ops(10 + (RANGE_EVENTS + 1) / 2), ...opsCells(r10)],
      [ops(1_000 + (RANGE_EVENTS + 1) / 2), ...opsCells(r1000)],
    ],
  );
  lap();

  // 4. Unlinked: one bucket, scanned by design.
  const unlinkedModel = unlinkedFlow();
  const uSmall = await unlinked(unlinkedModel, UNLINKED_SMALL);
  const uLarge = await unlinked(unlinkedModel, UNLINKED_LARGE);
  const vSmall: number[] = [];
  const vLarge: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    vSmall.push((await uSmall.batch()).eventsPerSecond);
    vLarge.push((await uLarge.batch()).eventsPerSecond);
  }
  const us = median(vSmall);
  const ul = median(vLarge);
  table(
    `4. UNLINKED route — SCANNING BY DESIGN: without links any combination triggers, so all groups share ` +
      `one bucket and each event is offered to every one; events that each open a group`,
    ["pending groups", "events/s", "bucket item size", "timed events"],
    [
      [
        int(UNLINKED_SMALL),
        int(us),
        `${uSmall.bucketKb.toFixed(1)} KB`,
        `${REPEAT} × ${UNLINKED_EVENTS[UNLINKED_SMALL]}`,
      ],
      [
        int(UNLINKED_LARGE),
        int(ul),
        `${uLarge.bucketKb.toFixed(1)} KB`,
        `${REPEAT} × ${UNLINKED_EVENTS[UNLINKED_LARGE]}`,
      ],
    ],
  );
  console.log(
    `   slowdown ${int(UNLINKED_SMALL)} → ${int(UNLINKED_LARGE)} pending groups: ${ratio(us / ul)} ` +
      `(linear in the bucket; a DynamoDB item holds at most 400 KB)`,
  );
  lap();
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function opsCells(s: StoreStats): string[] {
  return [ops(s.reads), ops(s.writes), ops(s.queries)];
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
