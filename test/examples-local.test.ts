/**
 * Every example runs end to end in LocalRuntime on small data the test creates: events are injected,
 * the router groups and triggers them, the compute runs locally (Spark SQL on DuckDB, inline code in
 * process) and the output is read back and checked against what the test computes itself.
 */
import { promises as fs, readdirSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { LocalRuntime, type Application, type CompositeAlarm, type Node } from "sluice";

const EXAMPLES = join(__dirname, "..", "examples");

/** Loads an example's Application the way test/examples.test.ts does. */
function load(name: string): Application {
  let app: Application | undefined;
  jest.isolateModules(() => {
    // A fresh module registry per load: require is the way into it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    app = (require(join(EXAMPLES, name, "flow.ts")) as { default: Application }).default;
  });
  return app as Application;
}

function node(app: Application, id: string): Node {
  const n = app.node(id);
  if (n === undefined) throw new Error(`example has no node "${id}"`);
  return n;
}

let tmp: string;
let db: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  db = await DuckDBInstance.create(":memory:");
  conn = await db.connect();
});

afterAll(() => {
  conn.closeSync();
  db.closeSync();
});

beforeEach(async () => {
  tmp = await fs.mkdtemp(join(os.tmpdir(), "sluice-examples-local-"));
});

afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function q(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Writes rows as one Parquet file, creating its folder. */
async function writeParquet(file: string, rows: readonly Record<string, string | number>[]): Promise<void> {
  await fs.mkdir(join(file, ".."), { recursive: true });
  const columns = Object.keys(rows[0] as Record<string, unknown>);
  const values = rows
    .map(
      (r) =>
        `(${columns.map((c) => (typeof r[c] === "number" ? String(r[c]) : q(String(r[c])))).join(", ")})`,
    )
    .join(", ");
  await conn.run(
    `COPY (SELECT * FROM (VALUES ${values}) AS t(${columns.join(", ")})) TO ${q(file)} (FORMAT PARQUET)`,
  );
}

async function readParquet(dir: string, orderBy: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(
    `SELECT * FROM read_parquet(${q(join(dir, "*.parquet"))}, hive_partitioning = false) ORDER BY ${orderBy}`,
  );
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}

/** Aggregates come back as BIGINT/HUGEINT, which DuckDB's JSON rows give as text: compare them as numbers. */
function numbers(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  return out;
}

test("the examples folder holds exactly the examples this file runs", () => {
  expect(readdirSync(EXAMPLES).filter((d) => !d.endsWith(".md"))).toEqual([
    "alarm-reactor",
    "daily-aggregation",
    "two-apps",
    "two-region-join",
  ]);
});

test("two-apps: the upstream's daily totals reach the downstream's ranking in a LocalRuntime pair", async () => {
  const downstream = load("two-apps");
  let upstream: Application | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    upstream = (require(join(EXAMPLES, "two-apps", "upstream.ts")) as { default: Application }).default;
  });
  const up = upstream as Application;
  const rawDir = join(tmp, "raw");
  const day = "2024-05-07";
  await writeParquet(join(rawDir, `dt=${day}`, "part-0.parquet"), [
    { order_id: 1, store_id: 1, amount: 10 },
    { order_id: 2, store_id: 2, amount: 30 },
    { order_id: 3, store_id: 1, amount: 5 },
  ]);
  await fs.writeFile(join(rawDir, `dt=${day}`, "_SUCCESS"), "");
  const upRt = await LocalRuntime.start(up, { dir: join(tmp, "up"), datasets: { raw_orders: rawDir } });
  const downRt = (await LocalRuntime.start(downstream, { dir: join(tmp, "down") })).subscribe(upRt);
  try {
    await upRt.process(node(up, "raw_orders").at(day));
    const ranking = node(downstream, "store_ranking");
    const [execution] = await downRt.executions(ranking);
    expect(execution?.status).toBe("SUCCEEDED");
    const out = await downRt.poll(ranking.at(day));
    expect(out.path).toBe(join(tmp, "down", "internal_data", "store_ranking", day));
    expect((await readParquet(out.path as string, "rank")).map(numbers)).toEqual([
      { store_id: 2, revenue: 30, rank: 1 },
      { store_id: 1, revenue: 15, rank: 2 },
    ]);
  } finally {
    await downRt.stop();
    await upRt.stop();
  }
});

test("daily-aggregation: orders of 7 days + stores table → 7-day revenue per store on DuckDB", async () => {
  const app = load("daily-aggregation");
  const ordersDir = join(tmp, "orders");
  const storesDir = join(tmp, "stores");
  const tip = "2024-05-07";
  // 8 days of orders: the one before the 7-day window must not be counted.
  const days = [
    "2024-04-30",
    "2024-05-01",
    "2024-05-02",
    "2024-05-03",
    "2024-05-04",
    "2024-05-05",
    "2024-05-06",
    tip,
  ];
  const stores = [
    { store_id: 1, store_name: "Seattle" },
    { store_id: 2, store_name: "Portland" },
    { store_id: 3, store_name: "Boise" },
  ];
  const expected = new Map<number, { revenue: number; count: number }>();
  for (const [d, day] of days.entries()) {
    const rows = [0, 1, 2, 3].map((k) => ({
      order_id: d * 10 + k,
      store_id: 1 + ((d + k) % 3),
      amount: 10 * (d + 1) + k, // integers: sums compare exactly
    }));
    await writeParquet(join(ordersDir, `dt=${day}`, "part-0.parquet"), rows);
    await fs.writeFile(join(ordersDir, `dt=${day}`, "_SUCCESS"), "");
    if (d === 0) continue; // outside the window
    for (const r of rows) {
      const e = expected.get(r.store_id) ?? { revenue: 0, count: 0 };
      expected.set(r.store_id, { revenue: e.revenue + r.amount, count: e.count + 1 });
    }
  }
  await writeParquet(join(storesDir, "stores.parquet"), stores);

  const rt = await LocalRuntime.start(app, {
    dir: join(tmp, "local"),
    datasets: { orders: ordersDir, stores: storesDir },
  });
  try {
    const orders = node(app, "orders");
    const daily = node(app, "daily");
    const revenue = node(app, "store_revenue_7d");

    const first = await rt.process(orders.at(tip));
    expect(first).toMatchObject({
      matched: [{ route: "store_revenue_7d", input: "orders" }],
      executions: [],
    });
    expect(await rt.pending(revenue)).toEqual([
      expect.objectContaining({
        received: ["orders"],
        missing: ["tick"],
        dimensions: { day: tip },
        state: "pending",
      }),
    ]);

    const second = await rt.process(daily.at(tip));
    expect(second.executions).toHaveLength(1);
    const [record] = await rt.executions(revenue);
    expect(record).toMatchObject({ status: "SUCCEEDED", dimensions: { day: tip } });
    expect(await rt.pending(revenue)).toEqual([]);

    const r = await rt.poll(revenue.at(tip));
    expect(r.path).toBe(join(tmp, "local", "internal_data", "store_revenue_7d", tip));
    const rows = (await readParquet(r.path as string, "store_id")).map(numbers);
    expect(rows).toEqual(
      stores.map((s) => ({
        store_id: s.store_id,
        store_name: s.store_name,
        revenue_7d: expected.get(s.store_id)?.revenue,
        orders_7d: expected.get(s.store_id)?.count,
      })),
    );
    expect(rows.reduce((n, x) => n + Number(x.orders_7d), 0)).toBe(7 * 4);
    await expect(fs.stat(join(r.path as string, "_SUCCESS"))).resolves.toBeDefined();
  } finally {
    await rt.stop();
  }
});

test("daily-aggregation: the timer waits while a day of the 7-day range is missing", async () => {
  const app = load("daily-aggregation");
  const ordersDir = join(tmp, "orders");
  const storesDir = join(tmp, "stores");
  await writeParquet(join(storesDir, "stores.parquet"), [{ store_id: 1, store_name: "Seattle" }]);
  const days = ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-05", "2024-05-06", "2024-05-07"];
  for (const day of days) {
    await writeParquet(join(ordersDir, `dt=${day}`, "part-0.parquet"), [
      { order_id: 1, store_id: 1, amount: 5 },
    ]);
    await fs.writeFile(join(ordersDir, `dt=${day}`, "_SUCCESS"), "");
  }
  const rt = await LocalRuntime.start(app, { datasets: { orders: ordersDir, stores: storesDir } });
  try {
    const orders = node(app, "orders");
    const revenue = node(app, "store_revenue_7d");
    await rt.process(orders.at("2024-05-07"));
    await rt.process(node(app, "daily").at("2024-05-07"));
    expect(await rt.pending(revenue)).toEqual([expect.objectContaining({ state: "waiting" })]);
    expect(await rt.executions(revenue)).toEqual([]);

    // The missing day lands: its event re-checks the waiting group, which now runs.
    await writeParquet(join(ordersDir, "dt=2024-05-04", "part-0.parquet"), [
      { order_id: 1, store_id: 1, amount: 5 },
    ]);
    await fs.writeFile(join(ordersDir, "dt=2024-05-04", "_SUCCESS"), "");
    await rt.process(orders.at("2024-05-04"));
    const r = await rt.poll(revenue.at("2024-05-07"));
    expect(r.path).toBeDefined();
    expect((await readParquet(r.path as string, "store_id")).map(numbers)).toEqual([
      { store_id: 1, store_name: "Seattle", revenue_7d: 35, orders_7d: 7 },
    ]);
  } finally {
    await rt.stop();
  }
});

test("two-region-join: clicks (json, market=NA/dt=20240507) ⋈ billing (parquet, market_id=1/day=2024-05-07)", async () => {
  const app = load("two-region-join");
  const clicksDir = join(tmp, "clicks");
  const billingDir = join(tmp, "billing");
  const clicks = [
    { click_id: "c1", campaign_id: "spring", order_id: 101 },
    { click_id: "c2", campaign_id: "spring", order_id: 102 },
    { click_id: "c3", campaign_id: "spring", order_id: 103 },
    { click_id: "c4", campaign_id: "summer", order_id: 104 },
    { click_id: "c5", campaign_id: "summer", order_id: 999 }, // no billing row: dropped by the join
  ];
  const billing = [
    { order_id: 101, amount: 30 },
    { order_id: 102, amount: 12 },
    { order_id: 103, amount: 6 },
    { order_id: 104, amount: 50 },
  ];
  const partition = join(clicksDir, "market=NA", "dt=20240507");
  await fs.mkdir(partition, { recursive: true });
  await fs.writeFile(join(partition, "part-0.json"), clicks.map((c) => JSON.stringify(c)).join("\n") + "\n");
  await writeParquet(join(billingDir, "market_id=1", "day=2024-05-07", "part-0.parquet"), billing);
  // Another market's billing partition, which the map link must not pick.
  await writeParquet(join(billingDir, "market_id=2", "day=2024-05-07", "part-0.parquet"), [
    { order_id: 101, amount: 1000 },
  ]);

  // Expected per campaign: the SQL's SUM(amount) / COUNT(DISTINCT click_id) over joined click rows.
  const amountOf = new Map(billing.map((b) => [b.order_id, b.amount]));
  const perCampaign = new Map<string, { sum: number; clicks: Set<string> }>();
  for (const c of clicks) {
    const amount = amountOf.get(c.order_id);
    if (amount === undefined) continue;
    const e = perCampaign.get(c.campaign_id) ?? { sum: 0, clicks: new Set<string>() };
    e.sum += amount;
    e.clicks.add(c.click_id);
    perCampaign.set(c.campaign_id, e);
  }
  const expected = [...perCampaign.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([campaign_id, e]) => ({ campaign_id, revenue_per_click: e.sum / e.clicks.size }));

  const rt = await LocalRuntime.start(app, { datasets: { clicks: clicksDir, billing: billingDir } });
  try {
    const out = node(app, "revenue_per_click");
    expect((await rt.process(node(app, "clicks").at("NA", "20240507"))).executions).toEqual([]);
    // Billing of another market does not join the NA group.
    expect((await rt.process(node(app, "billing").at(2, "2024-05-07"))).executions).toEqual([]);
    expect(await rt.pending(out)).toHaveLength(2);
    const done = await rt.process(node(app, "billing").at(1, "2024-05-07"));
    expect(done.executions).toHaveLength(1);
    const [record] = await rt.executions(out);
    expect(record).toMatchObject({ status: "SUCCEEDED", dimensions: { market: "NA", day: "20240507" } });

    const r = await rt.poll(out.at("NA", "20240507"));
    expect(r.path).toBe(join(rt.dir, "internal_data", "revenue_per_click", "NA", "20240507"));
    expect(await readParquet(r.path as string, "campaign_id")).toEqual(expected);
    expect(expected).toEqual([
      { campaign_id: "spring", revenue_per_click: 16 },
      { campaign_id: "summer", revenue_per_click: 50 },
    ]);
  } finally {
    await rt.stop();
  }
});

test("alarm-reactor: the composite alarm's ALARM runs the inline report writer from handlers/report.ts", async () => {
  const app = load("alarm-reactor");
  const start = Date.UTC(2024, 4, 7, 13, 45);
  expect(app.root).toBe(join(EXAMPLES, "alarm-reactor"));
  const rt = await LocalRuntime.start(app, { startTime: start });
  try {
    const incident = node(app, "ingest_incident") as CompositeAlarm;
    const report = node(app, "incident_report");
    // OK transitions are filtered out by the input's state filter.
    expect((await rt.process(incident.is("OK"))).matched).toEqual([]);
    const outcome = await rt.process(incident.is("ALARM"));
    expect(outcome.executions).toHaveLength(1);

    const r = await rt.poll(report.at("ALARM", "2024-05-07T13:45"));
    expect(r.path).toBe(join(rt.dir, "internal_data", "incident_report", "ALARM", "2024-05-07T13:45"));
    const written = JSON.parse(await fs.readFile(join(r.path as string, "report.json"), "utf8")) as unknown;
    expect(written).toEqual({
      incident: "ingest_incident",
      state: "ALARM",
      at: "2024-05-07T13:45",
      environment: "local",
      attempt: 1,
    });
    expect(rt.metrics(report)).toMatchObject({ ExecutionBegin: 1, ExecutionSuccess: 1 });
  } finally {
    await rt.stop();
  }
});
