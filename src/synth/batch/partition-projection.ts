/**
 * Athena partition projection: the table parameters that let Athena find a node's partitions from
 * its dimensions alone, without a crawler or partition registration.
 */
import type { DimensionModel } from "../../flow/model/flow-model";
import type { Granularity } from "../../flow/model/granularity";
import { renderDimensionValue } from "../../flow/model/dimension-value";

/**
 * A strftime format (Sluice's subset) as a Java DateTimeFormatter pattern (Athena's date projection),
 * or undefined when it has no equivalent (%U, week of year starting on Sunday).
 */
export function javaDateFormat(strftime: string): string | undefined {
  const FIELDS: Readonly<Record<string, string>> = {
    Y: "yyyy",
    m: "MM",
    d: "dd",
    j: "DDD",
    H: "HH",
    M: "mm",
    S: "ss",
  };
  let out = "";
  let literal = "";
  const flush = (): void => {
    if (literal === "") return;
    // Letters and DateTimeFormatter's reserved characters are quoted; a quote is written twice.
    out += /[A-Za-z[\]{}#']/.test(literal) ? `'${literal.replace(/'/g, "''")}'` : literal;
    literal = "";
  };
  for (let i = 0; i < strftime.length; i++) {
    const c = strftime[i] as string;
    if (c !== "%") {
      literal += c;
      continue;
    }
    const d = strftime[i + 1];
    i++;
    if (d === "%") {
      literal += "%";
      continue;
    }
    const field = d === undefined ? undefined : FIELDS[d];
    if (field === undefined) return undefined;
    flush();
    out += field;
  }
  flush();
  return out;
}

/** Granularity of the finest field a strftime format shows. */
function finestField(strftime: string): Granularity | "SECOND" {
  if (strftime.includes("%S")) return "SECOND";
  if (strftime.includes("%M")) return "MINUTE";
  if (strftime.includes("%H")) return "HOUR";
  if (strftime.includes("%d") || strftime.includes("%j")) return "DAY";
  if (strftime.includes("%U")) return "WEEK";
  if (strftime.includes("%m")) return "MONTH";
  return "YEAR";
}

const INTERVAL_UNIT: Readonly<Record<Granularity, string>> = {
  MINUTE: "MINUTES",
  HOUR: "HOURS",
  DAY: "DAYS",
  WEEK: "WEEKS",
  MONTH: "MONTHS",
  YEAR: "YEARS",
};

/** Range of dates a date projection covers; queries always narrow it with partition predicates. */
export const DATE_PROJECTION_RANGE = "NOW-20YEARS,NOW+1DAYS";
/** Range of an unfiltered LONG dimension without a digit count. */
export const INTEGER_PROJECTION_RANGE = "-2147483648,2147483647";

/**
 * Athena partition projection parameters of one dimension (column `column`):
 * - a dimension with a filter list → `enum` of its values;
 * - LONG → `integer` (with `digits` when values are zero-padded);
 * - DATETIME whose format converts to a Java pattern and shows nothing finer than its granularity,
 *   at DAY/HOUR/MINUTE/MONTH/YEAR granularity → `date` stepping one granularity unit;
 * - anything else → `injected` (the query supplies the values, which the dispatcher always does).
 */
export function projectionOf(
  spec: DimensionModel,
  column: string,
  filter: readonly (string | number)[] | "*" | undefined,
): Record<string, string> {
  const p = `projection.${column}`;
  if (filter !== undefined && filter !== "*" && filter.length > 0) {
    const values = filter.map((v) => renderDimensionValue(spec, v));
    if (values.every((v) => !v.includes(",")))
      return { [`${p}.type`]: "enum", [`${p}.values`]: values.join(",") };
  }
  if (spec.type === "LONG") {
    if (spec.digits !== undefined) {
      return {
        [`${p}.type`]: "integer",
        [`${p}.range`]: `0,${"9".repeat(spec.digits)}`,
        [`${p}.digits`]: String(spec.digits),
      };
    }
    return { [`${p}.type`]: "integer", [`${p}.range`]: INTEGER_PROJECTION_RANGE };
  }
  if (spec.type === "DATETIME") {
    const format = javaDateFormat(spec.format);
    const finest = finestField(spec.format);
    // Projected dates step from the range's start, so the format must show exactly the granularity.
    if (format !== undefined && finest === spec.granularity && spec.granularity !== "WEEK") {
      return {
        [`${p}.type`]: "date",
        [`${p}.format`]: format,
        [`${p}.range`]: DATE_PROJECTION_RANGE,
        [`${p}.interval`]: "1",
        [`${p}.interval.unit`]: INTERVAL_UNIT[spec.granularity],
      };
    }
  }
  return { [`${p}.type`]: "injected" };
}
