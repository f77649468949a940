/** Test data helpers: markdown tables, partitions written and read with DuckDB, expectPartition. */
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  Application,
  diffTables,
  dim,
  expectPartition,
  formatMarkdownTable,
  inline,
  inputPartition,
  link,
  LocalRuntime,
  map,
  MarkdownTableError,
  parseMarkdownTable,
  readPartition,
  sparkSql,
  writeInput,
  writePartition,
  type DataTable,
  type PartitionFormat,
} from "sluice";

let tmp: string;

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-testing-"));
});

afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** The error `fn` throws (sync or async). */
async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

// ---------------------------------------------------------------- parseMarkdownTable

describe("parseMarkdownTable", () => {
  test("header, type row, rows; cells trimmed; values of their types", () => {
    expect(
      parseMarkdownTable(`
        | cid | amount | name  | ok    |
        | long | double | string | boolean |
        | 1   | 10.5   | Ann   | true  |
        | 2   | -3     | Bob   | FALSE |
      `),
    ).toEqual({
      columns: [
        { name: "cid", type: "long" },
        { name: "amount", type: "double" },
        { name: "name", type: "string" },
        { name: "ok", type: "boolean" },
      ],
      rows: [
        [1, 10.5, "Ann", true],
        [2, -3, "Bob", false],
      ],
    });
  });

  test("type names: aliases, any case, decimal precision and scale", () => {
    const t = parseMarkdownTable(
      "| a | b | c | d | e | f | g | h | i | j | k |\n" +
        "| BIGINT | Integer | int | Float | VARCHAR | bool | decimal | decimal( 12 , 3 ) | Date | TIMESTAMP | long |",
    );
    expect(t.columns.map((c) => c.type)).toEqual([
      "long",
      "int",
      "int",
      "float",
      "string",
      "boolean",
      "decimal(10,0)",
      "decimal(12,3)",
      "date",
      "timestamp",
      "long",
    ]);
    expect(t.rows).toEqual([]);
  });

  test("a separator row right after the header or right after the type row; outer pipes optional", () => {
    const expected = {
      columns: [
        { name: "a", type: "long" },
        { name: "b", type: "string" },
      ],
      rows: [[1, "x"]],
    };
    expect(parseMarkdownTable("| a | b |\n|---|:--:|\n| long | string |\n| 1 | x |")).toEqual(expected);
    expect(parseMarkdownTable("| a | b |\n| long | string |\n| :--- | ---: |\n| 1 | x |")).toEqual(expected);
    expect(parseMarkdownTable("a | b\n--- | ---\nlong | string\n1 | x")).toEqual(expected);
  });

  test("null, NULL and empty cells are null; quoted strings are JSON strings; \\| is a pipe", () => {
    const t = parseMarkdownTable(String.raw`
      | s           | n    |
      | string      | long |
      | null        | NULL |
      |             |      |
      | ""          | 3    |
      | "null"      | 4    |
      | "  pad  "   | 5    |
      | "a\nb"      | 6    |
      | a \| b      | 7    |
      | "---"       | 8    |
      | say "hi"    | 9    |
    `);
    expect(t.rows).toEqual([
      [null, null],
      [null, null],
      ["", 3],
      ["null", 4],
      ["  pad  ", 5],
      ["a\nb", 6],
      ["a | b", 7],
      ["---", 8],
      ['say "hi"', 9],
    ]);
  });

  test("numbers: longs beyond 2^53 stay exact text; NaN and Infinity; exponents; decimals exact", () => {
    const t = parseMarkdownTable(`
      | l                    | i           | d         | f    | dec                  |
      | long                 | int         | double    | float | decimal(38,2)       |
      | 9223372036854775807  | 2147483647  | NaN       | inf  | 12.50                |
      | -9223372036854775808 | -2147483648 | -Infinity | 1e3  | 123456789012345678.9 |
      | +007                 | 0           | 1.5e-7    | .5   | -0.00                |
    `);
    expect(t.rows).toEqual([
      ["9223372036854775807", 2147483647, NaN, Infinity, 12.5],
      ["-9223372036854775808", -2147483648, -Infinity, 1000, "123456789012345678.9"],
      [7, 0, 1.5e-7, 0.5, 0],
    ]);
  });

  test("dates and timestamps in canonical form", () => {
    const t = parseMarkdownTable(`
      | d          | ts                          |
      | date       | timestamp                   |
      | 2024-02-29 | 2024-05-07T10:00:00Z        |
      | 2024-05-07 | 2024-05-07 10:00            |
      | 2024-05-07 | 2024-05-07                  |
      | 2024-05-07 | 2024-05-07 10:00:00.123400  |
    `);
    expect(t.rows).toEqual([
      ["2024-02-29", "2024-05-07 10:00:00"],
      ["2024-05-07", "2024-05-07 10:00:00"],
      ["2024-05-07", "2024-05-07 00:00:00"],
      ["2024-05-07", "2024-05-07 10:00:00.1234"],
    ]);
  });

  test.each([
    [
      "| a | b |\n| long | long |\n| 1 | 2 | 3 |",
      3,
      undefined,
      /line 3: this row has 3 cell\(s\), the header has 2 \(a, b\)\n {4}\| 1 \| 2 \| 3 \|/,
    ],
    ["| a | b |\n| long |", 2, undefined, /line 2: the type row has 1 cell\(s\), the header has 2/],
    ["| a | b |\n|---|\n| long | long |", 2, undefined, /line 2: the separator row has 1 cell/],
    ["| a |\n| long |\n| 1.5 |", 3, "a", /line 3, column "a": "1.5" is not a long \(an integer\)/],
    ["| a |\n| int |\n| 2147483648 |", 3, "a", /2147483648 is out of the int range/],
    ["| a |\n| long |\n| 9223372036854775808 |", 3, "a", /out of the long range/],
    ["| a | b |\n| long | double |\n| 1 | abc |", 3, "b", /line 3, column "b": "abc" is not a double/],
    ["| a |\n| float |\n| 1e39 |", 3, "a", /1e39 is out of the float range/],
    ["| a |\n| decimal(5,2) |\n| 1.234 |", 3, "a", /1.234 has 3 decimal\(s\); decimal\(5,2\) allows 2/],
    [
      "| a |\n| decimal(5,2) |\n| 1234 |",
      3,
      "a",
      /1234 has 4 digit\(s\) before the point; decimal\(5,2\) allows 3/,
    ],
    ["| a |\n| boolean |\n| yes |", 3, "a", /"yes" is not a boolean/],
    ["| a |\n| date |\n| 2023-02-29 |", 3, "a", /"2023-02-29" is not a date/],
    ["| a |\n| timestamp |\n| 2024-05-07 25:00 |", 3, "a", /is not a timestamp/],
    ["| a |\n| timestamp |\n| 2024-05-07 10:00:00.1234567 |", 3, "a", /more than microsecond precision/],
    ['| a |\n| string |\n| "x |', undefined, undefined, undefined],
    ['| a |\n| string |\n| "\\q" |', 3, "a", /is not a valid quoted \(JSON\) string/],
    ["| a | b |\n| long | money |", 2, "b", /line 2, column "b": unknown type "money"/],
    ["| a | a |\n| long | long |", 1, "a", /column "a" appears twice/],
    ["| a |  |\n| long | long |", 1, undefined, /column 2 of the header has no name/],
    ["| a | b |", 1, undefined, /no type row after the header \(e\.g\. \| long \| long \|/],
    ["  \n  ", undefined, undefined, /no header row/],
    [
      "| a |\n| long |\n| 1 |\n|---|",
      4,
      undefined,
      /a separator row may only follow the header row or the type row/,
    ],
  ])("error: %j", async (text, line, column, message) => {
    if (message === undefined) {
      // A lone quote is not a quoted string: the text as is.
      expect(parseMarkdownTable(text).rows).toEqual([['"x']]);
      return;
    }
    const e = await errorOf(() => parseMarkdownTable(text));
    expect(e).toBeInstanceOf(MarkdownTableError);
    expect(e.message).toMatch(message);
    expect((e as MarkdownTableError).line).toBe(line);
    expect((e as MarkdownTableError).column).toBe(column);
  });

  test("line numbers count from the first line of the text, blank lines included", async () => {
    const e = await errorOf(() => parseMarkdownTable("\n\n| a |\n| long |\n\n| x |"));
    expect(e.message).toMatch(/^markdown table line 6, column "a"/);
  });

  test("formatMarkdownTable renders markdown that parses back to the same table", () => {
    const table = parseMarkdownTable(String.raw`
      | s         | l                   | d      | dec           | b     | dt         | ts                      |
      | string    | long                | double | decimal(20,9) | boolean | date     | timestamp               |
      | ""        | 9223372036854775807 | NaN    | 0.000000001   | true  | 2024-05-07 | 2024-05-07 10:00:00.5   |
      | "null"    | 1                   | 1e300  | 12.5          | null  | null       | null                    |
      | a \| b    | null                | -0.25  | null          | false | 2024-05-08 | 2024-05-08 00:00:00     |
      | " x "     | 2                   | null   | 1             | true  | 2024-05-09 | 2024-05-09 23:59:59.999 |
      | "a\nb"    | 3                   | 1      | 2             | true  | 2024-05-09 | 2024-05-09 23:59:59     |
      | ":--"     | 4                   | 1      | 2             | true  | 2024-05-09 | 2024-05-09 23:59:59     |
    `);
    const text = formatMarkdownTable(table);
    expect(text.split("\n")[1]).toMatch(/^\|-+\|-+\|/);
    expect(text).toContain("| 0.000000001 ");
    expect(parseMarkdownTable(text)).toEqual(table);
  });
});

// ---------------------------------------------------------------- writePartition / readPartition

const ALL_TYPES = `
  | s      | i    | l                   | f     | d      | dec          | b     | dt         | ts                         |
  |--------|------|---------------------|-------|--------|--------------|-------|------------|----------------------------|
  | string | int  | long                | float | double | decimal(10,2) | boolean | date     | timestamp                  |
  | a \\| b | 7    | 9007199254740993    | 10.1  | 10.5   | 12.50        | true  | 2024-05-07 | 2024-05-07 10:00:00.123456 |
  | ""     | -1   | -5                  | -0.5  | NaN    | -0.01        | false | 1999-12-31 | 1970-01-01 00:00:00        |
  | "null" | null | null                | null  | null   | null         | null  | null       | null                       |
  | 007    | 0    | 0                   | 1e10  | 1e-7   | 99999999.99  | true  | 2024-02-29 | 1969-12-31 23:59:59.5      |
`;

describe("writePartition and readPartition", () => {
  test.each<PartitionFormat>(["parquet", "csv", "json"])("round trip of every type as %s", async (format) => {
    const written = parseMarkdownTable(ALL_TYPES);
    const dir = path.join(tmp, "p", "region=NA", "2024-05-07");
    const file = await writePartition(dir, ALL_TYPES, { format });
    expect(file).toBe(path.join(dir, `part-00000.${format}`));
    expect((await fs.readdir(dir)).sort()).toEqual(["_SUCCESS", `part-00000.${format}`]);

    // Text formats carry no schema: the declared types tell how to read them back.
    const types = Object.fromEntries(written.columns.map((c) => [c.name, c.type]));
    const read = await readPartition(dir, format === "parquet" ? {} : { types });
    expect(read.columns.map(({ name, type }) => ({ name, type }))).toEqual(written.columns);
    // A float read back is the 32-bit value.
    const expectedRows = written.rows.map((r) =>
      r.map((v, i) => (i === 3 && typeof v === "number" ? Math.fround(v) : v)),
    );
    expect(read.rows).toEqual(expectedRows);
    await expectPartition(dir, ALL_TYPES);
  });

  test("Parquet keeps the declared engine types", async () => {
    const dir = path.join(tmp, "p");
    await writePartition(dir, ALL_TYPES);
    expect((await readPartition(dir)).columns.map((c) => c.sqlType)).toEqual([
      "VARCHAR",
      "INTEGER",
      "BIGINT",
      "FLOAT",
      "DOUBLE",
      "DECIMAL(10,2)",
      "BOOLEAN",
      "DATE",
      "TIMESTAMP",
    ]);
  });

  test("CSV read without types is inferred by DuckDB (so expectPartition passes the expected types)", async () => {
    const dir = path.join(tmp, "p");
    await writePartition(dir, "| code | amount |\n| string | decimal(10,2) |\n| 7 | 12.50 |", {
      format: "csv",
    });
    const inferred = await readPartition(dir);
    expect(inferred.columns.map((c) => c.type)).toEqual(["long", "double"]);
    expect(inferred.rows).toEqual([[7, 12.5]]);
    await expectPartition(dir, "| code | amount |\n| string | decimal(10,2) |\n| 7 | 12.5 |");
  });

  test("a hand-built table: type spellings and values checked; strings for non-string types parsed", async () => {
    const dir = path.join(tmp, "p");
    await writePartition(dir, {
      columns: [
        { name: "cid", type: "BIGINT" },
        { name: "day", type: "date" },
        { name: "amount", type: "decimal(6,2)" },
      ],
      rows: [
        [1, "2024-05-07", 1.5],
        ["2", "2024-05-08", "2.25"],
      ],
    });
    expect((await readPartition(dir)).rows).toEqual([
      [1, "2024-05-07", 1.5],
      [2, "2024-05-08", 2.25],
    ]);
    const bad = await errorOf(() =>
      writePartition(dir, { columns: [{ name: "cid", type: "long" }], rows: [[1.5]] }),
    );
    expect(bad.message).toBe('row 1, column "cid": "1.5" is not a long (an integer)');
  });

  test("completion marker: _SUCCESS by default, another name, or none; an earlier data file is replaced", async () => {
    const dir = path.join(tmp, "p");
    await writePartition(dir, "| a |\n| long |\n| 1 |", { completion: null });
    expect(await fs.readdir(dir)).toEqual(["part-00000.parquet"]);
    await writePartition(dir, "| a |\n| long |\n| 2 |", { format: "json", completion: "_DONE" });
    expect((await fs.readdir(dir)).sort()).toEqual(["_DONE", "part-00000.json"]);
    expect((await readPartition(dir)).rows).toEqual([[2]]);
    await writePartition(dir, "| a |\n| long |\n| 3 |", { fileName: "data.csv", format: "csv" });
    expect((await fs.readdir(dir)).sort()).toEqual(["_DONE", "_SUCCESS", "data.csv"]);
  });

  test("bad options are errors", async () => {
    const md = "| a |\n| long |";
    expect(
      (await errorOf(() => writePartition(tmp, md, { format: "orc" as PartitionFormat }))).message,
    ).toMatch(/format must be parquet, csv or json/);
    expect((await errorOf(() => writePartition(tmp, md, { completion: "a/b" }))).message).toMatch(
      /completion marker "a\/b" must be a plain file name/,
    );
    expect((await errorOf(() => writePartition(tmp, md, { fileName: "_x.parquet" }))).message).toMatch(
      /starts with "_" or "."/,
    );
  });

  test("zero rows: Parquet and CSV keep their columns; an empty JSON file reads as no columns", async () => {
    const md = "| a | b |\n| long | string |";
    for (const format of ["parquet", "csv", "json"] as const) {
      const dir = path.join(tmp, format);
      await writePartition(dir, md, { format });
      const read = await readPartition(dir, { types: { a: "long", b: "string" } });
      expect(read.rows).toEqual([]);
      expect(read.columns.map((c) => c.name)).toEqual(format === "json" ? [] : ["a", "b"]);
      await expectPartition(dir, md);
    }
  });

  test("readPartition: a missing folder, a folder without data, a value that is not of its type", async () => {
    expect((await errorOf(() => readPartition(path.join(tmp, "nope")))).message).toMatch(
      /nope does not exist/,
    );
    await fs.writeFile(path.join(tmp, "_SUCCESS"), "");
    expect((await errorOf(() => readPartition(tmp))).message).toMatch(
      /no data files in .* \(only _SUCCESS\)/,
    );
    await fs.writeFile(path.join(tmp, "part-0.csv"), "a,b\n1,x\n2,y\n");
    expect((await errorOf(() => readPartition(tmp, { types: { b: "long" } }))).message).toMatch(
      /row 1, column "b": "x" is not a long/,
    );
    expect((await readPartition(tmp)).rows).toEqual([
      [1, "x"],
      [2, "y"],
    ]);
    await fs.writeFile(path.join(tmp, "part-1.json"), '{"a":1}\n');
    expect((await errorOf(() => readPartition(tmp))).message).toMatch(/mixes formats \(csv, json\)/);
  });

  test("readPartition maps engine types: UBIGINT, TIMESTAMPTZ and _NS, lists; reads nested folders", async () => {
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    const dir = path.join(tmp, "out");
    await fs.mkdir(path.join(dir, "sub"), { recursive: true });
    await conn.run(
      `COPY (SELECT 18446744073709551615::UBIGINT AS h, 3::TINYINT AS t,
              TIMESTAMPTZ '2024-05-07 10:00:00+02' AS tz, TIMESTAMP_NS '2024-05-07 10:00:00.123456789' AS ns,
              [1, 2] AS xs, 1.5::DECIMAL(38,10) AS dec)
       TO '${path.join(dir, "sub", "x.parquet")}' (FORMAT PARQUET)`,
    );
    conn.closeSync();
    db.closeSync();
    const t = await readPartition(dir);
    expect(t.columns).toEqual([
      { name: "h", type: "long", sqlType: "UBIGINT" },
      { name: "t", type: "int", sqlType: "TINYINT" },
      { name: "tz", type: "timestamp", sqlType: "TIMESTAMP WITH TIME ZONE" },
      { name: "ns", type: "timestamp", sqlType: "TIMESTAMP_NS" },
      { name: "xs", type: "string", sqlType: "INTEGER[]" },
      { name: "dec", type: "decimal(38,10)", sqlType: "DECIMAL(38,10)" },
    ]);
    expect(t.rows).toEqual([
      ["18446744073709551615", 3, "2024-05-07 08:00:00", "2024-05-07 10:00:00.123456789", "[1, 2]", 1.5],
    ]);
  });
});

// ---------------------------------------------------------------- expectPartition

describe("expectPartition", () => {
  const OUT = `
    | cid | amount | note   |
    | long | double | string |
    | 1   | 10.5   | a      |
    | 2   | 20     | b      |
    | 2   | 20     | b      |
    | 3   | null   | null   |
  `;

  test("passes whatever the row order; duplicates count", async () => {
    await writePartition(tmp, OUT);
    await expectPartition(
      tmp,
      `
      | cid | amount | note |
      | long | double | string |
      | 3 | null | null |
      | 2 | 20.0 | b |
      | 1 | 10.5 | a |
      | 2 | 20 | b |
    `,
    );
    const e = await errorOf(() =>
      expectPartition(
        tmp,
        "| cid | amount | note |\n| long | double | string |\n| 1 | 10.5 | a |\n| 2 | 20 | b |\n| 3 | null | null |",
      ),
    );
    expect(e.message).toContain("3 expected row(s), 4 actual row(s); compared as a multiset");
    expect(e.message).toMatch(
      /unexpected rows \(in the partition, not expected\): 1\n\| cid +\| amount +\| note +\|/,
    );
    expect(e.message).not.toContain("missing rows");
  });

  test("columns match by name in any order; int ~ long and double ~ decimal are compatible", async () => {
    await writePartition(tmp, "| a | b |\n| int | decimal(10,2) |\n| 1 | 2.50 |");
    await expectPartition(tmp, "| b | a |\n| double | long |\n| 2.5 | 1 |");
  });

  test("numeric tolerance: relative to the magnitude, 1e-9 by default; floats compare at 32 bits", async () => {
    await writePartition(tmp, "| x | f |\n| double | float |\n| 1000.0001 | 0.1 |");
    await expectPartition(tmp, "| x | f |\n| double | float |\n| 1000.0001000001 | 0.1 |");
    await expect(expectPartition(tmp, "| x | f |\n| double | float |\n| 1000.0002 | 0.1 |")).rejects.toThrow(
      /missing rows/,
    );
    await expectPartition(tmp, "| x | f |\n| double | double |\n| 1000.0002 | 0.1 |", { tolerance: 1e-6 });
  });

  test("a failing comparison shows missing and unexpected rows as markdown, then the actual partition", async () => {
    await writePartition(tmp, OUT);
    const e = await errorOf(() =>
      expectPartition(
        tmp,
        `
        | cid | amount | note |
        | long | double | string |
        | 1 | 10.5 | a |
        | 2 | 20 | b |
        | 2 | 21 | b |
        | 3 | null | null |
      `,
      ),
    );
    expect(e.message).toBe(
      [
        `expectPartition: ${tmp} does not match the expected table.`,
        "4 expected row(s), 4 actual row(s); compared as a multiset, tolerance 1e-9",
        "",
        "missing rows (expected, not in the partition): 1",
        "| cid  | amount | note   |",
        "|------|--------|--------|",
        "| long | double | string |",
        "| 2    | 21     | b      |",
        "",
        "unexpected rows (in the partition, not expected): 1",
        "| cid  | amount | note   |",
        "|------|--------|--------|",
        "| long | double | string |",
        "| 2    | 20     | b      |",
        "",
        "actual partition (4 row(s)):",
        "| cid  | amount | note   |",
        "|------|--------|--------|",
        "| long | double | string |",
        "| 1    | 10.5   | a      |",
        "| 2    | 20     | b      |",
        "| 2    | 20     | b      |",
        "| 3    | null   | null   |",
      ].join("\n"),
    );
  });

  test("column differences: missing, unexpected, incompatible type", async () => {
    await writePartition(tmp, "| cid | amount | extra |\n| string | double | long |\n| 1 | 2 | 3 |");
    const e = await errorOf(() => expectPartition(tmp, "| cid | amount | day |\n| long | double | date |"));
    expect(e.message).toContain(
      [
        "columns differ:",
        '  - column "cid": expected long, found string (VARCHAR)',
        '  - missing column "day" (date)',
        '  - unexpected column "extra" (long, BIGINT)',
      ].join("\n"),
    );
    expect(e.message).toContain("actual partition (1 row(s)):\n| cid ");
  });

  test("in order: ignoreOrder false compares the file's order; orderBy sorts it first, ties in any order", async () => {
    await writePartition(tmp, "| k | v |\n| long | string |\n| 2 | b |\n| 1 | a |\n| 2 | c |\n| 1 | z |");
    const sorted = "| k | v |\n| long | string |\n| 1 | z |\n| 1 | a |\n| 2 | c |\n| 2 | b |";
    await expectPartition(tmp, sorted); // a multiset by default
    await expectPartition(tmp, sorted, { orderBy: ["k"] }); // ties (same k) in any order
    const e = await errorOf(() => expectPartition(tmp, sorted, { ignoreOrder: false }));
    expect(e.message).toContain("compared in order\nrows differ at position(s) 1, 4");
    const wrong = await errorOf(() =>
      expectPartition(tmp, "| k | v |\n| long | string |\n| 2 | b |\n| 2 | c |\n| 1 | a |\n| 1 | z |", {
        orderBy: ["k"],
      }),
    );
    expect(wrong.message).toContain(
      [
        "4 expected row(s), 4 actual row(s); compared in order by k",
        "rows differ at position(s) 1, 2, 3, 4",
        "",
        "expected at those positions:",
        "| row | k    | v      |",
        "|-----|------|--------|",
        "|     | long | string |",
        "| 1   | 2    | b      |",
      ].join("\n"),
    );
    expect(wrong.message).toContain("actual at those positions (sorted by k):\n| row | k    | v      |");
    expect((await errorOf(() => expectPartition(tmp, sorted, { orderBy: ["nope"] }))).message).toMatch(
      /orderBy: "nope" is not a column of the expected table \(k, v\)/,
    );
  });

  test("NaN equals NaN; null only equals null; big longs compare exactly", () => {
    const actual: DataTable = {
      columns: [
        { name: "x", type: "double" },
        { name: "l", type: "long" },
      ],
      rows: [[NaN, "9223372036854775807"]],
    };
    expect(diffTables(actual, "| x | l |\n| double | long |\n| NaN | 9223372036854775807 |")).toBeUndefined();
    expect(diffTables(actual, "| x | l |\n| double | long |\n| NaN | 9223372036854775806 |")).toMatch(
      /missing rows/,
    );
    expect(diffTables(actual, "| x | l |\n| double | long |\n| null | 9223372036854775807 |")).toMatch(
      /missing rows/,
    );
  });

  test("a folder without data matches zero rows only; a missing folder is an error", async () => {
    await fs.writeFile(path.join(tmp, "_SUCCESS"), "");
    await expectPartition(tmp, "| a |\n| long |");
    const e = await errorOf(() => expectPartition(tmp, "| a |\n| long |\n| 1 |"));
    expect(e.message).toMatch(/has no data \(only _SUCCESS\), expected 1 row\(s\):\n\| a/);
    expect((await errorOf(() => expectPartition(path.join(tmp, "x"), "| a |\n| long |"))).message).toMatch(
      /^expectPartition: .*x does not exist$/,
    );
  });
});

// ---------------------------------------------------------------- with LocalRuntime

describe("with LocalRuntime", () => {
  function flow() {
    const app = new Application("testing-e2e", { account: "111122223333", region: "us-east-1" });
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const customers = app.glueTable("customers", {
      database: "crm",
      table: "customers",
      dimensions: { region_id: dim.long() },
    });
    const joined = app.data("joined", {
      inputs: [events, customers.ref().rangeCheck()],
      links: [link(customers.dim("region_id"), map({ NA: 1, EU: 2 }), events.dim("region"))],
      compute: sparkSql(
        "SELECT e.cid, c.name, sum(e.amount) AS total, count(*) AS n FROM events e JOIN customers c ON e.cid = c.cid GROUP BY e.cid, c.name",
      ),
    });
    return { app, events, customers, joined };
  }

  const EVENTS = `
    | cid  | amount | at                  |
    | long | double | timestamp           |
    | 1    | 10.5   | 2024-05-07 10:00:00 |
    | 1    | 4.5    | 2024-05-07 11:00:00 |
    | 2    | 7.25   | 2024-05-07 12:00:00 |
    | 3    | 1      | 2024-05-07 13:00:00 |
  `;
  const CUSTOMERS = `
    | cid  | name   |
    | long | string |
    | 1    | Ann    |
    | 2    | Bob    |
  `;
  const EXPECTED = `
    | cid  | name   | total  | n    |
    | long | string | double | long |
    | 2    | Bob    | 7.25   | 1    |
    | 1    | Ann    | 15     | 2    |
  `;

  test("two inputs written from markdown, a sparkSql join on DuckDB, the output compared to markdown", async () => {
    const { app, events, customers, joined } = flow();
    const rt = await LocalRuntime.start(app);
    try {
      const eventsDir = inputPartition(rt, events.at("NA", "2024-05-07"));
      expect(eventsDir).toBe(path.join(rt.dir, "external", "events", "region=NA", "2024-05-07"));
      await writePartition(eventsDir, EVENTS);
      await writePartition(inputPartition(rt, customers.at(1)), CUSTOMERS, { completion: null });

      await rt.process(events.at("NA", "2024-05-07"));
      const r = await rt.poll(joined.at("NA", "2024-05-07"));
      expect(r.path).toBe(rt.partitionPath(joined.at("NA", "2024-05-07")));
      await expectPartition(r.path as string, EXPECTED);
      await expect(
        expectPartition(r.path as string, EXPECTED.replace("| 7.25   |", "| 7.5    |")),
      ).rejects.toThrow(/missing rows \(expected, not in the partition\): 1\n[^]*\| 2 +\| Bob +\| 7\.5 /);
    } finally {
      await rt.stop();
    }
  });

  test("writeInput follows the dataset's format and completion marker and the runtime's datasets folders", async () => {
    const app = new Application("testing-e2e2", { account: "111122223333", region: "us-east-1" });
    const orders = app.s3Dataset("orders", {
      bucket: "raw",
      dimensions: { day: dim.datetime() },
      format: "csv",
      completion: "_DONE",
    });
    const seen: string[][] = [];
    const totals = app.data("totals", {
      inputs: [orders],
      // DuckDB's sum of integers is a HUGEINT, which Parquet stores as DOUBLE: cast (portable Spark SQL).
      compute: sparkSql("SELECT sku, CAST(sum(qty) AS BIGINT) AS qty FROM orders GROUP BY sku"),
    });
    app.data("audit", {
      inputs: [totals],
      compute: inline(async (inputs) => void seen.push([...(inputs.totals?.paths ?? [])])),
    });
    const bound = path.join(tmp, "orders-bucket");
    const rt = await LocalRuntime.start(app, { datasets: { orders: bound } });
    try {
      const file = await writeInput(
        rt,
        orders.at("2024-05-07"),
        "| sku | qty |\n| string | int |\n| 007 | 2 |\n| 007 | 3 |\n| 9 | 1 |",
      );
      expect(file).toBe(path.join(bound, "day=2024-05-07", "part-00000.csv"));
      expect((await fs.readdir(path.dirname(file))).sort()).toEqual(["_DONE", "part-00000.csv"]);
      await rt.process(orders.at("2024-05-07"));
      const out = (await rt.poll(totals.at("2024-05-07"))).path as string;
      // The SQL reads the CSV with inferred types: a column with "007" stays text.
      await expectPartition(out, "| sku | qty |\n| string | long |\n| 007 | 5 |\n| 9 | 1 |");
      expect(seen).toEqual([[out]]);

      expect(() => inputPartition(rt, orders)).toThrow(/give one value for dimension "day"/);
      await expect(writeInput(rt, { id: "nope" }, "| a |\n| long |")).rejects.toThrow(/"nope" is not a node/);
    } finally {
      await rt.stop();
    }
  });

  test("nodes without partitions have no folder", async () => {
    const app = new Application("testing-e2e3", { account: "111122223333", region: "us-east-1" });
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    app.data("d", { inputs: [daily], compute: inline(async () => undefined) });
    const rt = await LocalRuntime.start(app);
    try {
      expect(() => inputPartition(rt, daily.at("2024-05-07"))).toThrow(
        /"daily" is a timer and has no partitions/,
      );
      await expect(writeInput(rt, daily.at("2024-05-07"), "| a |\n| long |")).rejects.toThrow(
        /node "daily" is a timer: only s3Dataset, glueTable and data nodes hold data/,
      );
    } finally {
      await rt.stop();
    }
  });
});
