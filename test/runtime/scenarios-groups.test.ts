/**
 * Trigger-group scenarios on LocalRuntime (brief §3–4): each test builds a small flow, injects events
 * and asserts exactly which executions ran, with which output and input dimensions and paths, and what
 * pending(), executions(), poll() and metrics() report.
 */
import { mkdtempSync, realpathSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  Application,
  anyOf,
  dim,
  inline,
  link,
  literal,
  LocalRuntime,
  map,
  range,
  sparkSql,
  type DimensionValue,
  type HookEvent,
} from "sluice";

// ---------------------------------------------------------------- fixtures

let dir: string;
let runtimes: LocalRuntime[];

beforeEach(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), "sluice-scenarios-")));
  runtimes = [];
});

afterEach(async () => {
  for (const rt of runtimes) await rt.stop();
  await rm(dir, { recursive: true, force: true });
});

function newApp(): Application {
  return new Application("scenarios", { account: "111122223333", region: "us-east-1" });
}

async function start(app: Application, options: { datasets?: Record<string, string> } = {}) {
  const rt = await LocalRuntime.start(app, { dir, ...options });
  runtimes.push(rt);
  return rt;
}

type Dims = Record<string, DimensionValue>;

/** What one inline execution received; paths are relative to the runtime's dir. */
interface Call {
  readonly output: Dims;
  readonly outputPath: string;
  readonly inputs: Record<string, { dimensions: Dims; paths: string[] }>;
}

function recorder() {
  const calls: Call[] = [];
  const compute = inline(async (inputs, output) => {
    calls.push({
      output: { ...output.dimensions },
      outputPath: rel(output.paths[0]),
      inputs: Object.fromEntries(
        Object.entries(inputs).map(([alias, i]) => [
          alias,
          { dimensions: { ...i.dimensions }, paths: i.paths.map(rel) },
        ]),
      ),
    });
  });
  return { calls, compute };
}

function rel(p: string): string {
  return path.relative(dir, p).split(path.sep).join("/");
}

/** Creates a file (and its folders) under the runtime dir. */
async function touch(relPath: string, content = ""): Promise<void> {
  const file = path.join(dir, relPath);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

/** Two daily datasets sharing the dimension name "day" (auto-linked). */
function twoDaily(app: Application) {
  const a = app.s3Dataset("a", { bucket: "raw-a", partitions: ["{}"], dimensions: { day: dim.datetime() } });
  const b = app.s3Dataset("b", { bucket: "raw-b", partitions: ["{}"], dimensions: { day: dim.datetime() } });
  return { a, b };
}

// ---------------------------------------------------------------- linked groups

describe("linked groups", () => {
  test("a then b for the same day meet in one group that executes once", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a, b], compute });
    const rt = await start(app);

    const first = await rt.process(a.at("2024-05-07"));
    expect(first).toEqual({ matched: [{ route: "n", input: "a" }], executions: [] });
    expect(await rt.pending(n)).toEqual([
      expect.objectContaining({ dimensions: { day: "2024-05-07" }, received: ["a"], state: "pending" }),
    ]);
    expect(calls).toEqual([]);

    const second = await rt.process(b.at("2024-05-07"));
    expect(second.executions).toHaveLength(1);
    expect(calls).toEqual([
      {
        output: { day: "2024-05-07" },
        outputPath: "internal_data/n/2024-05-07",
        inputs: {
          a: { dimensions: { day: "2024-05-07" }, paths: ["external/a/2024-05-07"] },
          b: { dimensions: { day: "2024-05-07" }, paths: ["external/b/2024-05-07"] },
        },
      },
    ]);
    expect(await rt.pending(n)).toEqual([]);
    const execs = await rt.executions(n);
    expect(execs).toHaveLength(1);
    expect(execs[0]).toMatchObject({ node: "n", dimensions: { day: "2024-05-07" }, status: "SUCCEEDED" });
    expect(await rt.poll(n.at("2024-05-07"))).toEqual({
      path: path.join(dir, "internal_data/n/2024-05-07"),
    });
    expect(rt.metrics(n)).toEqual({
      ComputeSuccess: 1,
      ExecutionBegin: 1,
      ExecutionSuccess: 1,
      PendingCreated: 1,
    });
  });

  test("b then a (reverse order) completes the same way", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a, b], compute });
    const rt = await start(app);

    await rt.process(b.at("2024-05-07"));
    expect(await rt.pending(n)).toEqual([
      expect.objectContaining({ dimensions: { day: "2024-05-07" }, received: ["b"], missing: ["a"] }),
    ]);
    await rt.process(a.at("2024-05-07"));
    expect(calls.map((c) => c.output)).toEqual([{ day: "2024-05-07" }]);
    expect(calls[0]?.inputs.a?.dimensions).toEqual({ day: "2024-05-07" });
    expect(calls[0]?.inputs.b?.dimensions).toEqual({ day: "2024-05-07" });
    expect(await rt.pending(n)).toEqual([]);
    expect((await rt.executions(n)).map((e) => e.status)).toEqual(["SUCCEEDED"]);
  });

  test("events for different days make separate groups; each executes when its pair arrives", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a, b], compute });
    const rt = await start(app);

    await rt.process(a.at("2024-05-07"));
    await rt.process(b.at("2024-05-08"));
    await rt.process(a.at("2024-05-09"));
    const pending = await rt.pending(n);
    expect(pending.map((p) => p.received)).toEqual([["a"], ["b"], ["a"]]);
    expect(calls).toEqual([]);

    await rt.process(a.at("2024-05-08"));
    expect(calls.map((c) => c.output)).toEqual([{ day: "2024-05-08" }]);
    expect(calls[0]?.inputs.a?.paths).toEqual(["external/a/2024-05-08"]);
    expect(calls[0]?.inputs.b?.paths).toEqual(["external/b/2024-05-08"]);
    expect((await rt.pending(n)).map((p) => p.dimensions)).toEqual([
      { day: "2024-05-07" },
      { day: "2024-05-09" },
    ]);

    await rt.process(b.at("2024-05-07"));
    expect(calls.map((c) => c.output.day)).toEqual(["2024-05-08", "2024-05-07"]);
    expect((await rt.executions(n)).map((e) => e.dimensions.day)).toEqual(["2024-05-07", "2024-05-08"]);
    expect(rt.metrics(n)).toMatchObject({ PendingCreated: 3, ExecutionBegin: 2, ExecutionSuccess: 2 });
  });

  test("concurrent and duplicated deliveries of a group's events execute it exactly once", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a, b], compute });
    const rt = await start(app);

    await Promise.all([
      rt.process(a.at("2024-05-07")),
      rt.process(b.at("2024-05-07")),
      rt.process(a.at("2024-05-07")),
      rt.process(b.at("2024-05-07")),
    ]);
    expect(calls.map((c) => c.output)).toEqual([{ day: "2024-05-07" }]);
    expect(await rt.executions(n)).toHaveLength(1);
    expect(rt.metrics(n)).toMatchObject({ ExecutionBegin: 1, ExecutionSuccess: 1 });
  });
});

// ---------------------------------------------------------------- unlinked groups

describe("unlinked groups", () => {
  test("autoLink: false: a1, a2 then b1 completes both pending groups (2 executions)", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [a, b],
      autoLink: false,
      outputLinks: [link("day", a.dim("day"))],
      compute,
    });
    const rt = await start(app);

    await rt.process(a.at("2024-05-01"));
    await rt.process(a.at("2024-05-02"));
    expect((await rt.pending(n)).map((p) => [p.dimensions, p.received])).toEqual([
      [{ day: "2024-05-01" }, ["a"]],
      [{ day: "2024-05-02" }, ["a"]],
    ]);
    const out = await rt.process(b.at("2024-06-30"));
    expect(out.executions).toHaveLength(2);
    expect(calls.map((c) => [c.output.day, c.inputs.a?.dimensions.day, c.inputs.b?.dimensions.day])).toEqual([
      ["2024-05-01", "2024-05-01", "2024-06-30"],
      ["2024-05-02", "2024-05-02", "2024-06-30"],
    ]);
    expect(await rt.pending(n)).toEqual([]);
    expect((await rt.executions(n)).map((e) => e.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expect(rt.metrics(n)).toMatchObject({ PendingCreated: 2, ExecutionBegin: 2, ExecutionSuccess: 2 });
  });

  test("different dimension names: any combination triggers, a later event opens a new group", async () => {
    const app = newApp();
    const { a } = twoDaily(app);
    const tick = app.timer("tick", "rate(1 hour)", { dimension: "hour" });
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a, tick], compute });
    const rt = await start(app);

    await rt.process(tick.at("2024-05-07T05"));
    await rt.process(a.at("2024-04-01"));
    expect(calls).toEqual([
      {
        output: { day: "2024-04-01" },
        outputPath: "internal_data/n/2024-04-01",
        inputs: {
          a: { dimensions: { day: "2024-04-01" }, paths: ["external/a/2024-04-01"] },
          tick: { dimensions: { hour: "2024-05-07T05" }, paths: [] },
        },
      },
    ]);
    expect(await rt.pending(n)).toEqual([]);

    // The timer is a fact (it pins no output dimension): it stays live and serves the next token.
    await rt.process(a.at("2024-04-02"));
    expect(await rt.pending(n)).toEqual([]);
    expect(calls.map((c) => [c.output.day, c.inputs.tick?.dimensions.hour])).toEqual([
      ["2024-04-01", "2024-05-07T05"],
      ["2024-04-02", "2024-05-07T05"],
    ]);
    expect((await rt.facts(n)).map((f) => [f.input, f.dimensions, f.pins])).toEqual([
      ["tick", { hour: "2024-05-07T05" }, {}],
    ]);
  });

  test("b1 then a1, a2: b1 is a fact for every partition, so a1 and a2 both execute", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [a, b],
      autoLink: false,
      outputLinks: [link("day", a.dim("day"))],
      compute,
    });
    const rt = await start(app);

    await rt.process(b.at("2024-05-01"));
    await rt.process(a.at("2024-05-10"));
    await rt.process(a.at("2024-05-11"));
    expect(calls.map((c) => [c.inputs.a?.dimensions.day, c.inputs.b?.dimensions.day])).toEqual([
      ["2024-05-10", "2024-05-01"],
      ["2024-05-11", "2024-05-01"],
    ]);
    expect(await rt.pending(n)).toEqual([]);
  });
});

// ---------------------------------------------------------------- duplicates

describe("duplicates", () => {
  test("the same event twice on a pending group is a no-op", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a, b], compute });
    const rt = await start(app);

    await rt.process(a.at("2024-05-07"));
    const again = await rt.process(a.at("2024-05-07"));
    expect(again).toEqual({ matched: [{ route: "n", input: "a" }], executions: [] });
    expect(await rt.pending(n)).toHaveLength(1);
    expect(rt.metrics(n)).toEqual({ PendingCreated: 1 });

    await rt.process(b.at("2024-05-07"));
    await rt.process(b.at("2024-05-07"));
    expect(calls).toHaveLength(1);
    expect(await rt.executions(n)).toHaveLength(1);
  });

  test("unlinked: a repeat of a pending group's event opens no second group", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [a, b],
      autoLink: false,
      outputLinks: [link("day", a.dim("day"))],
      compute,
    });
    const rt = await start(app);

    await rt.process(a.at("2024-05-01"));
    await rt.process(a.at("2024-05-01"));
    expect(await rt.pending(n)).toHaveLength(1);
    await rt.process(b.at("2024-05-02"));
    expect(calls).toHaveLength(1);
    expect(await rt.executions(n)).toHaveLength(1);
  });

  test("unlinked, three inputs: a repeat joins the group that lacks it, not the one that has it", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const c = app.s3Dataset("c", {
      bucket: "raw-c",
      partitions: ["{}"],
      dimensions: { day: dim.datetime() },
    });
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [a, b, c],
      autoLink: false,
      outputLinks: [link("day", a.dim("day"))],
      compute,
    });
    const rt = await start(app);

    await rt.process(a.at("2024-05-01")); // G1 {a1}
    await rt.process(b.at("2024-05-01")); // G1 {a1, b1}
    await rt.process(a.at("2024-05-02")); // G2 {a2}
    await rt.process(b.at("2024-05-01")); // repeat for G1, joins G2 {a2, b1}
    expect((await rt.pending(n)).map((p) => p.received)).toEqual([
      ["a", "b"],
      ["a", "b"],
    ]);
    expect(rt.metrics(n)).toEqual({ PendingCreated: 2 });
    await rt.process(c.at("2024-05-03"));
    expect(calls.map((x) => [x.inputs.a?.dimensions.day, x.inputs.b?.dimensions.day])).toEqual([
      ["2024-05-01", "2024-05-01"],
      ["2024-05-02", "2024-05-01"],
    ]);
    expect(await rt.pending(n)).toEqual([]);
  });

  test("after execution the same event opens a new group, unless it repeats a pending group's event", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a, b], compute });
    const rt = await start(app);

    await rt.process(a.at("2024-05-07"));
    await rt.process(b.at("2024-05-07"));
    expect(calls).toHaveLength(1);

    // Nothing pending repeats it: a new group.
    await rt.process(a.at("2024-05-07"));
    expect(await rt.pending(n)).toEqual([
      expect.objectContaining({ dimensions: { day: "2024-05-07" }, received: ["a"] }),
    ]);
    // Now it repeats that pending group's event: no-op.
    await rt.process(a.at("2024-05-07"));
    expect(await rt.pending(n)).toHaveLength(1);
    expect(rt.metrics(n)).toMatchObject({ PendingCreated: 2, ExecutionBegin: 1 });

    await rt.process(b.at("2024-05-07"));
    expect(calls).toHaveLength(2);
    expect((await rt.executions(n)).map((e) => [e.dimensions.day, e.status])).toEqual([
      ["2024-05-07", "SUCCEEDED"],
      ["2024-05-07", "SUCCEEDED"],
    ]);
    expect(await rt.pending(n)).toEqual([]);
  });
});

// ---------------------------------------------------------------- references

describe("references", () => {
  test("a ref input never triggers; its dims come through a STRING→LONG map link", async () => {
    const app = newApp();
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const customers = app.s3Dataset("customers", {
      bucket: "crm",
      partitions: ["id={}"],
      dimensions: { region_id: dim.long() },
    });
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [events, customers.ref()],
      links: [link(customers.dim("region_id"), map({ NA: 1, EU: 2, JP: 3 }), events.dim("region"))],
      compute,
    });
    const rt = await start(app);

    const refEvent = await rt.process(customers.at(2));
    expect(refEvent.matched).toEqual([]);
    expect(refEvent.unmatched).toEqual(expect.any(String));
    expect(await rt.pending(n)).toEqual([]);
    expect(calls).toEqual([]);

    await rt.process(events.at("EU", "2024-05-07"));
    expect(calls).toEqual([
      {
        output: { region: "EU", day: "2024-05-07" },
        outputPath: "internal_data/n/EU/2024-05-07",
        inputs: {
          events: {
            dimensions: { region: "EU", day: "2024-05-07" },
            paths: ["external/events/region=EU/2024-05-07"],
          },
          customers: { dimensions: { region_id: 2 }, paths: ["external/customers/id=2"] },
        },
      },
    ]);
  });

  test("a ref with an unlinked dimension reads a glob path", async () => {
    const app = newApp();
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["{}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const snapshots = app.s3Dataset("snapshots", {
      bucket: "crm",
      partitions: ["id={}", "taken={}"],
      dimensions: { region_id: dim.long(), taken: dim.datetime() },
    });
    const { calls, compute } = recorder();
    app.data("n", {
      inputs: { e: events, s: snapshots.at("*", "*").ref() },
      links: [link("s.region_id", map({ NA: 1, EU: 2 }), "e.region")],
      compute,
    });
    const rt = await start(app);

    await rt.process(events.at("NA", "2024-05-07"));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.inputs.s).toEqual({
      dimensions: { region_id: 1 },
      paths: ["external/snapshots/id=1/taken=*"],
    });
    expect(calls[0]?.inputs.e?.paths).toEqual(["external/events/NA/2024-05-07"]);
  });
});

// ---------------------------------------------------------------- map links

describe("map links", () => {
  const cases = [
    ["target on the LONG side", "long"],
    ["target on the STRING side", "string"],
  ] as const;

  test.each(cases)("between two trigger inputs, %s", async (_label, side) => {
    const app = newApp();
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["{}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const ids = app.s3Dataset("ids", {
      bucket: "crm",
      partitions: ["{}", "{}"],
      dimensions: { region_id: dim.long(), day: dim.datetime() },
    });
    const l =
      side === "long"
        ? link(ids.dim("region_id"), map({ NA: 1, EU: 2 }), events.dim("region"))
        : link(
            events.dim("region"),
            map(
              new Map<DimensionValue, DimensionValue>([
                [1, "NA"],
                [2, "EU"],
              ]),
            ),
            ids.dim("region_id"),
          );
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [events, ids], links: [l], compute });
    const rt = await start(app);

    await rt.process(events.at("NA", "2024-05-07"));
    await rt.process(ids.at(2, "2024-05-07")); // EU: another group
    await rt.process(ids.at(1, "2024-05-08")); // another day: another group
    expect(calls).toEqual([]);
    expect(await rt.pending(n)).toHaveLength(3);

    await rt.process(ids.at(1, "2024-05-07"));
    expect(calls).toEqual([
      {
        output: { region: "NA", day: "2024-05-07" },
        outputPath: "internal_data/n/NA/2024-05-07",
        inputs: {
          events: {
            dimensions: { region: "NA", day: "2024-05-07" },
            paths: ["external/events/NA/2024-05-07"],
          },
          ids: { dimensions: { region_id: 1, day: "2024-05-07" }, paths: ["external/ids/1/2024-05-07"] },
        },
      },
    ]);
    await rt.process(events.at("EU", "2024-05-07"));
    expect(calls.map((c) => [c.output.region, c.inputs.ids?.dimensions.region_id])).toEqual([
      ["NA", 1],
      ["EU", 2],
    ]);
    expect((await rt.pending(n)).map((p) => p.received)).toEqual([["ids"]]);
  });

  test("execute() inverts the output and the map link; pending groups are left alone", async () => {
    const app = newApp();
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["{}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const ids = app.s3Dataset("ids", {
      bucket: "crm",
      partitions: ["{}", "{}"],
      dimensions: { region_id: dim.long(), day: dim.datetime() },
    });
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [events, ids],
      links: [link(ids.dim("region_id"), map({ NA: 1, EU: 2 }), events.dim("region"))],
      compute,
    });
    const rt = await start(app);

    await rt.process(events.at("EU", "2024-05-07"));
    const record = await rt.execute(n.at("EU", "2024-05-07"));
    expect(record).toMatchObject({ status: "SUCCEEDED", dimensions: { region: "EU", day: "2024-05-07" } });
    expect(calls.map((c) => [c.inputs.events?.dimensions, c.inputs.ids?.dimensions])).toEqual([
      [
        { region: "EU", day: "2024-05-07" },
        { region_id: 2, day: "2024-05-07" },
      ],
    ]);
    expect(await rt.pending(n)).toEqual([expect.objectContaining({ received: ["events"] })]);
    expect(await rt.poll(n.at("EU", "2024-05-07"))).toEqual({
      path: path.join(dir, "internal_data/n/EU/2024-05-07"),
    });
    expect(await rt.poll(n.at("NA", "2024-05-07"))).toEqual({});
  });

  test("an event whose value is not in the map never completes a group", async () => {
    const app = newApp();
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["{}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const ids = app.s3Dataset("ids", {
      bucket: "crm",
      partitions: ["{}", "{}"],
      dimensions: { region_id: dim.long(), day: dim.datetime() },
    });
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [events, ids],
      links: [link(ids.dim("region_id"), map({ NA: 1, EU: 2 }), events.dim("region"))],
      compute,
    });
    const rt = await start(app);

    await rt.process(events.at("JP", "2024-05-07"));
    await rt.process(ids.at(3, "2024-05-07"));
    await rt.process(ids.at(1, "2024-05-07"));
    await rt.process(ids.at(2, "2024-05-07"));
    expect(calls).toEqual([]);
    // Same creation time: compare as a set. ids(3) maps to no region: it contradicts the link by
    // itself, can complete nothing and is not stored.
    expect((await rt.pending(n)).map((p) => p.received.join()).sort()).toEqual(["events", "ids", "ids"]);
    expect(await rt.executions(n)).toEqual([]);
  });
});

// ---------------------------------------------------------------- ranges

describe("ranges", () => {
  function regional(app: Application) {
    return app.s3Dataset("e", {
      bucket: "raw",
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
  }

  test('at("*", range(-3)) gives the tip and the two days before it, tip first', async () => {
    const app = newApp();
    const e = regional(app);
    const { calls, compute } = recorder();
    app.data("w", { inputs: { last3: e.at("*", range(-3)) }, compute });
    const rt = await start(app);

    await rt.process(e.at("NA", "2024-03-01"));
    expect(calls).toEqual([
      {
        output: { region: "NA", day: "2024-03-01" },
        outputPath: "internal_data/w/NA/2024-03-01",
        inputs: {
          last3: {
            dimensions: { region: "NA", day: "2024-03-01" },
            paths: [
              "external/e/region=NA/2024-03-01",
              "external/e/region=NA/2024-02-29",
              "external/e/region=NA/2024-02-28",
            ],
          },
        },
      },
    ]);
  });

  test("range(2) looks forward from the tip", async () => {
    const app = newApp();
    const e = regional(app);
    const { calls, compute } = recorder();
    app.data("w", { inputs: { next2: e.at("*", range(2)) }, compute });
    const rt = await start(app);

    await rt.process(e.at("EU", "2024-12-31"));
    expect(calls[0]?.inputs.next2?.paths).toEqual([
      "external/e/region=EU/2024-12-31",
      "external/e/region=EU/2025-01-01",
    ]);
    expect(calls[0]?.output).toEqual({ region: "EU", day: "2024-12-31" });
  });

  test("rangeCheck on an external dataset waits until the last missing partition exists", async () => {
    const app = newApp();
    const e = regional(app);
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const { calls, compute } = recorder();
    const w = app.data("w", {
      inputs: { t: daily, last3: e.at("NA", range(-3)).rangeCheck() },
      output: { day: dim.datetime() },
      compute,
    });
    const rt = await start(app);

    await touch("external/e/region=NA/2024-05-07/_SUCCESS");
    await touch("external/e/region=NA/2024-05-05/_SUCCESS");
    await rt.process(daily.at("2024-05-07"));
    await rt.process(e.at("NA", "2024-05-07"));
    expect(calls).toEqual([]);
    expect(await rt.pending(w)).toEqual([
      expect.objectContaining({
        dimensions: { day: "2024-05-07" },
        received: ["t", "last3"],
        state: "waiting",
      }),
    ]);
    expect(await rt.executions(w)).toEqual([]);

    // A data file without the completion marker does not count.
    await touch("external/e/region=NA/2024-05-06/part-0.parquet");
    await rt.advance(1000);
    expect(calls).toEqual([]);

    await touch("external/e/region=NA/2024-05-06/_SUCCESS");
    await rt.process(e.at("NA", "2024-05-06"));
    expect(calls).toEqual([
      {
        output: { day: "2024-05-07" },
        outputPath: "internal_data/w/2024-05-07",
        inputs: {
          t: { dimensions: { day: "2024-05-07" }, paths: [] },
          last3: {
            dimensions: { region: "NA", day: "2024-05-07" },
            paths: [
              "external/e/region=NA/2024-05-07",
              "external/e/region=NA/2024-05-06",
              "external/e/region=NA/2024-05-05",
            ],
          },
        },
      },
    ]);
    // The 2024-05-06 event opened its own group, which still waits for its timer.
    expect(await rt.pending(w)).toEqual([
      expect.objectContaining({ dimensions: { day: "2024-05-06" }, received: ["last3"], state: "pending" }),
    ]);
    expect(await rt.poll(w.at("2024-05-07"))).toEqual({
      path: path.join(dir, "internal_data/w/2024-05-07"),
    });
    expect(rt.metrics(w)).toMatchObject({ PendingCreated: 2, ExecutionBegin: 1, ExecutionSuccess: 1 });
  });

  test("rangeCheck on a ref bound to a local folder (datasets option) waits, then executes", async () => {
    const app = newApp();
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const snaps = app.s3Dataset("snaps", {
      bucket: "crm",
      partitions: ["dt={}"],
      dimensions: { day: dim.datetime() },
      completion: "_DONE",
    });
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [daily, snaps.ref().rangeCheck()], compute });
    const bound = path.join(dir, "bound-snaps");
    const rt = await start(app, { datasets: { snaps: bound } });

    await rt.process(daily.at("2024-05-07"));
    expect(calls).toEqual([]);
    expect(await rt.pending(n)).toEqual([expect.objectContaining({ received: ["daily"], state: "waiting" })]);

    await touch("bound-snaps/dt=2024-05-07/_DONE");
    // The reference does not trigger, but its partition is consumed by the range check.
    const out = await rt.process(snaps.at("2024-05-07"));
    expect(out.matched).toEqual([{ route: "n", input: "snaps" }]);
    expect(out.unmatched).toBeUndefined();
    expect(out.executions).toHaveLength(1);
    expect(calls).toEqual([
      {
        output: { day: "2024-05-07" },
        outputPath: "internal_data/n/2024-05-07",
        inputs: {
          daily: { dimensions: { day: "2024-05-07" }, paths: [] },
          snaps: { dimensions: { day: "2024-05-07" }, paths: ["bound-snaps/dt=2024-05-07"] },
        },
      },
    ]);
    expect(await rt.pending(n)).toEqual([]);
  });

  test("a group waiting on a range check expires after pendingTtlSeconds like any incomplete group", async () => {
    const app = newApp();
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const snaps = app.s3Dataset("snaps", {
      bucket: "crm",
      partitions: ["{}"],
      dimensions: { day: dim.datetime() },
    });
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [daily, snaps.at(range(-2)).ref().rangeCheck()],
      compute,
      pendingTtlSeconds: 60,
    });
    const rt = await start(app);

    await touch("external/snaps/2024-05-07/_SUCCESS");
    await rt.process(daily.at("2024-05-07"));
    expect(await rt.pending(n)).toEqual([expect.objectContaining({ state: "waiting" })]);
    await rt.advance(61_000);
    expect(await rt.pending(n)).toEqual([]);
    expect(rt.metrics(n)).toEqual({ PendingCreated: 1, PendingExpired: 1 });

    // The window completing later does not resurrect the expired group.
    await touch("external/snaps/2024-05-06/_SUCCESS");
    await rt.process(snaps.at("2024-05-06"));
    expect(calls).toEqual([]);
    expect(await rt.executions(n)).toEqual([]);

    // The timer firing again opens a fresh group, which now finds its window complete.
    await rt.process(daily.at("2024-05-07"));
    expect(calls.map((c) => c.inputs.snaps?.paths)).toEqual([
      ["external/snaps/2024-05-07", "external/snaps/2024-05-06"],
    ]);
  });

  test("rangeCheck on an upstream data node reads its _SUCCESS markers", async () => {
    const app = newApp();
    const src = app.s3Dataset("src", {
      bucket: "raw",
      partitions: ["{}"],
      dimensions: { day: dim.datetime() },
    });
    const up = app.data("up", { inputs: [src], compute: inline(async () => undefined) });
    const { calls, compute } = recorder();
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const down = app.data("down", {
      inputs: { t: daily, hist: up.at(range(-2)).ref().rangeCheck() },
      compute,
    });
    const rt = await start(app);

    await touch("internal_data/up/2024-05-06/_SUCCESS");
    await rt.process(daily.at("2024-05-07"));
    expect(calls).toEqual([]);
    expect(await rt.pending(down)).toEqual([expect.objectContaining({ state: "waiting" })]);

    // The last missing partition is produced by the upstream node itself.
    await rt.process(src.at("2024-05-07"));
    expect(calls).toEqual([
      {
        output: { day: "2024-05-07" },
        outputPath: "internal_data/down/2024-05-07",
        inputs: {
          t: { dimensions: { day: "2024-05-07" }, paths: [] },
          hist: {
            dimensions: { day: "2024-05-07" },
            paths: ["internal_data/up/2024-05-07", "internal_data/up/2024-05-06"],
          },
        },
      },
    ]);
  });
});

// ---------------------------------------------------------------- output formats

describe("output dimensions", () => {
  test("an output datetime format different from the input's shapes the output path", async () => {
    const app = newApp();
    const { a } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [a], output: { day: dim.datetime({ format: "%Y%m%d" }) }, compute });
    const rt = await start(app);

    await rt.process(a.at("2024-05-07"));
    expect(calls).toEqual([
      {
        output: { day: "20240507" },
        outputPath: "internal_data/n/20240507",
        inputs: { a: { dimensions: { day: "2024-05-07" }, paths: ["external/a/2024-05-07"] } },
      },
    ]);
    expect(await rt.poll(n.at("20240507"))).toEqual({ path: path.join(dir, "internal_data/n/20240507") });
    expect((await rt.executions(n))[0]?.dimensions).toEqual({ day: "20240507" });
  });

  test("a LONG output with digits is zero-padded in the path", async () => {
    const app = newApp();
    const shards = app.s3Dataset("shards", {
      bucket: "raw",
      partitions: ["shard={}"],
      dimensions: { shard: dim.long() },
    });
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [shards], output: { shard: dim.long({ digits: 4 }) }, compute });
    const rt = await start(app);

    await rt.process(shards.at(42));
    expect(calls).toEqual([
      {
        output: { shard: 42 },
        outputPath: "internal_data/n/0042",
        inputs: { shards: { dimensions: { shard: 42 }, paths: ["external/shards/shard=42"] } },
      },
    ]);
    expect(await rt.poll(n.at(42))).toEqual({ path: path.join(dir, "internal_data/n/0042") });
  });

  test("an output link with literal() fixes a dimension no input has", async () => {
    const app = newApp();
    const { a } = twoDaily(app);
    const { calls, compute } = recorder();
    const n = app.data("n", {
      inputs: [a],
      output: { region: dim.string(), day: dim.datetime() },
      outputLinks: [link("region", literal("NA"))],
      compute,
    });
    const rt = await start(app);

    await rt.process(a.at("2024-05-07"));
    expect(calls.map((c) => [c.output, c.outputPath])).toEqual([
      [{ region: "NA", day: "2024-05-07" }, "internal_data/n/NA/2024-05-07"],
    ]);
    expect(await rt.poll(n.at("NA", "2024-05-07"))).toEqual({
      path: path.join(dir, "internal_data/n/NA/2024-05-07"),
    });
    expect(await rt.poll(n.at("EU", "2024-05-07"))).toEqual({});
  });
});

// ---------------------------------------------------------------- pending TTL

describe("pending TTL", () => {
  test("a group past pendingTtlSeconds expires; the same event afterwards opens a fresh group", async () => {
    const app = newApp();
    const { a, b } = twoDaily(app);
    const { calls, compute } = recorder();
    const expired: HookEvent[] = [];
    const created: HookEvent[] = [];
    const n = app.data("n", {
      inputs: [a, b],
      compute,
      pendingTtlSeconds: 60,
      hooks: {
        onPendingExpired: (e: HookEvent) => void expired.push(e),
        onPendingCreated: (e: HookEvent) => void created.push(e),
      },
    });
    const rt = await start(app);

    await rt.process(a.at("2024-05-07"));
    const [group] = await rt.pending(n);
    expect(group?.expiresAt).toBe(rt.now() + 60_000);
    await rt.advance(59_000);
    expect(await rt.pending(n)).toHaveLength(1);
    await rt.advance(2_000);
    expect(await rt.pending(n)).toEqual([]);
    expect(rt.metrics(n)).toEqual({ PendingCreated: 1, PendingExpired: 1 });
    expect(expired).toEqual([
      expect.objectContaining({ node: "n", hook: "onPendingExpired", dimensions: { day: "2024-05-07" } }),
    ]);

    await rt.process(a.at("2024-05-07"));
    expect(await rt.pending(n)).toEqual([
      expect.objectContaining({ dimensions: { day: "2024-05-07" }, received: ["a"] }),
    ]);
    expect(created).toHaveLength(2);
    await rt.process(b.at("2024-05-07"));
    expect(calls.map((c) => c.output)).toEqual([{ day: "2024-05-07" }]);
    expect(rt.metrics(n)).toMatchObject({ PendingCreated: 2, PendingExpired: 1, ExecutionSuccess: 1 });
  });
});

// ---------------------------------------------------------------- timers

describe("timers", () => {
  test("two timers auto-linked on the same dimension name execute only when both fired that day", async () => {
    const app = newApp();
    const t1 = app.timer("t1", "rate(1 day)", { dimension: "day" });
    const t2 = app.timer("t2", "cron(0 6 * * ? *)", { dimension: "day" });
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [t1, t2], compute });
    const rt = await start(app);

    await rt.process(t1.at("2024-05-07"));
    await rt.process(t2.at("2024-05-08"));
    expect(calls).toEqual([]);
    expect((await rt.pending(n)).map((p) => p.received)).toEqual([["t1"], ["t2"]]);

    await rt.process(t2.at("2024-05-07"));
    expect(calls).toEqual([
      {
        output: { day: "2024-05-07" },
        outputPath: "internal_data/n/2024-05-07",
        inputs: {
          t1: { dimensions: { day: "2024-05-07" }, paths: [] },
          t2: { dimensions: { day: "2024-05-07" }, paths: [] },
        },
      },
    ]);
    expect((await rt.pending(n)).map((p) => [p.dimensions, p.received])).toEqual([
      [{ day: "2024-05-08" }, ["t2"]],
    ]);
  });
});

// ---------------------------------------------------------------- alarms

describe("alarms as inputs", () => {
  function withWorker(app: Application) {
    const { a } = twoDaily(app);
    const worker = app.data("worker", { inputs: [a], compute: inline(async () => undefined) });
    const failures = app.alarm("failures", {
      metric: app.routeMetrics(worker).get("ExecutionFailure"),
      statistic: "Sum",
      periodSeconds: 300,
      threshold: 1,
      comparison: "GreaterThanOrEqualToThreshold",
    });
    return { failures };
  }

  test('alarm.is("ALARM") triggers with state and time; is("OK") does not', async () => {
    const app = newApp();
    const { failures } = withWorker(app);
    const { calls, compute } = recorder();
    const page = app.data("page", { inputs: [failures.is("ALARM")], compute });
    const rt = await start(app, {});

    const ok = await rt.process(failures.is("OK"));
    expect(ok.matched).toEqual([]);
    expect(ok.unmatched).toEqual(expect.any(String));
    expect(calls).toEqual([]);

    await rt.process(failures.is("ALARM"));
    expect(calls).toEqual([
      {
        output: { state: "ALARM", time: "2024-01-01T00:00" },
        outputPath: "internal_data/page/ALARM/2024-01-01T00:00",
        inputs: { failures: { dimensions: { state: "ALARM", time: "2024-01-01T00:00" }, paths: [] } },
      },
    ]);
    await rt.advance(5 * 60_000);
    await rt.process(failures.is("ALARM"));
    expect(calls.map((c) => c.output.time)).toEqual(["2024-01-01T00:00", "2024-01-01T00:05"]);
    expect((await rt.executions(page)).map((e) => e.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expect(await rt.pending(page)).toEqual([]);
  });

  test('compositeAlarm(...).is("ALARM") feeds a data node', async () => {
    const app = newApp();
    const { failures } = withWorker(app);
    const upstream = app.externalAlarm("upstream", {
      account: "222233334444",
      region: "us-west-2",
      alarmName: "foo-availability",
    });
    const monitor = app.compositeAlarm("monitor", {
      rule: anyOf(failures.is("ALARM"), upstream.is("ALARM")),
    });
    const { calls, compute } = recorder();
    const onAlarm = app.data("on_alarm", { inputs: [monitor.is("ALARM")], compute });
    const rt = await start(app);

    // Component alarms are not inputs of on_alarm.
    expect((await rt.process(upstream.is("ALARM"))).matched).toEqual([]);
    expect((await rt.process(monitor.is("OK"))).matched).toEqual([]);
    expect(calls).toEqual([]);

    const out = await rt.process(monitor.is("ALARM"));
    expect(out.matched).toEqual([{ route: "on_alarm", input: "monitor" }]);
    expect(calls.map((c) => [c.output, c.inputs.monitor?.dimensions])).toEqual([
      [
        { state: "ALARM", time: "2024-01-01T00:00" },
        { state: "ALARM", time: "2024-01-01T00:00" },
      ],
    ]);
    expect(rt.metrics(onAlarm)).toMatchObject({ ExecutionBegin: 1, ExecutionSuccess: 1 });
  });
});

// ---------------------------------------------------------------- sparkSql on DuckDB

describe("sparkSql on DuckDB", () => {
  function q(s: string): string {
    return `'${s.replace(/'/g, "''")}'`;
  }

  async function writeParquet(relDir: string, select: string): Promise<void> {
    const folder = path.join(dir, relDir);
    await mkdir(folder, { recursive: true });
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    try {
      await conn.run(`COPY (${select}) TO ${q(path.join(folder, "part-0.parquet"))} (FORMAT PARQUET)`);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    await writeFile(path.join(folder, "_SUCCESS"), "");
  }

  async function readParquet(folder: string): Promise<Record<string, unknown>[]> {
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    try {
      const reader = await conn.runAndReadAll(
        `SELECT name, CAST(total AS INTEGER) AS total FROM read_parquet(${q(path.join(folder, "*.parquet"))}) ORDER BY 1`,
      );
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  }

  function shop(app: Application) {
    const orders = app.s3Dataset("orders", {
      bucket: "raw",
      partitions: ["{}"],
      dimensions: { day: dim.datetime() },
    });
    const customers = app.s3Dataset("customers", {
      bucket: "crm",
      partitions: ["{}"],
      dimensions: { day: dim.datetime() },
    });
    return { orders, customers };
  }

  test("a node joining two aliases writes Parquet at the polled path", async () => {
    const app = newApp();
    const { orders, customers } = shop(app);
    const joined = app.data("joined", {
      inputs: { o: orders, c: customers },
      compute: sparkSql(
        "SELECT c.name, SUM(o.amount) AS total FROM o JOIN c ON o.cid = c.cid GROUP BY c.name",
      ),
    });
    const rt = await start(app);
    await writeParquet(
      "external/orders/2024-05-07",
      "SELECT * FROM (VALUES (1, 10), (1, 5), (2, 7), (3, 1)) t(cid, amount)",
    );
    await writeParquet(
      "external/customers/2024-05-07",
      "SELECT * FROM (VALUES (1, 'ann'), (2, 'bob')) t(cid, name)",
    );

    await rt.process(orders.at("2024-05-07"));
    await rt.process(customers.at("2024-05-07"));
    const [exec] = await rt.executions(joined);
    expect(exec).toMatchObject({ status: "SUCCEEDED", targets: [{ kind: "sparkSql", status: "SUCCEEDED" }] });
    const polled = await rt.poll(joined.at("2024-05-07"));
    expect(polled.path).toBe(path.join(dir, "internal_data/joined/2024-05-07"));
    expect(await readParquet(polled.path as string)).toEqual([
      { name: "ann", total: 15 },
      { name: "bob", total: 7 },
    ]);
  });

  test("LATERAL VIEW fails the execution with a clear error in poll records", async () => {
    const app = newApp();
    const { orders } = shop(app);
    const exploded = app.data("exploded", {
      inputs: { o: orders },
      compute: sparkSql("SELECT o.cid, x FROM o LATERAL VIEW explode(array(1, 2)) t AS x"),
    });
    const rt = await start(app);
    await writeParquet("external/orders/2024-05-07", "SELECT 1 AS cid");

    await rt.process(orders.at("2024-05-07"));
    const polled = await rt.poll(exploded.at("2024-05-07"));
    expect(polled.path).toBeUndefined();
    expect(polled.records).toHaveLength(1);
    const record = polled.records?.[0];
    expect(record?.status).toBe("FAILED");
    expect(record?.targets[0]).toMatchObject({ kind: "sparkSql", status: "FAILED" });
    expect(record?.targets[0]?.error).toMatch(/LATERAL VIEW/);
    expect(record?.targets[0]?.error).toMatch(/exploded/);
    expect(rt.metrics(exploded)).toMatchObject({ ExecutionBegin: 1, ComputeFailure: 1, ExecutionFailure: 1 });
  });
});

// ---------------------------------------------------------------- unmatched

describe("unmatched events", () => {
  test("an event outside the input's filter matches nothing and changes nothing", async () => {
    const app = newApp();
    const e = app.s3Dataset("e", {
      bucket: "raw",
      partitions: ["{}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
      filter: { region: ["NA", "EU"] },
    });
    const { calls, compute } = recorder();
    const n = app.data("n", { inputs: [e.at("NA", "*")], compute });
    const rt = await start(app);

    const out = await rt.process(e.at("EU", "2024-05-07"));
    expect(out.matched).toEqual([]);
    expect(out.executions).toEqual([]);
    expect(out.unmatched).toMatch(/no route/);
    expect(calls).toEqual([]);
    expect(await rt.pending(n)).toEqual([]);
    expect(await rt.executions(n)).toEqual([]);
    expect(rt.metrics(n)).toEqual({});
    expect(rt.metrics()).toMatchObject({ EventsReceived: 1, EventsUnmatched: 1 });

    await rt.process(e.at("NA", "2024-05-07"));
    expect(calls.map((c) => c.output)).toEqual([{ region: "NA", day: "2024-05-07" }]);
  });
});
