/** DuckDbDispatcher: sparkSql / prestoSql targets on local DuckDB, inputs as views, output as Parquet. */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { ComputeKind, DataFormat, DataNodeModel } from "../../src/flow/model/flow-model";
import type {
  DispatchInput,
  DispatchRequest,
  DispatchResult,
} from "../../src/runtime-bundle/core/dispatcher";
import { DuckDbDispatcher, unsupportedSparkSql } from "../../src/runtime-bundle/local/duckdb-dispatcher";

let tmp: string;
let db: DuckDBInstance;
let conn: DuckDBConnection;
let dispatcher: DuckDbDispatcher;

beforeAll(async () => {
  db = await DuckDBInstance.create(":memory:");
  conn = await db.connect();
});

afterAll(() => {
  conn.closeSync();
  db.closeSync();
});

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-duckdb-"));
  dispatcher = new DuckDbDispatcher();
});

afterEach(async () => {
  await dispatcher.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

function q(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Writes `select`'s rows as Parquet to `<tmp>/<rel>`, creating folders. */
async function parquet(rel: string, select: string): Promise<string> {
  const file = path.join(tmp, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await conn.run(`COPY (${select}) TO ${q(file)} (FORMAT PARQUET)`);
  return path.dirname(file);
}

async function textFile(rel: string, content: string): Promise<string> {
  const file = path.join(tmp, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  return path.dirname(file);
}

async function readOutput(dir: string, orderBy = "1"): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(
    `SELECT * FROM read_parquet(${q(path.join(dir, "part-00000.parquet"))}) ORDER BY ${orderBy}`,
  );
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}

interface InputSpec {
  readonly paths: readonly string[];
  readonly format?: DataFormat;
  readonly node?: string;
}

function request(spec: {
  code: string;
  inputs: Record<string, InputSpec>;
  output: string;
  kind?: ComputeKind;
  node?: string;
  targetIndex?: number;
}): DispatchRequest {
  const node = { id: spec.node ?? "weekly", kind: "data", format: "parquet" } as DataNodeModel;
  const inputs: Record<string, DispatchInput> = {};
  for (const [alias, input] of Object.entries(spec.inputs)) {
    inputs[alias] = {
      node: input.node ?? alias,
      kind: input.paths.length > 0 ? "s3" : "timer",
      dimensions: {},
      paths: input.paths,
      reference: false,
      ...(input.format !== undefined || input.paths.length > 0 ? { format: input.format ?? "parquet" } : {}),
    };
  }
  return {
    executionId: "exec-1",
    node,
    target: { kind: spec.kind ?? "sparkSql", engine: "glue", code: spec.code, params: {}, permissions: [] },
    targetIndex: spec.targetIndex ?? 0,
    attempt: 1,
    inputs,
    output: { dimensions: {}, path: spec.output, format: "parquet" },
    env: "local",
    config: {},
  };
}

function expectFailed(result: DispatchResult): string {
  expect(result.status).toBe("FAILED");
  if (result.status !== "FAILED") throw new Error("not failed");
  expect(result.transient).toBe(false);
  return result.error;
}

async function eventsAndCustomers(): Promise<{ events: string; customers: string }> {
  const events = await parquet(
    "events/NA/2024-05-07/part-0.parquet",
    "SELECT * FROM (VALUES (1, 'click'), (2, 'view'), (3, 'click')) t(cid, action)",
  );
  const customers = await parquet(
    "customers/1/part-0.parquet",
    "SELECT * FROM (VALUES (1, 'ann'), (2, 'bob')) t(cid, name)",
  );
  return { events, customers };
}

// ---------------------------------------------------------------- running SQL

describe("running SQL targets", () => {
  test("a join of two aliases writes the right rows as Parquet", async () => {
    const { events, customers } = await eventsAndCustomers();
    const out = path.join(tmp, "out", "joined", "NA", "2024-05-07");
    const result = await dispatcher.start(
      request({
        code: "SELECT e.cid, e.action, c.name FROM events e JOIN customers c ON e.cid = c.cid",
        inputs: { events: { paths: [events] }, customers: { paths: [customers] } },
        output: out,
      }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect(await readOutput(out)).toEqual([
      { cid: 1, action: "click", name: "ann" },
      { cid: 2, action: "view", name: "bob" },
    ]);
    // Only the data file: the completion marker is the router's job.
    expect(await fs.readdir(out)).toEqual(["part-00000.parquet"]);
  });

  test("a range input unions all its partition folders, by column name", async () => {
    const days = ["2024-05-05", "2024-05-06", "2024-05-07"];
    const paths = [
      await parquet(`ev/${days[2]}/part-0.parquet`, "SELECT 3 AS n, 'c' AS tag"),
      await parquet(`ev/${days[1]}/part-0.parquet`, "SELECT 'b' AS tag, 2 AS n"),
      await parquet(`ev/${days[0]}/part-0.parquet`, "SELECT 1 AS n"),
    ];
    await parquet(`ev/${days[0]}/part-1.parquet`, "SELECT 10 AS n, 'z' AS tag");
    const out = path.join(tmp, "out", "weekly");
    const result = await dispatcher.start(
      request({ code: "SELECT n, tag FROM last7", inputs: { last7: { paths } }, output: out }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect(await readOutput(out)).toEqual([
      { n: 1, tag: null },
      { n: 2, tag: "b" },
      { n: 3, tag: "c" },
      { n: 10, tag: "z" },
    ]);
  });

  test("an empty partition folder in a range still gives a view of the others", async () => {
    const full = await parquet("ev/2024-05-07/part-0.parquet", "SELECT 7 AS n");
    const empty = path.join(tmp, "ev", "2024-05-06");
    await textFile("ev/2024-05-06/_SUCCESS", "");
    const missing = path.join(tmp, "ev", "2024-05-05");
    const out = path.join(tmp, "out");
    const result = await dispatcher.start(
      request({
        code: "SELECT count(*)::INTEGER AS c FROM r",
        inputs: { r: { paths: [full, empty, missing] } },
        output: out,
      }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect(await readOutput(out)).toEqual([{ c: 1 }]);
  });

  test("CSV inputs are read with a header", async () => {
    const a = await textFile("csv/1/part-0.csv", "cid,amount\n1,10.5\n2,3\n");
    const b = await textFile("csv/2/part-0.csv", "cid,amount\n3,1\n");
    const out = path.join(tmp, "out");
    const result = await dispatcher.start(
      request({
        code: "SELECT cid::INTEGER AS cid, amount::DOUBLE AS amount FROM sales",
        inputs: { sales: { paths: [a, b], format: "csv" } },
        output: out,
      }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect(await readOutput(out)).toEqual([
      { cid: 1, amount: 10.5 },
      { cid: 2, amount: 3 },
      { cid: 3, amount: 1 },
    ]);
  });

  test("JSON inputs (newline-delimited) are read, unioned by name", async () => {
    const a = await textFile("json/1/part-0.json", '{"cid": 1, "name": "ann"}\n{"cid": 2}\n');
    const b = await textFile("json/2/part-0.json", '{"cid": 3, "name": "cy", "vip": true}\n');
    const out = path.join(tmp, "out");
    const result = await dispatcher.start(
      request({
        code: "SELECT cid::INTEGER AS cid, name, vip FROM people",
        inputs: { people: { paths: [a, b], format: "json" } },
        output: out,
      }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect(await readOutput(out)).toEqual([
      { cid: 1, name: "ann", vip: null },
      { cid: 2, name: null, vip: null },
      { cid: 3, name: "cy", vip: true },
    ]);
  });

  test("text inputs are one VARCHAR column `value` per line", async () => {
    const dir = await textFile("logs/1/part-0.txt", 'a, "quoted"\tb\n\nlast\n');
    const out = path.join(tmp, "out");
    const result = await dispatcher.start(
      request({
        code: "SELECT row_number() OVER () AS i, value FROM logs",
        inputs: { logs: { paths: [dir], format: "text" } },
        output: out,
      }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect((await readOutput(out)).map((r) => r.value)).toEqual(['a, "quoted"\tb', "", "last"]);
  });

  test("prestoSql targets run the same way", async () => {
    const { events, customers } = await eventsAndCustomers();
    const out = path.join(tmp, "out");
    const result = await dispatcher.start(
      request({
        kind: "prestoSql",
        code: "SELECT c.name, count(*)::INTEGER AS n FROM events e JOIN customers c ON e.cid = c.cid GROUP BY c.name",
        inputs: { events: { paths: [events] }, customers: { paths: [customers] } },
        output: out,
      }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect(await readOutput(out)).toEqual([
      { name: "ann", n: 1 },
      { name: "bob", n: 1 },
    ]);
  });

  test("_SUCCESS markers and hidden files are not read", async () => {
    const dir = await parquet("ev/1/part-0.parquet", "SELECT 1 AS n");
    await fs.writeFile(path.join(dir, "_SUCCESS"), "not parquet");
    await fs.writeFile(path.join(dir, ".part-0.parquet.crc"), "not parquet either");
    const out = path.join(tmp, "out");
    const result = await dispatcher.start(
      request({ code: "SELECT n FROM ev", inputs: { ev: { paths: [dir] } }, output: out }),
    );
    expect(result).toEqual({ status: "SUCCEEDED" });
    expect(await readOutput(out)).toEqual([{ n: 1 }]);
  });

  test("rerunning replaces old part files of the output", async () => {
    const dir = await parquet("ev/1/part-0.parquet", "SELECT 1 AS n");
    const out = path.join(tmp, "out");
    await textFile("out/part-00001.parquet", "stale");
    await textFile("out/_SUCCESS", "");
    const req = request({ code: "SELECT n + 1 AS n FROM ev", inputs: { ev: { paths: [dir] } }, output: out });
    expect(await dispatcher.start(req)).toEqual({ status: "SUCCEEDED" });
    expect(await dispatcher.start(req)).toEqual({ status: "SUCCEEDED" });
    expect((await fs.readdir(out)).sort()).toEqual(["_SUCCESS", "part-00000.parquet"]);
    expect(await readOutput(out)).toEqual([{ n: 2 }]);
  });

  test("trailing semicolons and comments are fine; several statements are not", async () => {
    const dir = await parquet("ev/1/part-0.parquet", "SELECT 1 AS n");
    const out = path.join(tmp, "out");
    const ok = await dispatcher.start(
      request({
        code: "SELECT n FROM ev -- all of it\n;  -- done",
        inputs: { ev: { paths: [dir] } },
        output: out,
      }),
    );
    expect(ok).toEqual({ status: "SUCCEEDED" });
    const error = expectFailed(
      await dispatcher.start(
        request({ code: "SELECT 1; SELECT 2 AS ';'", inputs: { ev: { paths: [dir] } }, output: out }),
      ),
    );
    expect(error).toContain('node "weekly"');
    expect(error).toContain("single query");
  });

  test("inputs without paths (timers) get no view", async () => {
    const dir = await parquet("ev/1/part-0.parquet", "SELECT 1 AS n");
    const out = path.join(tmp, "out");
    const inputs = { ev: { paths: [dir] }, daily: { paths: [] } };
    expect(await dispatcher.start(request({ code: "SELECT n FROM ev", inputs, output: out }))).toEqual({
      status: "SUCCEEDED",
    });
    const error = expectFailed(
      await dispatcher.start(request({ code: "SELECT * FROM daily", inputs, output: out })),
    );
    expect(error).toMatch(/daily/);
  });

  test("the instance is recreated after close()", async () => {
    const dir = await parquet("ev/1/part-0.parquet", "SELECT 1 AS n");
    const out = path.join(tmp, "out");
    const req = request({ code: "SELECT n FROM ev", inputs: { ev: { paths: [dir] } }, output: out });
    expect(await dispatcher.start(req)).toEqual({ status: "SUCCEEDED" });
    await dispatcher.close();
    expect(await dispatcher.start(req)).toEqual({ status: "SUCCEEDED" });
  });

  test("two requests in parallel with the same alias names don't interfere", async () => {
    const a = await parquet("a/part-0.parquet", "SELECT * FROM range(0, 20000) t(n)");
    const b = await parquet("b/part-0.parquet", "SELECT * FROM range(100000, 100003) t(n)");
    const outA = path.join(tmp, "out-a");
    const outB = path.join(tmp, "out-b");
    const code = "SELECT count(*)::INTEGER AS c, min(n)::INTEGER AS lo FROM src";
    const runs = [];
    for (let i = 0; i < 4; i++) {
      runs.push(
        dispatcher.start(
          request({ node: "na", code, inputs: { src: { paths: [a] } }, output: `${outA}-${i}` }),
        ),
        dispatcher.start(
          request({ node: "nb", code, inputs: { src: { paths: [b] } }, output: `${outB}-${i}` }),
        ),
      );
    }
    for (const result of await Promise.all(runs)) expect(result).toEqual({ status: "SUCCEEDED" });
    for (let i = 0; i < 4; i++) {
      expect(await readOutput(`${outA}-${i}`)).toEqual([{ c: 20000, lo: 0 }]);
      expect(await readOutput(`${outB}-${i}`)).toEqual([{ c: 3, lo: 100000 }]);
    }
  });
});

// ---------------------------------------------------------------- failures

describe("failures", () => {
  test("a SQL error fails non-transiently, naming the node and quoting DuckDB", async () => {
    const dir = await parquet("ev/1/part-0.parquet", "SELECT 1 AS n");
    const error = expectFailed(
      await dispatcher.start(
        request({
          node: "joined",
          targetIndex: 1,
          code: "SELECT missing_column FROM ev",
          inputs: { ev: { paths: [dir] } },
          output: path.join(tmp, "out"),
        }),
      ),
    );
    expect(error).toContain('sparkSql target 2 of node "joined"');
    expect(error).toContain("missing_column");
    expect(error).toMatch(/Binder Error/);
    // Nothing is left behind in the output folder.
    expect(await fs.readdir(path.join(tmp, "out"))).toEqual([]);
  });

  test("an input whose partitions are all empty fails naming the alias and the paths", async () => {
    const empty = path.join(tmp, "ev", "2024-05-07");
    await textFile("ev/2024-05-07/_SUCCESS", "");
    const missing = path.join(tmp, "ev", "2024-05-06");
    const error = expectFailed(
      await dispatcher.start(
        request({
          code: "SELECT * FROM last2",
          inputs: { last2: { paths: [empty, missing] } },
          output: path.join(tmp, "out"),
        }),
      ),
    );
    expect(error).toContain('node "weekly"');
    expect(error).toContain('input "last2"');
    expect(error).toContain(empty);
    expect(error).toContain(missing);
  });

  test.each(["orc", "avro"] as const)("format %s is not readable locally", async (format) => {
    const dir = await textFile("ev/1/part-0", "x");
    const error = expectFailed(
      await dispatcher.start(
        request({
          code: "SELECT * FROM ev",
          inputs: { ev: { paths: [dir], format } },
          output: path.join(tmp, "o"),
        }),
      ),
    );
    expect(error).toContain(`format ${format} is not readable locally`);
    expect(error).toContain('input "ev"');
  });

  test.each(["pySpark", "inline"] as const)("%s targets are refused", async (kind) => {
    const error = expectFailed(
      await dispatcher.start(request({ kind, code: "output = x", inputs: {}, output: path.join(tmp, "o") })),
    );
    expect(error).toContain(`${kind} target 1 of node "weekly"`);
    expect(error).toContain("only sparkSql and prestoSql");
  });

  test("unsupported Spark SQL fails before running, with the documented message", async () => {
    const out = path.join(tmp, "out");
    const error = expectFailed(
      await dispatcher.start(
        request({
          code: "SELECT id, tag FROM events LATERAL VIEW explode(tags) t AS tag",
          inputs: { events: { paths: [path.join(tmp, "nowhere")] } },
          output: out,
        }),
      ),
    );
    expect(error).toBe(
      'sparkSql target 1 of node "weekly": "LATERAL VIEW" is Spark SQL that DuckDB cannot run locally; ' +
        "use a pySpark override or rewrite it (e.g. UNNEST)",
    );
    await expect(fs.stat(out)).rejects.toThrow();
  });
});

// ---------------------------------------------------------------- detector

describe("unsupportedSparkSql", () => {
  test.each([
    ["SELECT id, tag FROM t LATERAL VIEW explode(tags) x AS tag", "LATERAL VIEW"],
    ["select * from t lateral\n  view outer explode(a) x as b", "LATERAL VIEW"],
    ["SELECT * FROM t DISTRIBUTE BY region", "DISTRIBUTE BY"],
    ["SELECT * FROM t CLUSTER BY region", "CLUSTER BY"],
    ["SELECT * FROM t Sort By region", "SORT BY"],
    ["SELECT * FROM t TABLESAMPLE (BUCKET 4 OUT OF 16)", "TABLESAMPLE (BUCKET ...)"],
    ["SELECT * FROM t tablesample(bucket 1 out of 2 on rand())", "TABLESAMPLE (BUCKET ...)"],
    ["INSERT OVERWRITE TABLE x SELECT * FROM t", "INSERT OVERWRITE"],
    ["CACHE TABLE c AS SELECT * FROM t", "CACHE TABLE"],
    ["CACHE LAZY TABLE c", "CACHE TABLE"],
    ["SELECT /*+ BROADCAST(c) */ * FROM e JOIN c USING (id)", "/*+ ... */"],
    ["SELECT /*+ REPARTITION(4) */ * FROM e", "/*+ ... */"],
    ["SELECT TRANSFORM(a, b) USING 'cat' AS (x, y) FROM t", "TRANSFORM ... USING"],
    ["SELECT transform (a) ROW FORMAT DELIMITED USING 'python s.py' FROM t", "TRANSFORM ... USING"],
  ])("%s → %s", (sql, construct) => {
    expect(unsupportedSparkSql(sql)).toBe(construct);
  });

  test("the first construct in the text is named", () => {
    expect(unsupportedSparkSql("SELECT * FROM t DISTRIBUTE BY a SORT BY b")).toBe("DISTRIBUTE BY");
  });

  test.each([
    "SELECT 'LATERAL VIEW' AS s, \"sort by\" AS t FROM x",
    "SELECT 'it''s CLUSTER BY' FROM x",
    "SELECT 'it\\'s DISTRIBUTE BY' FROM x",
    "SELECT `sort by` FROM x",
    "SELECT a FROM t -- DISTRIBUTE BY a\nORDER BY a",
    "SELECT a /* CLUSTER BY a; INSERT OVERWRITE */ FROM t",
    "SELECT a /* outer /* nested SORT BY */ still a comment CACHE TABLE */ FROM t",
    "SELECT '/*+ BROADCAST(c) */' FROM t",
    "SELECT a FROM t ORDER BY a",
    "SELECT * FROM t TABLESAMPLE (10 PERCENT)",
    "SELECT transform(xs, x -> x + 1) FROM t JOIN u USING (id)",
    "SELECT cluster, sort, bucket FROM t",
    "SELECT * FROM t CLUSTERED BY x",
    "SELECT * FROM unnest([1, 2]) AS v(lateral_view)",
  ])("not detected: %s", (sql) => {
    expect(unsupportedSparkSql(sql)).toBeUndefined();
  });
});

describe("Spark-like typing of local output", () => {
  test("integer sums are written as BIGINT (Spark's long), not DOUBLE; key=value folders add no columns", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-duckdb-typing-"));
    const input = path.join(root, "orders", "region=NA", "2024-05-07");
    await fs.mkdir(input, { recursive: true });
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    await c.run(
      `COPY (SELECT * FROM (VALUES (1, 10), (2, 5)) t(cid, amount)) TO '${path.join(input, "part-0.parquet")}' (FORMAT PARQUET)`,
    );
    const out = path.join(root, "out");
    const d = new DuckDbDispatcher();
    const r = await d.start({
      executionId: "x",
      node: { id: "totals" } as DataNodeModel,
      target: {
        kind: "sparkSql",
        engine: "glue",
        code: "SELECT * , (SELECT sum(amount) FROM orders) AS total FROM orders",
        params: {},
        permissions: [],
      },
      targetIndex: 0,
      attempt: 1,
      inputs: {
        orders: {
          node: "orders",
          kind: "s3",
          dimensions: {},
          paths: [input],
          format: "parquet",
          reference: false,
        },
      },
      output: { dimensions: {}, path: out, format: "parquet" },
      env: "local",
      config: {},
    });
    expect(r).toEqual({ status: "SUCCEEDED" });
    const described = await c.runAndReadAll(
      `DESCRIBE SELECT * FROM read_parquet('${path.join(out, "part-00000.parquet")}')`,
    );
    expect(described.getRowObjects().map((x) => [x.column_name, x.column_type])).toEqual([
      ["cid", "INTEGER"],
      ["amount", "INTEGER"],
      ["total", "BIGINT"],
    ]);
    await d.close();
    c.closeSync();
    await fs.rm(root, { recursive: true, force: true });
  });
});
