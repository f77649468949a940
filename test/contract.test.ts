/**
 * The brief's public contract, used the way the brief writes it: every name imported from the
 * package root, the brief's flow, and the LocalRuntime calls of §3 with their documented results.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Application,
  dim,
  range,
  link,
  eq,
  map,
  shift,
  truncate,
  literal,
  sparkSql,
  pySpark,
  prestoSql,
  inline,
  anyOf,
  allOf,
  not,
  LocalRuntime,
  FlowValidationError,
} from "sluice";
import { briefApp } from "./support/brief-app";

test("every name of the contract is exported from the package root", () => {
  const names = {
    Application,
    dim,
    range,
    link,
    eq,
    map,
    shift,
    truncate,
    literal,
    sparkSql,
    pySpark,
    prestoSql,
    inline,
    anyOf,
    allOf,
    not,
    LocalRuntime,
    FlowValidationError,
  };
  for (const [name, value] of Object.entries(names)) expect([name, value]).toEqual([name, expect.anything()]);
});

async function parquet(file: string, sql: string): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  await c.run(`COPY (${sql}) TO '${file}' (FORMAT PARQUET)`);
  c.closeSync();
}

test("the brief's LocalRuntime session", async () => {
  const app = briefApp();
  const dir = mkdtempSync(join(tmpdir(), "sluice-contract-"));
  const eventsDir = join(dir, "external", "events", "region=NA", "2024-05-07");
  const customersDir = join(dir, "external", "customers", "region_id=1");
  mkdirSync(eventsDir, { recursive: true });
  mkdirSync(customersDir, { recursive: true });
  await parquet(
    join(eventsDir, "part-0.parquet"),
    "SELECT * FROM (VALUES (1, 10.0), (2, 5.0)) t(cid, amount)",
  );
  writeFileSync(join(eventsDir, "_SUCCESS"), "");
  await parquet(
    join(customersDir, "part-0.parquet"),
    "SELECT * FROM (VALUES (1, 'ann'), (3, 'bob')) t(cid, name)",
  );

  const weeklyCalls: string[][] = [];
  const rt = await LocalRuntime.start(app, {
    dir,
    compute: { weekly: async (inputs) => void weeklyCalls.push([...(inputs.last7?.paths ?? [])]) },
  });
  const events = app.node("events")!;
  const daily = app.node("daily")!;
  const joined = app.node("joined")!;
  const weekly = app.node("weekly")!;

  await rt.process(events.at("NA", "2024-05-07"));
  expect(await rt.pending(joined)).toEqual([
    // The group is the output partition (brief §3, "Order never matters"): every output dimension.
    expect.objectContaining({ dimensions: { region: "NA", day: "2024-05-07" }, received: ["events"] }),
  ]);
  await rt.process(daily.at("2024-05-07"));
  const r = await rt.poll(joined.at("NA", "2024-05-07"));
  expect(r).toEqual({ path: join(dir, "internal_data", "joined", "NA", "2024-05-07") });
  expect(r.records).toBeUndefined();

  // joined's success was pushed to weekly (range(-7): the tip and six days before it, tip first).
  expect(weeklyCalls[0]?.[0]).toBe(join(dir, "internal_data", "joined", "NA", "2024-05-07"));
  expect(weeklyCalls[0]).toHaveLength(7);

  const again = await rt.execute(weekly.at("NA", "2024-05-07"), { wait: true });
  expect(again.status).toBe("SUCCEEDED");
  expect(await rt.kill(weekly.at("NA", "2024-05-07"))).toBeUndefined(); // nothing active to kill
  expect(await rt.pending(joined)).toEqual([]);
  const records = await rt.executions(weekly);
  expect(records.map((e) => e.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
  expect(records[0]).toEqual(
    expect.objectContaining({
      id: expect.any(String),
      node: "weekly",
      dimensions: { region: "NA", day: "2024-05-07" },
      status: "SUCCEEDED",
      attempts: 1,
      startedAt: expect.any(Number),
      endedAt: expect.any(Number),
      targets: [expect.objectContaining({ kind: "pySpark", status: "SUCCEEDED" })],
    }),
  );
  expect(records[0]!.startedAt).toBeGreaterThanOrEqual(records[1]!.startedAt);
  await rt.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("toModel() throws FlowValidationError with every issue", () => {
  const app = new Application("contract-bad", { account: "111122223333", region: "us-east-1" });
  const ev = app.s3Dataset("ev", {
    bucket: "raw",
    dimensions: { region: dim.string() },
    filter: { region: ["NA"] },
  });
  app.data("a", { inputs: [ev.at("EU")], compute: sparkSql("SELECT 1") });
  app.timer("t", "rate(1 days)");
  let error: unknown;
  try {
    app.toModel();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(FlowValidationError);
  expect((error as FlowValidationError).issues.map((i) => i.path).sort()).toEqual([
    "nodes.a.inputs.ev.dimensions.region",
    "nodes.t",
  ]);
});
