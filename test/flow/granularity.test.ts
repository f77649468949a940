import fc from "fast-check";
import type { Granularity } from "../../src/flow/model/granularity";
import {
  addPeriods,
  daysInMonth,
  epochMs,
  GRANULARITIES,
  granularityRank,
  isGranularity,
  isLeapYear,
  periodsBetween,
  truncate,
} from "../../src/flow/model/granularity";

/** Compact UTC constructor for readable expectations: u(2024, 1, 31) is 2024-01-31T00:00:00Z. */
const u = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number =>
  Date.UTC(y, mo - 1, d, h, mi, s);
const iso = (ms: number): string => new Date(ms).toISOString();

// Property tests stay within 1970-01-01 .. 2199-12-31.
const MIN_MS = u(1970, 1, 1);
const MAX_MS = u(2200, 1, 1) - 1;
// Leave room for adding periods without leaving the range.
const arbMs = fc.integer({ min: MIN_MS + 400 * 86_400_000, max: MAX_MS - 400 * 86_400_000 });
const arbN = fc.integer({ min: -200, max: 200 });

describe("granularity names", () => {
  it("lists granularities finest first with matching ranks", () => {
    expect(GRANULARITIES).toEqual(["MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"]);
    GRANULARITIES.forEach((g, i) => expect(granularityRank(g)).toBe(i));
    expect(granularityRank("MINUTE")).toBe(0);
    expect(granularityRank("YEAR")).toBe(5);
  });

  it("recognises granularity strings exactly", () => {
    for (const g of GRANULARITIES) expect(isGranularity(g)).toBe(true);
    expect(isGranularity("day")).toBe(false);
    expect(isGranularity("SECOND")).toBe(false);
    expect(isGranularity("")).toBe(false);
  });
});

describe("leap years and month lengths", () => {
  it("follows the Gregorian rules", () => {
    expect(isLeapYear(2024)).toBe(true);
    expect(isLeapYear(2023)).toBe(false);
    expect(isLeapYear(1900)).toBe(false);
    expect(isLeapYear(2000)).toBe(true);
    expect(isLeapYear(2100)).toBe(false);
  });

  it("knows month ends", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2023, m))).toEqual([
      31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    ]);
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(1900, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
  });

  it("agrees with Date.UTC on every month end 1970-2199", () => {
    for (let y = 1970; y < 2200; y++) {
      for (let m = 1; m <= 12; m++) {
        expect(new Date(u(y, m + 1, 0)).getUTCDate()).toBe(daysInMonth(y, m));
      }
    }
  });

  it("epochMs maps years 0-99 to themselves, unlike Date.UTC", () => {
    expect(epochMs(2024, 2, 29, 12, 30, 15)).toBe(u(2024, 2, 29, 12, 30, 15));
    expect(new Date(epochMs(50, 3, 1)).getUTCFullYear()).toBe(50);
    expect(iso(epochMs(4, 2, 29))).toBe("0004-02-29T00:00:00.000Z");
    expect(iso(epochMs(0, 1, 1))).toBe("0000-01-01T00:00:00.000Z");
  });
});

describe("truncate", () => {
  const t = u(2024, 2, 29, 13, 47, 59) + 123;

  it("truncates to each granularity", () => {
    expect(iso(truncate(t, "MINUTE"))).toBe("2024-02-29T13:47:00.000Z");
    expect(iso(truncate(t, "HOUR"))).toBe("2024-02-29T13:00:00.000Z");
    expect(iso(truncate(t, "DAY"))).toBe("2024-02-29T00:00:00.000Z");
    expect(iso(truncate(t, "WEEK"))).toBe("2024-02-25T00:00:00.000Z"); // Sunday
    expect(iso(truncate(t, "MONTH"))).toBe("2024-02-01T00:00:00.000Z");
    expect(iso(truncate(t, "YEAR"))).toBe("2024-01-01T00:00:00.000Z");
  });

  it("starts weeks on Sunday, crossing month and year boundaries", () => {
    expect(iso(truncate(u(2024, 1, 1), "WEEK"))).toBe("2023-12-31T00:00:00.000Z"); // Monday
    expect(iso(truncate(u(2024, 1, 6, 23, 59), "WEEK"))).toBe("2023-12-31T00:00:00.000Z"); // Saturday
    expect(iso(truncate(u(2024, 1, 7), "WEEK"))).toBe("2024-01-07T00:00:00.000Z"); // Sunday
    expect(iso(truncate(u(2023, 1, 1, 5), "WEEK"))).toBe("2023-01-01T00:00:00.000Z"); // Sunday
    expect(iso(truncate(0, "WEEK"))).toBe("1969-12-28T00:00:00.000Z"); // the epoch was a Thursday
  });

  it("floors (not rounds toward zero) before 1970", () => {
    expect(iso(truncate(u(1969, 12, 31, 23, 59, 59), "DAY"))).toBe("1969-12-31T00:00:00.000Z");
    expect(iso(truncate(-1, "MINUTE"))).toBe("1969-12-31T23:59:00.000Z");
    expect(iso(truncate(u(1900, 3, 15), "MONTH"))).toBe("1900-03-01T00:00:00.000Z");
  });

  it("rejects non-finite timestamps", () => {
    expect(() => truncate(Number.NaN, "DAY")).toThrow(RangeError);
    expect(() => truncate(Number.POSITIVE_INFINITY, "DAY")).toThrow(RangeError);
  });

  it.each(GRANULARITIES)("is idempotent and never later than its input (%s)", (g) => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => {
        const t0 = truncate(ms, g);
        expect(t0).toBeLessThanOrEqual(ms);
        expect(truncate(t0, g)).toBe(t0);
        // The next period starts strictly after ms, so t0 is the start of the period containing ms.
        expect(addPeriods(t0, 1, g)).toBeGreaterThan(ms);
      }),
    );
  });

  it("matches a Date-based reference", () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => {
        const d = new Date(ms);
        const [y, mo, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
        expect(truncate(ms, "HOUR")).toBe(Date.UTC(y, mo, day, d.getUTCHours()));
        expect(truncate(ms, "DAY")).toBe(Date.UTC(y, mo, day));
        expect(truncate(ms, "WEEK")).toBe(Date.UTC(y, mo, day - d.getUTCDay()));
        expect(truncate(ms, "MONTH")).toBe(Date.UTC(y, mo, 1));
        expect(truncate(ms, "YEAR")).toBe(Date.UTC(y, 0, 1));
      }),
    );
  });
});

describe("addPeriods", () => {
  it("adds fixed-length periods", () => {
    const t = u(2024, 2, 28, 23, 30);
    expect(iso(addPeriods(t, 45, "MINUTE"))).toBe("2024-02-29T00:15:00.000Z");
    expect(iso(addPeriods(t, 1, "HOUR"))).toBe("2024-02-29T00:30:00.000Z");
    expect(iso(addPeriods(t, 2, "DAY"))).toBe("2024-03-01T23:30:00.000Z");
    expect(iso(addPeriods(u(2023, 2, 28), 1, "DAY"))).toBe("2023-03-01T00:00:00.000Z");
    expect(iso(addPeriods(u(2100, 2, 28), 1, "DAY"))).toBe("2100-03-01T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 1, 7), -1, "WEEK"))).toBe("2023-12-31T00:00:00.000Z");
  });

  it("clamps MONTH to the target month's end", () => {
    expect(iso(addPeriods(u(2024, 1, 31), 1, "MONTH"))).toBe("2024-02-29T00:00:00.000Z");
    expect(iso(addPeriods(u(2023, 1, 31), 1, "MONTH"))).toBe("2023-02-28T00:00:00.000Z");
    expect(iso(addPeriods(u(1900, 1, 31), 1, "MONTH"))).toBe("1900-02-28T00:00:00.000Z");
    expect(iso(addPeriods(u(2000, 1, 31), 1, "MONTH"))).toBe("2000-02-29T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 3, 31, 10, 5), -1, "MONTH"))).toBe("2024-02-29T10:05:00.000Z");
    expect(iso(addPeriods(u(2024, 5, 31), 1, "MONTH"))).toBe("2024-06-30T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 1, 31), 2, "MONTH"))).toBe("2024-03-31T00:00:00.000Z"); // not chained
  });

  it("carries MONTH across year boundaries in both directions", () => {
    expect(iso(addPeriods(u(2024, 11, 15), 3, "MONTH"))).toBe("2025-02-15T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 2, 15), -14, "MONTH"))).toBe("2022-12-15T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 1, 1), -1, "MONTH"))).toBe("2023-12-01T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 12, 31), 0, "MONTH"))).toBe("2024-12-31T00:00:00.000Z");
  });

  it("clamps YEAR on February 29", () => {
    expect(iso(addPeriods(u(2024, 2, 29), 1, "YEAR"))).toBe("2025-02-28T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 2, 29), -1, "YEAR"))).toBe("2023-02-28T00:00:00.000Z");
    expect(iso(addPeriods(u(2024, 2, 29), 4, "YEAR"))).toBe("2028-02-29T00:00:00.000Z");
    expect(iso(addPeriods(u(1896, 2, 29), 4, "YEAR"))).toBe("1900-02-28T00:00:00.000Z");
    expect(iso(addPeriods(u(1996, 2, 29, 6), 4, "YEAR"))).toBe("2000-02-29T06:00:00.000Z");
  });

  it("rejects fractional period counts", () => {
    expect(() => addPeriods(0, 1.5, "DAY")).toThrow(RangeError);
    expect(() => addPeriods(0, Number.NaN, "MONTH")).toThrow(RangeError);
  });

  it.each<Granularity>(["MINUTE", "HOUR", "DAY", "WEEK"])(
    "round-trips n and -n for truncated values (%s)",
    (g) => {
      fc.assert(
        fc.property(arbMs, arbN, (ms, n) => {
          const x = truncate(ms, g);
          expect(addPeriods(addPeriods(x, n, g), -n, g)).toBe(x);
        }),
      );
    },
  );

  it("round-trips MONTH when the day of month is at most 28", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1971, max: 2198 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 86_400_000 - 1 }),
        fc.integer({ min: -12, max: 12 }),
        (y, m, d, timeOfDay, n) => {
          const x = u(y, m, d) + timeOfDay;
          expect(addPeriods(addPeriods(x, n, "MONTH"), -n, "MONTH")).toBe(x);
        },
      ),
    );
  });

  it("keeps MONTH results on the original day or the target month's last day", () => {
    fc.assert(
      fc.property(arbMs, arbN, (ms, n) => {
        const from = new Date(ms);
        const to = new Date(addPeriods(ms, n, "MONTH"));
        const months =
          (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth();
        expect(months).toBe(n);
        const dim = daysInMonth(to.getUTCFullYear(), to.getUTCMonth() + 1);
        expect(to.getUTCDate()).toBe(Math.min(from.getUTCDate(), dim));
        expect(to.getTime() - truncate(to.getTime(), "DAY")).toBe(ms - truncate(ms, "DAY"));
      }),
    );
  });
});

describe("periodsBetween", () => {
  it("counts whole periods after truncating both ends", () => {
    expect(periodsBetween(u(2024, 1, 1, 0, 0, 59), u(2024, 1, 1, 1, 0, 1), "MINUTE")).toBe(60);
    expect(periodsBetween(u(2024, 1, 1, 23, 59), u(2024, 1, 2, 0, 1), "DAY")).toBe(1);
    expect(periodsBetween(u(2024, 1, 1), u(2024, 12, 31), "DAY")).toBe(365);
    expect(periodsBetween(u(2024, 1, 6), u(2024, 1, 7), "WEEK")).toBe(1); // Saturday -> Sunday
    expect(periodsBetween(u(2024, 1, 31), u(2024, 2, 1), "MONTH")).toBe(1);
    expect(periodsBetween(u(2024, 12, 31), u(2023, 1, 1), "MONTH")).toBe(-23);
    expect(periodsBetween(u(2023, 12, 31, 23, 59), u(2024, 1, 1), "YEAR")).toBe(1);
    expect(periodsBetween(u(2024, 5, 5), u(2024, 5, 5, 12), "DAY")).toBe(0);
  });

  it.each(GRANULARITIES)("inverts addPeriods for truncated values (%s)", (g) => {
    fc.assert(
      fc.property(arbMs, arbN, (ms, n) => {
        const x = truncate(ms, g);
        expect(periodsBetween(x, addPeriods(x, n, g), g)).toBe(n);
        expect(periodsBetween(addPeriods(x, n, g), x, g)).toBe(0 - n);
      }),
    );
  });
});
