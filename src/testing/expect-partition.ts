/**
 * Comparing a partition (or any typed table) to an expected markdown table, with a readable diff.
 */
import {
  formatMarkdownTable,
  normalizeTable,
  parseMarkdownTable,
  type CellValue,
  type ColumnType,
  type DataColumn,
  type DataTable,
  type DataTableInput,
} from "./markdown-table";
import { partitionFiles, readPartition, type PartitionFormat } from "./partition-io";

export interface CompareOptions {
  /**
   * Columns to sort the actual rows by before comparing them in order with the expected rows as
   * written; rows that tie on these columns may come in any order. Makes `ignoreOrder` default to false.
   */
  readonly orderBy?: readonly string[];
  /**
   * Compare rows as a multiset (order and position do not matter, duplicates count).
   * @default true, or false when `orderBy` is given
   */
  readonly ignoreOrder?: boolean;
  /**
   * Allowed difference between float, double and decimal values, relative to the larger magnitude
   * (absolute below 1): |a − b| ≤ tolerance × max(1, |a|, |b|). Integers, strings, booleans, dates and
   * timestamps compare exactly. A float column compares values rounded to 32 bits. NaN equals NaN.
   * @default 1e-9
   */
  readonly tolerance?: number;
}

export interface ExpectPartitionOptions extends CompareOptions {
  /** @default from the data files' extensions */
  readonly format?: PartitionFormat;
}

/** Rows shown per section of a diff, and of the actual table after it. */
const SHOWN_ROWS = 50;

/**
 * Asserts that a partition folder (or data file) holds exactly the expected table: the same column
 * names (any order) with compatible types (int ~ long; float ~ double ~ decimal(p,s); others exact),
 * and the same rows. CSV and JSON columns are read with the expected types. A folder without data
 * files matches an expected table of zero rows. Throws an Error whose message shows the missing and
 * unexpected rows as markdown, then the actual partition as markdown.
 */
export async function expectPartition(
  path: string,
  expected: string | DataTableInput | DataTable,
  options: ExpectPartitionOptions = {},
): Promise<void> {
  const want = typeof expected === "string" ? parseMarkdownTable(expected) : normalizeTable(expected);
  let files;
  try {
    files = await partitionFiles(path);
  } catch (e) {
    throw new Error(`expectPartition: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (files.data.length === 0) {
    if (want.rows.length === 0) return;
    throw new Error(
      `expectPartition: ${path} has no data (${files.all.length > 0 ? "only empty data files" : files.markers.length > 0 ? `only ${files.markers.join(", ")}` : "empty folder"}), ` +
        `expected ${want.rows.length} row(s):\n${formatMarkdownTable(want)}`,
    );
  }
  const types: Record<string, ColumnType> = {};
  for (const c of want.columns) types[c.name] = c.type;
  const actual = await readPartition(path, { types, ...(options.format ? { format: options.format } : {}) });
  const diff = diffTables(actual, want, options);
  if (diff !== undefined)
    throw new Error(`expectPartition: ${path} does not match the expected table.\n${diff}`);
}

/**
 * The differences between an actual and an expected table as readable text (markdown tables), or
 * undefined when they match under `options` (see `expectPartition`).
 */
export function diffTables(
  actual: DataTable | DataTableInput,
  expected: string | DataTable | DataTableInput,
  options: CompareOptions = {},
): string | undefined {
  const got = normalizeActual(actual);
  const want = typeof expected === "string" ? parseMarkdownTable(expected) : normalizeTable(expected);
  const tolerance = options.tolerance ?? 1e-9;
  if (!(tolerance >= 0)) throw new Error(`tolerance must be a number ≥ 0, not ${String(options.tolerance)}`);
  const orderBy = options.orderBy ?? [];
  for (const name of orderBy) {
    if (!want.columns.some((c) => c.name === name)) {
      throw new Error(
        `orderBy: "${name}" is not a column of the expected table (${columnList(want.columns)})`,
      );
    }
  }
  const ignoreOrder = options.ignoreOrder ?? orderBy.length === 0;

  // Columns: by name, types of one family.
  const problems: string[] = [];
  const index: number[] = [];
  for (const c of want.columns) {
    const i = got.columns.findIndex((a) => a.name === c.name);
    const a = got.columns[i];
    if (a === undefined) problems.push(`missing column "${c.name}" (${c.type})`);
    else if (family(a.type) !== family(c.type)) {
      problems.push(
        `column "${c.name}": expected ${c.type}, found ${a.type}${a.sqlType ? ` (${a.sqlType})` : ""}`,
      );
    }
    index.push(i);
  }
  for (const a of got.columns) {
    if (!want.columns.some((c) => c.name === a.name)) {
      problems.push(`unexpected column "${a.name}" (${a.type}${a.sqlType ? `, ${a.sqlType}` : ""})`);
    }
  }
  if (problems.length > 0) {
    return `columns differ:\n${problems.map((p) => `  - ${p}`).join("\n")}\n\n${actualSection(got)}`;
  }

  // Rows, in the expected column order.
  const rows = got.rows.map((r) => index.map((i) => r[i] as CellValue));
  const floats = want.columns.map(
    (c, k) => c.type === "float" || got.columns[index[k] as number]?.type === "float",
  );
  const cell = want.columns.map((c, k) => cellComparer(family(c.type), floats[k] as boolean, tolerance));
  const same = (a: readonly CellValue[], b: readonly CellValue[]): boolean =>
    a.every((v, k) => (cell[k] as CellComparer)(v, b[k] as CellValue));
  const keyOf = (row: readonly CellValue[]): string =>
    JSON.stringify(
      row.map((v, k) => exactKey(v, family((want.columns[k] as DataColumn).type), floats[k] as boolean)),
    );
  const sortKeys = orderBy.map((name) => want.columns.findIndex((c) => c.name === name));
  const byOrder = (a: readonly CellValue[], b: readonly CellValue[]): number => {
    for (const k of sortKeys) {
      const d = compareCells(
        family((want.columns[k] as DataColumn).type),
        a[k] as CellValue,
        b[k] as CellValue,
      );
      if (d !== 0) return d;
    }
    return 0;
  };
  const summary =
    `${want.rows.length} expected row(s), ${rows.length} actual row(s); ` +
    (ignoreOrder
      ? "compared as a multiset"
      : `compared in order${orderBy.length ? ` by ${orderBy.join(", ")}` : ""}`) +
    (want.columns.some((c) => family(c.type) === "fractional") ? `, tolerance ${tolerance}` : "");

  if (ignoreOrder) {
    const { missing, unexpected } = multisetDiff(want.rows, rows, keyOf, same);
    if (missing.length === 0 && unexpected.length === 0) return undefined;
    if (sortKeys.length > 0) {
      missing.sort(byOrder);
      unexpected.sort(byOrder);
    }
    const sections = [summary];
    if (missing.length > 0) {
      sections.push(
        `missing rows (expected, not in the partition): ${missing.length}\n${table(want.columns, missing)}`,
      );
    }
    if (unexpected.length > 0) {
      sections.push(
        `unexpected rows (in the partition, not expected): ${unexpected.length}\n${table(want.columns, unexpected)}`,
      );
    }
    sections.push(actualSection(got));
    return sections.join("\n\n");
  }

  // In order: sort by orderBy (stable), then let rows that tie line up with the expected ones.
  const ordered = sortKeys.length > 0 ? alignTies([...rows].sort(byOrder), want.rows, byOrder, same) : rows;
  const positions: number[] = [];
  for (let i = 0; i < Math.max(ordered.length, want.rows.length); i++) {
    const a = ordered[i];
    const e = want.rows[i];
    if (a === undefined || e === undefined || !same(e, a)) positions.push(i);
  }
  if (positions.length === 0) return undefined;
  const at = (list: readonly (readonly CellValue[])[]): { rows: CellValue[][]; labels: string[] } => {
    const shown = positions.filter((p) => p < list.length);
    return { rows: shown.map((p) => [...(list[p] as CellValue[])]), labels: shown.map((p) => String(p + 1)) };
  };
  const exp = at(want.rows);
  const act = at(ordered);
  const label = (labels: string[]): { name: string; type: string; values: string[] } => ({
    name: "row",
    type: "",
    values: labels,
  });
  return [
    `${summary}\nrows differ at position(s) ${positions
      .slice(0, 20)
      .map((p) => p + 1)
      .join(", ")}${positions.length > 20 ? ", …" : ""}`,
    `expected at those positions:\n${table(want.columns, exp.rows, label(exp.labels))}`,
    `actual at those positions${sortKeys.length ? ` (sorted by ${orderBy.join(", ")})` : ""}:\n${table(want.columns, act.rows, label(act.labels))}`,
    actualSection(got),
  ].join("\n\n");
}

// ---------------------------------------------------------------- internals

type Family = "integral" | "fractional" | "string" | "boolean" | "date" | "timestamp";

function family(type: ColumnType): Family {
  if (type === "int" || type === "long") return "integral";
  if (type === "float" || type === "double" || type.startsWith("decimal")) return "fractional";
  return type as Family;
}

type CellComparer = (a: CellValue, b: CellValue) => boolean;

function cellComparer(f: Family, float: boolean, tolerance: number): CellComparer {
  return (a, b) => {
    if (a === null || b === null) return a === b;
    if (f === "integral") return bigOf(a) === bigOf(b);
    if (f === "fractional") {
      let x = Number(a);
      let y = Number(b);
      if (float) [x, y] = [Math.fround(x), Math.fround(y)];
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
      if (x === y) return true;
      if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
      return Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(x), Math.abs(y));
    }
    return a === b;
  };
}

/** A key equal for cells that compare equal with no tolerance. */
function exactKey(v: CellValue, f: Family, float: boolean): unknown {
  if (v === null) return null;
  if (f === "integral") return String(bigOf(v));
  if (f === "fractional") {
    const n = float ? Math.fround(Number(v)) : Number(v);
    return Number.isNaN(n) ? "NaN" : String(n === 0 ? 0 : n);
  }
  return v;
}

function bigOf(v: CellValue): bigint | CellValue {
  try {
    return BigInt(v as string | number);
  } catch {
    return v;
  }
}

/** Expected rows no actual row matches, and actual rows left over (exact matches first, then tolerance). */
function multisetDiff(
  expected: readonly (readonly CellValue[])[],
  actual: readonly (readonly CellValue[])[],
  keyOf: (row: readonly CellValue[]) => string,
  same: (a: readonly CellValue[], b: readonly CellValue[]) => boolean,
): { missing: CellValue[][]; unexpected: CellValue[][] } {
  const pool = new Map<string, number[]>();
  actual.forEach((row, i) => {
    const k = keyOf(row);
    const list = pool.get(k);
    if (list) list.push(i);
    else pool.set(k, [i]);
  });
  const used = new Set<number>();
  const unmatched: (readonly CellValue[])[] = [];
  for (const row of expected) {
    const i = pool.get(keyOf(row))?.shift();
    if (i === undefined) unmatched.push(row);
    else used.add(i);
  }
  let left = actual.map((row, i) => ({ row, i })).filter((x) => !used.has(x.i));
  const missing: CellValue[][] = [];
  for (const row of unmatched) {
    const j = left.findIndex((x) => same(row, x.row));
    if (j < 0) missing.push([...row]);
    else left = [...left.slice(0, j), ...left.slice(j + 1)];
  }
  return { missing, unexpected: left.map((x) => [...x.row]) };
}

/** Within each run of rows tied on the sort keys, put the rows that match the expected ones in their place. */
function alignTies(
  sorted: readonly (readonly CellValue[])[],
  expected: readonly (readonly CellValue[])[],
  byOrder: (a: readonly CellValue[], b: readonly CellValue[]) => number,
  same: (a: readonly CellValue[], b: readonly CellValue[]) => boolean,
): (readonly CellValue[])[] {
  const out: (readonly CellValue[])[] = [];
  let start = 0;
  while (start < sorted.length) {
    let end = start + 1;
    while (end < sorted.length && byOrder(sorted[start] as CellValue[], sorted[end] as CellValue[]) === 0)
      end++;
    const run = sorted.slice(start, end);
    const placed: (readonly CellValue[] | undefined)[] = new Array(run.length).fill(undefined);
    for (let k = 0; k < run.length; k++) {
      const e = expected[start + k];
      if (e === undefined) continue;
      const j = run.findIndex((r) => same(e, r));
      if (j >= 0) {
        placed[k] = run[j];
        run.splice(j, 1);
      }
    }
    for (let k = 0; k < placed.length; k++) if (placed[k] === undefined) placed[k] = run.shift();
    out.push(...(placed as (readonly CellValue[])[]));
    start = end;
  }
  return out;
}

/** Sort order of cells of one family: nulls first, numbers numerically (NaN last), else by text. */
function compareCells(f: Family, a: CellValue, b: CellValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (f === "integral") {
    const d = BigInt(a as string | number) - BigInt(b as string | number);
    return d === 0n ? 0 : d < 0n ? -1 : 1;
  }
  if (f === "fractional") {
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number(Number.isNaN(x)) - Number(Number.isNaN(y));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const s = String(a);
  const t = String(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

function normalizeActual(t: DataTable | DataTableInput): DataTable {
  // A table read from a file is already canonical (and may carry sqlType); a hand-built one is checked.
  return t.columns.every((c) => "sqlType" in c) ? (t as DataTable) : normalizeTable(t);
}

function table(
  columns: readonly DataColumn[],
  rows: readonly (readonly CellValue[])[],
  label?: { name: string; type: string; values: string[] },
): string {
  const shown = rows.slice(0, SHOWN_ROWS).map((r) => [...r]);
  const text = formatMarkdownTable({ columns: [...columns], rows: shown }, label ? { label } : {});
  return rows.length > SHOWN_ROWS ? `${text}\n… and ${rows.length - SHOWN_ROWS} more row(s)` : text;
}

function actualSection(t: DataTable): string {
  return `actual partition (${t.rows.length} row(s)):\n${table(t.columns, t.rows)}`;
}

function columnList(columns: readonly DataColumn[]): string {
  return columns.map((c) => c.name).join(", ");
}
