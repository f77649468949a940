/**
 * Value semantics of dimensions: coercion of user/event input to canonical values, comparison,
 * arithmetic at the dimension's granularity, and rendering into paths. Shared by the DSL and the router.
 */
import type { DimensionModel, DimensionValue } from "./flow-model";
import { addPeriods, truncate } from "./granularity";
import { formatDatetime, parseDatetime, parseIso, StrftimeParseError } from "./strftime";

export type Coerced =
  { readonly value: DimensionValue; readonly error?: undefined } | { readonly error: string };

const INTEGER = /^[+-]?\d+$/;

/**
 * Turns a raw value into the dimension's canonical value: STRING → string, LONG → safe integer,
 * DATETIME → string in the dimension's format (truncated to its granularity). Accepts, for DATETIME,
 * a string in the declared format, an ISO-8601 string, or a Date.
 */
export function coerceDimensionValue(spec: DimensionModel, raw: unknown): Coerced {
  switch (spec.type) {
    case "STRING":
      if (typeof raw === "string") return raw.length > 0 ? { value: raw } : { error: "empty string" };
      return { error: `expected a STRING, got ${describe(raw)}` };
    case "LONG": {
      if (typeof raw === "number") {
        return Number.isSafeInteger(raw)
          ? { value: raw }
          : { error: `expected a LONG, got ${describe(raw)}` };
      }
      if (typeof raw === "string" && INTEGER.test(raw)) {
        const n = Number(raw);
        if (Number.isSafeInteger(n)) return { value: n };
      }
      return { error: `expected a LONG, got ${describe(raw)}` };
    }
    case "DATETIME": {
      const ms = toEpochMs(spec.format, raw);
      if (typeof ms === "string") return { error: ms };
      return { value: formatDatetime(truncate(ms, spec.granularity), spec.format) };
    }
  }
}

/** Like coerceDimensionValue but throws a plain Error; for code paths where a bad value is a bug. */
export function canonicalValue(spec: DimensionModel, raw: unknown): DimensionValue {
  const c = coerceDimensionValue(spec, raw);
  if (c.error !== undefined) throw new Error(`dimension "${spec.name}": ${c.error}`);
  return c.value;
}

/** Epoch ms of a canonical DATETIME value. */
export function datetimeToMs(spec: DimensionModel & { type: "DATETIME" }, value: DimensionValue): number {
  return parseDatetime(String(value), spec.format);
}

export function msToDatetime(spec: DimensionModel & { type: "DATETIME" }, ms: number): string {
  return formatDatetime(truncate(ms, spec.granularity), spec.format);
}

/** The value `n` periods away (n may be negative). STRING has no order and throws. */
export function offsetValue(spec: DimensionModel, value: DimensionValue, n: number): DimensionValue {
  switch (spec.type) {
    case "LONG":
      return Number(value) + n;
    case "DATETIME":
      return msToDatetime(spec, addPeriods(datetimeToMs(spec, value), n, spec.granularity));
    case "STRING":
      throw new Error(`dimension "${spec.name}" is a STRING and has no order`);
  }
}

/** The string a value takes in a path segment or partition template. */
export function renderDimensionValue(spec: DimensionModel, value: DimensionValue): string {
  if (spec.type === "LONG" && spec.digits !== undefined) {
    const n = Number(value);
    const body = String(Math.abs(n)).padStart(spec.digits, "0");
    return n < 0 ? `-${body}` : body;
  }
  return String(value);
}

/** Equality of canonical values of two possibly different specs (DATETIME compares instants). */
export function sameValue(
  a: DimensionModel,
  av: DimensionValue,
  b: DimensionModel,
  bv: DimensionValue,
): boolean {
  if (a.type === "DATETIME" && b.type === "DATETIME") return datetimeToMs(a, av) === datetimeToMs(b, bv);
  if (a.type === "LONG" || b.type === "LONG") return Number(av) === Number(bv) && String(av) !== "";
  return av === bv;
}

function toEpochMs(format: string, raw: unknown): number | string {
  if (raw instanceof Date) {
    const t = raw.getTime();
    return Number.isNaN(t) ? "invalid Date" : t;
  }
  if (typeof raw !== "string")
    return `expected a DATETIME string in format "${format}", got ${describe(raw)}`;
  try {
    return parseDatetime(raw, format);
  } catch (e) {
    const iso = parseIso(raw);
    if (iso !== undefined) return iso;
    return e instanceof StrftimeParseError ? e.message : `value "${raw}" does not match format "${format}"`;
  }
}

function describe(raw: unknown): string {
  if (typeof raw === "string") return `"${raw}"`;
  if (typeof raw === "number" || typeof raw === "boolean") return `${typeof raw} ${String(raw)}`;
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "an array";
  return typeof raw;
}
