import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import { Application, dim, FlowValidationError, inline, type FlowModel } from "sluice";
import { flowModelSchema } from "../../src/flow/model/schema";

const UP = { account: "111111111111", region: "us-east-1" };
const DOWN = { account: "222222222222", region: "us-west-2" };

function upstreamApp(authorize = true): Application {
  const app = new Application("orders", UP);
  if (authorize) app.authorizeDownstream("reports", DOWN).authorizeDownstream("audit", UP);
  const raw = app.s3Dataset("raw", { bucket: "raw-orders", dimensions: { day: dim.datetime() } });
  app.data("daily_orders", { inputs: [raw], compute: inline(async () => {}) });
  return app;
}

function errorOf(f: () => unknown): FlowValidationError {
  try {
    f();
  } catch (e) {
    if (e instanceof FlowValidationError) return e;
    throw e;
  }
  throw new Error("expected a FlowValidationError");
}

test("authorizeDownstream: sorted in the model, schema-valid", () => {
  const model = upstreamApp().toModel();
  expect(model.application.downstream).toEqual([
    { name: "audit", ...UP },
    { name: "reports", ...DOWN },
  ]);
  const validate = new Ajv({ strict: true }).compile(flowModelSchema);
  expect(validate(model)).toBe(true);
  expect(new Application("solo", UP).toModel().application).not.toHaveProperty("downstream");
});

test("authorizeDownstream: invalid names, accounts, regions and duplicates are reported", () => {
  const app = new Application("orders", UP);
  app.authorizeDownstream("Bad_Name", DOWN);
  app.authorizeDownstream("audit", { account: "12", region: "mars-1" });
  app.authorizeDownstream("reports", DOWN);
  app.authorizeDownstream("reports", DOWN);
  const codes = errorOf(() => app.toModel()).issues.map((i) => i.code);
  expect(codes).toEqual(
    expect.arrayContaining(["downstream.name", "downstream.duplicate", "aws.account", "aws.region"]),
  );
});

test("importUpstream: an upstream data node as an input, recorded as upstreamData", () => {
  const upModel = upstreamApp().toModel();
  const app = new Application("reports", DOWN);
  const orders = app.importUpstream("orders", { ...UP, manifest: upModel });
  const report = app.data("report", {
    inputs: [orders.node("daily_orders")],
    compute: inline(async () => {}),
  });
  const model = app.toModel();
  expect(model.nodes.daily_orders).toEqual({
    id: "daily_orders",
    kind: "upstreamData",
    signal: upModel.nodes.daily_orders?.signal,
    metadata: {},
    upstream: { application: "orders", ...UP },
    node: "daily_orders",
    path: "internal_data/daily_orders",
    format: "parquet",
  });
  expect(model.nodes[report.id]).toMatchObject({ inputs: [{ alias: "daily_orders", node: "daily_orders" }] });
  expect(new Ajv({ strict: true }).compile(flowModelSchema)(model)).toBe(true);
});

test("importUpstream: the manifest may be a path to the published JSON", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-upstream-"));
  writeFileSync(join(dir, "orders.json"), JSON.stringify(upstreamApp().toModel()));
  const app = new Application("reports", { ...DOWN, root: dir });
  const orders = app.importUpstream("orders", { ...UP, manifest: "orders.json" });
  app.data("report", {
    inputs: [orders.node("daily_orders", "orders_daily")],
    compute: inline(async () => {}),
  });
  expect(app.toModel().nodes.orders_daily).toMatchObject({ kind: "upstreamData", node: "daily_orders" });
});

test("importUpstream: an upstream that does not authorize this application is an error naming both", () => {
  const app = new Application("reports", DOWN);
  const orders = app.importUpstream("orders", { ...UP, manifest: upstreamApp(false).toModel() });
  app.data("report", { inputs: [orders.node("daily_orders")], compute: inline(async () => {}) });
  const issue = errorOf(() => app.toModel()).issues.find((i) => i.code === "upstream.unauthorized");
  expect(issue?.message).toMatch(/"orders".*"reports".*222222222222/);
});

test("importUpstream: only the upstream's own data nodes are visible (no transitive exposure)", () => {
  const reports = new Application("reports", DOWN);
  reports.authorizeDownstream("dashboards", { account: "333333333333", region: "us-east-1" });
  const orders = reports.importUpstream("orders", { ...UP, manifest: upstreamApp().toModel() });
  reports.data("report", { inputs: [orders.node("daily_orders")], compute: inline(async () => {}) });
  const reportsModel: FlowModel = reports.toModel();

  const dashboards = new Application("dashboards", { account: "333333333333", region: "us-east-1" });
  const up = dashboards.importUpstream("reports", { ...DOWN, manifest: reportsModel });
  expect(up.node("report").kind).toBe("upstreamData");
  expect(errorOf(() => up.node("daily_orders")).message).toMatch(
    /upstream "reports", node "daily_orders": it is imported .* "orders" .*no transitive exposure/,
  );
  expect(errorOf(() => up.node("missing")).message).toMatch(/node "missing": no such node/);
  const orders2 = dashboards.importUpstream("orders", { ...UP, manifest: upstreamApp().toModel() });
  expect(errorOf(() => orders2.node("raw")).message).toMatch(/it is a s3Dataset/);
});
