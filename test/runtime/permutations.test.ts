/**
 * Arrival order: for a multiset of events (duplicates included), every sampled permutation is run in
 * a fresh LocalRuntime and the executions are compared.
 *
 * (a) two inputs linked on region × day and (b) three inputs sharing one day link (one of them through
 * a shift) carry every linked dimension on every input, so the set of executions may not depend on
 * the order (docs/runtime.md, "Ordering").
 *
 * (c) tokens and facts (brief §3, "Order never matters"): unlinked, partially linked, facts-only,
 * map/shift/truncate links and random two-input flows; each input partition arrives once, and every
 * sampled order executes the same set of partitions.
 */
import fc from "fast-check";
import { Application, dim, inline, link, LocalRuntime, map, shift, truncate, type Node } from "sluice";

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

// ------------------------------------------------------------------ (c) tokens and facts

/** Each input partition once, in every sampled order: the set of executed partitions is the same. */
async function sameInEveryOrder(flow: Flow, universe: readonly Event[]): Promise<readonly string[]> {
  let first: readonly string[] | undefined;
  await fc.assert(
    fc.asyncProperty(
      fc.shuffledSubarray([...universe], { minLength: universe.length, maxLength: universe.length }),
      async (order) => {
        const got = uniq((await run(flow, order)).executions);
        first ??= got;
        expect(got).toEqual(first);
      },
    ),
    { numRuns: 12 },
  );
  return first ?? [];
}

const flows: Record<string, () => { flow: Flow; universe: Event[]; expected: number }> = {
  "unlinked (every y a fact for every x)": () => {
    const app = newApp();
    const x = dataset(app, "x", { a: dim.string() });
    const y = dataset(app, "y", { b: dim.string() });
    const n = app.data("n", { inputs: [x, y], compute: inline(async () => {}) });
    return {
      flow: { app, nodes: { x, y }, target: n, output: ["a"] },
      universe: [
        ...["1", "2", "3"].map((v) => ({ node: "x", values: [v] })),
        { node: "y", values: ["9"] },
        { node: "y", values: ["8"] },
      ],
      expected: 3,
    };
  },
  "partially linked (timer day × regional data)": () => {
    const app = newApp();
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const ev = dataset(app, "ev", { region: dim.string(), day: dim.datetime() });
    const n = app.data("n", {
      inputs: [daily, ev],
      output: { region: dim.string(), day: dim.datetime() },
      compute: inline(async () => {}),
    });
    return {
      flow: { app, nodes: { daily, ev }, target: n, output: ["region", "day"] },
      universe: [
        ...DAYS.map((d) => ({ node: "daily", values: [d] })),
        ...REGIONS.flatMap((r) => DAYS.map((d) => ({ node: "ev", values: [r, d] }))),
      ],
      expected: 4,
    };
  },
  "facts only: output pinned by two unlinked inputs": () => {
    const app = newApp();
    const x = dataset(app, "x", { a: dim.string() });
    const y = dataset(app, "y", { b: dim.string() });
    const n = app.data("n", {
      inputs: [x, y],
      output: { a: dim.string(), b: dim.string() },
      outputLinks: [link("a", x.dim("a")), link("b", y.dim("b"))],
      compute: inline(async () => {}),
    });
    return {
      flow: { app, nodes: { x, y }, target: n, output: ["a", "b"] },
      universe: ["1", "2"]
        .map((v) => ({ node: "x", values: [v] }))
        .concat(["p", "q"].map((v) => ({ node: "y", values: [v] }))),
      expected: 4,
    };
  },
  "map and shift links, one input linked only to the other": () => {
    const app = newApp();
    const ev = dataset(app, "ev", { region: dim.string(), day: dim.datetime() });
    const ids = dataset(app, "ids", { rid: dim.long() });
    const prev = app.timer("prev", "rate(1 day)", { dimension: "d" });
    const n = app.data("n", {
      inputs: [ev, ids, prev],
      links: [
        link(ids.dim("rid"), map({ NA: 1, EU: 2 }), ev.dim("region")),
        link(prev.dim("d"), shift(1), ev.dim("day")),
      ],
      compute: inline(async () => {}),
    });
    return {
      flow: { app, nodes: { ev, ids, prev }, target: n, output: ["region", "day"] },
      universe: [
        ...REGIONS.flatMap((r) => DAYS.map((d) => ({ node: "ev", values: [r, d] }))),
        { node: "ids", values: ["1"] },
        { node: "ids", values: ["2"] },
        { node: "prev", values: ["2024-05-07"] },
        { node: "prev", values: ["2024-05-08"] },
      ],
      expected: 4,
    };
  },
  "truncate link (hourly data, daily gate)": () => {
    const app = newApp();
    const hourly = dataset(app, "hourly", {
      hour: dim.datetime({ format: "%Y-%m-%dT%H", granularity: "HOUR" }),
    });
    const gate = app.timer("gate", "rate(1 day)", { dimension: "day" });
    const n = app.data("n", {
      inputs: [hourly, gate],
      links: [link(gate.dim("day"), truncate("DAY"), hourly.dim("hour"))],
      compute: inline(async () => {}),
    });
    return {
      flow: { app, nodes: { hourly, gate }, target: n, output: ["hour"] },
      universe: [
        { node: "hourly", values: ["2024-05-07T01"] },
        { node: "hourly", values: ["2024-05-07T02"] },
        { node: "hourly", values: ["2024-05-08T01"] },
        { node: "gate", values: ["2024-05-07"] },
      ],
      expected: 2,
    };
  },
};

describe("(c) order never matters: each input partition once, any order, same partitions execute", () => {
  test.each(Object.keys(flows))("%s", async (name) => {
    const { flow, universe, expected } = (
      flows[name] as () => { flow: Flow; universe: Event[]; expected: number }
    )();
    expect(await sameInEveryOrder(flow, universe)).toHaveLength(expected);
  });

  test("random flows: 1-3 inputs, random links among eq/shift/map, random output sources", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          linkDay: fc.boolean(),
          linkRegion: fc.boolean(),
          shiftBy: fc.integer({ min: -1, max: 1 }),
          outRegionFromB: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        async (g) => {
          const app = newApp();
          const a = dataset(app, "a", { region: dim.string(), day: dim.datetime() });
          const b = dataset(app, "b", { reg: dim.string(), d: dim.datetime() });
          const links = [
            ...(g.linkDay ? [link(b.dim("d"), shift(g.shiftBy), a.dim("day"))] : []),
            ...(g.linkRegion ? [link(b.dim("reg"), map({ NA: "na", EU: "eu" }), a.dim("region"))] : []),
          ];
          const n = app.data("n", {
            inputs: [a, b],
            autoLink: false,
            links,
            output: { region: dim.string(), day: dim.datetime() },
            outputLinks: [
              link("region", g.outRegionFromB ? b.dim("reg") : a.dim("region")),
              link("day", a.dim("day")),
            ],
            compute: inline(async () => {}),
          });
          const flow: Flow = { app, nodes: { a, b }, target: n, output: ["region", "day"] };
          const universe: Event[] = [
            ...REGIONS.flatMap((r) => DAYS.map((d) => ({ node: "a", values: [r, d] }))),
            ...["na", "eu", "NA"].flatMap((r) =>
              ["2024-05-06", "2024-05-07"].map((d) => ({ node: "b", values: [r, d] })),
            ),
          ];
          const rnd = (i: number): number => ((g.seed * 9301 + i * 49297) % 233280) / 233280;
          const shuffled = [...universe].sort((x, y) => rnd(universe.indexOf(x)) - rnd(universe.indexOf(y)));
          const one = uniq((await run(flow, universe)).executions);
          const two = uniq((await run(flow, shuffled)).executions);
          const three = uniq((await run(flow, [...universe].reverse())).executions);
          expect(two).toEqual(one);
          expect(three).toEqual(one);
        },
      ),
      { numRuns: 15 },
    );
  });
});
