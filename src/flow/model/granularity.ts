/**
 * Calendar arithmetic on epoch milliseconds for partition granularities.
 *
 * All values are UTC and DST-free: a "wall-clock" timestamp is interpreted as UTC. Only Date.UTC and the
 * getUTC* accessors are used, never Date string parsing, so results do not depend on the host time zone.
 */

export type Granularity = "MINUTE" | "HOUR" | "DAY" | "WEEK" | "MONTH" | "YEAR";

/** All granularities, finest first (the index is the rank). */
export const GRANULARITIES: readonly Granularity[] = Object.freeze([
  "MINUTE",
  "HOUR",
  "DAY",
  "WEEK",
  "MONTH",
  "YEAR",
]);

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** Granularities whose periods all have the same length in UTC (no calendar months involved). */
const FIXED_PERIOD_MS: Partial<Record<Granularity, number>> = {
  MINUTE: MINUTE_MS,
  HOUR: HOUR_MS,
  DAY: DAY_MS,
  WEEK: WEEK_MS,
};

/** The ECMAScript Date range: ±100,000,000 days around the epoch. */
const MAX_EPOCH_MS = 8.64e15;

/** A 400-year Gregorian cycle always has 146,097 days, so shifting by it preserves weekdays and leap years. */
const GREGORIAN_CYCLE_MS = 146_097 * DAY_MS;

export function isGranularity(s: string): s is Granularity {
  return (GRANULARITIES as readonly string[]).includes(s);
}

/** MINUTE=0, HOUR=1, DAY=2, WEEK=3, MONTH=4, YEAR=5: a higher rank is a coarser granularity. */
export function granularityRank(g: Granularity): number {
  const rank = GRANULARITIES.indexOf(g);
  if (rank < 0) throw new RangeError(`unknown granularity "${String(g)}"`);
  return rank;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Number of days in `month` (1–12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Epoch ms of a UTC calendar instant; `month` is 1-based. Out-of-range fields carry over like Date.UTC.
 * Unlike Date.UTC, years 0–99 mean themselves rather than 1900–1999.
 */
export function epochMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  if (year >= 0 && year < 100) {
    return Date.UTC(year + 400, month - 1, day, hour, minute, second) - GREGORIAN_CYCLE_MS;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** Start of the period containing ms. WEEK starts on Sunday (consistent with %U). */
export function truncate(ms: number, g: Granularity): number {
  checkMs(ms);
  const fixed = FIXED_PERIOD_MS[g];
  if (g === "WEEK") {
    // Day 0 (1970-01-01) was a Thursday, i.e. weekday 4 counting from Sunday = 0.
    const day = Math.floor(ms / DAY_MS);
    return (day - mod(day + 4, 7)) * DAY_MS;
  }
  if (fixed !== undefined) return Math.floor(ms / fixed) * fixed;
  const d = new Date(ms);
  if (g === "MONTH") return epochMs(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  if (g === "YEAR") return epochMs(d.getUTCFullYear(), 1, 1);
  throw new RangeError(`unknown granularity "${String(g)}"`);
}

/**
 * ms + n periods. MONTH/YEAR keep the time of day and clamp the day of month to the target month's end
 * (Jan 31 + 1 MONTH = Feb 29 in leap years, Feb 28 otherwise; Feb 29 + 1 YEAR = Feb 28). n may be negative.
 */
export function addPeriods(ms: number, n: number, g: Granularity): number {
  checkMs(ms);
  if (!Number.isSafeInteger(n)) throw new RangeError(`period count must be an integer, got ${n}`);
  const fixed = FIXED_PERIOD_MS[g];
  if (fixed !== undefined) return checkMs(ms + n * fixed);
  if (g !== "MONTH" && g !== "YEAR") throw new RangeError(`unknown granularity "${String(g)}"`);

  const d = new Date(ms);
  // Work in a single month counter so that month overflow/underflow carries into the year.
  const months = d.getUTCFullYear() * 12 + d.getUTCMonth() + (g === "YEAR" ? 12 * n : n);
  const year = Math.floor(months / 12);
  const month = mod(months, 12) + 1;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month));
  const timeOfDay = mod(ms, DAY_MS);
  return checkMs(epochMs(year, month, day) + timeOfDay);
}

/** Whole periods from a to b (both truncated first); negative when b < a. */
export function periodsBetween(a: number, b: number, g: Granularity): number {
  const ta = truncate(a, g);
  const tb = truncate(b, g);
  const fixed = FIXED_PERIOD_MS[g];
  // Truncated values sit exactly on period boundaries, so the division is exact.
  if (fixed !== undefined) return (tb - ta) / fixed;
  const da = new Date(ta);
  const db = new Date(tb);
  const years = db.getUTCFullYear() - da.getUTCFullYear();
  if (g === "YEAR") return years;
  return years * 12 + db.getUTCMonth() - da.getUTCMonth();
}

/** Modulo with the sign of the divisor, so negative (pre-1970) values floor correctly. */
function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

function checkMs(ms: number): number {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) {
    throw new RangeError(`timestamp ${ms} is outside the supported range`);
  }
  return ms;
}
