/**
 * Amazon EventBridge schedule expressions: `rate(value unit)` and
 * `cron(Minutes Hours Day-of-month Month Day-of-week Year)`.
 *
 * Pure parsing, validation and evaluation (all times are UTC, as in EventBridge).
 *
 * Validation follows the EventBridge "Schedule expressions for rules" reference. Where that
 * reference is silent, the rules of the Quartz cron syntax that EventBridge's cron dialect is
 * derived from are used, restricted to what the reference documents:
 *  - `*`/`?`/`L`/`LW`/`nW`/`nL`/`n#k` must be the only element of their field (the reference says
 *    `#` allows a single expression; Quartz rejects `L` and `W` inside lists and ranges);
 *  - a step `x/s` needs `1 <= s <= limit` where the limit is 59 (Minutes), 23 (Hours),
 *    31 (Day-of-month), 12 (Month) or 229 (Year);
 *  - ranges must not wrap around (`start <= end`);
 *  - the undocumented Quartz extension `L-n` (n days before the last day) is rejected.
 */
import type { Granularity } from "./granularity";

export type RateUnit = "minute" | "hour" | "day";

export interface RateSchedule {
  readonly kind: "rate";
  readonly value: number;
  readonly unit: RateUnit;
  readonly expression: string;
}

export interface CronSchedule {
  readonly kind: "cron";
  readonly minutes: string;
  readonly hours: string;
  readonly dayOfMonth: string;
  readonly month: string;
  readonly dayOfWeek: string;
  readonly year: string;
  readonly expression: string;
}

export type Schedule = RateSchedule | CronSchedule;

export type ParseScheduleResult =
  { schedule: Schedule; errors: [] } | { schedule?: undefined; errors: string[] };

// ---------------------------------------------------------------------------------------------
// rate()
// ---------------------------------------------------------------------------------------------

const RATE_UNITS: Readonly<Record<string, { unit: RateUnit; plural: boolean }>> = {
  minute: { unit: "minute", plural: false },
  minutes: { unit: "minute", plural: true },
  hour: { unit: "hour", plural: false },
  hours: { unit: "hour", plural: true },
  day: { unit: "day", plural: false },
  days: { unit: "day", plural: true },
};

const RATE_UNIT_MS: Readonly<Record<RateUnit, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

function parseRate(expression: string, body: string): ParseScheduleResult {
  const tokens = splitFields(body);
  if (tokens.length !== 2) {
    return {
      errors: [
        `rate expression "${expression}" must have exactly 2 space-separated fields (value unit), but has ${tokens.length}`,
      ],
    };
  }
  const [valueText, unitText] = tokens as [string, string];
  const errors: string[] = [];

  let value: number | undefined;
  if (!/^\d+$/.test(valueText)) {
    errors.push(`rate value "${valueText}" is not a positive integer`);
  } else {
    const n = Number(valueText);
    if (n < 1) errors.push(`rate value "${valueText}" must be a positive integer (at least 1)`);
    else if (!Number.isSafeInteger(n)) errors.push(`rate value "${valueText}" is too large`);
    else value = n;
  }

  const unitInfo = Object.prototype.hasOwnProperty.call(RATE_UNITS, unitText)
    ? RATE_UNITS[unitText]
    : undefined;
  if (unitInfo === undefined) {
    errors.push(
      `rate unit "${unitText}" is not valid; expected one of minute, minutes, hour, hours, day, days`,
    );
  }

  if (value !== undefined && unitInfo !== undefined) {
    if (value === 1 && unitInfo.plural) {
      errors.push(`rate unit "${unitText}" must be singular ("${unitInfo.unit}") when the value is 1`);
    } else if (value > 1 && !unitInfo.plural) {
      errors.push(`rate unit "${unitText}" must be plural ("${unitInfo.unit}s") when the value is ${value}`);
    }
  }

  if (errors.length > 0 || value === undefined || unitInfo === undefined) return { errors };
  return { schedule: { kind: "rate", value, unit: unitInfo.unit, expression }, errors: [] };
}

// ---------------------------------------------------------------------------------------------
// cron()
// ---------------------------------------------------------------------------------------------

type FieldName = "Minutes" | "Hours" | "Day-of-month" | "Month" | "Day-of-week" | "Year";

interface FieldSpec {
  readonly name: FieldName;
  readonly min: number;
  readonly max: number;
  readonly stepMax: number;
  readonly allowStep: boolean;
  readonly names?: readonly string[]; // names[i] has value min + i
  readonly wildcards: string; // for messages
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DOW_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const MINUTES: FieldSpec = {
  name: "Minutes",
  min: 0,
  max: 59,
  stepMax: 59,
  allowStep: true,
  wildcards: ", - * /",
};
const HOURS: FieldSpec = {
  name: "Hours",
  min: 0,
  max: 23,
  stepMax: 23,
  allowStep: true,
  wildcards: ", - * /",
};
const DAY_OF_MONTH: FieldSpec = {
  name: "Day-of-month",
  min: 1,
  max: 31,
  stepMax: 31,
  allowStep: true,
  wildcards: ", - * ? / L W",
};
const MONTH: FieldSpec = {
  name: "Month",
  min: 1,
  max: 12,
  stepMax: 12,
  allowStep: true,
  names: MONTH_NAMES,
  wildcards: ", - * /",
};
const DAY_OF_WEEK: FieldSpec = {
  name: "Day-of-week",
  min: 1,
  max: 7,
  stepMax: 7,
  allowStep: false,
  names: DOW_NAMES,
  wildcards: ", - * ? L #",
};
const YEAR: FieldSpec = {
  name: "Year",
  min: 1970,
  max: 2199,
  stepMax: 229,
  allowStep: true,
  wildcards: ", - * /",
};

/** Day-of-month matcher. */
type DomMatcher =
  | { readonly kind: "any" } // "?"
  | { readonly kind: "set"; readonly values: readonly boolean[] } // index = day 1..31
  | { readonly kind: "last" } // L
  | { readonly kind: "lastWeekday" } // LW
  | { readonly kind: "nearestWeekday"; readonly day: number }; // nW

/** Day-of-week matcher (1 = Sunday ... 7 = Saturday). */
type DowMatcher =
  | { readonly kind: "any" } // "?"
  | { readonly kind: "set"; readonly values: readonly boolean[] } // index = dow 1..7
  | { readonly kind: "lastOfMonth"; readonly dow: number } // nL
  | { readonly kind: "nth"; readonly dow: number; readonly nth: number }; // n#k

interface CompiledCron {
  readonly minutes: readonly number[]; // sorted
  readonly hours: readonly number[]; // sorted
  readonly dom: DomMatcher;
  readonly months: readonly boolean[]; // index = month 1..12
  readonly dow: DowMatcher;
  readonly years: readonly number[]; // sorted
}

type ValueResult = { ok: true; value: number } | { ok: false };

function q(s: string): string {
  return `"${s}"`;
}

class FieldParser {
  readonly errors: string[] = [];
  constructor(
    readonly spec: FieldSpec,
    readonly raw: string,
  ) {}

  err(message: string): void {
    this.errors.push(`cron field ${this.spec.name}: ${message}`);
  }

  /** Resolve a number or (case-insensitive) name; reports its own errors. */
  value(token: string, element: string): ValueResult {
    const { spec } = this;
    if (/^\d+$/.test(token)) {
      const n = Number(token);
      if (n < spec.min || n > spec.max) {
        this.err(`value ${q(token)} is out of range ${spec.min}-${spec.max}`);
        return { ok: false };
      }
      return { ok: true, value: n };
    }
    if (/^[A-Za-z]+$/.test(token) && spec.names !== undefined) {
      const i = spec.names.indexOf(token.toUpperCase());
      if (i >= 0) return { ok: true, value: spec.min + i };
      this.err(
        `value ${q(token)} in ${q(element)} is not a valid name; expected one of ${spec.names.join(", ")} or a number ${spec.min}-${spec.max}`,
      );
      return { ok: false };
    }
    this.err(`value ${q(token)} in ${q(element)} is not a number ${spec.min}-${spec.max}`);
    return { ok: false };
  }

  /**
   * Parse a list of plain elements (`*`, `v`, `a-b`, optionally followed by `/step`) into a
   * boolean membership array indexed by value; undefined when there were errors.
   */
  plainList(): boolean[] | undefined {
    const { spec } = this;
    const members = new Array<boolean>(spec.max + 1).fill(false);
    const before = this.errors.length;
    for (const element of this.raw.split(",")) {
      if (element === "") {
        this.err(`list ${q(this.raw)} contains an empty element`);
        continue;
      }
      this.plainElement(element, members);
    }
    return this.errors.length === before ? members : undefined;
  }

  private plainElement(element: string, members: boolean[]): void {
    const { spec } = this;
    const u = element.toUpperCase();
    const isName = spec.names !== undefined && spec.names.includes(u);
    const m = /^(\*|[A-Za-z0-9]+|[A-Za-z0-9]+-[A-Za-z0-9]+)(?:\/(.*))?$/.exec(element);
    if (m === null || (!isName && /^(L|LW|\d+[LW]|[A-Z]{3}[LW]|L-\d+)$/.test(u))) {
      this.diagnose(element);
      return;
    }
    const base = m[1] as string;
    const stepText = m[2];
    let ok = true;

    let step = 1;
    if (stepText !== undefined) {
      if (!spec.allowStep) {
        this.err(
          `value ${q(element)} uses "/", which is not allowed in ${spec.name} (allowed: ${spec.wildcards})`,
        );
        return;
      }
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1 || Number(stepText) > spec.stepMax) {
        this.err(`step ${q(stepText)} in ${q(element)} must be an integer from 1 to ${spec.stepMax}`);
        ok = false;
      } else {
        step = Number(stepText);
      }
    }

    let start = spec.min;
    let end = spec.max;
    if (base !== "*") {
      const dash = base.indexOf("-");
      if (dash >= 0) {
        const a = this.value(base.slice(0, dash), element);
        const b = this.value(base.slice(dash + 1), element);
        if (!a.ok || !b.ok) return;
        if (a.value > b.value) {
          this.err(`range ${q(base)} has a start greater than its end (${a.value} > ${b.value})`);
          return;
        }
        start = a.value;
        end = b.value;
      } else {
        const v = this.value(base, element);
        if (!v.ok) return;
        start = v.value;
        // "a/step" runs to the end of the field's range; a bare value is just itself.
        end = stepText === undefined ? v.value : spec.max;
      }
    }
    if (!ok) return;
    for (let v = start; v <= end; v += step) members[v] = true;
  }

  /** Explain why an element that is not a plain element is invalid. */
  diagnose(element: string): void {
    const { spec } = this;
    const u = element.toUpperCase();
    if (element === "?") {
      if (spec.name === "Day-of-month" || spec.name === "Day-of-week") {
        this.err(`"?" must be the whole field, not part of the list ${q(this.raw)}`);
      } else {
        this.err(
          `wildcard "?" is not allowed (allowed: ${spec.wildcards}); only Day-of-month and Day-of-week accept "?"`,
        );
      }
      return;
    }
    if (u.includes("#")) {
      if (spec.name === "Day-of-week")
        this.err(`value ${q(element)} is not a valid "#" expression (expected day#n)`);
      else this.err(`value ${q(element)} uses "#", which is only allowed in Day-of-week`);
      return;
    }
    const inList = element !== this.raw;
    const isDayField = spec.name === "Day-of-month" || spec.name === "Day-of-week";
    if (/^(\d+|[A-Z]{3})W$|^LW$/.test(u)) {
      if (spec.name !== "Day-of-month") {
        this.err(`value ${q(element)} uses "W", which is only allowed in Day-of-month`);
      } else {
        this.err(
          `value ${q(element)} uses "W", which must be the only value of the field, but the field is ${q(this.raw)}`,
        );
      }
      return;
    }
    if (/^L-\d+$/.test(u)) {
      if (spec.name === "Day-of-month") {
        this.err(`value ${q(element)} (an offset before the last day) is not supported by EventBridge`);
      } else if (spec.name === "Day-of-week") {
        this.err(`value ${q(element)} is not a valid "L" expression for Day-of-week`);
      } else this.err(`value ${q(element)} uses "L", which is only allowed in Day-of-month and Day-of-week`);
      return;
    }
    if (/^(\d*|[A-Z]{3})L$/.test(u)) {
      if (!isDayField) {
        this.err(`value ${q(element)} uses "L", which is only allowed in Day-of-month and Day-of-week`);
      } else if (inList) {
        this.err(
          `value ${q(element)} uses "L", which must be the only value of the field, but the field is ${q(this.raw)}`,
        );
      } else {
        this.err(`value ${q(element)} is not a valid "L" expression for ${spec.name}`);
      }
      return;
    }
    if (element.includes("/")) {
      if (!spec.allowStep) {
        this.err(
          `value ${q(element)} uses "/", which is not allowed in ${spec.name} (allowed: ${spec.wildcards})`,
        );
      } else {
        this.err(
          `value ${q(element)} is not a valid increment (expected start/step, start-end/step or */step)`,
        );
      }
      return;
    }
    this.err(`value ${q(element)} is not valid (expected ${spec.min}-${spec.max} with ${spec.wildcards})`);
  }
}

function parseMinutesLike(spec: FieldSpec, raw: string, errors: string[]): number[] | undefined {
  const p = new FieldParser(spec, raw);
  if (raw === "?") {
    p.diagnose(raw);
    errors.push(...p.errors);
    return undefined;
  }
  const members = p.plainList();
  errors.push(...p.errors);
  if (members === undefined) return undefined;
  const out: number[] = [];
  for (let v = spec.min; v <= spec.max; v++) if (members[v]) out.push(v);
  return out;
}

function parseMonth(raw: string, errors: string[]): boolean[] | undefined {
  const p = new FieldParser(MONTH, raw);
  if (raw === "?") {
    p.diagnose(raw);
    errors.push(...p.errors);
    return undefined;
  }
  const members = p.plainList();
  errors.push(...p.errors);
  return members;
}

function parseDom(raw: string, errors: string[]): DomMatcher | undefined {
  const p = new FieldParser(DAY_OF_MONTH, raw);
  const u = raw.toUpperCase();
  let result: DomMatcher | undefined;
  if (raw === "?") result = { kind: "any" };
  else if (u === "L") result = { kind: "last" };
  else if (u === "LW") result = { kind: "lastWeekday" };
  else if (/^\d+W$/.test(u)) {
    const v = p.value(u.slice(0, -1), raw);
    if (v.ok) result = { kind: "nearestWeekday", day: v.value };
  } else {
    const members = p.plainList();
    if (members !== undefined) result = { kind: "set", values: members };
  }
  errors.push(...p.errors);
  return result;
}

function parseDow(raw: string, errors: string[]): DowMatcher | undefined {
  const p = new FieldParser(DAY_OF_WEEK, raw);
  const u = raw.toUpperCase();
  let result: DowMatcher | undefined;
  const elements = raw.split(",");
  const nthMatch = /^([0-9]+|[A-Z]+)#(.*)$/.exec(u);
  if (raw === "?") result = { kind: "any" };
  else if (elements.length > 1 && elements.some((e) => e.includes("#"))) {
    p.err(`only one "#" expression is allowed, and it must be the whole field, but got ${q(raw)}`);
  } else if (u === "L") {
    // "L" alone in Day-of-week is the last day of the week: Saturday.
    const values = new Array<boolean>(8).fill(false);
    values[7] = true;
    result = { kind: "set", values };
  } else if (/^([0-9]+|[A-Z]+)L$/.test(u)) {
    const v = p.value(raw.slice(0, -1), raw);
    if (v.ok) result = { kind: "lastOfMonth", dow: v.value };
  } else if (nthMatch !== null) {
    const v = p.value(raw.slice(0, raw.indexOf("#")), raw);
    const nthText = nthMatch[2] as string;
    let nth: number | undefined;
    if (!/^\d+$/.test(nthText) || Number(nthText) < 1 || Number(nthText) > 5) {
      p.err(`occurrence ${q(nthText)} in ${q(raw)} must be an integer from 1 to 5`);
    } else nth = Number(nthText);
    if (v.ok && nth !== undefined) result = { kind: "nth", dow: v.value, nth };
  } else {
    const members = p.plainList();
    if (members !== undefined) result = { kind: "set", values: members };
  }
  errors.push(...p.errors);
  return result;
}

function parseCron(expression: string, body: string): ParseScheduleResult {
  const fields = splitFields(body);
  if (fields.length !== 6) {
    return {
      errors: [
        `cron expression "${expression}" must have exactly 6 space-separated fields (Minutes Hours Day-of-month Month Day-of-week Year), but has ${fields.length}`,
      ],
    };
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const errors: string[] = [];
  const compiled = compileFields(minutes, hours, dayOfMonth, month, dayOfWeek, year, errors);
  if (compiled === undefined) return { errors };
  return {
    schedule: { kind: "cron", minutes, hours, dayOfMonth, month, dayOfWeek, year, expression },
    errors: [],
  };
}

function compileFields(
  minutes: string,
  hours: string,
  dayOfMonth: string,
  month: string,
  dayOfWeek: string,
  year: string,
  errors: string[],
): CompiledCron | undefined {
  const before = errors.length;
  const mins = parseMinutesLike(MINUTES, minutes, errors);
  const hrs = parseMinutesLike(HOURS, hours, errors);
  const dom = parseDom(dayOfMonth, errors);
  const months = parseMonth(month, errors);
  const dow = parseDow(dayOfWeek, errors);
  const years = parseMinutesLike(YEAR, year, errors);

  if (dayOfMonth === "?" && dayOfWeek === "?") {
    errors.push(
      `cron fields Day-of-month and Day-of-week are both "?"; exactly one of them must be "?" and the other must specify days`,
    );
  } else if (dayOfMonth !== "?" && dayOfWeek !== "?") {
    errors.push(
      `cron fields Day-of-month (${q(dayOfMonth)}) and Day-of-week (${q(dayOfWeek)}) cannot both be specified; exactly one of them must be "?"`,
    );
  }

  if (
    errors.length > before ||
    mins === undefined ||
    hrs === undefined ||
    dom === undefined ||
    months === undefined ||
    dow === undefined ||
    years === undefined
  ) {
    return undefined;
  }
  return { minutes: mins, hours: hrs, dom, months, dow, years };
}

/** Split a parenthesised body on white space, ignoring leading and trailing white space. */
function splitFields(body: string): string[] {
  const trimmed = body.trim();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}

/**
 * Returns the parsed schedule, or the list of every problem found (each a complete sentence naming
 * the field and value, e.g. 'cron field Hours: value "24" is out of range 0-23').
 */
export function parseSchedule(
  expression: string,
): { schedule: Schedule; errors: [] } | { schedule?: undefined; errors: string[] } {
  if (typeof expression !== "string") {
    return { errors: [`schedule expression must be a string, but got ${typeof expression}`] };
  }
  const m = /^(rate|cron)\(([\s\S]*)\)$/.exec(expression);
  if (m === null) {
    return {
      errors: [
        `schedule expression ${q(expression)} is not valid; expected rate(value unit) or cron(Minutes Hours Day-of-month Month Day-of-week Year)`,
      ],
    };
  }
  const body = m[2] as string;
  return m[1] === "rate" ? parseRate(expression, body) : parseCron(expression, body);
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

const compiledCache = new WeakMap<CronSchedule, CompiledCron>();

function compiledOf(s: CronSchedule): CompiledCron {
  const cached = compiledCache.get(s);
  if (cached !== undefined) return cached;
  const errors: string[] = [];
  const compiled = compileFields(s.minutes, s.hours, s.dayOfMonth, s.month, s.dayOfWeek, s.year, errors);
  if (compiled === undefined) {
    throw new Error(`invalid cron schedule ${q(s.expression)}: ${errors.join("; ")}`);
  }
  compiledCache.set(s, compiled);
  return compiled;
}

function count(values: readonly boolean[]): number {
  return values.reduce((n, b) => (b ? n + 1 : n), 0);
}

/**
 * The natural period of a schedule, used as the default granularity of the timer's datetime
 * dimension: rate minutes→MINUTE, hours→HOUR, days→DAY; cron: the coarsest granularity at which
 * fires are at most once per period.
 */
export function scheduleGranularity(s: Schedule): Granularity {
  if (s.kind === "rate") {
    return s.unit === "minute" ? "MINUTE" : s.unit === "hour" ? "HOUR" : "DAY";
  }
  const c = compiledOf(s);
  if (c.minutes.length !== 1) return "MINUTE";
  if (c.hours.length !== 1) return "HOUR";
  if (c.years.length === 1) return "YEAR"; // a single day of a single year at most
  const singleMonth = count(c.months) === 1;
  // At most one day per month?
  let oncePerMonth: boolean;
  if (c.dow.kind === "any") {
    // Day-of-month drives the days.
    oncePerMonth = c.dom.kind !== "set" || count(c.dom.values) === 1;
  } else {
    if (c.dow.kind === "set") {
      return count(c.dow.values) === 1 ? "WEEK" : "DAY";
    }
    oncePerMonth = true; // nL or n#k
  }
  if (!oncePerMonth) return "DAY";
  return singleMonth ? "YEAR" : "MONTH";
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Day of week (1 = Sunday ... 7 = Saturday) of a UTC date. */
function dayOfWeekOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

/** The days of the given month on which the cron fires (sorted; possibly empty). */
function matchingDays(c: CompiledCron, year: number, month: number): number[] {
  const last = daysInMonth(year, month);
  const firstDow = dayOfWeekOf(year, month, 1);
  const dowOf = (d: number): number => ((firstDow - 1 + d - 1) % 7) + 1;
  const out: number[] = [];
  const { dom, dow } = c;
  if (dow.kind === "any") {
    switch (dom.kind) {
      case "any":
        for (let d = 1; d <= last; d++) out.push(d);
        break;
      case "set":
        for (let d = 1; d <= last; d++) if (dom.values[d]) out.push(d);
        break;
      case "last":
        out.push(last);
        break;
      case "lastWeekday": {
        const w = dowOf(last);
        out.push(w === 7 ? last - 1 : w === 1 ? last - 2 : last);
        break;
      }
      case "nearestWeekday": {
        const d = dom.day;
        if (d > last) break; // the day does not exist in this month
        const w = dowOf(d);
        if (w === 7) out.push(d === 1 ? d + 2 : d - 1);
        else if (w === 1) out.push(d === last ? d - 2 : d + 1);
        else out.push(d);
        break;
      }
    }
    return out;
  }
  switch (dow.kind) {
    case "set":
      for (let d = 1; d <= last; d++) if (dow.values[dowOf(d)]) out.push(d);
      break;
    case "lastOfMonth": {
      let d = last;
      while (dowOf(d) !== dow.dow) d--;
      out.push(d);
      break;
    }
    case "nth": {
      const first = 1 + ((dow.dow - firstDow + 7) % 7);
      const d = first + 7 * (dow.nth - 1);
      if (d <= last) out.push(d);
      break;
    }
  }
  return out;
}

function firstAtLeast(sorted: readonly number[], v: number): number | undefined {
  for (const x of sorted) if (x >= v) return x;
  return undefined;
}

/**
 * Next fire time strictly after `afterMs` (epoch ms, UTC), or undefined when the schedule never
 * fires again (year field exhausted). rate(): fires at multiples of the period since the epoch.
 * Throws a RangeError when `afterMs` is not a finite number.
 */
export function nextFireTime(s: Schedule, afterMs: number): number | undefined {
  if (!Number.isFinite(afterMs)) throw new RangeError(`afterMs must be a finite number, but got ${afterMs}`);
  if (s.kind === "rate") {
    const period = s.value * RATE_UNIT_MS[s.unit];
    return (Math.floor(afterMs / period) + 1) * period;
  }
  const c = compiledOf(s);
  const lastYear = c.years[c.years.length - 1] as number;
  if (afterMs >= Date.UTC(lastYear + 1, 0, 1)) return undefined;
  // Every cron year is >= 1970, so any earlier instant behaves like "just before the epoch"
  // (this also keeps the Date arithmetic below within range).
  afterMs = Math.max(afterMs, -1);

  // First candidate: the next whole minute strictly after afterMs.
  const start = new Date((Math.floor(afterMs / MINUTE_MS) + 1) * MINUTE_MS);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let day = start.getUTCDate();
  let hour = start.getUTCHours();
  let minute = start.getUTCMinutes();

  // Each pass either returns or moves (year, month, day, hour, minute) forward to the start of the
  // next candidate unit; the year field bounds the search.
  for (;;) {
    if (year > lastYear) return undefined;
    const y = firstAtLeast(c.years, year);
    if (y === undefined) return undefined;
    if (y !== year) {
      year = y;
      month = 1;
      day = 1;
      hour = 0;
      minute = 0;
    }

    if (!c.months[month]) {
      let m = month + 1;
      while (m <= 12 && !c.months[m]) m++;
      if (m > 12) {
        year++;
        month = 1;
      } else month = m;
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }

    const d = firstAtLeast(matchingDays(c, year, month), day);
    if (d === undefined) {
      if (month === 12) {
        year++;
        month = 1;
      } else month++;
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (d !== day) {
      day = d;
      hour = 0;
      minute = 0;
    }

    const h = firstAtLeast(c.hours, hour);
    if (h === undefined) {
      nextDay();
      continue;
    }
    if (h !== hour) {
      hour = h;
      minute = 0;
    }

    const mi = firstAtLeast(c.minutes, minute);
    if (mi === undefined) {
      if (hour === 23) nextDay();
      else {
        hour++;
        minute = 0;
      }
      continue;
    }
    return Date.UTC(year, month - 1, day, hour, mi);
  }

  function nextDay(): void {
    const t = new Date(Date.UTC(year, month - 1, day) + DAY_MS);
    year = t.getUTCFullYear();
    month = t.getUTCMonth() + 1;
    day = t.getUTCDate();
    hour = 0;
    minute = 0;
  }
}
