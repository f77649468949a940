/** Every example builds its FlowModel, and the model says what the example's comments promise. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, type Application, type DataNodeModel, type FlowModel } from "sluice";

const EXAMPLES = join(__dirname, "..", "examples");

function load(name: string): Application {
  let app: Application | undefined;
  jest.isolateModules(() => {
    // A fresh module registry per load: require is the way into it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    app = (require(join(EXAMPLES, name, "flow.ts")) as { default: Application }).default;
  });
  return app as Application;
}

function dataNode(model: FlowModel, id: string): DataNodeModel {
  const n = model.nodes[id];
  if (n?.kind !== "data") throw new Error(`${id} is not a data node`);
  return n;
}

test.each(readdirSync(EXAMPLES).filter((d) => !d.endsWith(".md")))(
  "example %s builds a valid model",
  (name) => {
    const app = load(name);
    expect(app.validate()).toEqual([]);
    const model = app.toModel();
    expect(model.schemaVersion).toBe(1);
    // A second, independent load produces the same bytes.
    expect(canonicalJson(load(name).toModel())).toBe(canonicalJson(model));
  },
);

test("daily-aggregation: 7-day range-checked lookback, reference table, timer-linked day", () => {
  const m = load("daily-aggregation").toModel();
  const node = dataNode(m, "store_revenue_7d");
  const orders = node.inputs.find((i) => i.alias === "orders");
  expect(orders).toMatchObject({
    node: "orders",
    rangeCheck: true,
    reference: false,
    ranges: { day: { from: -6, to: 0 } },
  });
  expect(node.inputs.find((i) => i.alias === "stores")).toMatchObject({ reference: true });
  expect(node.links).toEqual([
    {
      target: { input: "orders", dimension: "day" },
      sources: [{ input: "tick", dimension: "day" }],
      mapper: { kind: "eq" },
      auto: true,
    },
  ]);
  expect(node.outputLinks).toEqual([
    { dimension: "day", sources: [{ input: "tick", dimension: "day" }], mapper: { kind: "eq" }, auto: true },
  ]);
  expect(node.compute[0]).toMatchObject({
    kind: "sparkSql",
    engine: "glue",
    params: { workers: 5, workerType: "G.1X", glueVersion: "4.0" },
  });
  expect(m.nodes.daily?.signal.dimensions).toEqual([
    { name: "day", type: "DATETIME", format: "%Y-%m-%d", granularity: "DAY" },
  ]);
});

test("two-region-join: STRING→LONG map link, auto-linked day across formats, cross-account table", () => {
  const m = load("two-region-join").toModel();
  const node = dataNode(m, "revenue_per_click");
  expect(node.links).toContainEqual({
    target: { input: "billing", dimension: "market_id" },
    sources: [{ input: "clicks", dimension: "market" }],
    mapper: {
      kind: "map",
      entries: [
        ["APAC", 3],
        ["EU", 2],
        ["NA", 1],
      ],
      injective: true,
    },
    auto: false,
  });
  expect(node.links).toContainEqual(
    expect.objectContaining({ target: { input: "billing", dimension: "day" }, auto: true }),
  );
  expect(m.nodes.billing).toMatchObject({
    account: "555566667777",
    region: "eu-west-1",
    database: "finance",
  });
  // Output defaults to the first input's spec, with its filter.
  expect(node.signal.dimensions.map((d) => d.name)).toEqual(["market", "day"]);
  expect(node.signal.filter).toEqual({ market: ["APAC", "EU", "NA"] });
});

test("alarm-reactor: metric math alarm, composite rule over the account's own alarms, alarm-fed node", () => {
  const app = load("alarm-reactor");
  const m = app.toModel();
  const rate = m.nodes.ingest_error_rate;
  expect(rate).toMatchObject({
    kind: "alarm",
    alarmName: "ingest-guard-ingest_error_rate",
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
  });
  expect(rate?.kind === "alarm" && rate.metric.kind === "math" && Object.keys(rate.metric.metrics)).toEqual([
    "calls",
    "errors",
  ]);
  const incident = m.nodes.ingest_incident;
  expect(incident?.kind === "compositeAlarm" && incident.alarmRule).toBe(
    'ALARM("ingest-guard-ingest_error_rate") AND NOT ALARM("ingest-guard-ingest_throttled")',
  );
  const report = dataNode(m, "incident_report");
  expect(report.inputs).toEqual([
    {
      alias: "ingest_incident",
      node: "ingest_incident",
      reference: false,
      rangeCheck: false,
      filter: { state: ["ALARM"] },
      ranges: {},
    },
  ]);
  expect(report.compute[0]).toMatchObject({
    kind: "inline",
    engine: "lambda",
    handler: { module: "handlers/report.ts", export: "writeIncidentReport" },
  });
  expect(report.hooks.handlers.onFailure).toEqual({ module: "handlers/report.ts", export: "pageOnCall" });
  const failures = m.nodes.incident_report_failures;
  expect(
    failures?.kind === "alarm" && failures.metric.kind === "single" && failures.metric.stat.metric,
  ).toEqual({
    namespace: "Sluice/ingest-guard",
    name: "ExecutionFailure",
    dimensions: { Application: "ingest-guard", Route: "incident_report" },
    source: "$route:incident_report",
  });
});
