/**
 * Writing and reading partition folders with DuckDB, for tests: a markdown table becomes one data
 * file with the declared column types (plus a completion marker), and a partition folder (Parquet,
 * CSV or JSON) becomes a typed table again.
 */
import { promises as fs } from "node:fs";
import * as nodePath from "node:path";
import {
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBConnection,
} from "@duckdb/node-api";
import {
  decimalParts,
  decimalValue,
  normalizeTable,
  parseColumnType,
  parseMarkdownTable,
  plainNumber,
  type CellValue,
  type ColumnType,
  type DataColumn,
  type DataTable,
  type DataTableInput,
} from "./markdown-table";

/** File formats the test helpers write and read. */
export type PartitionFormat = "parquet" | "csv" | "json";

export interface WritePartitionOptions {
  /** @default "parquet" */
  readonly format?: PartitionFormat;
  /** Completion marker written after the data file; null for none. @default "_SUCCESS" */
  readonly completion?: string | null;
  /** Name of the data file. @default `part-00000.<format>` */
  readonly fileName?: string;
}

export interface ReadPartitionOptions {
  /** @default from the data files' extensions (`.csv`, `.json`/`.jsonl`/`.ndjson`, else Parquet) */
  readonly format?: PartitionFormat;
  /**
   * Column types for text formats (CSV, JSON), which carry no schema: these columns are read as these
   * types instead of inferred ones (a CSV `007` stays a string, `12.50` a decimal(10,2)). A value that
   * does not convert is an error naming the row and column. Ignored for Parquet.
   */
  readonly types?: Readonly<Record<string, ColumnType | string>>;
}

/**
 * Writes a table (a markdown text or a parsed/hand-built table) as one data file in the folder
 * `dir` (created if missing), with DuckDB and the declared column types, then the completion marker.
 * Data files of an earlier write (`part-*`) are replaced. Returns the data file's path.
 *
 * CSV files have a header line; JSON files hold one object per line. A JSON file of zero rows is
 * empty (JSON has no schema to write).
 */
export async function writePartition(
  dir: string,
  data: string | DataTableInput | DataTable,
  options: WritePartitionOptions = {},
): Promise<string> {
  const table = typeof data === "string" ? parseMarkdownTable(data) : normalizeTable(data);
  const format = options.format ?? "parquet";
  if (!["parquet", "csv", "json"].includes(format)) {
    throw new Error(`writePartition: format must be parquet, csv or json, not ${JSON.stringify(format)}`);
  }
  const completion = options.completion === undefined ? "_SUCCESS" : options.completion;
  if (completion !== null) assertFileName(completion, "completion marker");
  const fileName = options.fileName ?? `part-00000.${format}`;
  assertFileName(fileName, "file name");
  if (fileName.startsWith("_") || fileName.startsWith(".")) {
    throw new Error(
      `writePartition: file name ${JSON.stringify(fileName)} starts with "_" or ".", which readers skip`,
    );
  }

  const folder = nodePath.resolve(dir);
  await fs.mkdir(folder, { recursive: true });
  const file = nodePath.join(folder, fileName);
  const temp = nodePath.join(folder, `.${fileName}.${process.pid}.${Date.now()}.tmp`);
  try {
    await withConnection(async (connection) => {
      await connection.run(
        `COPY (\n${selectOf(table)}\n) TO ${quoteString(temp)} (FORMAT ${format.toUpperCase()})`,
      );
    });
    for (const name of await fs.readdir(folder)) {
      if (name.startsWith("part-") && name !== fileName) {
        await fs.rm(nodePath.join(folder, name), { force: true, recursive: true });
      }
    }
    await fs.rename(temp, file);
  } finally {
    await fs.rm(temp, { force: true });
  }
  if (completion !== null) await fs.writeFile(nodePath.join(folder, completion), "");
  return file;
}

/**
 * Reads a partition folder (every data file in it and its sub-folders, skipping names that start with
 * `_` or `.`) or one data file into a typed table, rows in file order. Only the files' own columns
 * are read: `key=value` folders in the path add no column. Throws when the path does not
 * exist or holds no data file. Data files that are all empty (a JSON file of zero rows) read as a
 * table without columns.
 *
 * Engine types map to column types: VARCHAR → string, TINYINT/SMALLINT/INTEGER → int, BIGINT/HUGEINT →
 * long, FLOAT, DOUBLE, DECIMAL(p,s), BOOLEAN, DATE, TIMESTAMP (any precision; WITH TIME ZONE in UTC)
 * → timestamp; anything else (lists, structs, blobs, UUIDs, times) → string, as DuckDB renders it.
 * `sqlType` keeps the engine's type.
 */
export async function readPartition(path: string, options: ReadPartitionOptions = {}): Promise<DataTable> {
  let files;
  try {
    files = await partitionFiles(path);
  } catch (e) {
    throw new Error(`readPartition: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (files.all.length === 0) {
    throw new Error(
      `readPartition: no data files in ${path}` +
        (files.markers.length > 0 ? ` (only ${files.markers.join(", ")})` : " (the folder is empty)"),
    );
  }
  if (files.data.length === 0) return { columns: [], rows: [] };
  const format = options.format ?? formatOfFiles(files.data, path);
  return withConnection((connection) => readFiles(connection, files.data, format, options.types ?? {}, path));
}

// ---------------------------------------------------------------- internals

/** Files of a partition: `all` data files, `data` the non-empty ones, and marker names. */
export async function partitionFiles(
  path: string,
): Promise<{ all: string[]; data: string[]; markers: string[] }> {
  const full = nodePath.resolve(path);
  let stat;
  try {
    stat = await fs.stat(full);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new Error(`${path} does not exist`, { cause: e });
    throw e;
  }
  if (stat.isFile()) return { all: [full], data: stat.size > 0 ? [full] : [], markers: [] };
  const all: string[] = [];
  const data: string[] = [];
  const markers: string[] = [];
  const walk = async (dir: string, top: boolean): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = nodePath.join(dir, entry.name);
      if (entry.name.startsWith("_") || entry.name.startsWith(".")) {
        if (top && entry.isFile()) markers.push(entry.name);
        continue;
      }
      if (entry.isDirectory()) await walk(child, false);
      else if (entry.isFile()) {
        all.push(child);
        if ((await fs.stat(child)).size > 0) data.push(child);
      }
    }
  };
  await walk(full, true);
  return { all, data, markers };
}

function formatOfFiles(files: readonly string[], path: string): PartitionFormat {
  const formats = new Set(files.map(formatOfFile));
  if (formats.size > 1) {
    throw new Error(`readPartition: ${path} mixes formats (${[...formats].join(", ")}); pass { format }`);
  }
  return [...formats][0] as PartitionFormat;
}

function formatOfFile(file: string): PartitionFormat {
  const name = file.toLowerCase().replace(/\.(gz|zst|snappy)$/, "");
  if (name.endsWith(".csv")) return "csv";
  if (/\.(json|jsonl|ndjson)$/.test(name)) return "json";
  return "parquet";
}

async function readFiles(
  connection: DuckDBConnection,
  files: readonly string[],
  format: PartitionFormat,
  types: Readonly<Record<string, ColumnType | string>>,
  path: string,
): Promise<DataTable> {
  const list = `[${files.map(quoteString).join(", ")}]`;
  const source = (varcharColumns: readonly string[]): string => {
    switch (format) {
      case "parquet":
        return `read_parquet(${list}, union_by_name = true, hive_partitioning = false)`;
      case "csv": {
        const overrides =
          varcharColumns.length === 0
            ? ""
            : `, types = {${varcharColumns.map((c) => `${quoteString(c)}: 'VARCHAR'`).join(", ")}}`;
        return `read_csv(${list}, header = true, union_by_name = true, hive_partitioning = false, allow_quoted_nulls = false${overrides})`;
      }
      case "json":
        return `read_json_auto(${list}, union_by_name = true, hive_partitioning = false)`;
      default:
        throw new Error(`readPartition: format must be parquet, csv or json, not ${JSON.stringify(format)}`);
    }
  };
  const fail = (e: unknown): never => {
    throw new Error(
      `readPartition: cannot read ${path} as ${format}: ${e instanceof Error ? e.message : String(e)}`,
    );
  };

  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source([])}`).catch(fail);
  const names = described.getRowObjectsJson().map((r) => String(r.column_name));
  const hinted = new Map<string, ColumnType>();
  if (format !== "parquet") {
    for (const [name, typeName] of Object.entries(types)) {
      const type = parseColumnType(typeName);
      if (type === undefined)
        throw new Error(`readPartition: unknown type "${typeName}" for column "${name}"`);
      if (names.includes(name)) hinted.set(name, type);
    }
  }
  const selects = names.map((n) =>
    hinted.has(n)
      ? `TRY_CAST(${quoteIdent(n)} AS ${sqlTypeOf(hinted.get(n) as ColumnType)}) AS ${quoteIdent(n)}`
      : quoteIdent(n),
  );
  // The raw text of hinted columns, to name a value that does not convert.
  const raws = [...hinted.keys()].map((n, i) => `CAST(${quoteIdent(n)} AS VARCHAR) AS "__raw_${i}"`);
  const reader = await connection
    .runAndReadAll(
      `SELECT ${[...selects, ...raws].join(", ")} FROM ${source(format === "csv" ? [...hinted.keys()] : [])}`,
    )
    .catch(fail);

  const sqlTypes = reader.columnTypes().map((t) => String(t));
  const columns: DataColumn[] = names.map((name, i) => {
    const sqlType = sqlTypes[i] as string;
    return { name, type: hinted.get(name) ?? columnTypeOf(sqlType), sqlType };
  });
  const hintedIndex = [...hinted.keys()].map((n) => names.indexOf(n));
  const rows: CellValue[][] = reader.getRows().map((row, r) => {
    hintedIndex.forEach((col, k) => {
      const raw = row[names.length + k];
      if (row[col] === null && raw !== null && raw !== undefined) {
        const column = columns[col] as DataColumn;
        throw new Error(
          `readPartition: ${path}, row ${r + 1}, column "${column.name}": ${JSON.stringify(String(raw))} is not a ${column.type}`,
        );
      }
    });
    return row.slice(0, names.length).map((v) => cellOf(v));
  });
  return { columns, rows };
}

/** The column type of an engine type (see readPartition). */
export function columnTypeOf(sqlType: string): ColumnType {
  const t = sqlType.toUpperCase();
  if (["TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"].includes(t)) return "int";
  if (["UINTEGER", "BIGINT", "UBIGINT", "HUGEINT", "UHUGEINT"].includes(t)) return "long";
  if (t === "FLOAT") return "float";
  if (t === "DOUBLE") return "double";
  if (t === "BOOLEAN") return "boolean";
  if (t === "DATE") return "date";
  if (t.startsWith("TIMESTAMP")) return "timestamp";
  const m = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (m) return `decimal(${Number(m[1])},${Number(m[2])})`;
  return "string";
}

/** A DuckDB value as a cell value (see markdown-table for the JS type of each column type). */
function cellOf(v: unknown): CellValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number") return v;
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (v instanceof DuckDBDecimalValue) return decimalValue(v.toString());
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue)
    return timestampText(v.micros, 6, v);
  if (v instanceof DuckDBTimestampMillisecondsValue) return timestampText(v.millis * 1000n, 6, v);
  if (v instanceof DuckDBTimestampSecondsValue) return timestampText(v.seconds * 1_000_000n, 6, v);
  if (v instanceof DuckDBTimestampNanosecondsValue) return timestampText(v.nanos, 9, v);
  return String(v);
}

/** `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC) of a count of 10^-digits seconds since the epoch. */
function timestampText(ticks: bigint, digits: number, original: unknown): string {
  const perSecond = 10n ** BigInt(digits);
  const perDay = 86_400n * perSecond;
  let days = ticks / perDay;
  let rest = ticks % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  const ms = Number(days) * 86_400_000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return String(original);
  const date = new Date(ms).toISOString().slice(0, 10);
  const seconds = Number(rest / perSecond);
  const fraction = (rest % perSecond).toString().padStart(digits, "0").replace(/0+$/, "");
  const hh = String(Math.floor(seconds / 3600)).padStart(2, "0");
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  return `${date} ${hh}:${mm}:${ss}${fraction === "" ? "" : `.${fraction}`}`;
}

/** The DuckDB type a column type is written as. */
export function sqlTypeOf(type: ColumnType): string {
  switch (type) {
    case "string":
      return "VARCHAR";
    case "int":
      return "INTEGER";
    case "long":
      return "BIGINT";
    case "float":
      return "FLOAT";
    case "double":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    case "date":
      return "DATE";
    case "timestamp":
      return "TIMESTAMP";
    default: {
      const parts = decimalParts(type);
      if (parts === undefined) throw new Error(`unknown column type ${String(type)}`);
      return `DECIMAL(${parts.precision},${parts.scale})`;
    }
  }
}

/** A SELECT producing the table's rows with its column types (text literals cast to each type). */
function selectOf(table: DataTable): string {
  const casts = table.columns.map((c, i) => `CAST(c${i} AS ${sqlTypeOf(c.type)}) AS ${quoteIdent(c.name)}`);
  if (table.rows.length === 0) {
    return `SELECT ${table.columns.map((c) => `CAST(NULL AS ${sqlTypeOf(c.type)}) AS ${quoteIdent(c.name)}`).join(", ")} WHERE false`;
  }
  const values = table.rows.map(
    (row) => `(${row.map((v, i) => literal(v, (table.columns[i] as DataColumn).type)).join(", ")})`,
  );
  const aliases = table.columns.map((_, i) => `c${i}`).join(", ");
  return `SELECT ${casts.join(", ")}\nFROM (VALUES\n  ${values.join(",\n  ")}\n) AS t(${aliases})`;
}

function literal(value: CellValue, type: ColumnType): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "'NaN'";
    if (!Number.isFinite(value)) return value > 0 ? "'Infinity'" : "'-Infinity'";
    return quoteString(type.startsWith("decimal") ? plainNumber(value) : String(value));
  }
  return quoteString(String(value));
}

async function withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:");
  try {
    const connection = await instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

function assertFileName(name: string, what: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new Error(`writePartition: ${what} ${JSON.stringify(name)} must be a plain file name`);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
