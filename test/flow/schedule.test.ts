import fc from "fast-check";
import type { CronSchedule, Schedule } from "../../src/flow/model/schedule";
import { nextFireTime, parseSchedule, scheduleGranularity } from "../../src/flow/model/schedule";

function parse(expression: string): Schedule {
  const r = parseSchedule(expression);
  if (r.schedule === undefined) throw new Error(`expected ${expression} to be valid: ${r.errors.join("; ")}`);
  return r.schedule;
}

function errorsOf(expression: string): string[] {
  const r = parseSchedule(expression);
  expect(r.schedule).toBeUndefined();
  return r.errors;
}

const iso = (s: string): number => Date.parse(s);
const next = (expression: string, after: string): string | undefined => {
  const t = nextFireTime(parse(expression), iso(after));
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe("parseSchedule: valid expressions", () => {
  const awsExamples = [
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(1 day)",
    "rate(7 days)",
  ];
  it.each(awsExamples)("accepts the AWS documentation example %s", (expression) => {
    const r = parseSchedule(expression);
    expect(r.errors).toEqual([]);
    expect(r.schedule?.expression).toBe(expression);
  });

  const more = [
    "cron(0 0 L * ? *)",
    "cron(0 0 LW * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(0 0 ? * 6L *)",
    "cron(0 0 ? * L *)",
    "cron(0 0 ? * FRI#3 *)",
    "cron(0 0 ? * mon-fri *)",
    "cron(0 0 1 jan,Feb,MAR ? *)",
    "cron(0 0 1 JAN-JUN/2 ? *)",
    "cron(*/5 * * * ? *)",
    "cron(5-55/10 1,3,5-7 1-31/2 * ? 2024-2030/2)",
    "cron(59 23 31 12 ? 2199)",
    "cron(0 0 1 1 ? 1970)",
    "cron(0 0 * * ? *)",
    "cron(0 0 ? * * *)",
    "cron(0 0 ? * 1,7 *)",
    "rate(100 days)",
  ];
  it.each(more)("accepts %s", (expression) => {
    expect(parseSchedule(expression).errors).toEqual([]);
  });

  it("returns the parsed rate fields", () => {
    expect(parseSchedule("rate(5 minutes)")).toEqual({
      schedule: { kind: "rate", value: 5, unit: "minute", expression: "rate(5 minutes)" },
      errors: [],
    });
    expect(parse("rate(1 day)")).toEqual({ kind: "rate", value: 1, unit: "day", expression: "rate(1 day)" });
  });

  it("returns the parsed cron fields", () => {
    expect(parse("cron(0/5 8-17 ? * MON-FRI *)")).toEqual({
      kind: "cron",
      minutes: "0/5",
      hours: "8-17",
      dayOfMonth: "?",
      month: "*",
      dayOfWeek: "MON-FRI",
      year: "*",
      expression: "cron(0/5 8-17 ? * MON-FRI *)",
    });
  });
});

describe("parseSchedule: invalid expressions", () => {
  const cases: [string, string[]][] = [
    [
      "cron(0 10 * * ?)",
      [
        'cron expression "cron(0 10 * * ?)" must have exactly 6 space-separated fields (Minutes Hours Day-of-month Month Day-of-week Year), but has 5',
      ],
    ],
    [
      "cron(0 10 * * ? * *)",
      [
        'cron expression "cron(0 10 * * ? * *)" must have exactly 6 space-separated fields (Minutes Hours Day-of-month Month Day-of-week Year), but has 7',
      ],
    ],
    [
      "cron(0 10 * * MON *)",
      [
        'cron fields Day-of-month ("*") and Day-of-week ("MON") cannot both be specified; exactly one of them must be "?"',
      ],
    ],
    [
      "cron(0 10 ? * ? *)",
      [
        'cron fields Day-of-month and Day-of-week are both "?"; exactly one of them must be "?" and the other must specify days',
      ],
    ],
    ["rate(0 days)", ['rate value "0" must be a positive integer (at least 1)']],
    ["rate(1 days)", ['rate unit "days" must be singular ("day") when the value is 1']],
    ["rate(1 minutes)", ['rate unit "minutes" must be singular ("minute") when the value is 1']],
    ["rate(2 day)", ['rate unit "day" must be plural ("days") when the value is 2']],
    ["rate(5 minute)", ['rate unit "minute" must be plural ("minutes") when the value is 5']],
    [
      "rate(1 week)",
      ['rate unit "week" is not valid; expected one of minute, minutes, hour, hours, day, days'],
    ],
    ["rate(1.5 hours)", ['rate value "1.5" is not a positive integer']],
    ["rate(-1 hours)", ['rate value "-1" is not a positive integer']],
    [
      "rate(5)",
      ['rate expression "rate(5)" must have exactly 2 space-separated fields (value unit), but has 1'],
    ],
    ["cron(0 24 * * ? *)", ['cron field Hours: value "24" is out of range 0-23']],
    ["cron(60 0 * * ? *)", ['cron field Minutes: value "60" is out of range 0-59']],
    ["cron(0 0 32 * ? *)", ['cron field Day-of-month: value "32" is out of range 1-31']],
    ["cron(0 0 0 * ? *)", ['cron field Day-of-month: value "0" is out of range 1-31']],
    ["cron(0 0 ? 13 MON *)", ['cron field Month: value "13" is out of range 1-12']],
    ["cron(0 0 ? * 8 *)", ['cron field Day-of-week: value "8" is out of range 1-7']],
    ["cron(0 0 ? * 0 *)", ['cron field Day-of-week: value "0" is out of range 1-7']],
    ["cron(0 0 1 * ? 1969)", ['cron field Year: value "1969" is out of range 1970-2199']],
    ["cron(0 0 1 * ? 2200)", ['cron field Year: value "2200" is out of range 1970-2199']],
    ["cron(0/0 * * * ? *)", ['cron field Minutes: step "0" in "0/0" must be an integer from 1 to 59']],
    ["cron(0/60 * * * ? *)", ['cron field Minutes: step "60" in "0/60" must be an integer from 1 to 59']],
    ["cron(0 */x * * ? *)", ['cron field Hours: step "x" in "*/x" must be an integer from 1 to 23']],
    [
      "cron(0 0 ? * 2#6 *)",
      ['cron field Day-of-week: occurrence "6" in "2#6" must be an integer from 1 to 5'],
    ],
    [
      "cron(0 0 ? * 2#0 *)",
      ['cron field Day-of-week: occurrence "0" in "2#0" must be an integer from 1 to 5'],
    ],
    ["cron(0 0 ? * 8#1 *)", ['cron field Day-of-week: value "8" is out of range 1-7']],
    [
      "cron(0 0 ? * 2#1,6#3 *)",
      [
        'cron field Day-of-week: only one "#" expression is allowed, and it must be the whole field, but got "2#1,6#3"',
      ],
    ],
    [
      "cron(0 0 ? * 2W *)",
      ['cron field Day-of-week: value "2W" uses "W", which is only allowed in Day-of-month'],
    ],
    [
      "cron(0 0 2#1 * ? *)",
      ['cron field Day-of-month: value "2#1" uses "#", which is only allowed in Day-of-week'],
    ],
    [
      "cron(0 0 ? * 1/2 *)",
      [
        'cron field Day-of-week: value "1/2" uses "/", which is not allowed in Day-of-week (allowed: , - * ? L #)',
      ],
    ],
    [
      "cron(L 0 * * ? *)",
      ['cron field Minutes: value "L" uses "L", which is only allowed in Day-of-month and Day-of-week'],
    ],
    ["cron(0 0 * 5W ? *)", ['cron field Month: value "5W" uses "W", which is only allowed in Day-of-month']],
    ["cron(0 10-5 * * ? *)", ['cron field Hours: range "10-5" has a start greater than its end (10 > 5)']],
    [
      "cron(0 0 ? * FRI-MON *)",
      ['cron field Day-of-week: range "FRI-MON" has a start greater than its end (6 > 2)'],
    ],
    [
      "cron(0 0 1 FOO ? *)",
      [
        'cron field Month: value "FOO" in "FOO" is not a valid name; expected one of JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC or a number 1-12',
      ],
    ],
    [
      "cron(0 0 1,L * ? *)",
      [
        'cron field Day-of-month: value "L" uses "L", which must be the only value of the field, but the field is "1,L"',
      ],
    ],
    [
      "cron(0 0 1,15W * ? *)",
      [
        'cron field Day-of-month: value "15W" uses "W", which must be the only value of the field, but the field is "1,15W"',
      ],
    ],
    ["cron(0 0 32W * ? *)", ['cron field Day-of-month: value "32" is out of range 1-31']],
    [
      "cron(0 0 L-3 * ? *)",
      [
        'cron field Day-of-month: value "L-3" (an offset before the last day) is not supported by EventBridge',
      ],
    ],
    [
      "cron(0 0 * ? ? *)",
      [
        'cron field Month: wildcard "?" is not allowed (allowed: , - * /); only Day-of-month and Day-of-week accept "?"',
      ],
    ],
    ["cron(1,,2 * * * ? *)", ['cron field Minutes: list "1,,2" contains an empty element']],
    [
      "cron(0 0 ? * MON,? *)",
      ['cron field Day-of-week: "?" must be the whole field, not part of the list "MON,?"'],
    ],
    ["cron(0 0 1 1 ? abc)", ['cron field Year: value "abc" in "abc" is not a number 1970-2199']],
    [
      "every 5 minutes",
      [
        'schedule expression "every 5 minutes" is not valid; expected rate(value unit) or cron(Minutes Hours Day-of-month Month Day-of-week Year)',
      ],
    ],
    [
      "cron(60 24 * * ? 1969)",
      [
        'cron field Minutes: value "60" is out of range 0-59',
        'cron field Hours: value "24" is out of range 0-23',
        'cron field Year: value "1969" is out of range 1970-2199',
      ],
    ],
    [
      "rate(0 week)",
      [
        'rate value "0" must be a positive integer (at least 1)',
        'rate unit "week" is not valid; expected one of minute, minutes, hour, hours, day, days',
      ],
    ],
  ];
  it.each(cases)("rejects %s", (expression, expected) => {
    expect(errorsOf(expression)).toEqual(expected);
  });

  it("never throws on arbitrary input and always either parses or reports errors", () => {
    const token = fc.constantFrom(
      "*",
      "?",
      "L",
      "LW",
      "W",
      "#",
      "/",
      "-",
      ",",
      "0",
      "1",
      "5",
      "7",
      "15",
      "31",
      "59",
      "60",
      "2024",
      "MON",
      "jan",
      "x",
    );
    const field = fc.array(token, { minLength: 1, maxLength: 4 }).map((ts) => ts.join(""));
    fc.assert(
      fc.property(fc.array(field, { minLength: 0, maxLength: 8 }), fc.boolean(), (fields, cron) => {
        const r = parseSchedule(`${cron ? "cron" : "rate"}(${fields.join(" ")})`);
        if (r.schedule === undefined) {
          expect(r.errors.length).toBeGreaterThan(0);
          for (const e of r.errors) expect(e).toMatch(/^(cron|rate|schedule) /);
        } else {
          expect(r.errors).toEqual([]);
          // A valid schedule can always be evaluated.
          nextFireTime(r.schedule, iso("2024-01-01T00:00:00Z"));
          scheduleGranularity(r.schedule);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("nextFireTime", () => {
  it("fires daily at a fixed time", () => {
    expect(next("cron(0 10 * * ? *)", "2024-03-05T09:59:30Z")).toBe("2024-03-05T10:00:00.000Z");
    expect(next("cron(0 10 * * ? *)", "2024-03-05T10:00:00Z")).toBe("2024-03-06T10:00:00.000Z");
    expect(next("cron(15 12 * * ? *)", "2024-12-31T13:00:00Z")).toBe("2025-01-01T12:15:00.000Z");
  });

  it("handles steps and weekday ranges", () => {
    expect(next("cron(0/15 * * * ? *)", "2024-03-05T10:07:59.999Z")).toBe("2024-03-05T10:15:00.000Z");
    expect(next("cron(0/15 * * * ? *)", "2024-03-05T23:45:00Z")).toBe("2024-03-06T00:00:00.000Z");
    // 2024-03-08 is a Friday.
    expect(next("cron(0/5 8-17 ? * MON-FRI *)", "2024-03-08T17:55:00Z")).toBe("2024-03-11T08:00:00.000Z");
    expect(next("cron(0/5 8-17 ? * MON-FRI *)", "2024-03-08T12:31:00Z")).toBe("2024-03-08T12:35:00.000Z");
    expect(next("cron(0 18 ? * MON-FRI *)", "2024-03-09T00:00:00Z")).toBe("2024-03-11T18:00:00.000Z");
    expect(next("cron(5-55/10 * * * ? *)", "2024-03-05T10:55:00Z")).toBe("2024-03-05T11:05:00.000Z");
  });

  it("handles the first day of the month and month names", () => {
    expect(next("cron(0 8 1 * ? *)", "2024-01-01T08:00:00Z")).toBe("2024-02-01T08:00:00.000Z");
    expect(next("cron(0 0 1 MAR,sep ? *)", "2024-03-01T00:00:00Z")).toBe("2024-09-01T00:00:00.000Z");
    expect(next("cron(0 0 31 * ? *)", "2024-04-01T00:00:00Z")).toBe("2024-05-31T00:00:00.000Z");
  });

  it("handles L (last day of the month) across leap years", () => {
    expect(next("cron(0 8 L * ? *)", "2024-02-01T00:00:00Z")).toBe("2024-02-29T08:00:00.000Z");
    expect(next("cron(0 8 L * ? *)", "2023-02-01T00:00:00Z")).toBe("2023-02-28T08:00:00.000Z");
    expect(next("cron(0 8 L * ? *)", "2024-02-29T08:00:00Z")).toBe("2024-03-31T08:00:00.000Z");
    expect(next("cron(0 8 L * ? *)", "2024-04-30T09:00:00Z")).toBe("2024-05-31T08:00:00.000Z");
  });

  it("finds February 29th only in leap years (2100 is not one)", () => {
    expect(next("cron(0 0 29 2 ? *)", "2021-01-01T00:00:00Z")).toBe("2024-02-29T00:00:00.000Z");
    expect(next("cron(0 0 29 2 ? *)", "2096-03-01T00:00:00Z")).toBe("2104-02-29T00:00:00.000Z");
    expect(next("cron(0 0 29 FEB ? 2000)", "1999-06-01T00:00:00Z")).toBe("2000-02-29T00:00:00.000Z");
  });

  it("handles W (nearest weekday, never leaving the month)", () => {
    // 2024-06-15 is a Saturday -> Friday 14th; 2024-09-15 is a Sunday -> Monday 16th.
    expect(next("cron(0 9 15W * ? *)", "2024-06-01T00:00:00Z")).toBe("2024-06-14T09:00:00.000Z");
    expect(next("cron(0 9 15W * ? *)", "2024-09-01T00:00:00Z")).toBe("2024-09-16T09:00:00.000Z");
    // 2024-03-15 is a Friday -> itself.
    expect(next("cron(0 9 15W * ? *)", "2024-03-01T00:00:00Z")).toBe("2024-03-15T09:00:00.000Z");
    // 2024-06-01 is a Saturday: 1W is Monday the 3rd, not Friday May 31st.
    expect(next("cron(0 9 1W * ? *)", "2024-05-15T00:00:00Z")).toBe("2024-06-03T09:00:00.000Z");
    // 2024-06-30 is a Sunday and the last day: 30W is Friday the 28th.
    expect(next("cron(0 9 30W * ? *)", "2024-06-20T00:00:00Z")).toBe("2024-06-28T09:00:00.000Z");
    // June has no 31st: 31W skips to July 31st (a Wednesday).
    expect(next("cron(0 9 31W * ? *)", "2024-06-01T00:00:00Z")).toBe("2024-07-31T09:00:00.000Z");
  });

  it("handles LW (last weekday of the month)", () => {
    // 2024-03-31 is a Sunday -> Friday 29th; 2024-08-31 is a Saturday -> Friday 30th.
    expect(next("cron(0 17 LW * ? *)", "2024-03-01T00:00:00Z")).toBe("2024-03-29T17:00:00.000Z");
    expect(next("cron(0 17 LW * ? *)", "2024-08-01T00:00:00Z")).toBe("2024-08-30T17:00:00.000Z");
    expect(next("cron(0 17 LW * ? *)", "2024-04-01T00:00:00Z")).toBe("2024-04-30T17:00:00.000Z");
  });

  it("handles # (nth day of week of the month)", () => {
    // First Monday of the month (AWS example cron(0 9 ? * 2#1 *)).
    expect(next("cron(0 9 ? * 2#1 *)", "2024-01-01T09:00:00Z")).toBe("2024-02-05T09:00:00.000Z");
    expect(next("cron(0 9 ? * 2#1 *)", "2024-01-01T08:59:00Z")).toBe("2024-01-01T09:00:00.000Z");
    expect(next("cron(0 9 ? * MON#1 *)", "2024-09-03T00:00:00Z")).toBe("2024-10-07T09:00:00.000Z");
    // Fifth Thursday: January 2024 has none; leap-day February 29th 2024 is one.
    expect(next("cron(0 0 ? * 5#5 *)", "2024-01-01T00:00:00Z")).toBe("2024-02-29T00:00:00.000Z");
    expect(next("cron(0 0 ? * THU#5 *)", "2024-02-29T00:00:00Z")).toBe("2024-05-30T00:00:00.000Z");
  });

  it("handles nL (last given weekday of the month) and L alone (Saturday)", () => {
    // Last Friday of March 2024 is the 29th.
    expect(next("cron(0 12 ? * 6L *)", "2024-03-01T00:00:00Z")).toBe("2024-03-29T12:00:00.000Z");
    expect(next("cron(0 12 ? * FRIL *)", "2024-03-29T12:00:00Z")).toBe("2024-04-26T12:00:00.000Z");
    // 2024-03-05 is a Tuesday; the next Saturday is the 9th.
    expect(next("cron(0 0 ? * L *)", "2024-03-05T00:00:00Z")).toBe("2024-03-09T00:00:00.000Z");
  });

  it("respects the year field and returns undefined once it is exhausted", () => {
    expect(next("cron(0 0 1 1 ? 2020)", "2019-12-31T23:59:59Z")).toBe("2020-01-01T00:00:00.000Z");
    expect(next("cron(0 0 1 1 ? 2020)", "2020-01-01T00:00:00Z")).toBeUndefined();
    expect(next("cron(0 0 1 1 ? 2020,2030-2032)", "2020-01-01T00:00:00Z")).toBe("2030-01-01T00:00:00.000Z");
    expect(next("cron(59 23 31 12 ? *)", "2199-12-31T23:59:00Z")).toBeUndefined();
    expect(next("cron(59 23 31 12 ? *)", "2199-12-31T23:58:00Z")).toBe("2199-12-31T23:59:00.000Z");
    expect(nextFireTime(parse("cron(* * * * ? *)"), 8.64e15)).toBeUndefined();
  });

  it("starts at the epoch for instants before 1970", () => {
    expect(nextFireTime(parse("cron(* * * * ? *)"), -1)).toBe(0);
    expect(nextFireTime(parse("cron(* * * * ? *)"), -8.64e15)).toBe(0);
    expect(next("cron(0 12 ? * MON *)", "1960-01-01T00:00:00Z")).toBe("1970-01-05T12:00:00.000Z");
  });

  it("returns undefined quickly for a schedule that can never fire", () => {
    const started = Date.now();
    expect(next("cron(0 0 31 2 ? *)", "1970-01-01T00:00:00Z")).toBeUndefined();
    expect(next("cron(0 0 30 FEB ? *)", "1970-01-01T00:00:00Z")).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("fires strictly after a fire time and within the minute", () => {
    expect(next("cron(* * * * ? *)", "2024-03-05T10:00:00Z")).toBe("2024-03-05T10:01:00.000Z");
    expect(next("cron(* * * * ? *)", "2024-03-05T10:00:59.999Z")).toBe("2024-03-05T10:01:00.000Z");
  });

  it("fires rate() schedules at multiples of the period since the epoch", () => {
    const five = parse("rate(5 minutes)");
    expect(nextFireTime(five, 0)).toBe(300_000);
    expect(nextFireTime(five, 299_999)).toBe(300_000);
    expect(nextFireTime(five, 300_000)).toBe(600_000);
    expect(nextFireTime(five, -1)).toBe(0);
    expect(next("rate(1 hour)", "2024-03-05T10:00:00Z")).toBe("2024-03-05T11:00:00.000Z");
    expect(next("rate(1 day)", "2024-03-05T10:00:00Z")).toBe("2024-03-06T00:00:00.000Z");
    expect(next("rate(7 days)", "1970-01-01T00:00:00Z")).toBe("1970-01-08T00:00:00.000Z");
  });

  it("rejects a non-finite instant", () => {
    expect(() => nextFireTime(parse("rate(1 day)"), Number.NaN)).toThrow(RangeError);
    expect(() => nextFireTime(parse("cron(0 0 * * ? *)"), Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("throws on a hand-built invalid cron schedule", () => {
    const bad: CronSchedule = {
      kind: "cron",
      minutes: "61",
      hours: "*",
      dayOfMonth: "*",
      month: "*",
      dayOfWeek: "?",
      year: "*",
      expression: "cron(61 * * * ? *)",
    };
    expect(() => nextFireTime(bad, 0)).toThrow(/Minutes: value "61" is out of range 0-59/);
  });
});

describe("scheduleGranularity", () => {
  const cases: [string, string][] = [
    ["rate(1 minute)", "MINUTE"],
    ["rate(5 minutes)", "MINUTE"],
    ["rate(1 hour)", "HOUR"],
    ["rate(6 hours)", "HOUR"],
    ["rate(1 day)", "DAY"],
    ["rate(7 days)", "DAY"],
    ["cron(* * * * ? *)", "MINUTE"],
    ["cron(0/15 * * * ? *)", "MINUTE"],
    ["cron(0/5 8-17 ? * MON-FRI *)", "MINUTE"],
    ["cron(0,30 10 * * ? *)", "MINUTE"],
    ["cron(0 * * * ? *)", "HOUR"],
    ["cron(0 0,12 * * ? *)", "HOUR"],
    ["cron(0 10 * * ? *)", "DAY"],
    ["cron(15 12 * * ? *)", "DAY"],
    ["cron(0 18 ? * MON-FRI *)", "DAY"],
    ["cron(0 8 1,15 * ? *)", "DAY"],
    ["cron(0 9 ? * MON *)", "WEEK"],
    ["cron(0 0 ? * L *)", "WEEK"],
    ["cron(0 0 ? JAN MON *)", "WEEK"],
    ["cron(0 8 1 * ? *)", "MONTH"],
    ["cron(0 8 L * ? *)", "MONTH"],
    ["cron(0 8 LW * ? *)", "MONTH"],
    ["cron(0 8 15W * ? *)", "MONTH"],
    ["cron(0 9 ? * 2#1 *)", "MONTH"],
    ["cron(0 9 ? * 6L *)", "MONTH"],
    ["cron(0 0 1 1 ? *)", "YEAR"],
    ["cron(0 0 ? DEC 6L *)", "YEAR"],
    ["cron(0 0 * * ? 2030)", "YEAR"],
  ];
  it.each(cases)("%s -> %s", (expression, granularity) => {
    expect(scheduleGranularity(parse(expression))).toBe(granularity);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: an independent brute-force oracle agrees with nextFireTime.
// ---------------------------------------------------------------------------------------------

interface FieldGen {
  readonly text: string;
  readonly values: ReadonlySet<number>;
}

function rangeSet(lo: number, hi: number, step = 1): Set<number> {
  const s = new Set<number>();
  for (let v = lo; v <= hi; v += step) s.add(v);
  return s;
}

function fieldArb(
  min: number,
  max: number,
  allowStep: boolean,
  names?: readonly string[],
): fc.Arbitrary<FieldGen> {
  const value = fc.integer({ min, max });
  const render = (v: number, useName: boolean): string =>
    names !== undefined && useName ? (names[v - min] as string) : String(v);
  const arbs: fc.Arbitrary<FieldGen>[] = [
    fc.constant({ text: "*", values: rangeSet(min, max) }),
    fc.tuple(value, fc.boolean()).map(([v, n]) => ({ text: render(v, n), values: new Set([v]) })),
    fc.tuple(value, value, fc.boolean()).map(([a, b, n]) => {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      return { text: `${render(lo, n)}-${render(hi, n)}`, values: rangeSet(lo, hi) };
    }),
    fc
      .uniqueArray(value, { minLength: 1, maxLength: 4 })
      .map((vs) => ({ text: vs.join(","), values: new Set(vs) })),
  ];
  if (allowStep) {
    const step = fc.integer({ min: 1, max: Math.min(max, 12) });
    arbs.push(
      fc.tuple(value, step).map(([a, s]) => ({ text: `${a}/${s}`, values: rangeSet(a, max, s) })),
      step.map((s) => ({ text: `*/${s}`, values: rangeSet(min, max, s) })),
      fc.tuple(value, value, step).map(([a, b, s]) => {
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        return { text: `${lo}-${hi}/${s}`, values: rangeSet(lo, hi, s) };
      }),
    );
  }
  return fc.oneof(...arbs);
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface SimpleCron {
  readonly expression: string;
  readonly matches: (t: number) => boolean;
}

/** Random "simple" crons (no L/W/#) together with an independent minute matcher. */
const simpleCronArb: fc.Arbitrary<SimpleCron> = fc
  .record({
    minutes: fieldArb(0, 59, true),
    hours: fieldArb(0, 23, true),
    dom: fieldArb(1, 31, true),
    month: fc.oneof(
      { weight: 3, arbitrary: fc.constant({ text: "*", values: rangeSet(1, 12) }) },
      { weight: 1, arbitrary: fieldArb(1, 12, true, MONTHS) },
    ),
    dow: fieldArb(1, 7, false, DAYS),
    useDom: fc.boolean(),
  })
  .map(({ minutes, hours, dom, month, dow, useDom }) => {
    const expression = `cron(${minutes.text} ${hours.text} ${useDom ? dom.text : "?"} ${month.text} ${
      useDom ? "?" : dow.text
    } *)`;
    const matches = (t: number): boolean => {
      const d = new Date(t);
      return (
        minutes.values.has(d.getUTCMinutes()) &&
        hours.values.has(d.getUTCHours()) &&
        month.values.has(d.getUTCMonth() + 1) &&
        (useDom ? dom.values.has(d.getUTCDate()) : dow.values.has(d.getUTCDay() + 1))
      );
    };
    return { expression, matches };
  });

const afterArb = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2150, 0, 1) });

describe("nextFireTime properties", () => {
  it("returns an aligned matching time strictly after `after`, agreeing with a brute-force minute scan", () => {
    const windowMinutes = 8 * 24 * 60;
    fc.assert(
      fc.property(simpleCronArb, afterArb, (cron, after) => {
        const s = parse(cron.expression);
        const got = nextFireTime(s, after);
        if (got !== undefined) {
          expect(got).toBeGreaterThan(after);
          expect(got % 60_000).toBe(0);
          expect(cron.matches(got)).toBe(true);
        }
        let expected: number | undefined;
        const first = (Math.floor(after / 60_000) + 1) * 60_000;
        for (let i = 0; i < windowMinutes; i++) {
          const t = first + i * 60_000;
          if (cron.matches(t)) {
            expected = t;
            break;
          }
        }
        if (expected !== undefined) expect(got).toBe(expected);
        else if (got !== undefined) expect(got).toBeGreaterThanOrEqual(first + windowMinutes * 60_000);
      }),
      { numRuns: 300 },
    );
  });

  /** Special day-of-month / day-of-week forms with a day-by-day oracle written independently. */
  type DayRule = {
    readonly dom: string;
    readonly dow: string;
    readonly day: (y: number, m: number, d: number) => boolean;
  };
  const daysIn = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();
  const weekday = (y: number, m: number, d: number): number =>
    new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 1;
  const isWorkday = (y: number, m: number, d: number): boolean => {
    const w = weekday(y, m, d);
    return w !== 1 && w !== 7;
  };
  const dayRuleArb: fc.Arbitrary<DayRule> = fc.oneof(
    fc.constant<DayRule>({ dom: "L", dow: "?", day: (y, m, d) => d === daysIn(y, m) }),
    fc.constant<DayRule>({
      dom: "LW",
      dow: "?",
      day: (y, m, d) => {
        if (!isWorkday(y, m, d)) return false;
        for (let e = d + 1; e <= daysIn(y, m); e++) if (isWorkday(y, m, e)) return false;
        return true;
      },
    }),
    fc.integer({ min: 1, max: 31 }).map<DayRule>((n) => ({
      dom: `${n}W`,
      dow: "?",
      // The workday of the month closest to day n (n must exist in the month).
      day: (y, m, d) => {
        const last = daysIn(y, m);
        if (n > last || !isWorkday(y, m, d)) return false;
        for (let e = 1; e <= last; e++) {
          if (isWorkday(y, m, e) && Math.abs(e - n) < Math.abs(d - n)) return false;
        }
        return true;
      },
    })),
    fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 })).map<DayRule>(([w, k]) => ({
      dom: "?",
      dow: `${w}#${k}`,
      day: (y, m, d) => weekday(y, m, d) === w && Math.ceil(d / 7) === k,
    })),
    fc.integer({ min: 1, max: 7 }).map<DayRule>((w) => ({
      dom: "?",
      dow: `${w}L`,
      day: (y, m, d) => weekday(y, m, d) === w && d + 7 > daysIn(y, m),
    })),
  );

  it("agrees with a day-by-day oracle for L, LW, nW, n#k and nL", () => {
    fc.assert(
      fc.property(
        dayRuleArb,
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 23 }),
        afterArb,
        (rule, minute, hour, after) => {
          const s = parse(`cron(${minute} ${hour} ${rule.dom} * ${rule.dow} *)`);
          const got = nextFireTime(s, after);
          let expected: number | undefined;
          const start = new Date(after);
          for (let i = 0; i < 200 && expected === undefined; i++) {
            const day = new Date(
              Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + i),
            );
            const y = day.getUTCFullYear();
            const m = day.getUTCMonth() + 1;
            const d = day.getUTCDate();
            const t = Date.UTC(y, m - 1, d, hour, minute);
            if (t > after && rule.day(y, m, d)) expected = t;
          }
          expect(expected).toBeDefined(); // every rule fires within a few months
          expect(got).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rate() fires at the next multiple of the period", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.constantFrom("minute", "hour", "day"),
        afterArb,
        (value, unit, after) => {
          const s = parse(`rate(${value} ${unit}${value === 1 ? "" : "s"})`);
          const period = value * { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[unit];
          const got = nextFireTime(s, after) as number;
          expect(got).toBeGreaterThan(after);
          expect(got - after).toBeLessThanOrEqual(period);
          expect(got % period).toBe(0);
          expect(got % 60_000).toBe(0);
        },
      ),
    );
  });
});
