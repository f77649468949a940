/**
 * Arrival order: for a multiset of events (duplicates included), every sampled permutation is run in
 * a fresh LocalRuntime and the executions are compared.
 *
 * (a) two inputs linked on region × day and (b) three inputs sharing one day link (one of them through
 * a shift) carry every linked dimension on every input, so the set of executions may not depend on
 * the order (docs/runtime.md, "Ordering").
 *
 * (c) an unlinked two-input node: brief §3's offer rule ("joins each group it is consistent with…
 * if it joins none, it opens a new group") makes order visible there: y1 then x1, x2 executes x1 and
 * leaves x2 pending, while x1, x2 then y1 executes both. So for (c) the order-independent facts are
 * checked (every x is executed or held by a pending group; something executes iff both inputs got an
 * event), and each permutation is compared with a model of the brief's rule.
 */
import fc from "fast-check";
import { Application, dim, inline, link, LocalRuntime, shift, type Node } from "sluice";

interface Event {
  /** Input node id (also its alias). */
  readonly node: string;
  readonly values: readonly string[];
}

interface Flow {
  readonly app: Application;
  readonly nodes: Readonly<Record<string, Node>>;
  readonly target: Node;
  /** Output dimension names, in order. */
  readonly output: readonly string[];
}

interface Run {
  /** Output dimensions of every execution, as "v1/v2", sorted. */
  readonly executions: readonly string[];
  /** Output dimensions (as far as known) of the groups still pending, sorted. */
  readonly pending: readonly string[];
  readonly statuses: readonly string[];
}

const RUNS = 30;

function newApp(): Application {
  return new Application("permutations", { account: "111122223333", region: "us-east-1" });
}

function dataset(
  app: Application,
  id: string,
  dimensions: Parameters<Application["s3Dataset"]>[1]["dimensions"],
) {
  return app.s3Dataset(id, {
    bucket: "raw",
    partitions: Object.keys(dimensions ?? {}).map(() => "{}"),
    dimensions,
  });
}

async function run(flow: Flow, events: readonly Event[]): Promise<Run> {
  const rt = await LocalRuntime.start(flow.app);
  try {
    for (const e of events) {
      const node = flow.nodes[e.node] as Node;
      await rt.process(node.at(...e.values));
    }
    const key = (dims: Readonly<Record<string, unknown>>) =>
      flow.output.map((d) => (dims[d] === undefined ? "?" : String(dims[d]))).join("/");
    const records = await rt.executions(flow.target);
    return {
      executions: records.map((r) => key(r.dimensions)).sort(),
      pending: (await rt.pending(flow.target)).map((p) => key(p.dimensions)).sort(),
      statuses: [...new Set(records.map((r) => r.status))],
    };
  } finally {
    await rt.stop();
  }
}

const uniq = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

/** A multiset of events over `universe` (duplicates likely) and a few permutations of it. */
function scenario(universe: readonly Event[]) {
  return fc.array(fc.constantFrom(...universe), { minLength: 1, maxLength: 8 }).chain((events) =>
    fc.tuple(
      fc.constant(events),
      fc.array(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), {
        minLength: 2,
        maxLength: 3,
      }),
    ),
  );
}

/** Every order to try: as generated, reversed, and the sampled shuffles. */
function orders(events: readonly Event[], shuffles: readonly (readonly Event[])[]): (readonly Event[])[] {
  return [events, [...events].reverse(), ...shuffles];
}

const REGIONS = ["NA", "EU"];
const DAYS = ["2024-05-06", "2024-05-07"];

// ------------------------------------------------------------------ (a)

function twoLinked(): Flow {
  const app = newApp();
  const left = dataset(app, "left", { region: dim.string(), day: dim.datetime() });
  const right = dataset(app, "right", { region: dim.string(), day: dim.datetime() });
  const pair = app.data("pair", { inputs: [left, right], compute: inline(async () => {}) });
  return { app, nodes: { left, right }, target: pair, output: ["region", "day"] };
}

test("(a) two inputs linked over region × day: the set of executions does not depend on order", async () => {
  const universe: Event[] = ["left", "right"].flatMap((node) =>
    REGIONS.flatMap((r) => DAYS.map((d) => ({ node, values: [r, d] }))),
  );
  await fc.assert(
    fc.asyncProperty(scenario(universe), async ([events, shuffles]) => {
      const has = (node: string, r: string, d: string) =>
        events.some((e) => e.node === node && e.values[0] === r && e.values[1] === d);
      const expected = REGIONS.flatMap((r) =>
        DAYS.filter((d) => has("left", r, d) && has("right", r, d)).map((d) => `${r}/${d}`),
      ).sort();
      for (const order of orders(events, shuffles)) {
        const got = await run(twoLinked(), order);
        expect(uniq(got.executions)).toEqual(expected);
        expect(got.statuses.filter((s) => s !== "SUCCEEDED")).toEqual([]);
      }
    }),
    { numRuns: RUNS },
  );
}, 60_000);

// ------------------------------------------------------------------ (b)

function threeSharedDay(): Flow {
  const app = newApp();
  const sales = dataset(app, "sales", { day: dim.datetime() });
  const refunds = dataset(app, "refunds", { day: dim.datetime() });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  // sales.day = refunds.day (auto eq); the timer fires the day after: daily.day = sales.day + 1.
  const net = app.data("net", {
    inputs: [sales, refunds, daily],
    links: [link(daily.dim("day"), shift(1), sales.dim("day"))],
    compute: inline(async () => {}),
  });
  return { app, nodes: { sales, refunds, daily }, target: net, output: ["day"] };
}

test("(b) three inputs sharing a day link (one through shift): the set of executions does not depend on order", async () => {
  const TIMER_DAYS = ["2024-05-07", "2024-05-08"];
  const universe: Event[] = [
    ...DAYS.map((d) => ({ node: "sales", values: [d] })),
    ...DAYS.map((d) => ({ node: "refunds", values: [d] })),
    ...TIMER_DAYS.map((d) => ({ node: "daily", values: [d] })),
  ];
  const nextDay = (d: string) =>
    new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await fc.assert(
    fc.asyncProperty(scenario(universe), async ([events, shuffles]) => {
      const has = (node: string, d: string) => events.some((e) => e.node === node && e.values[0] === d);
      const expected = DAYS.filter((d) => has("sales", d) && has("refunds", d) && has("daily", nextDay(d)));
      for (const order of orders(events, shuffles)) {
        const got = await run(threeSharedDay(), order);
        expect(uniq(got.executions)).toEqual(expected);
      }
    }),
    { numRuns: RUNS },
  );
}, 60_000);

// ------------------------------------------------------------------ (c)

function unlinked(): Flow {
  const app = newApp();
  const xs = dataset(app, "xs", { x: dim.string() });
  const ys = dataset(app, "ys", { y: dim.string() });
  // Different dimension names: auto-linking links nothing between them; the output takes x from xs.
  const both = app.data("both", { inputs: [xs, ys], compute: inline(async () => {}) });
  return { app, nodes: { xs, ys }, target: both, output: ["x"] };
}

/**
 * Brief §3, literally: an event joins every pending group that lacks its input (no links: always
 * consistent); a repeat of an event a group holds is a no-op; if it joins none it opens a group;
 * complete groups execute once and leave. Returns the outputs (x) executed, in order.
 */
function briefModel(events: readonly Event[]): { executions: string[]; pending: string[] } {
  let groups: Record<string, string>[] = [];
  const executions: string[] = [];
  for (const e of events) {
    const value = e.values[0] as string;
    let joined = false;
    let duplicate = false;
    groups = groups.map((g) => {
      const had = g[e.node];
      if (had !== undefined) {
        if (had === value) duplicate = true;
        return g;
      }
      joined = true;
      return { ...g, [e.node]: value };
    });
    if (!joined && !duplicate) groups.push({ [e.node]: value });
    const complete = groups.filter((g) => g.xs !== undefined && g.ys !== undefined);
    executions.push(...complete.map((g) => g.xs as string));
    groups = groups.filter((g) => !complete.includes(g));
  }
  return { executions: executions.sort(), pending: groups.map((g) => g.xs ?? "?").sort() };
}

test("(c) unlinked two-input node: order-independent facts hold, and each order follows the brief's rule", async () => {
  const universe: Event[] = [
    ...["x1", "x2", "x3"].map((v) => ({ node: "xs", values: [v] })),
    ...["y1", "y2"].map((v) => ({ node: "ys", values: [v] })),
  ];
  await fc.assert(
    fc.asyncProperty(scenario(universe), async ([events, shuffles]) => {
      const xValues = uniq(events.filter((e) => e.node === "xs").map((e) => e.values[0] as string));
      const anyY = events.some((e) => e.node === "ys");
      for (const order of orders(events, shuffles)) {
        const got = await run(unlinked(), order);
        // Each order follows the brief's rule exactly (executions as a multiset, and what stays pending).
        expect(got).toEqual({
          ...briefModel(order),
          statuses: got.executions.length > 0 ? ["SUCCEEDED"] : [],
        });
        // Order-independent: no x is lost (executed or still pending), nothing else is produced…
        expect(uniq([...got.executions, ...got.pending.filter((p) => p !== "?")])).toEqual(xValues);
        // …and something executes exactly when both inputs got an event.
        expect(got.executions.length > 0).toBe(xValues.length > 0 && anyY);
      }
    }),
    { numRuns: RUNS },
  );
}, 60_000);

test("(c) the order-visible case, spelled out: y1 x1 x2 leaves x2 pending; x1 x2 y1 runs both", async () => {
  const late = await run(unlinked(), [
    { node: "ys", values: ["y1"] },
    { node: "xs", values: ["x1"] },
    { node: "xs", values: ["x2"] },
  ]);
  expect(late).toMatchObject({ executions: ["x1"], pending: ["x2"] });
  const early = await run(unlinked(), [
    { node: "xs", values: ["x1"] },
    { node: "xs", values: ["x2"] },
    { node: "ys", values: ["y1"] },
  ]);
  expect(early).toMatchObject({ executions: ["x1", "x2"], pending: [] });
});
