/**
 * Turning declared dimension specs and filters into their model form, with every problem reported.
 */
import type { DimensionDeclaration, DimensionSpec } from "./dim";
import type { IssueCollector, Location } from "./errors";
import type { DimensionFilterModel, DimensionModel, DimensionValue } from "./model/flow-model";
import { coerceDimensionValue, sameValue } from "./model/dimension-value";
import { granularityRank, isGranularity, type Granularity } from "./model/granularity";
import { formatGranularity, validateFormat } from "./model/strftime";

export const DEFAULT_DATETIME_FORMAT = "%Y-%m-%d";

/** Names that are safe in paths, SQL views, Glue partition keys and CloudWatch dimensions. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A raw filter or selector value a user may write. */
export type DimensionValueInput = string | number | Date;

/** Per-dimension filter as written: one value, a list, or "*". */
export type FilterInput = Readonly<
  Record<string, "*" | DimensionValueInput | readonly DimensionValueInput[]>
>;

export function buildDimensions(
  spec: DimensionSpec,
  loc: Location,
  issues: IssueCollector,
): DimensionModel[] {
  return Object.entries(spec).map(([name, decl]) =>
    buildDimension(name, decl, { ...loc, dimension: name }, issues),
  );
}

export function buildDimension(
  name: string,
  decl: DimensionDeclaration,
  loc: Location,
  issues: IssueCollector,
): DimensionModel {
  if (!NAME_PATTERN.test(name)) {
    issues.add(
      loc,
      "dimension.name",
      `"${name}" is not a valid dimension name (letters, digits, _; not starting with a digit)`,
    );
  }
  switch (decl?.type) {
    case "STRING":
      return { name, type: "STRING" };
    case "LONG":
      if (
        decl.digits !== undefined &&
        !(Number.isInteger(decl.digits) && decl.digits >= 1 && decl.digits <= 19)
      ) {
        issues.add(
          loc,
          "dimension.digits",
          `digits must be an integer from 1 to 19, got ${String(decl.digits)}`,
        );
        return { name, type: "LONG" };
      }
      return decl.digits === undefined ? { name, type: "LONG" } : { name, type: "LONG", digits: decl.digits };
    case "DATETIME":
      return buildDatetime(name, decl.format, decl.granularity, decl.timezone, loc, issues);
    default:
      issues.add(
        loc,
        "dimension.type",
        `declaration must come from dim.string(), dim.long() or dim.datetime()`,
      );
      return { name, type: "STRING" };
  }
}

export function buildDatetime(
  name: string,
  format: string | undefined,
  granularity: Granularity | undefined,
  timezone: string | undefined,
  loc: Location,
  issues: IssueCollector,
): DimensionModel {
  const fmt = format ?? DEFAULT_DATETIME_FORMAT;
  const formatError = validateFormat(fmt);
  if (formatError !== undefined) {
    issues.add(loc, "dimension.format", `datetime format "${fmt}": ${formatError}`);
    return { name, type: "DATETIME", format: DEFAULT_DATETIME_FORMAT, granularity: "DAY" };
  }
  const finest = formatGranularity(fmt);
  let g: Granularity;
  if (granularity === undefined) {
    g = granularityRank(finest) > granularityRank("DAY") ? finest : "DAY";
  } else if (!isGranularity(granularity)) {
    issues.add(
      loc,
      "dimension.granularity",
      `granularity "${String(granularity)}" is not one of MINUTE, HOUR, DAY, WEEK, MONTH, YEAR`,
    );
    g = "DAY";
  } else {
    g = granularity;
    if (granularityRank(finest) > granularityRank(g)) {
      issues.add(
        loc,
        "dimension.granularity",
        `format "${fmt}" cannot represent granularity ${g} (finest it can is ${finest})`,
      );
    }
  }
  if (timezone !== undefined && !isTimeZone(timezone)) {
    issues.add(loc, "dimension.timezone", `timezone "${timezone}" is not an IANA time zone`);
    return { name, type: "DATETIME", format: fmt, granularity: g };
  }
  return timezone === undefined
    ? { name, type: "DATETIME", format: fmt, granularity: g }
    : { name, type: "DATETIME", format: fmt, granularity: g, timezone };
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Coerces a user value, reporting `value X: reason` at the location. */
export function coerceOrReport(
  spec: DimensionModel,
  raw: unknown,
  loc: Location,
  issues: IssueCollector,
): DimensionValue | undefined {
  const c = coerceDimensionValue(spec, raw);
  if (c.error !== undefined) {
    issues.add(loc, "dimension.type-mismatch", `value ${show(raw)} is not a valid ${spec.type}: ${c.error}`);
    return undefined;
  }
  return c.value;
}

export function buildFilter(
  dims: readonly DimensionModel[],
  filter: FilterInput | undefined,
  loc: Location,
  issues: IssueCollector,
): Record<string, DimensionFilterModel> {
  const out: Record<string, DimensionFilterModel> = {};
  for (const [name, raw] of Object.entries(filter ?? {})) {
    const spec = dims.find((d) => d.name === name);
    const dloc = { ...loc, dimension: name };
    if (!spec) {
      issues.add(
        dloc,
        "filter.unknown-dimension",
        `filter names an unknown dimension (known: ${names(dims)})`,
      );
      continue;
    }
    if (raw === "*") continue;
    const values = (Array.isArray(raw) ? raw : [raw]) as readonly unknown[];
    if (values.length === 0) {
      issues.add(dloc, "filter.empty", `filter is empty: nothing could ever match`);
      continue;
    }
    const coerced = values
      .map((v) => coerceOrReport(spec, v, dloc, issues))
      .filter((v): v is DimensionValue => v !== undefined);
    out[name] = sortValues(dedupe(spec, coerced));
  }
  return out;
}

/** Values of `narrow` not admitted by `filter` (an empty result means narrow ⊆ filter). */
export function outsideFilter(
  spec: DimensionModel,
  filter: DimensionFilterModel | undefined,
  narrow: readonly DimensionValue[],
): DimensionValue[] {
  if (filter === undefined || filter === "*") return [];
  return narrow.filter((v) => !filter.some((f) => sameValue(spec, f, spec, v)));
}

/** Intersection of two filters of the same dimension; a list result names each value once. */
export function intersectFilters(
  spec: DimensionModel,
  a: DimensionFilterModel | undefined,
  b: DimensionFilterModel | undefined,
): DimensionFilterModel {
  if (a === undefined || a === "*") return b === undefined || b === "*" ? "*" : dedupe(spec, b);
  if (b === undefined || b === "*") return dedupe(spec, a);
  return dedupe(
    spec,
    a.filter((v) => b.some((w) => sameValue(spec, v, spec, w))),
  );
}

export function names(dims: readonly { readonly name: string }[]): string {
  return dims.length === 0 ? "none" : dims.map((d) => d.name).join(", ");
}

export function show(raw: unknown): string {
  if (raw instanceof Date) return raw.toISOString();
  return typeof raw === "string" ? `"${raw}"` : String(raw);
}

/** Filters are sets: a stable order keeps the model deterministic whatever order values were written in. */
export function sortValues(values: readonly DimensionValue[]): DimensionValue[] {
  return [...values].sort((a, b) =>
    typeof a === "number" && typeof b === "number"
      ? a - b
      : String(a) < String(b)
        ? -1
        : String(a) > String(b)
          ? 1
          : 0,
  );
}

function dedupe(spec: DimensionModel, values: readonly DimensionValue[]): DimensionValue[] {
  const out: DimensionValue[] = [];
  for (const v of values) if (!out.some((o) => sameValue(spec, o, spec, v))) out.push(v);
  return out;
}
