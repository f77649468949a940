/** FlowModel shape: determinism, engine inference, updates, timers, local functions. */
import {
  Application,
  canonicalJson,
  dim,
  inline,
  link,
  prestoSql,
  pySpark,
  range,
  sparkSql,
  FlowValidationError,
  type DataNodeModel,
  type FlowModel,
} from "sluice";

const ACCOUNT = "111122223333";

function app(props: Partial<ConstructorParameters<typeof Application>[1]> = {}): Application {
  return new Application("model-test", { account: ACCOUNT, region: "us-east-1", ...props });
}

function data(m: FlowModel, id: string): DataNodeModel {
  const n = m.nodes[id];
  if (n?.kind !== "data") throw new Error(`${id} is not a data node`);
  return n;
}

describe("determinism", () => {
  function build(order: "a" | "b"): string {
    const a = app();
    const declare = [
      () =>
        a.s3Dataset("events", {
          bucket: "raw",
          dimensions: { region: dim.string(), day: dim.datetime() },
          filter: { region: order === "a" ? ["NA", "EU", "JP"] : ["JP", "NA", "EU", "NA"] },
        }),
      () => a.timer("daily", "rate(1 day)", { dimension: "day" }),
    ];
    (order === "a" ? declare : [...declare].reverse()).forEach((d) => d());
    a.data("joined", {
      inputs: [a.node("daily") as never, a.node("events") as never],
      output: { region: dim.string(), day: dim.datetime() },
      compute: sparkSql("SELECT 1"),
      metadata: order === "a" ? { owner: "team", tier: 1 } : { tier: 1, owner: "team" },
    });
    return a.toJson();
  }

  test("same flow gives the same bytes, whatever order sets and records were written in", () => {
    expect(build("a")).toBe(build("a"));
    expect(build("b")).toBe(build("a"));
  });

  test("nodes are keyed and sorted by id; inputs keep declaration order", () => {
    const m = JSON.parse(build("b")) as FlowModel;
    expect(Object.keys(m.nodes)).toEqual(["daily", "events", "joined"]);
    expect(data(m, "joined").inputs.map((i) => i.alias)).toEqual(["daily", "events"]);
    expect(m.nodes.events?.signal.filter).toEqual({ region: ["EU", "JP", "NA"] });
  });

  test("canonicalJson sorts keys at every level and keeps arrays", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: undefined } }, 0)).toBe('{"a":{"d":[3,1]},"b":1}');
  });
});

describe("engine inference", () => {
  function engines(a: Application): string[] {
    const ev = a.s3Dataset("ev", { bucket: "raw", dimensions: { day: dim.datetime() } });
    a.data("n", {
      inputs: [ev],
      compute: [
        sparkSql("SELECT 1"),
        pySpark("output = ev", {
          emr: { releaseLabel: "emr-7.1.0", instanceType: "m5.xlarge", instanceCount: 3 },
        }),
        pySpark("output = ev", { emr: { serverless: true } }),
        prestoSql("SELECT 1"),
        inline("h.ts#run"),
        sparkSql("SELECT 2", { engine: "emrServerless" }),
      ],
    });
    return data(a.toModel(), "n").compute.map((c) => c.engine);
  }

  test("Spark → Glue by default, EMR hints → EMR, Presto → Athena, inline → Lambda, explicit wins", () => {
    expect(engines(app())).toEqual(["glue", "emr", "emrServerless", "athena", "lambda", "emrServerless"]);
  });

  test("the priority list is configurable", () => {
    expect(engines(app({ enginePriority: ["emrServerless", "glue"] }))[0]).toBe("emrServerless");
  });
});

describe("update and patch", () => {
  test("patch re-validates downstream and the new definition shows in the model", () => {
    const a = app();
    const t = a.timer("tick", "rate(1 day)", { dimension: "day" });
    a.data("daily", { inputs: [t], compute: sparkSql("SELECT 1") });
    a.patch("tick", { schedule: "rate(1 hour)" });
    const m = a.toModel();
    expect(m.nodes.tick).toMatchObject({ schedule: "rate(1 hour)" });
    // The data node's output follows its (now hourly) first input.
    expect(data(m, "daily").signal.dimensions).toEqual([
      { name: "day", type: "DATETIME", format: "%Y-%m-%dT%H", granularity: "HOUR" },
    ]);
  });

  test("an update that breaks a downstream node is undone and reported there", () => {
    const a = app();
    const ev = a.s3Dataset("ev", { bucket: "raw", dimensions: { region: dim.string() } });
    a.data("per_region", { inputs: [ev.at("NA")], compute: sparkSql("SELECT 1") });
    expect(() => a.patch("ev", { filter: { region: ["EU"] } })).toThrow(FlowValidationError);
    try {
      a.patch("ev", { filter: { region: ["EU"] } });
    } catch (e) {
      expect((e as FlowValidationError).issues.map((i) => i.path)).toEqual([
        "nodes.per_region.inputs.ev.dimensions.region",
      ]);
    }
    expect(a.validate()).toEqual([]);
    expect((a.node("ev")?.props as { filter?: unknown }).filter).toBeUndefined();
  });

  test("update of an unknown node is a FlowValidationError", () => {
    expect(() => app().update("nope", {})).toThrow(/no such node/);
  });
});

describe("timers", () => {
  test.each([
    ["rate(5 minutes)", "MINUTE", "%Y-%m-%dT%H:%M"],
    ["rate(1 hour)", "HOUR", "%Y-%m-%dT%H"],
    ["cron(0 6 * * ? *)", "DAY", "%Y-%m-%d"],
    ["cron(0 6 ? * MON *)", "WEEK", "%Y-%m-%d"],
    ["cron(0 6 1 * ? *)", "MONTH", "%Y-%m"],
  ])("%s → %s dimension formatted %s", (schedule, granularity, format) => {
    const a = app();
    a.timer("t", schedule);
    expect(a.toModel().nodes.t?.signal.dimensions).toEqual([
      { name: "time", type: "DATETIME", granularity, format },
    ]);
  });
});

describe("inline code", () => {
  test("functions are registered for LocalRuntime and named in the model by their place", () => {
    const a = app();
    const ev = a.s3Dataset("ev", { bucket: "raw", dimensions: { day: dim.datetime() } });
    const fn = async (): Promise<void> => undefined;
    const onFailure = (): void => undefined;
    a.data("n", { inputs: [ev], compute: inline(fn), hooks: { onFailure } });
    const node = data(a.toModel(), "n");
    expect(node.compute[0]?.handler).toEqual({ function: "n/compute/1" });
    expect(node.hooks.handlers.onFailure).toEqual({ function: "n/hooks/onFailure" });
    expect(a.localFunctions.get("n/compute/1")).toBe(fn);
    expect(a.localFunctions.get("n/hooks/onFailure")).toBe(onFailure);
  });
});

describe("links in the model", () => {
  test("a node input twice is linked through aliases, with the mapper as data", () => {
    const a = app();
    const ev = a.s3Dataset("ev", { bucket: "raw", dimensions: { day: dim.datetime() } });
    a.data("delta", {
      inputs: { today: ev, week: ev.at(range(-7)) },
      links: [link("week.day", "today.day")],
      compute: sparkSql("SELECT 1"),
    });
    const node = data(a.toModel(), "delta");
    expect(node.links).toEqual([
      {
        target: { input: "week", dimension: "day" },
        sources: [{ input: "today", dimension: "day" }],
        mapper: { kind: "eq" },
        auto: false,
      },
    ]);
    expect(node.inputs[1]?.ranges).toEqual({ day: { from: -6, to: 0 } });
  });
});

describe("environments", () => {
  test("compute overrides are sized like node compute and checked the same way", () => {
    const a = app();
    const ev = a.s3Dataset("ev", { bucket: "raw", dimensions: { day: dim.datetime() } });
    a.data("n", { inputs: [ev], compute: pySpark("output = ev") });
    a.environment("prod", {
      account: "999988887777",
      region: "eu-west-1",
      compute: { n: { workers: 40, workerType: "G.2X" } },
    });
    expect(a.toModel().environments.prod?.compute).toEqual({ n: { workers: 40, workerType: "G.2X" } });
    a.environment("dev", {
      account: "999988887777",
      region: "eu-west-1",
      compute: { n: { workers: 2.5, engine: "athena" } },
    });
    expect(a.validate().map((i) => [i.code, i.path])).toEqual([
      ["environment.compute", "environments.dev.compute.n"],
      ["compute.workers", "environments.dev.compute.n"],
    ]);
  });
});
