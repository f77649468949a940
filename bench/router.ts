/**
 * Router core benchmark (BRIEF §6, #3 and #5; issue 11): events/s through Router + MemoryStore + a
 * no-op dispatcher on a virtual clock, and store operations per event. Fixed workloads; every ratio
 * is against a baseline measured in the same run. Run with `npm run bench -- router`.
 *
 * Trigger state is one item per pending group and one per live fact (brief §3, "Order never
 * matters"): a token reads and writes its group's item and queries its bucket's facts; a fact writes
 * its item and queries its bucket. So per-event cost does not grow with the route's pending groups
 * (section 2), and a fact that completes many tokens pays per partition it completes (section 3).
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
import type { Signal } from "../src/runtime-bundle/core/signal";
import type { Storage } from "../src/runtime-bundle/core/storage";
import { GROUP_PREFIX, type StoreStats } from "../src/runtime-bundle/core/store";
import { groupKeyOf } from "../src/runtime-bundle/core/trigger-groups";
import { int, median, ops, ratio, table } from "./support/report";

// ---------------------------------------------------------------- fixed workloads

const ROUTES = 1_000;
/** Events of the throughput workload (half open a group, half complete one and execute). */
const THROUGHPUT_EVENTS = 10_000;
const PENDING_SMALL = 100;
const PENDING_LARGE = 100_000;
/** Timed joining events per pending-group size. */
const JOIN_EVENTS = 5_000;
/** Tokens one fact completes (section 3), against a small fan-out. */
const FANOUT_SMALL = 10;
const FANOUT_LARGE = 1_000;
const UNLINKED_SMALL = 100;
const UNLINKED_LARGE = 10_000;
/** Timed events per batch of the unlinked route. */
const UNLINKED_EVENTS = 2_000;
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

/** Pending (or waiting) group items of a route, whatever their bucket (a check outside the timing). */
async function groupCount(store: MemoryStore, route: string): Promise<number> {
  let n = 0;
  for (const { bucket } of await store.buckets(route))
    for (const it of await store.queryBucket(route, bucket, GROUP_PREFIX))
      if (it.value.kind === "group" && (it.value.state === "pending" || it.value.state === "waiting")) n++;
  return n;
}

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
  /** events/s of fact events (the day's tick) that complete one of the pending groups. */
  readonly eventsPerSecond: number;
  /** Store operations per timed completing event. */
  readonly ops: StoreStats;
  /** events/s of token events (a region's data) that open a group among the pending ones. */
  readonly openingPerSecond: number;
  readonly openingOps: StoreStats;
}

interface Prepared<B> {
  /** events/s of the prefill (events that each open a group), or undefined when written directly. */
  readonly prefillPerSecond?: number;
  /** One timed batch; the state is the same after it as before, so batches repeat. */
  batch(): Promise<B>;
}

function addOps(into: StoreStats, s0: StoreStats, s1: StoreStats): void {
  into.reads += s1.reads - s0.reads;
  into.writes += s1.writes - s0.writes;
  into.queries += s1.queries - s0.queries;
}

/**
 * One linked route with `pending` open groups (dataset events with distinct days). A batch is
 * JOIN_EVENTS timer events (facts), each completing one existing group picked spread over all of
 * them (it executes); after each, a dataset event (a token) opens a group with a new day, so the
 * pending count stays put. Both kinds are timed separately.
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
    const n = await groupCount(store, "route_0");
    if (n !== pending) throw new Error(`${n} pending groups, expected ${pending}`);
  };
  await check();
  let next = pending;
  let j = 0;
  return {
    prefillPerSecond: pending / (prefill / 1e9),
    async batch() {
      gc();
      let ns = 0;
      let openNs = 0;
      const ops: StoreStats = { reads: 0, writes: 0, queries: 0 };
      const openingOps: StoreStats = { reads: 0, writes: 0, queries: 0 };
      for (let n = 0; n < JOIN_EVENTS; n++, j++) {
        const slot = (j * 7_919) % pending; // a stride co-prime with both sizes: spread over all groups
        const k = live[slot] as number;
        let s0 = snapshot(store.stats);
        let t = process.hrtime.bigint();
        const out = await router.process(timer(0, day(k)));
        ns += Number(process.hrtime.bigint() - t);
        addOps(ops, s0, store.stats);
        if (out.executions.length !== 1) throw new Error(`day ${day(k)}: expected one execution`);
        s0 = snapshot(store.stats);
        t = process.hrtime.bigint();
        const opened = await router.process(dataset(0, "NA", day(next)));
        openNs += Number(process.hrtime.bigint() - t);
        addOps(openingOps, s0, store.stats);
        if (opened.executions.length !== 0) throw new Error(`day ${day(next)}: expected a pending group`);
        live[slot] = next++;
      }
      await check();
      const zero = { reads: 0, writes: 0, queries: 0 };
      return {
        eventsPerSecond: JOIN_EVENTS / (ns / 1e9),
        ops: perEvent(zero, ops, JOIN_EVENTS),
        openingPerSecond: JOIN_EVENTS / (openNs / 1e9),
        openingOps: perEvent(zero, openingOps, JOIN_EVENTS),
      };
    },
  };
}

interface Fanout {
  /** Wall time of the completing fact, ms. */
  readonly ms: number;
  /** Per completed partition (execution included), µs. */
  readonly usPerPartition: number;
  /** Store operations per completed partition. */
  readonly ops: StoreStats;
}

/**
 * One linked route, `tokens` regions of one day pending (data events, untimed), then the day's tick:
 * one fact that completes every one of them (each executes).
 */
async function fanout(model: FlowModel, tokens: number, round: number): Promise<Fanout> {
  const { router, store } = harness(model);
  const d = day(round);
  for (let i = 0; i < tokens; i++) await router.process(dataset(0, `R${i}`, d));
  gc();
  const s0 = snapshot(store.stats);
  const t = process.hrtime.bigint();
  const out = await router.process(timer(0, d));
  const ns = Number(process.hrtime.bigint() - t);
  if (out.executions.length !== tokens)
    throw new Error(`fan-out: ${out.executions.length} executions, expected ${tokens}`);
  return { ms: ns / 1e6, usPerPartition: ns / 1e3 / tokens, ops: perEvent(s0, store.stats, tokens) };
}

interface UnlinkedBatch {
  readonly eventsPerSecond: number;
  readonly ops: StoreStats;
}

/**
 * The unlinked route: its inputs share no dimension, so all its groups are in one bucket. With one
 * item per group, an `a` event (a token for its own partition) reads and writes its group's item and
 * queries the bucket's facts only: its cost does not grow with the bucket's groups, and no item
 * grows with them either (the old layout kept the whole bucket in one item, ~130 bytes per group
 * against DynamoDB's 400 KB). A batch is UNLINKED_EVENTS events opening new groups; untimed, each
 * group is deleted again so the count stays put.
 */
async function unlinked(
  model: FlowModel,
  pending: number,
): Promise<Prepared<UnlinkedBatch> & { readonly itemBytes: number }> {
  const { router, store, table } = harness(model);
  const route = table.route("route_0") as Route;
  const a = (k: number): Signal => ({ node: "a", dimensions: { region: "NA", day: day(k) } });
  gc();
  const prefill = await timed(async () => {
    for (let k = 0; k < pending; k++) await router.process(a(k));
  });
  const bucket = route.groupKey("a", { region: "NA", day: day(0) });
  const items = await store.queryBucket("route_0", bucket, "");
  if (items.length !== pending) throw new Error(`unlinked: ${items.length} items, expected ${pending}`);
  const itemBytes = Math.max(...items.map((i) => Buffer.byteLength(JSON.stringify(i.value))));
  let j = pending;
  return {
    itemBytes,
    prefillPerSecond: pending / (prefill / 1e9),
    async batch() {
      gc();
      let ns = 0;
      const ops: StoreStats = { reads: 0, writes: 0, queries: 0 };
      for (let n = 0; n < UNLINKED_EVENTS; n++, j++) {
        const s0 = snapshot(store.stats);
        const t = process.hrtime.bigint();
        const out = await router.process(a(j));
        ns += Number(process.hrtime.bigint() - t);
        addOps(ops, s0, store.stats);
        if (out.executions.length !== 0) throw new Error("unlinked: expected a pending group");
        const key = groupKeyOf(route, { region: "NA", day: day(j) });
        const own = await store.getItem("route_0", bucket, key);
        if (!own || !(await store.putItem("route_0", bucket, key, undefined, own.version)))
          throw new Error("unlinked: could not trim");
      }
      return {
        eventsPerSecond: UNLINKED_EVENTS / (ns / 1e9),
        ops: perEvent({ reads: 0, writes: 0, queries: 0 }, ops, UNLINKED_EVENTS),
      };
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

  // 2. Per-event cost among 100 vs 100,000 pending groups.
  const small = await joinExisting(one, PENDING_SMALL);
  const large = await joinExisting(one, PENDING_LARGE);
  const bSmall: JoinBatch[] = [];
  const bLarge: JoinBatch[] = [];
  for (let r = 0; r < REPEAT; r++) {
    bSmall.push(await small.batch());
    bLarge.push(await large.batch());
  }
  const m = (xs: JoinBatch[], k: "eventsPerSecond" | "openingPerSecond"): number =>
    median(xs.map((x) => x[k]));
  table(
    `2. one linked route (region × day, the day's tick a fact): ${int(JOIN_EVENTS)} events of each kind ` +
      `among the pending groups; pending count held constant`,
    ["pending groups", "event", "events/s", "reads/ev", "writes/ev", "queries/ev"],
    [
      [
        int(PENDING_SMALL),
        "tick completes one group",
        int(m(bSmall, "eventsPerSecond")),
        ...opsCells((bSmall[0] as JoinBatch).ops),
      ],
      [
        int(PENDING_LARGE),
        "tick completes one group",
        int(m(bLarge, "eventsPerSecond")),
        ...opsCells((bLarge[0] as JoinBatch).ops),
      ],
      [
        int(PENDING_SMALL),
        "data opens a group",
        int(m(bSmall, "openingPerSecond")),
        ...opsCells((bSmall[0] as JoinBatch).openingOps),
      ],
      [
        int(PENDING_LARGE),
        "data opens a group",
        int(m(bLarge, "openingPerSecond")),
        ...opsCells((bLarge[0] as JoinBatch).openingOps),
      ],
    ],
  );
  for (const k of ["eventsPerSecond", "openingPerSecond"] as const) {
    const slowdown = m(bSmall, k) / m(bLarge, k);
    console.log(
      `   ${k === "eventsPerSecond" ? "completing" : "opening"}: slowdown ${int(PENDING_SMALL)} → ${int(PENDING_LARGE)} ` +
        `pending groups ${ratio(slowdown)} (goal ≤ 2x: ${slowdown <= 2 ? "met" : "NOT met"})`,
    );
  }
  console.log(
    `   prefill (events that open a group): ${int(small.prefillPerSecond ?? 0)} / ${int(large.prefillPerSecond ?? 0)} events/s`,
  );
  lap();

  // 3. One fact fanning out to many tokens.
  const fSmall: Fanout[] = [];
  const fLarge: Fanout[] = [];
  await fanout(one, FANOUT_LARGE, 0); // warm-up
  for (let r = 0; r < REPEAT; r++) {
    fSmall.push(await fanout(one, FANOUT_SMALL, r));
    fLarge.push(await fanout(one, FANOUT_LARGE, r));
  }
  const f = (xs: Fanout[]): Fanout => {
    const mid = median(xs.map((x) => x.usPerPartition));
    return xs.find((x) => x.usPerPartition === mid) as Fanout;
  };
  table(
    "3. one tick (a fact) completing the pending regions of its day: each completed partition executes",
    [
      "tokens completed",
      "fact event ms",
      "µs / partition",
      "reads / partition",
      "writes / partition",
      "queries / partition",
    ],
    [FANOUT_SMALL, FANOUT_LARGE].map((n) => {
      const x = f(n === FANOUT_SMALL ? fSmall : fLarge);
      return [int(n), x.ms.toFixed(1), x.usPerPartition.toFixed(0), ...opsCells(x.ops)];
    }),
  );
  console.log(
    `   cost per completed partition ${int(FANOUT_SMALL)} → ${int(FANOUT_LARGE)} tokens: ` +
      `${ratio(f(fLarge).usPerPartition / f(fSmall).usPerPartition)}`,
  );
  lap();

  // 4. Store operations per event.
  const counted = await storeOps(one);
  table(
    `4. MemoryStore operations per event (one linked route, ${int(OPS_EVENTS)} events per row)`,
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

  // 5. Unlinked: one bucket, one item per group.
  const unlinkedModel = unlinkedFlow();
  const uSmall = await unlinked(unlinkedModel, UNLINKED_SMALL);
  const uLarge = await unlinked(unlinkedModel, UNLINKED_LARGE);
  const vSmall: UnlinkedBatch[] = [];
  const vLarge: UnlinkedBatch[] = [];
  for (let r = 0; r < REPEAT; r++) {
    vSmall.push(await uSmall.batch());
    vLarge.push(await uLarge.batch());
  }
  const us = median(vSmall.map((x) => x.eventsPerSecond));
  const ul = median(vLarge.map((x) => x.eventsPerSecond));
  table(
    "5. UNLINKED route: every group in one bucket, one item each; events that each open a group",
    ["pending groups", "events/s", "reads/ev", "writes/ev", "queries/ev", "largest item", "prefill events/s"],
    [
      [
        int(UNLINKED_SMALL),
        int(us),
        ...opsCells((vSmall[0] as UnlinkedBatch).ops),
        `${uSmall.itemBytes} B`,
        int(uSmall.prefillPerSecond ?? 0),
      ],
      [
        int(UNLINKED_LARGE),
        int(ul),
        ...opsCells((vLarge[0] as UnlinkedBatch).ops),
        `${uLarge.itemBytes} B`,
        int(uLarge.prefillPerSecond ?? 0),
      ],
    ],
  );
  console.log(
    `   slowdown ${int(UNLINKED_SMALL)} → ${int(UNLINKED_LARGE)} pending groups: ${ratio(us / ul)} ` +
      `(an item per group: no 400 KB ceiling)`,
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
