/**
 * A deliberately small strftime: fixed-width numeric directives only, so that every format can be parsed
 * back strictly and unambiguously (partition paths must round-trip). All values are epoch ms in UTC.
 */
import type { Granularity } from "./granularity";
import { DAY_MS, daysInMonth, epochMs, isLeapYear } from "./granularity";

type Field = "Y" | "m" | "d" | "j" | "U" | "H" | "M" | "S";

/** Digits each directive reads and writes; fixed widths are what make parsing unambiguous. */
const FIELD_WIDTH: Readonly<Record<Field, number>> = { Y: 4, m: 2, d: 2, j: 3, U: 2, H: 2, M: 2, S: 2 };

export const STRFTIME_DIRECTIVES: readonly string[] = Object.freeze([
  "%Y",
  "%m",
  "%d",
  "%j",
  "%U",
  "%H",
  "%M",
  "%S",
  "%%",
]);

export class StrftimeParseError extends Error {
  constructor(
    readonly value: string,
    readonly format: string,
    readonly reason: string,
  ) {
    super(`value "${value}" does not match format "${format}": ${reason}`);
    this.name = "StrftimeParseError";
  }
}

type Token = { kind: "literal"; text: string } | { kind: "field"; field: Field };

function isField(c: string): c is Field {
  return Object.hasOwn(FIELD_WIDTH, c);
}

/** Splits a format into literals and fields, or returns the first lexical error. */
function tokenize(format: string): Token[] | string {
  const tokens: Token[] = [];
  let literal = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== "%") {
      literal += c;
      continue;
    }
    const next = format[i + 1];
    if (next === undefined) return `incomplete directive "%" at position ${i}`;
    if (next === "%") {
      literal += "%";
    } else if (isField(next)) {
      if (literal) tokens.push({ kind: "literal", text: literal });
      literal = "";
      tokens.push({ kind: "field", field: next });
    } else {
      return `unsupported directive "%${next}" at position ${i}`;
    }
    i++;
  }
  if (literal) tokens.push({ kind: "literal", text: literal });
  return tokens;
}

/** Checks that the fields pin down one instant per value; returns the reason if they do not. */
function structuralError(fields: ReadonlySet<Field>): string | undefined {
  if (!fields.has("Y")) return "format has no %Y";
  // %d is only meaningful within a month; %j on its own already names the day.
  if (fields.has("d") && !fields.has("m")) return "%d requires %m";
  // A week can straddle two months, so month + week without a day is ambiguous.
  if (fields.has("U") && fields.has("m") && !fields.has("d"))
    return "%U cannot be combined with %m unless %d is present";
  const hasDay = fields.has("d") || fields.has("j");
  // Times need a specific day; %U alone names a week, not a day.
  if (fields.has("H") && !hasDay) return "%H requires a day (%m%d or %j)";
  if (fields.has("M") && !fields.has("H")) return "%M requires %H";
  if (fields.has("S") && !fields.has("M")) return "%S requires %M";
  return undefined;
}

interface Analysis {
  tokens: Token[];
  fields: Set<Field>;
}

function analyze(format: string): Analysis | string {
  const tokens = tokenize(format);
  if (typeof tokens === "string") return tokens;
  const fields = new Set<Field>();
  for (const t of tokens) if (t.kind === "field") fields.add(t.field);
  return structuralError(fields) ?? { tokens, fields };
}

function analyzeOrThrow(format: string): Analysis {
  const analysis = analyze(format);
  if (typeof analysis === "string") throw new Error(`invalid strftime format "${format}": ${analysis}`);
  return analysis;
}

/**
 * undefined when the format is valid, else the reason, e.g. 'unsupported directive "%b" at position 3' or
 * 'format has no %Y'. Valid formats contain %Y, and every finer field has its parents present or
 * derivable: %d needs %m, %H needs a day (%m%d or %j), %M needs %H, %S needs %M. %U alone denotes a week.
 */
export function validateFormat(format: string): string | undefined {
  const analysis = analyze(format);
  return typeof analysis === "string" ? analysis : undefined;
}

/** Formats ms (UTC). Throws on unsupported directives; unlike parsing, a partial format such as "%H:%M" is fine. */
export function formatDatetime(ms: number, format: string): string {
  const tokens = tokenize(format);
  if (typeof tokens === "string") throw new Error(`invalid strftime format "${format}": ${tokens}`);
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format timestamp ${ms}`);
  const fields = calendarFields(Math.floor(ms));
  let out = "";
  for (const t of tokens) {
    if (t.kind === "literal") {
      out += t.text;
    } else {
      const value = fields[t.field];
      if (t.field === "Y" && (value < 0 || value > 9999)) {
        throw new RangeError(`year ${value} cannot be formatted with %Y (4 digits)`);
      }
      out += String(value).padStart(FIELD_WIDTH[t.field], "0");
    }
  }
  return out;
}

/**
 * Strict parse: the whole string must match, each directive takes exactly its width in ASCII digits, and
 * out-of-range or mutually inconsistent fields are errors. Missing fields default to their minimum.
 * A format with %U but no day yields the Sunday that starts the week (which may fall in the previous year
 * for week 00). Returns epoch ms UTC. Throws StrftimeParseError for a bad value, Error for a bad format.
 */
export function parseDatetime(text: string, format: string): number {
  const { tokens, fields } = analyzeOrThrow(format);
  const fail = (reason: string): never => {
    throw new StrftimeParseError(text, format, reason);
  };

  const parsed: Partial<Record<Field, number>> = {};
  let pos = 0;
  for (const t of tokens) {
    if (t.kind === "literal") {
      if (!text.startsWith(t.text, pos)) fail(`expected "${t.text}" at position ${pos}`);
      pos += t.text.length;
      continue;
    }
    const width = FIELD_WIDTH[t.field];
    const digits = text.slice(pos, pos + width);
    if (!/^[0-9]+$/.test(digits) || digits.length !== width) {
      fail(`expected ${width} digits for %${t.field} at position ${pos}`);
    }
    // A repeated directive keeps its first value; the consistency check below rejects disagreement.
    parsed[t.field] ??= Number(digits);
    pos += width;
  }
  if (pos < text.length) fail(`unexpected trailing text "${text.slice(pos)}" at position ${pos}`);

  const {
    Y: year = 0,
    m: month = 1,
    d: day = 1,
    j: yday,
    U: week,
    H: hour = 0,
    M: minute = 0,
    S: second = 0,
  } = parsed;
  if (month < 1 || month > 12) fail(`month ${month} is out of range`);
  if (day < 1 || day > daysInMonth(year, month)) {
    fail(`day ${day} is out of range for ${pad(year, 4)}-${pad(month, 2)}`);
  }
  if (yday !== undefined && (yday < 1 || yday > (isLeapYear(year) ? 366 : 365))) {
    fail(`day of year ${yday} is out of range for ${pad(year, 4)}`);
  }
  if (week !== undefined && (week < firstWeek(year) || week > lastWeek(year))) {
    fail(`week ${pad(week, 2)} is out of range for ${pad(year, 4)}`);
  }
  if (hour > 23) fail(`hour ${hour} is out of range`);
  if (minute > 59) fail(`minute ${minute} is out of range`);
  if (second > 59) fail(`second ${second} is out of range`);

  // `anchor` is an instant inside the described period, used for the consistency check; `result` is returned.
  const jan1 = epochMs(year, 1, 1);
  const timeOfDay = ((hour * 60 + minute) * 60 + second) * 1000;
  let anchor: number;
  let result: number;
  if (fields.has("d") || (yday === undefined && week === undefined)) {
    anchor = result = epochMs(year, month, day) + timeOfDay;
  } else if (yday !== undefined) {
    anchor = result = jan1 + (yday - 1) * DAY_MS + timeOfDay;
  } else {
    // Week-only format (no time fields are allowed): return the week's Sunday, which precedes Jan 1 for
    // week 00, and check consistency against a day of `year` inside that week.
    // Week 01 starts on the year's first Sunday; week 00 is the week before it.
    const firstSunday = (7 - weekday(jan1)) % 7;
    result = jan1 + (firstSunday + ((week ?? 0) - 1) * 7) * DAY_MS;
    anchor = Math.max(result, jan1);
  }

  // Redundant fields (%j or %U next to %m%d, repeated directives) must agree with the date they describe.
  const canonical = formatDatetime(anchor, format);
  if (canonical !== text) fail(`fields are inconsistent (that date formats as "${canonical}")`);
  return result;
}

/**
 * The finest granularity the format can represent: %M→MINUTE, %H→HOUR, %d or %j→DAY, %U→WEEK, %m→MONTH,
 * %Y→YEAR (%S still gives MINUTE, the finest supported granularity). Throws if the format is invalid.
 */
export function formatGranularity(format: string): Granularity {
  const { fields } = analyzeOrThrow(format);
  if (fields.has("M") || fields.has("S")) return "MINUTE";
  if (fields.has("H")) return "HOUR";
  if (fields.has("d") || fields.has("j")) return "DAY";
  if (fields.has("U")) return "WEEK";
  if (fields.has("m")) return "MONTH";
  return "YEAR";
}

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;

/**
 * Parses ISO-8601 YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][.sss][Z|±HH:MM] (a missing offset means UTC; offsets
 * are converted to UTC; fractions beyond milliseconds are truncated). Returns undefined if not valid ISO.
 */
export function parseIso(text: string): number | undefined {
  const m = ISO_PATTERN.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", offset = "Z"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (offset !== "Z" && offset !== "z") {
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (offset[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const millis = Number(frac.slice(0, 3).padEnd(3, "0"));
  // Local time = UTC + offset, so UTC = local time - offset.
  return epochMs(year, month, day, hour, minute, second) + millis - offsetMinutes * 60_000;
}

/** Day of week with Sunday = 0, from the day number (1970-01-01 was a Thursday). */
function weekday(ms: number): number {
  return (((Math.floor(ms / DAY_MS) + 4) % 7) + 7) % 7;
}

/**
 * C/Python %U: weeks start on Sunday and the days before the year's first Sunday are week 00,
 * i.e. (zero-based day of year + 7 - weekday) / 7, rounded down.
 */
function sundayWeek(yday0: number, wday: number): number {
  return Math.floor((yday0 + 7 - wday) / 7);
}

/** Lowest %U in `year`: 00 unless the year starts on a Sunday. */
function firstWeek(year: number): number {
  return weekday(epochMs(year, 1, 1)) === 0 ? 1 : 0;
}

/** %U of December 31 of `year`. */
function lastWeek(year: number): number {
  const dec31 = epochMs(year, 12, 31);
  return sundayWeek(isLeapYear(year) ? 365 : 364, weekday(dec31));
}

function calendarFields(ms: number): Record<Field, number> {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const dayStart = Math.floor(ms / DAY_MS) * DAY_MS;
  const yday0 = Math.round((dayStart - epochMs(year, 1, 1)) / DAY_MS);
  return {
    Y: year,
    m: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    j: yday0 + 1,
    U: sundayWeek(yday0, d.getUTCDay()),
    H: d.getUTCHours(),
    M: d.getUTCMinutes(),
    S: d.getUTCSeconds(),
  };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
