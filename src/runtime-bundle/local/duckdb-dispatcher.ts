/**
 * Runs sparkSql / prestoSql compute targets on DuckDB, locally: every input with data becomes a
 * temporary view named by its alias (reading all files of all its partition folders), and the query
 * result is written as Parquet to `<output.path>/part-00000.parquet`. The completion marker is the
 * router's job, not the dispatcher's.
 *
 * Each request gets its own connection, so the temporary views of concurrent requests never meet.
 */
import { promises as fs } from "node:fs";
import * as nodePath from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { DataFormat } from "../../flow/model/flow-model";
import type { DispatchInput, DispatchRequest, DispatchResult, Dispatcher } from "../core/dispatcher";

export interface DuckDbDispatcherProps {
  /** DuckDB database file; default ":memory:". */
  readonly database?: string;
}

/** The one data file a local SQL target writes in its output partition folder. */
const OUTPUT_FILE = "part-00000.parquet";

/** A failure with a message meant for the execution record, as is. */
class TargetError extends Error {}

export class DuckDbDispatcher implements Dispatcher {
  private instance: Promise<DuckDBInstance> | undefined;

  constructor(private readonly props: DuckDbDispatcherProps = {}) {}

  async start(request: DispatchRequest): Promise<DispatchResult> {
    const { target, node, targetIndex } = request;
    const label = `${target.kind} target ${targetIndex + 1} of node "${node.id}"`;
    if (target.kind !== "sparkSql" && target.kind !== "prestoSql") {
      return failed(
        `${label}: the local DuckDB dispatcher runs only sparkSql and prestoSql targets` +
          (target.kind === "pySpark" ? "; give the node a local compute override" : ""),
      );
    }
    const sql = target.code ?? "";
    if (sql.trim() === "") return failed(`${label}: the target has no SQL code`);
    if (target.kind === "sparkSql") {
      const construct = unsupportedSparkSql(sql);
      if (construct !== undefined) {
        return failed(
          `${label}: "${construct}" is Spark SQL that DuckDB cannot run locally; ` +
            `use a pySpark override or rewrite it (e.g. UNNEST)`,
        );
      }
    }
    let query: string;
    try {
      query = singleQuery(sql);
    } catch (e) {
      return failed(`${label}: ${message(e)}`);
    }

    let connection: DuckDBConnection | undefined;
    const views: string[] = [];
    try {
      const sources: [string, string][] = [];
      for (const [alias, input] of Object.entries(request.inputs)) {
        if (input.paths.length === 0) continue;
        sources.push([alias, await inputSource(alias, input)]);
      }
      connection = await (await this.database()).connect();
      for (const [alias, source] of sources) {
        await run(connection, `CREATE TEMP VIEW ${quoteIdent(alias)} AS ${source}`);
        views.push(alias);
      }
      await writeOutput(connection, query, request.output.path);
      return { status: "SUCCEEDED" };
    } catch (e) {
      return failed(`${label}: ${message(e)}`);
    } finally {
      if (connection !== undefined) {
        for (const alias of views) {
          await connection.run(`DROP VIEW IF EXISTS ${quoteIdent(alias)}`).catch(() => undefined);
        }
        connection.closeSync();
      }
    }
  }

  /** Closes the DuckDB instance (if one was created); a later start creates a new one. */
  async close(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance !== undefined) (await instance.catch(() => undefined))?.closeSync();
  }

  private database(): Promise<DuckDBInstance> {
    if (this.instance === undefined) {
      const created = DuckDBInstance.create(this.props.database ?? ":memory:");
      created.catch(() => {
        if (this.instance === created) this.instance = undefined;
      });
      this.instance = created;
    }
    return this.instance;
  }
}

// ---------------------------------------------------------------- unsupported Spark SQL

/**
 * The first Spark SQL construct in `sql` that DuckDB cannot run, by name (e.g. "LATERAL VIEW"), or
 * undefined. String literals, quoted identifiers and comments are not looked at (except that a
 * `/*+ ... *\/` comment is a Spark optimizer hint).
 */
export function unsupportedSparkSql(sql: string): string | undefined {
  const { code, hint } = scan(sql);
  const found: [number, string][] = [];
  if (hint >= 0) found.push([hint, "/*+ ... */"]);
  const patterns: [RegExp, string][] = [
    [/\blateral\s+view\b/i, "LATERAL VIEW"],
    [/\bdistribute\s+by\b/i, "DISTRIBUTE BY"],
    [/\bcluster\s+by\b/i, "CLUSTER BY"],
    [/\bsort\s+by\b/i, "SORT BY"],
    [/\binsert\s+overwrite\b/i, "INSERT OVERWRITE"],
    [/\bcache\s+(?:lazy\s+)?table\b/i, "CACHE TABLE"],
  ];
  for (const [pattern, name] of patterns) {
    const m = pattern.exec(code);
    if (m) found.push([m.index, name]);
  }
  for (const m of code.matchAll(/\btablesample\s*\(/gi)) {
    const open = m.index + m[0].length - 1;
    const close = matchingParen(code, open);
    if (/\bbucket\b/i.test(code.slice(open, close))) {
      found.push([m.index, "TABLESAMPLE (BUCKET ...)"]);
      break;
    }
  }
  for (const m of code.matchAll(/\btransform\s*\(/gi)) {
    const close = matchingParen(code, m.index + m[0].length - 1);
    // Script transform: TRANSFORM (cols) [ROW FORMAT ...] [RECORDWRITER ...] USING 'script'.
    if (/^\s*(?:using\s+['"]|row\s+format\b|recordwriter\b)/i.test(code.slice(close + 1))) {
      found.push([m.index, "TRANSFORM ... USING"]);
      break;
    }
  }
  found.sort((a, b) => a[0] - b[0]);
  return found[0]?.[1];
}

interface Scanned {
  /** `sql` with comments blanked and the contents of quoted strings/identifiers blanked (quotes kept). */
  readonly code: string;
  /** Offset of the first `/*+` hint comment, or -1. */
  readonly hint: number;
}

/** Spark lexical rules: '…' and "…" with backslash escapes, `…` identifiers, -- and nested /* *\/ comments. */
function scan(sql: string): Scanned {
  const out: string[] = [];
  let hint = -1;
  let i = 0;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) out.push(sql[k] === "\n" ? "\n" : " ");
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end < 0 ? sql.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && sql[i + 1] === "*") {
      if (sql[i + 2] === "+" && hint < 0) hint = i;
      let depth = 0;
      let k = i;
      while (k < sql.length) {
        if (sql[k] === "/" && sql[k + 1] === "*") {
          depth++;
          k += 2;
        } else if (sql[k] === "*" && sql[k + 1] === "/") {
          depth--;
          k += 2;
          if (depth === 0) break;
        } else k++;
      }
      blank(i, k);
      i = k;
    } else if (c === "'" || c === '"' || c === "`") {
      let k = i + 1;
      while (k < sql.length) {
        if (c !== "`" && sql[k] === "\\") k += 2;
        else if (sql[k] === c) {
          if (sql[k + 1] === c) k += 2;
          else break;
        } else k++;
      }
      const end = Math.min(k, sql.length);
      out.push(c);
      blank(i + 1, end);
      if (end < sql.length) out.push(c);
      i = end + 1;
    } else {
      out.push(c);
      i++;
    }
  }
  return { code: out.join(""), hint };
}

/** Offset of the parenthesis closing the one at `open` (or the end of `code`). */
function matchingParen(code: string, open: number): number {
  let depth = 0;
  for (let k = open; k < code.length; k++) {
    if (code[k] === "(") depth++;
    else if (code[k] === ")" && --depth === 0) return k;
  }
  return code.length;
}

/** The query without what trails its last token (semicolons, comments); rejects several statements. */
function singleQuery(sql: string): string {
  const { code } = scan(sql);
  const end = code.replace(/[\s;]+$/, "").length;
  if (code.slice(0, end).includes(";")) {
    throw new TargetError("the SQL must be a single query (it contains several statements)");
  }
  return sql.slice(0, end);
}

// ---------------------------------------------------------------- inputs

/** The SELECT reading every data file of an input, for its temporary view. */
async function inputSource(alias: string, input: DispatchInput): Promise<string> {
  const files: string[] = [];
  for (const path of input.paths) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
      throw new TargetError(`input "${alias}": ${path} is not a local path`);
    }
    files.push(...(await dataFiles(nodePath.resolve(path))));
  }
  if (files.length === 0) {
    throw new TargetError(
      `input "${alias}" has no data files in its partition folder(s): ${input.paths.join(", ")}`,
    );
  }
  const format = input.format ?? formatOf(files[0]);
  const list = `[${files.map(quoteString).join(", ")}]`;
  switch (format) {
    case "parquet":
      return `SELECT * FROM read_parquet(${list}, union_by_name = true, hive_partitioning = false)`;
    case "csv":
      return `SELECT * FROM read_csv_auto(${list}, header = true, union_by_name = true, hive_partitioning = false)`;
    case "json":
      return `SELECT * FROM read_json_auto(${list}, union_by_name = true, hive_partitioning = false)`;
    case "text":
      // One VARCHAR column `value` per line, like Spark's text source (a \x01 delimiter never splits).
      return (
        `SELECT coalesce(value, '') AS value FROM read_csv(${list}, columns = {'value': 'VARCHAR'}, ` +
        `header = false, delim = '\x01', quote = '', escape = '', auto_detect = false)`
      );
    case "orc":
    case "avro":
      throw new TargetError(`input "${alias}": format ${format} is not readable locally`);
    default:
      throw new TargetError(`input "${alias}": unknown format ${String(format)}`);
  }
}

/** Data files under a partition folder (recursively), skipping `_`/`.` names (markers, temp files). */
async function dataFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    const full = nodePath.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await dataFiles(full)));
    else if (entry.isFile() && (await fs.stat(full)).size > 0) files.push(full);
  }
  return files;
}

/** Format of an input that declares none (e.g. a Glue table), from a file name; Parquet by default. */
function formatOf(file: string): DataFormat {
  const name = file.toLowerCase().replace(/\.(gz|zst|snappy)$/, "");
  if (name.endsWith(".csv")) return "csv";
  if (/\.(json|jsonl|ndjson)$/.test(name)) return "json";
  if (name.endsWith(".txt")) return "text";
  return "parquet";
}

// ---------------------------------------------------------------- output

/**
 * DuckDB widens integer sums to HUGEINT, which Parquet can only store as DOUBLE; Spark's sum of
 * integers is a long. Casting those columns to BIGINT keeps local output typed like Spark's.
 */
async function sparkTyped(connection: DuckDBConnection, query: string): Promise<string> {
  const described = await connection.runAndReadAll(`DESCRIBE (\n${query}\n)`);
  const columns = described
    .getRowObjects()
    .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const huge = columns.filter((c) => c.type === "HUGEINT" || c.type === "UHUGEINT");
  if (huge.length === 0) return query;
  const casts = huge.map((c) => `CAST(${quoteIdent(c.name)} AS BIGINT) AS ${quoteIdent(c.name)}`);
  return `SELECT * REPLACE (${casts.join(", ")}) FROM (\n${query}\n)`;
}

async function writeOutput(connection: DuckDBConnection, query: string, outputPath: string): Promise<void> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(outputPath)) {
    throw new TargetError(`output ${outputPath} is not a local path`);
  }
  const dir = nodePath.resolve(outputPath);
  await fs.mkdir(dir, { recursive: true });
  // Write beside the old data under a name readers skip, then swap it in.
  const temp = nodePath.join(dir, `.${OUTPUT_FILE}.${process.pid}.${Date.now()}.tmp`);
  try {
    await run(
      connection,
      `COPY (\n${await sparkTyped(connection, query)}\n) TO ${quoteString(temp)} (FORMAT PARQUET)`,
    );
    for (const name of await fs.readdir(dir)) {
      if (name.startsWith("part-")) await fs.rm(nodePath.join(dir, name), { force: true, recursive: true });
    }
    await fs.rename(temp, nodePath.join(dir, OUTPUT_FILE));
  } finally {
    await fs.rm(temp, { force: true });
  }
}

// ---------------------------------------------------------------- helpers

async function run(connection: DuckDBConnection, sql: string): Promise<void> {
  try {
    await connection.run(sql);
  } catch (e) {
    throw new TargetError(`DuckDB error: ${message(e)}`);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function failed(error: string): DispatchResult {
  return { status: "FAILED", error, transient: false };
}
