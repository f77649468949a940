import {
  Application,
  dim,
  FlowValidationError,
  link,
  literal,
  map,
  shift,
  sparkSql,
  truncate,
  type DataNodeProps,
} from "sluice";
import type { DataNodeModel, FlowModel, LinkModel } from "../../src/flow/model/flow-model";

function newApp(): Application {
  return new Application("linking-app", { account: "111122223333", region: "us-east-1" });
}

function dataNode(model: FlowModel, id: string): DataNodeModel {
  const n = model.nodes[id];
  if (n?.kind !== "data") throw new Error(`${id} is not a data node`);
  return n;
}

const compute = sparkSql("SELECT 1");

/** Declares `node` with the props and returns its model. */
function build(app: Application, props: Omit<DataNodeProps, "compute">): DataNodeModel {
  app.data("node", { compute, ...props });
  return dataNode(app.toModel(), "node");
}

function issues(app: Application): { code: string; path: string }[] {
  try {
    app.toModel();
  } catch (e) {
    if (e instanceof FlowValidationError) return e.issues.map(({ code, path }) => ({ code, path }));
    throw e;
  }
  return [];
}

const ref = (input: string, dimension: string) => ({ input, dimension });
const autoEq = (target: string, source: string, dimension: string): LinkModel => ({
  target: ref(target, dimension),
  sources: [ref(source, dimension)],
  mapper: { kind: "eq" },
  auto: true,
});

describe("auto-linking of input dimensions", () => {
  it("links two timers with the same dimension name with one eq link", () => {
    const app = newApp();
    const t1 = app.timer("t1", "rate(1 day)", { dimension: "day" });
    const t2 = app.timer("t2", "cron(0 6 * * ? *)", { dimension: "day" });
    const model = build(app, { inputs: [t1, t2] });
    expect(model.autoLink).toBe(true);
    expect(model.links).toEqual([autoEq("t2", "t1", "day")]);
  });

  it("anchors every later input on the first input that has the dimension", () => {
    const app = newApp();
    const t1 = app.timer("t1", "rate(1 day)", { dimension: "day" });
    const t2 = app.timer("t2", "rate(1 day)", { dimension: "day" });
    const t3 = app.timer("t3", "rate(1 day)", { dimension: "day" });
    const model = build(app, { inputs: { a: t1, b: t2, c: t3 } });
    expect(model.links).toEqual([autoEq("b", "a", "day"), autoEq("c", "a", "day")]);
  });

  it("does not link dimensions of different names", () => {
    const app = newApp();
    const t1 = app.timer("t1", "rate(1 day)", { dimension: "day" });
    const t2 = app.timer("t2", "rate(1 day)", { dimension: "date" });
    const model = build(app, { inputs: [t1, t2] });
    expect(model.links).toEqual([]);
  });

  it("an explicit link suppresses the auto link for that target", () => {
    const app = newApp();
    const t1 = app.timer("t1", "rate(1 day)", { dimension: "day" });
    const t2 = app.timer("t2", "rate(1 day)", { dimension: "day" });
    const t3 = app.timer("t3", "rate(1 day)", { dimension: "day" });
    const model = build(app, {
      inputs: [t1, t2, t3],
      links: [link(t2.dim("day"), shift(-1), t1.dim("day"))],
    });
    expect(model.links).toEqual([
      {
        target: ref("t2", "day"),
        sources: [ref("t1", "day")],
        mapper: { kind: "shift", amount: -1 },
        auto: false,
      },
      // t3 is still auto-linked.
      autoEq("t3", "t1", "day"),
    ]);
  });

  it("an explicit link in the other direction suppresses the auto link too", () => {
    const app = newApp();
    const t1 = app.timer("t1", "rate(1 day)", { dimension: "day" });
    const t2 = app.timer("t2", "rate(1 day)", { dimension: "day" });
    const model = build(app, { inputs: [t1, t2], links: [link("t1.day", shift(1), "t2.day")] });
    expect(model.links).toEqual([
      {
        target: ref("t1", "day"),
        sources: [ref("t2", "day")],
        mapper: { kind: "shift", amount: 1 },
        auto: false,
      },
    ]);
  });

  it("reports same-named dimensions that eq cannot link", () => {
    const app = newApp();
    const hourly = app.timer("hourly", "rate(1 hour)", { dimension: "time" });
    const daily = app.timer("daily", "rate(1 day)", { dimension: "time" });
    app.data("node", { inputs: [daily, hourly], compute });
    expect(issues(app)).toContainEqual({
      code: "link.auto-type-mismatch",
      path: "nodes.node.inputs.hourly.dimensions.time",
    });
    // An explicit link between the two (in either direction) resolves it.
    app.update("node", {
      inputs: [daily, hourly],
      links: [link(daily.dim("time"), truncate("DAY"), hourly.dim("time"))],
      compute,
    });
    const model = dataNode(app.toModel(), "node");
    expect(model.links).toEqual([
      {
        target: ref("daily", "time"),
        sources: [ref("hourly", "time")],
        mapper: { kind: "truncate", granularity: "DAY" },
        auto: false,
      },
    ]);
  });

  it("links through a map between differently typed dimensions", () => {
    const app = newApp();
    const events = app.s3Dataset("events", { bucket: "raw-bucket", dimensions: { region: dim.string() } });
    const customers = app.glueTable("customers", {
      database: "crm",
      table: "customers",
      dimensions: { region: dim.long() },
    });
    app.data("node", { inputs: [events, customers.ref()], compute });
    expect(issues(app).map((i) => i.code)).toEqual(["link.auto-type-mismatch"]);
    app.update("node", {
      inputs: [events, customers.ref()],
      links: [link("customers.region", map({ NA: 1, EU: 2 }), "events.region")],
      compute,
    });
    expect(dataNode(app.toModel(), "node").links).toEqual([
      {
        target: ref("customers", "region"),
        sources: [ref("events", "region")],
        mapper: {
          kind: "map",
          entries: [
            ["EU", 2],
            ["NA", 1],
          ],
          injective: true,
        },
        auto: false,
      },
    ]);
  });

  it("autoLink: false removes every auto link, and then undeclared output dimensions fail", () => {
    const app = newApp();
    const t1 = app.timer("t1", "rate(1 day)", { dimension: "day" });
    const t2 = app.timer("t2", "rate(1 day)", { dimension: "day" });
    app.data("node", { inputs: [t1, t2], autoLink: false, compute });
    // The output defaults to t1's "day", which nothing links any more.
    expect(issues(app)).toEqual([{ code: "output.unlinked", path: "nodes.node.output.dimensions.day" }]);

    app.update("node", {
      inputs: [t1, t2],
      autoLink: false,
      links: [link("day", t2.dim("day"))],
      compute,
    });
    const model = dataNode(app.toModel(), "node");
    expect(model.autoLink).toBe(false);
    expect(model.links).toEqual([]);
    expect(model.outputLinks).toEqual([
      { dimension: "day", sources: [ref("t2", "day")], mapper: { kind: "eq" }, auto: false },
    ]);
  });
});

describe("output defaulting", () => {
  function events(app: Application) {
    return app.s3Dataset("events", {
      bucket: "raw-bucket",
      dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y%m%d" }) },
      filter: { region: ["NA", "EU", "JP"] },
    });
  }

  it("defaults to the first input's dimensions and its effective filter", () => {
    const app = newApp();
    const e = events(app);
    const t = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const model = build(app, { inputs: [e.at(["NA", "EU"], "2024-03-05"), t] });
    const eventsModel = app.toModel().nodes.events;
    expect(model.signal.kind).toBe("internal");
    expect(model.signal.dimensions).toEqual(eventsModel?.signal.dimensions);
    expect(model.signal.filter).toEqual(model.inputs[0]?.filter);
    expect([...(model.signal.filter.region as string[])].sort()).toEqual(["EU", "NA"]);
    expect(model.signal.filter.day).toEqual(["20240305"]);
    expect(model.outputLinks).toEqual([
      { dimension: "region", sources: [ref("events", "region")], mapper: { kind: "eq" }, auto: true },
      { dimension: "day", sources: [ref("events", "day")], mapper: { kind: "eq" }, auto: true },
    ]);
  });

  it("carries the declared filter of an un-narrowed first input", () => {
    const app = newApp();
    const model = build(app, { inputs: [events(app)] });
    expect([...(model.signal.filter.region as string[])].sort()).toEqual(["EU", "JP", "NA"]);
    expect(model.signal.filter.day).toBeUndefined();
  });

  it("a declared output has no filter unless outputFilter gives one", () => {
    const app = newApp();
    const model = build(app, {
      inputs: [events(app)],
      output: { region: dim.string(), day: dim.datetime({ format: "%Y%m%d" }) },
    });
    expect(model.signal.filter).toEqual({});
  });

  it("links each output dimension to the FIRST input that has the name", () => {
    const app = newApp();
    const t = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const e = events(app);
    const other = app.s3Dataset("other", {
      bucket: "raw-bucket",
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const model = build(app, {
      inputs: [t, e, other],
      output: { region: dim.string(), day: dim.datetime() },
    });
    expect(model.outputLinks).toEqual([
      { dimension: "region", sources: [ref("events", "region")], mapper: { kind: "eq" }, auto: true },
      { dimension: "day", sources: [ref("daily", "day")], mapper: { kind: "eq" }, auto: true },
    ]);
  });

  it("keeps output links in output dimension order, explicit ones included", () => {
    const app = newApp();
    const hourly = app.timer("hourly", "rate(1 hour)", { dimension: "hour" });
    const e = events(app);
    const model = build(app, {
      inputs: [hourly, e],
      links: [link("day", truncate("DAY"), hourly.dim("hour"))],
      output: { region: dim.string(), day: dim.datetime() },
      autoLink: true,
    });
    expect(model.outputLinks.map((o) => [o.dimension, o.auto, o.mapper.kind])).toEqual([
      ["region", true, "eq"],
      ["day", false, "truncate"],
    ]);
  });

  it("a literal output link has no sources", () => {
    const app = newApp();
    const t = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const model = build(app, {
      inputs: [t],
      outputLinks: [link("region", literal("NA"))],
      output: { region: dim.string(), day: dim.datetime() },
    });
    expect(model.outputLinks).toEqual([
      { dimension: "region", sources: [], mapper: { kind: "literal", value: "NA" }, auto: false },
      { dimension: "day", sources: [ref("daily", "day")], mapper: { kind: "eq" }, auto: true },
    ]);
    // The same link given among `links` (string target) is the same output link.
    const app2 = newApp();
    const t2 = app2.timer("daily", "rate(1 day)", { dimension: "day" });
    const viaLinks = build(app2, {
      inputs: [t2],
      links: [link("region", literal("NA"))],
      output: { region: dim.string(), day: dim.datetime() },
    });
    expect(viaLinks.outputLinks).toEqual(model.outputLinks);
  });

  it("reports a literal that is not a value of the output dimension", () => {
    const app = newApp();
    const t = app.timer("daily", "rate(1 day)", { dimension: "day" });
    app.data("node", {
      inputs: [t],
      links: [link("n", literal("not-a-number"))],
      output: { n: dim.long(), day: dim.datetime() },
      compute,
    });
    expect(issues(app).map((i) => i.code)).toContain("dimension.type-mismatch");
  });
});
