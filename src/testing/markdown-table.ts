/**
 * Markdown-table test data: a header row of column names, a row of column types, then the rows.
 *
 * ```md
 * | cid  | amount | day        |
 * |------|--------|------------|   (optional: right after the header or right after the type row)
 * | long | double | date       |
 * | 1    | 10.5   | 2024-05-07 |
 * | 2    | null   |            |   (`null`, `NULL` or an empty cell is null)
 * ```
 *
 * Column types (case-insensitive): `string` (`varchar`), `int` (`integer`, 32 bits), `long` (`bigint`,
 * 64 bits), `float` (32 bits), `double`, `decimal(p,s)` (`decimal` alone is `decimal(10,0)`, as in
 * Spark), `boolean` (`bool`), `date` (`2024-05-07`), `timestamp` (zone-less, microseconds:
 * `2024-05-07 10:00:00.123456`; a `T` separator, a trailing `Z`, or a bare date are accepted).
 *
 * Cells are trimmed; `\|` is a pipe inside a cell. A string cell written in double quotes is a JSON
 * string, for the values a bare cell cannot hold: `""` (empty string), `"null"`, `"  padded "`,
 * `"a\nb"`, `"---"`.
 *
 * Values in a parsed table: strings for `string`, `date` (`YYYY-MM-DD`) and `timestamp`
 * (`YYYY-MM-DD HH:MM:SS[.ffffff]`, fraction without trailing zeros); numbers for `int`, `float`,
 * `double`; numbers for `long` and `decimal` too, except a value a JS number cannot hold exactly,
 * which stays its canonical decimal text (`9223372036854775807`); booleans; null.
 */

/** A column type of a markdown table (canonical spelling). */
export type ColumnType =
  | "string"
  | "int"
  | "long"
  | "float"
  | "double"
  | `decimal(${number},${number})`
  | "boolean"
  | "date"
  | "timestamp";

/** One cell: see the module comment for which JS type each column type uses. */
export type CellValue = string | number | boolean | null;

export interface DataColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** The engine's own type, when the table was read from a file (`DECIMAL(38,2)`, `INTEGER[]`). */
  readonly sqlType?: string;
}

/** A typed table: what `parseMarkdownTable` and `readPartition` return. */
export interface DataTable {
  columns: DataColumn[];
  rows: CellValue[][];
}

/** A table built by hand: types may use any accepted spelling, values are checked against them. */
export interface DataTableInput {
  readonly columns: readonly { readonly name: string; readonly type: ColumnType | string }[];
  readonly rows: readonly (readonly CellValue[])[];
}

/** A markdown table that cannot be parsed, or a value that does not fit its column's type. */
export class MarkdownTableError extends Error {
  constructor(
    message: string,
    /** 1-based line of the markdown text (or row of a hand-built table), when known. */
    readonly line?: number,
    /** Name of the column at fault, when known. */
    readonly column?: string,
  ) {
    super(message);
    this.name = "MarkdownTableError";
  }
}

const TYPE_NAMES = "string, int, long (bigint), float, double, decimal(p,s), boolean, date, timestamp";

/** The canonical column type of a type name (`BIGINT` → `long`), or undefined for an unknown name. */
export function parseColumnType(text: string): ColumnType | undefined {
  const t = text.trim().toLowerCase().replace(/\s+/g, "");
  switch (t) {
    case "string":
    case "varchar":
      return "string";
    case "int":
    case "integer":
      return "int";
    case "long":
    case "bigint":
      return "long";
    case "float":
      return "float";
    case "double":
      return "double";
    case "boolean":
    case "bool":
      return "boolean";
    case "date":
      return "date";
    case "timestamp":
      return "timestamp";
  }
  const m = /^decimal(?:\((\d+)(?:,(\d+))?\))?$/.exec(t);
  if (!m) return undefined;
  const precision = m[1] === undefined ? 10 : Number(m[1]);
  const scale = m[2] === undefined ? 0 : Number(m[2]);
  if (precision < 1 || precision > 38 || scale > precision) return undefined;
  return `decimal(${precision},${scale})`;
}

/** Precision and scale of a decimal type, or undefined for other types. */
export function decimalParts(type: ColumnType): { precision: number; scale: number } | undefined {
  const m = /^decimal\((\d+),(\d+)\)$/.exec(type);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

// ---------------------------------------------------------------- parsing

/** Parses a markdown table (header, type row, rows); throws MarkdownTableError naming line and column. */
export function parseMarkdownTable(text: string): DataTable {
  const lines = text.split(/\r?\n/);
  const rows: { line: number; raw: string; cells: string[] }[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() !== "") rows.push({ line: i + 1, raw: raw.trim(), cells: splitRow(raw) });
  });
  const header = rows[0];
  if (header === undefined) {
    throw new MarkdownTableError("markdown table: no header row (e.g. | cid | amount |)");
  }
  const names = header.cells;
  names.forEach((name, i) => {
    if (name === "") {
      throw new MarkdownTableError(
        `markdown table line ${header.line}: column ${i + 1} of the header has no name\n    ${header.raw}`,
        header.line,
      );
    }
    if (names.indexOf(name) !== i) {
      throw new MarkdownTableError(
        `markdown table line ${header.line}: column "${name}" appears twice in the header\n    ${header.raw}`,
        header.line,
        name,
      );
    }
  });
  const checkCount = (row: (typeof rows)[number], what: string): void => {
    if (row.cells.length !== names.length) {
      throw new MarkdownTableError(
        `markdown table line ${row.line}: ${what} has ${row.cells.length} cell(s), the header has ` +
          `${names.length} (${names.join(", ")})\n    ${row.raw}`,
        row.line,
      );
    }
  };

  let next = 1;
  let separatorSeen = false;
  const skipSeparator = (): void => {
    const row = rows[next];
    if (row !== undefined && !separatorSeen && isSeparator(row.cells)) {
      checkCount(row, "the separator row");
      separatorSeen = true;
      next++;
    }
  };
  skipSeparator();
  const typeRow = rows[next++];
  if (typeRow === undefined) {
    throw new MarkdownTableError(
      `markdown table line ${header.line}: no type row after the header ` +
        `(e.g. | ${names.map(() => "long").join(" | ")} |; types: ${TYPE_NAMES})`,
      header.line,
    );
  }
  checkCount(typeRow, "the type row");
  const columns: DataColumn[] = typeRow.cells.map((cell, i) => {
    const type = parseColumnType(cell);
    if (type === undefined) {
      throw new MarkdownTableError(
        `markdown table line ${typeRow.line}, column "${names[i]}": unknown type "${cell}" ` +
          `(the row after the header gives each column's type: ${TYPE_NAMES})\n    ${typeRow.raw}`,
        typeRow.line,
        names[i],
      );
    }
    return { name: names[i] as string, type };
  });
  skipSeparator();

  const data: CellValue[][] = [];
  for (const row of rows.slice(next)) {
    if (isSeparator(row.cells)) {
      throw new MarkdownTableError(
        `markdown table line ${row.line}: a separator row may only follow the header row or the type row ` +
          `(write data that looks like one in quotes: "---")\n    ${row.raw}`,
        row.line,
      );
    }
    checkCount(row, "this row");
    data.push(
      row.cells.map((cell, i) => {
        const column = columns[i] as DataColumn;
        const parsed = parseCell(column.type, cell);
        if (typeof parsed === "object" && parsed !== null) {
          throw new MarkdownTableError(
            `markdown table line ${row.line}, column "${column.name}": ${parsed.error}\n    ${row.raw}`,
            row.line,
            column.name,
          );
        }
        return parsed;
      }),
    );
  }
  return { columns, rows: data };
}

/**
 * Checks a hand-built table and brings it to canonical form: type names canonical, strings given for
 * other types parsed as markdown cells would be, numbers checked against their type.
 */
export function normalizeTable(table: DataTableInput | DataTable): DataTable {
  const columns: DataColumn[] = table.columns.map((c, i) => {
    const type = parseColumnType(c.type);
    if (type === undefined) {
      throw new MarkdownTableError(`column ${i + 1} "${c.name}": unknown type "${c.type}" (${TYPE_NAMES})`);
    }
    if (c.name === "") throw new MarkdownTableError(`column ${i + 1} has no name`);
    if (table.columns.findIndex((o) => o.name === c.name) !== i) {
      throw new MarkdownTableError(`column "${c.name}" appears twice`, undefined, c.name);
    }
    return { name: c.name, type };
  });
  const rows = table.rows.map((row, r) => {
    if (row.length !== columns.length) {
      throw new MarkdownTableError(
        `row ${r + 1}: ${row.length} value(s) for ${columns.length} column(s) (${columns.map((c) => c.name).join(", ")})`,
        r + 1,
      );
    }
    return row.map((value, i) => {
      const column = columns[i] as DataColumn;
      const v = normalizeValue(column.type, value);
      if (typeof v === "object" && v !== null) {
        throw new MarkdownTableError(`row ${r + 1}, column "${column.name}": ${v.error}`, r + 1, column.name);
      }
      return v;
    });
  });
  return { columns, rows };
}

interface CellProblem {
  readonly error: string;
}

function normalizeValue(type: ColumnType, value: CellValue): CellValue | CellProblem {
  if (value === null || value === undefined) return null;
  if (type === "string") {
    return typeof value === "string" ? value : { error: `${JSON.stringify(value)} is not a string` };
  }
  if (typeof value === "string") return parseCell(type, value.trim());
  if (typeof value === "boolean") {
    return type === "boolean" ? value : { error: `${value} is not a ${type}` };
  }
  // A number: render it so that the text rules (ranges, digits, scale) apply.
  if (type === "boolean" || type === "date" || type === "timestamp") {
    return { error: `${value} is not a ${type}` };
  }
  if (Number.isNaN(value)) return parseCell(type, "NaN");
  if (!Number.isFinite(value)) return parseCell(type, value > 0 ? "Infinity" : "-Infinity");
  return parseCell(type, plainNumber(value));
}

/** Splits one row into trimmed cells: outer pipes optional, `\|` is a pipe inside a cell. */
function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells: string[] = [];
  let cell = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && s[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (c === "|") {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

function isSeparator(cells: readonly string[]): boolean {
  return cells.length > 0 && cells.every((c) => /^:?-+:?$/.test(c));
}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** One trimmed cell as a value of its type, or a problem (without location). */
function parseCell(type: ColumnType, text: string): CellValue | CellProblem {
  if (text === "" || /^null$/i.test(text)) return null;
  switch (type) {
    case "string":
      if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
        try {
          const s: unknown = JSON.parse(text);
          if (typeof s === "string") return s;
        } catch {
          // fall through
        }
        return { error: `${text} is not a valid quoted (JSON) string` };
      }
      return text;
    case "int":
    case "long": {
      if (!/^[+-]?\d+$/.test(text)) return { error: `"${text}" is not a ${type} (an integer)` };
      const n = BigInt(text);
      const [min, max] = type === "int" ? [INT_MIN, INT_MAX] : [LONG_MIN, LONG_MAX];
      if (n < min || n > max) return { error: `${text} is out of the ${type} range (${min} to ${max})` };
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(n)
        : n.toString();
    }
    case "float":
    case "double": {
      const special = /^([+-]?)(nan|inf|infinity)$/i.exec(text);
      if (special) {
        if (special[2]?.toLowerCase() === "nan") return NaN;
        return special[1] === "-" ? -Infinity : Infinity;
      }
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
        return { error: `"${text}" is not a ${type} (a number, NaN or Infinity)` };
      }
      const n = Number(text);
      if (!Number.isFinite(n) || (type === "float" && !Number.isFinite(Math.fround(n)))) {
        return { error: `${text} is out of the ${type} range` };
      }
      return n;
    }
    case "boolean":
      if (/^true$/i.test(text)) return true;
      if (/^false$/i.test(text)) return false;
      return { error: `"${text}" is not a boolean (true or false)` };
    case "date": {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
      if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
        return { error: `"${text}" is not a date (YYYY-MM-DD)` };
      }
      return text;
    }
    case "timestamp": {
      const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z)?$/i.exec(
        text,
      );
      const bad = { error: `"${text}" is not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff], zone-less)` };
      if (!m || (m[8] !== undefined && m[4] === undefined)) return bad;
      const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) =>
        Number(x ?? 0),
      ) as number[];
      if (
        !validDate(y as number, mo as number, d as number) ||
        (h as number) > 23 ||
        (mi as number) > 59 ||
        (s as number) > 59
      ) {
        return bad;
      }
      const fraction = (m[7] ?? "").replace(/0+$/, "");
      if (fraction.length > 6) {
        return { error: `"${text}" has more than microsecond precision (at most 6 fractional digits)` };
      }
      const hms = `${m[4] ?? "00"}:${m[5] ?? "00"}:${m[6] ?? "00"}`;
      return `${m[1]}-${m[2]}-${m[3]} ${hms}${fraction === "" ? "" : `.${fraction}`}`;
    }
    default: {
      const parts = decimalParts(type);
      if (parts === undefined) return { error: `unknown type ${String(type)}` };
      const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
      if (!m || (m[2] === "" && (m[3] ?? "") === "")) {
        return { error: `"${text}" is not a ${type} (a decimal number such as 12.50)` };
      }
      const whole = (m[2] ?? "").replace(/^0+/, "");
      const fraction = (m[3] ?? "").replace(/0+$/, "");
      if (fraction.length > parts.scale) {
        return { error: `${text} has ${fraction.length} decimal(s); ${type} allows ${parts.scale}` };
      }
      if (whole.length > parts.precision - parts.scale) {
        return {
          error: `${text} has ${whole.length} digit(s) before the point; ${type} allows ${parts.precision - parts.scale}`,
        };
      }
      return decimalValue(`${m[1]}${whole === "" ? "0" : whole}${fraction === "" ? "" : `.${fraction}`}`);
    }
  }
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d <= (days[m - 1] as number);
}

/**
 * A decimal given as exact text (`-12.50`): the JS number when it holds the value exactly (its
 * shortest rendering is the same text), else the canonical text.
 */
export function decimalValue(text: string): number | string {
  const m = /^([+-]?)0*(\d*?)(?:\.(\d*?)0*)?$/.exec(text.trim());
  if (!m) return text;
  const whole = m[2] === "" ? "0" : (m[2] as string);
  const fraction = m[3] ?? "";
  const negative = m[1] === "-" && !(whole === "0" && fraction === "");
  const canonical = `${negative ? "-" : ""}${whole}${fraction === "" ? "" : `.${fraction}`}`;
  const n = Number(canonical);
  return String(n) === canonical ? n : canonical;
}

/** A finite number in plain decimal notation (no exponent): 1e-7 → "0.0000001". */
export function plainNumber(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = `${m[2]}${m[3] ?? ""}`;
  const exponent = Number(m[4]);
  if (exponent >= 0) {
    const point = 1 + exponent;
    return `${m[1]}${digits.length > point ? `${digits.slice(0, point)}.${digits.slice(point)}` : digits.padEnd(point, "0")}`;
  }
  return `${m[1]}0.${"0".repeat(-exponent - 1)}${digits}`;
}

// ---------------------------------------------------------------- rendering

export interface FormatOptions {
  /** Include the type row. @default true */
  readonly types?: boolean;
  /** A leading column holding these labels (e.g. row numbers), headed `label`. */
  readonly label?: { readonly name: string; readonly type: string; readonly values: readonly string[] };
}

/**
 * Renders a table as markdown that `parseMarkdownTable` reads back to the same table: header,
 * separator, type row, rows, columns padded to line up.
 */
export function formatMarkdownTable(table: DataTable | DataTableInput, options: FormatOptions = {}): string {
  const header = table.columns.map((c) => escapeCell(c.name));
  const types = table.columns.map((c) => String(c.type));
  const body = table.rows.map((row) => row.map((v, i) => renderCell(v, table.columns[i]?.type)));
  const label = options.label;
  const grid: string[][] = [
    label ? [escapeCell(label.name), ...header] : header,
    ...(options.types === false ? [] : [label ? [label.type, ...types] : types]),
    ...body.map((cells, i) => (label ? [label.values[i] ?? "", ...cells] : cells)),
  ];
  const widths = (grid[0] as string[]).map((_, i) => Math.max(3, ...grid.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  const [head, ...rest] = grid;
  return [
    line(head as string[]),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rest.map(line),
  ].join("\n");
}

/**
 * A value as a markdown cell: null → `null`; strings a bare cell would misread are quoted (JSON);
 * decimals without exponent.
 */
export function renderCell(value: CellValue, type?: ColumnType | string): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") {
    return Number.isFinite(value) && type !== undefined && /^decimal/i.test(type)
      ? plainNumber(value)
      : String(value);
  }
  if (typeof value === "boolean") return String(value);
  const needsQuotes =
    value === "" ||
    /^null$/i.test(value) ||
    value.trim() !== value ||
    /^:?-+:?$/.test(value) ||
    (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) ||
    [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  return escapeCell(needsQuotes ? JSON.stringify(value) : value);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}
