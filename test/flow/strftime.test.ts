import fc from "fast-check";
import { truncate } from "../../src/flow/model/granularity";
import {
  formatDatetime,
  formatGranularity,
  parseDatetime,
  parseIso,
  STRFTIME_DIRECTIVES,
  StrftimeParseError,
  validateFormat,
} from "../../src/flow/model/strftime";

/** Compact UTC constructor for readable expectations: u(2024, 1, 31) is 2024-01-31T00:00:00Z. */
const u = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number =>
  Date.UTC(y, mo - 1, d, h, mi, s);
const iso = (ms: number): string => new Date(ms).toISOString();

/** Property tests stay within 1970-01-01 .. 2199-12-31. */
const arbMs = fc.integer({ min: u(1970, 1, 1), max: u(2200, 1, 1) - 1 });

/** Expects parseDatetime to throw a StrftimeParseError with exactly this message. */
function expectParseError(text: string, format: string, message: string): void {
  let caught: unknown;
  try {
    parseDatetime(text, format);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(StrftimeParseError);
  expect(caught).toBeInstanceOf(Error);
  expect((caught as StrftimeParseError).message).toBe(message);
  expect((caught as StrftimeParseError).name).toBe("StrftimeParseError");
}

describe("STRFTIME_DIRECTIVES", () => {
  it("lists the supported directives", () => {
    expect(STRFTIME_DIRECTIVES).toEqual(["%Y", "%m", "%d", "%j", "%U", "%H", "%M", "%S", "%%"]);
    for (const d of STRFTIME_DIRECTIVES) {
      expect(validateFormat(d === "%Y" ? "%Y" : `%Y-%m-%d %H:%M:%S ${d}`)).toBeUndefined();
    }
  });
});

describe("validateFormat", () => {
  it.each([
    "%Y",
    "%Y-%m",
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y/%j",
    "%Y-%U",
    "year=%Y/week=%U",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "dt=%Y-%m-%d/hr=%H",
    "%Y/%j/%H",
    "%Y-%m-%d (%j, week %U)",
    "100%% %Y",
    "%Y %Y", // repeated fields must agree when parsing
  ])("accepts %p", (format) => {
    expect(validateFormat(format)).toBeUndefined();
  });

  it.each([
    ["%Y-%b", 'unsupported directive "%b" at position 3'],
    ["%y-%m", 'unsupported directive "%y" at position 0'],
    ["%Y-%m-%d %I", 'unsupported directive "%I" at position 9'],
    ["%Y-%m-%", 'incomplete directive "%" at position 6'],
    ["%m-%d", "format has no %Y"],
    ["%%Y", "format has no %Y"],
    ["plain text", "format has no %Y"],
    ["", "format has no %Y"],
    ["%Y-%d", "%d requires %m"],
    ["%Y-%m %U", "%U cannot be combined with %m unless %d is present"],
    ["%Y-%m %H", "%H requires a day (%m%d or %j)"],
    ["%Y-%U %H", "%H requires a day (%m%d or %j)"],
    ["%Y-%m-%d %M", "%M requires %H"],
    ["%Y-%m-%d %H:%S", "%S requires %M"],
  ])("rejects %p: %s", (format, message) => {
    expect(validateFormat(format)).toBe(message);
  });
});

describe("formatGranularity", () => {
  it.each([
    ["%Y", "YEAR"],
    ["year=%Y", "YEAR"],
    ["%Y-%m", "MONTH"],
    ["%Y-%U", "WEEK"],
    ["%Y-%m-%d", "DAY"],
    ["%Y/%j", "DAY"],
    ["%Y-%m-%d week %U", "DAY"],
    ["dt=%Y-%m-%d/hr=%H", "HOUR"],
    ["%Y-%m-%dT%H:%M", "MINUTE"],
    ["%Y-%m-%d %H:%M:%S", "MINUTE"],
  ])("%p is %s", (format, granularity) => {
    expect(formatGranularity(format)).toBe(granularity);
  });

  it("rejects invalid formats", () => {
    expect(() => formatGranularity("%m/%d")).toThrow('invalid strftime format "%m/%d": format has no %Y');
  });
});

describe("formatDatetime", () => {
  const t = u(2024, 3, 5, 7, 8, 9) + 999;

  it("zero-pads every field", () => {
    expect(formatDatetime(t, "%Y-%m-%d %H:%M:%S")).toBe("2024-03-05 07:08:09");
    expect(formatDatetime(t, "%Y%m%d")).toBe("20240305");
    expect(formatDatetime(t, "%Y/%j")).toBe("2024/065");
    expect(formatDatetime(u(1970, 1, 1), "%Y-%m-%dT%H:%M")).toBe("1970-01-01T00:00");
    expect(formatDatetime(u(2199, 12, 31, 23, 59, 59), "%Y-%m-%d %H:%M:%S")).toBe("2199-12-31 23:59:59");
  });

  it("copies literals verbatim and renders %% as %", () => {
    expect(formatDatetime(t, "dt=%Y-%m-%d/hr=%H")).toBe("dt=2024-03-05/hr=07");
    expect(formatDatetime(t, "%%Y is %Y, 100%%")).toBe("%Y is 2024, 100%");
    expect(formatDatetime(t, "%%%m%%")).toBe("%03%");
    expect(formatDatetime(t, "no directives")).toBe("no directives");
  });

  it("allows partial formats (only parsing needs %Y)", () => {
    expect(formatDatetime(t, "%H:%M")).toBe("07:08");
  });

  it("pads years before 1000 to four digits", () => {
    expect(formatDatetime(Date.UTC(999, 0, 1), "%Y")).toBe("0999");
  });

  it("throws on unsupported directives and unrepresentable values", () => {
    expect(() => formatDatetime(t, "%Y-%b")).toThrow(
      'invalid strftime format "%Y-%b": unsupported directive "%b" at position 3',
    );
    expect(() => formatDatetime(t, "%Y%")).toThrow('incomplete directive "%" at position 2');
    expect(() => formatDatetime(Number.NaN, "%Y")).toThrow(RangeError);
    expect(() => formatDatetime(Date.UTC(10000, 0, 1), "%Y")).toThrow(RangeError);
  });

  // Reference values produced by Python's datetime.strftime("%j %U").
  it.each([
    ["2024-01-01", "001 00"], // Monday: the days before the first Sunday are week 00
    ["2024-01-06", "006 00"],
    ["2024-01-07", "007 01"], // first Sunday
    ["2023-01-01", "001 01"], // a year starting on Sunday has no week 00
    ["2023-01-07", "007 01"],
    ["2023-12-31", "365 53"],
    ["2024-02-29", "060 08"],
    ["2024-03-01", "061 08"],
    ["2024-12-31", "366 52"],
    ["2023-03-01", "060 09"],
    ["2022-01-01", "001 00"],
    ["2022-12-31", "365 52"],
    ["2000-12-31", "366 53"],
    ["1900-12-31", "365 52"],
    ["2100-03-01", "060 09"],
  ])("%s has %%j %%U = %s", (date, expected) => {
    const [y, m, d] = date.split("-").map(Number);
    expect(formatDatetime(u(y, m, d, 12), "%j %U")).toBe(expected);
  });
});

describe("parseDatetime", () => {
  it("parses complete values", () => {
    expect(iso(parseDatetime("2024-02-29 23:59:58", "%Y-%m-%d %H:%M:%S"))).toBe("2024-02-29T23:59:58.000Z");
    expect(iso(parseDatetime("20240229", "%Y%m%d"))).toBe("2024-02-29T00:00:00.000Z");
    expect(iso(parseDatetime("dt=2024-03-05/hr=07", "dt=%Y-%m-%d/hr=%H"))).toBe("2024-03-05T07:00:00.000Z");
    expect(iso(parseDatetime("100% 2024", "100%% %Y"))).toBe("2024-01-01T00:00:00.000Z");
  });

  it("defaults missing fields to their minimum", () => {
    expect(iso(parseDatetime("2024", "%Y"))).toBe("2024-01-01T00:00:00.000Z");
    expect(iso(parseDatetime("2024-07", "%Y-%m"))).toBe("2024-07-01T00:00:00.000Z");
    expect(iso(parseDatetime("2024-07-04T10", "%Y-%m-%dT%H"))).toBe("2024-07-04T10:00:00.000Z");
  });

  it("parses day of year", () => {
    expect(iso(parseDatetime("2024/060", "%Y/%j"))).toBe("2024-02-29T00:00:00.000Z");
    expect(iso(parseDatetime("2023/060", "%Y/%j"))).toBe("2023-03-01T00:00:00.000Z");
    expect(iso(parseDatetime("2024/366", "%Y/%j"))).toBe("2024-12-31T00:00:00.000Z");
    expect(iso(parseDatetime("2000/366", "%Y/%j"))).toBe("2000-12-31T00:00:00.000Z");
    expect(iso(parseDatetime("2024/001/13", "%Y/%j/%H"))).toBe("2024-01-01T13:00:00.000Z");
  });

  it("parses a week-only value to the Sunday that starts the week", () => {
    expect(iso(parseDatetime("2024-01", "%Y-%U"))).toBe("2024-01-07T00:00:00.000Z");
    expect(iso(parseDatetime("2024-00", "%Y-%U"))).toBe("2023-12-31T00:00:00.000Z"); // week 00 began in 2023
    expect(iso(parseDatetime("2023-01", "%Y-%U"))).toBe("2023-01-01T00:00:00.000Z");
    expect(iso(parseDatetime("2023-53", "%Y-%U"))).toBe("2023-12-31T00:00:00.000Z");
    expect(iso(parseDatetime("2024-52", "%Y-%U"))).toBe("2024-12-29T00:00:00.000Z");
  });

  it("checks redundant fields against each other", () => {
    expect(iso(parseDatetime("2024-02-29 060 08", "%Y-%m-%d %j %U"))).toBe("2024-02-29T00:00:00.000Z");
    expect(iso(parseDatetime("2024 2024", "%Y %Y"))).toBe("2024-01-01T00:00:00.000Z");
    expectParseError(
      "2024-02-29 061",
      "%Y-%m-%d %j",
      'value "2024-02-29 061" does not match format "%Y-%m-%d %j": fields are inconsistent (that date formats as "2024-02-29 060")',
    );
    expectParseError(
      "2024-01-01 01",
      "%Y-%m-%d %U",
      'value "2024-01-01 01" does not match format "%Y-%m-%d %U": fields are inconsistent (that date formats as "2024-01-01 00")',
    );
    expectParseError(
      "2024/2025",
      "%Y/%Y",
      'value "2024/2025" does not match format "%Y/%Y": fields are inconsistent (that date formats as "2024/2024")',
    );
  });

  it("rejects out-of-range fields", () => {
    const f = "%Y-%m-%d";
    expectParseError(
      "2024-13-01",
      f,
      'value "2024-13-01" does not match format "%Y-%m-%d": month 13 is out of range',
    );
    expectParseError(
      "2024-00-01",
      f,
      'value "2024-00-01" does not match format "%Y-%m-%d": month 0 is out of range',
    );
    expectParseError(
      "2024-02-30",
      f,
      'value "2024-02-30" does not match format "%Y-%m-%d": day 30 is out of range for 2024-02',
    );
    expectParseError(
      "2023-02-29",
      f,
      'value "2023-02-29" does not match format "%Y-%m-%d": day 29 is out of range for 2023-02',
    );
    expectParseError(
      "1900-02-29",
      f,
      'value "1900-02-29" does not match format "%Y-%m-%d": day 29 is out of range for 1900-02',
    );
    expect(iso(parseDatetime("2000-02-29", f))).toBe("2000-02-29T00:00:00.000Z");
    expectParseError(
      "2024-04-31",
      f,
      'value "2024-04-31" does not match format "%Y-%m-%d": day 31 is out of range for 2024-04',
    );
    expectParseError(
      "2024-04-00",
      f,
      'value "2024-04-00" does not match format "%Y-%m-%d": day 0 is out of range for 2024-04',
    );
    expectParseError(
      "2024-01-01 24",
      "%Y-%m-%d %H",
      'value "2024-01-01 24" does not match format "%Y-%m-%d %H": hour 24 is out of range',
    );
    expectParseError(
      "2024-01-01 23:60",
      "%Y-%m-%d %H:%M",
      'value "2024-01-01 23:60" does not match format "%Y-%m-%d %H:%M": minute 60 is out of range',
    );
    expectParseError(
      "2024-01-01 23:59:60",
      "%Y-%m-%d %H:%M:%S",
      'value "2024-01-01 23:59:60" does not match format "%Y-%m-%d %H:%M:%S": second 60 is out of range',
    );
    expectParseError(
      "2023/366",
      "%Y/%j",
      'value "2023/366" does not match format "%Y/%j": day of year 366 is out of range for 2023',
    );
    expectParseError(
      "2024/000",
      "%Y/%j",
      'value "2024/000" does not match format "%Y/%j": day of year 0 is out of range for 2024',
    );
    expectParseError(
      "2023-00",
      "%Y-%U",
      'value "2023-00" does not match format "%Y-%U": week 00 is out of range for 2023',
    );
    expectParseError(
      "2024-53",
      "%Y-%U",
      'value "2024-53" does not match format "%Y-%U": week 53 is out of range for 2024',
    );
  });

  it("requires the whole value to match, digit for digit", () => {
    const f = "%Y-%m-%d";
    expectParseError(
      "2024-1-01",
      f,
      'value "2024-1-01" does not match format "%Y-%m-%d": expected 2 digits for %m at position 5',
    );
    expectParseError(
      "2024-01-1",
      f,
      'value "2024-01-1" does not match format "%Y-%m-%d": expected 2 digits for %d at position 8',
    );
    expectParseError(
      "24-01-01",
      f,
      'value "24-01-01" does not match format "%Y-%m-%d": expected 4 digits for %Y at position 0',
    );
    expectParseError(
      "2024/01/01",
      f,
      'value "2024/01/01" does not match format "%Y-%m-%d": expected "-" at position 4',
    );
    expectParseError(
      "2024-01-01T00",
      f,
      'value "2024-01-01T00" does not match format "%Y-%m-%d": unexpected trailing text "T00" at position 10',
    );
    expectParseError(
      "2024-+1-01",
      f,
      'value "2024-+1-01" does not match format "%Y-%m-%d": expected 2 digits for %m at position 5',
    );
    expectParseError(
      "2024- 1-01",
      f,
      'value "2024- 1-01" does not match format "%Y-%m-%d": expected 2 digits for %m at position 5',
    );
    expectParseError(
      "２０２４-01-01",
      f,
      'value "２０２４-01-01" does not match format "%Y-%m-%d": expected 4 digits for %Y at position 0',
    );
    expectParseError(
      "",
      f,
      'value "" does not match format "%Y-%m-%d": expected 4 digits for %Y at position 0',
    );
    expectParseError(
      "dt=2024-01-01/hr=",
      "dt=%Y-%m-%d/hr=%H",
      'value "dt=2024-01-01/hr=" does not match format "dt=%Y-%m-%d/hr=%H": expected 2 digits for %H at position 17',
    );
    expectParseError(
      "50% 2024",
      "100%% %Y",
      'value "50% 2024" does not match format "100%% %Y": expected "100% " at position 0',
    );
  });

  it("exposes the value, format and reason on the error", () => {
    try {
      parseDatetime("2024-13", "%Y-%m");
      throw new Error("expected a StrftimeParseError");
    } catch (e) {
      expect(e).toBeInstanceOf(StrftimeParseError);
      const err = e as StrftimeParseError;
      expect([err.value, err.format, err.reason]).toEqual(["2024-13", "%Y-%m", "month 13 is out of range"]);
    }
  });

  it("throws a plain Error (not a parse error) for an invalid format", () => {
    expect(() => parseDatetime("2024", "%Y-%q")).toThrow(
      'invalid strftime format "%Y-%q": unsupported directive "%q" at position 3',
    );
    expect(() => parseDatetime("01-01", "%m-%d")).toThrow(
      'invalid strftime format "%m-%d": format has no %Y',
    );
    expect(() => parseDatetime("01-01", "%m-%d")).not.toThrow(StrftimeParseError);
  });

  const ROUND_TRIP_FORMATS = [
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%j",
    "%Y-%m-%dT%H:%M",
    "dt=%Y-%m-%d/hr=%H",
    "%Y",
    "%Y-%m",
    "%Y-%U",
    "year=%Y/week=%U",
    "%Y/%j/%H%M",
    "%Y-%m-%d %j %U",
    "%%%Y%%%m%%",
  ];

  it.each(ROUND_TRIP_FORMATS)("round-trips granularity-aligned values through %p", (format) => {
    const g = formatGranularity(format);
    fc.assert(
      fc.property(arbMs, (ms) => {
        const x = truncate(ms, g);
        expect(parseDatetime(formatDatetime(x, format), format)).toBe(x);
      }),
    );
  });

  it.each(ROUND_TRIP_FORMATS)("parses any formatted value back to the start of its period (%p)", (format) => {
    // %S carries seconds even though the finest granularity is MINUTE.
    const resolution = format.includes("%S") ? 1000 : 0;
    const g = formatGranularity(format);
    fc.assert(
      fc.property(arbMs, (ms) => {
        const expected = resolution ? Math.floor(ms / resolution) * resolution : truncate(ms, g);
        expect(parseDatetime(formatDatetime(ms, format), format)).toBe(expected);
      }),
    );
  });

  it("round-trips every day of 1999-2030 through %j and %U formats", () => {
    for (let day = u(1999, 1, 1); day < u(2031, 1, 1); day += 86_400_000) {
      expect(parseDatetime(formatDatetime(day, "%Y/%j"), "%Y/%j")).toBe(day);
      expect(parseDatetime(formatDatetime(day, "%Y-%U"), "%Y-%U")).toBe(truncate(day, "WEEK"));
    }
  });
});

describe("parseIso", () => {
  it.each([
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["2024-02-29T13:45", "2024-02-29T13:45:00.000Z"],
    ["2024-02-29T13:45:30", "2024-02-29T13:45:30.000Z"],
    ["2024-02-29T13:45:30Z", "2024-02-29T13:45:30.000Z"],
    ["2024-02-29t13:45:30z", "2024-02-29T13:45:30.000Z"],
    ["2024-02-29T13:45:30.5Z", "2024-02-29T13:45:30.500Z"],
    ["2024-02-29T13:45:30.123Z", "2024-02-29T13:45:30.123Z"],
    ["2024-02-29T13:45:30.123999Z", "2024-02-29T13:45:30.123Z"],
    ["2024-02-29T13:45Z", "2024-02-29T13:45:00.000Z"],
    ["2024-03-01T01:30+02:00", "2024-02-29T23:30:00.000Z"],
    ["2024-12-31T22:00:00-05:30", "2025-01-01T03:30:00.000Z"],
    ["2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00.000Z"],
    ["2000-02-29", "2000-02-29T00:00:00.000Z"],
  ])("parses %p", (text, expected) => {
    const ms = parseIso(text);
    expect(ms).toBeDefined();
    expect(iso(ms as number)).toBe(expected);
  });

  it.each([
    "",
    "2024",
    "2024-02",
    "20240229",
    "2024-2-29",
    "2024-02-30",
    "2023-02-29",
    "1900-02-29",
    "2024-13-01",
    "2024-02-29T24:00",
    "2024-02-29T23:60",
    "2024-02-29T23:59:60",
    "2024-02-29T13",
    "2024-02-29 13:45",
    "2024-02-29T13:45:30.Z",
    "2024-02-29T13:45+0200",
    "2024-02-29T13:45+24:00",
    "2024-02-29Z",
    " 2024-02-29",
    "2024-02-29T13:45:30Z ",
    "Thu, 29 Feb 2024 13:45:30 GMT",
  ])("returns undefined for %p", (text) => {
    expect(parseIso(text)).toBeUndefined();
  });

  it("agrees with Date#toISOString output", () => {
    fc.assert(
      fc.property(arbMs, (ms) => {
        expect(parseIso(new Date(ms).toISOString())).toBe(ms);
      }),
    );
  });
});
