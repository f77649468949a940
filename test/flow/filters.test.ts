import fc from "fast-check";
import { Application, dim, range, sparkSql, FlowValidationError, type InputSignal, type Node } from "sluice";
import { datetimeToMs } from "../../src/flow/model/dimension-value";
import type {
  DataNodeModel,
  DimensionFilterModel,
  DimensionModel,
  DimensionValue,
  FlowModel,
} from "../../src/flow/model/flow-model";
import { formatDatetime } from "../../src/flow/model/strftime";
import { intersectFilters, outsideFilter } from "../../src/flow/signal-spec";

// ---------------------------------------------------------------- helpers

const DAY = 86_400_000;
const BASE = Date.UTC(2024, 0, 1);

/** A universe of 7 canonical values per spec; filters are subsets of it (by index). */
interface Domain {
  readonly label: string;
  readonly spec: DimensionModel;
  readonly universe: readonly DimensionValue[];
}

const datetimeDomain = (format: string, granularity: "DAY" | "HOUR", step = DAY): Domain => {
  const spec: DimensionModel = { name: "d", type: "DATETIME", format, granularity };
  return {
    label: `DATETIME ${granularity} "${format}"`,
    spec,
    universe: [0, 1, 2, 3, 4, 5, 6].map((i) => formatDatetime(BASE + i * step, format)),
  };
};

const DOMAINS: readonly Domain[] = [
  {
    label: "STRING",
    spec: { name: "region", type: "STRING" },
    universe: ["NA", "EU", "JP", "AU", "SA", "AF", "AN"],
  },
  { label: "LONG", spec: { name: "n", type: "LONG" }, universe: [-3, 0, 1, 2, 7, 42, 1000] },
  datetimeDomain("%Y-%m-%d", "DAY"),
  datetimeDomain("%Y%m%d", "DAY"),
  datetimeDomain("%Y-%j", "DAY"),
  datetimeDomain("%Y-%m-%dT%H", "HOUR", 3_600_000),
];

/** A filter: "*", absent, or a list of distinct universe values (possibly empty, as an intersection can be). */
type Filter = DimensionFilterModel | undefined;
const arbIndices = fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 7 });
const arbFilterIdx: fc.Arbitrary<"*" | undefined | readonly number[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant("*" as const) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 5, arbitrary: arbIndices },
);
const toFilter = (d: Domain, f: "*" | undefined | readonly number[]): Filter =>
  f === undefined || f === "*" ? f : f.map((i) => d.universe[i] as DimensionValue);

/** Comparable identity of a value: the instant for DATETIME. */
const keyOf = (spec: DimensionModel, v: DimensionValue): string =>
  spec.type === "DATETIME" ? String(datetimeToMs(spec, v)) : `${typeof v}:${v}`;

/** The set a filter admits within the universe, as sorted keys ("*" and absent admit everything). */
function admitted(d: Domain, f: Filter): string[] {
  const values = f === undefined || f === "*" ? d.universe : f;
  return [...new Set(values.map((v) => keyOf(d.spec, v)))].sort();
}

const isAll = (f: Filter): boolean => f === undefined || f === "*";

// ---------------------------------------------------------------- filter algebra

describe.each(DOMAINS.map((d) => [d.label, d] as const))("filter algebra on %s", (_label, d) => {
  const { spec } = d;
  const arbFilter = arbFilterIdx.map((f) => toFilter(d, f));
  const arbList = arbIndices.map((f) => toFilter(d, f) as DimensionValue[]);
  const meet = (a: Filter, b: Filter): DimensionFilterModel => intersectFilters(spec, a, b);

  it("property: the intersection admits exactly what both filters admit", () => {
    fc.assert(
      fc.property(arbFilter, arbFilter, (a, b) => {
        const ab = meet(a, b);
        expect(isAll(ab)).toBe(isAll(a) && isAll(b));
        const both = admitted(d, a).filter((k) => admitted(d, b).includes(k));
        expect(admitted(d, ab)).toEqual(both);
        // Every value is canonical and listed once.
        if (ab !== "*") {
          expect(ab.every((v) => d.universe.includes(v))).toBe(true);
          expect(new Set(ab.map((v) => keyOf(spec, v))).size).toBe(ab.length);
        }
      }),
    );
  });

  it("property: intersection is commutative and associative", () => {
    fc.assert(
      fc.property(arbFilter, arbFilter, arbFilter, (a, b, c) => {
        expect(admitted(d, meet(a, b))).toEqual(admitted(d, meet(b, a)));
        expect(isAll(meet(a, b))).toBe(isAll(meet(b, a)));
        expect(admitted(d, meet(meet(a, b), c))).toEqual(admitted(d, meet(a, meet(b, c))));
      }),
    );
  });

  it("property: intersection is idempotent", () => {
    fc.assert(
      fc.property(arbFilter, (a) => {
        expect(meet(a, a)).toEqual(a ?? "*");
        expect(meet(meet(a, a), a)).toEqual(a ?? "*");
      }),
    );
  });

  it('property: "*" and an absent filter are identities', () => {
    fc.assert(
      fc.property(arbFilter, (a) => {
        expect(meet("*", a)).toEqual(a ?? "*");
        expect(meet(a, "*")).toEqual(a ?? "*");
        expect(meet(undefined, a)).toEqual(a ?? "*");
        expect(meet(a, undefined)).toEqual(a ?? "*");
      }),
    );
    expect(meet("*", "*")).toBe("*");
    expect(meet(undefined, undefined)).toBe("*");
  });

  it("property: a list result names each value once, even when the operands repeat values", () => {
    const arbMulti = fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 10 }).map((f) => toFilter(d, f));
    fc.assert(
      fc.property(fc.oneof(arbFilter, arbMulti), fc.oneof(arbFilter, arbMulti), (a, b) => {
        const ab = meet(a, b);
        if (ab === "*") return;
        expect(ab.length).toBe(admitted(d, ab).length);
        expect(admitted(d, ab)).toEqual(admitted(d, a).filter((k) => admitted(d, b).includes(k)));
      }),
    );
  });

  it("property: an empty list absorbs every filter", () => {
    fc.assert(
      fc.property(arbFilter, (a) => {
        expect(meet(a, [])).toEqual([]);
        expect(meet([], a)).toEqual([]);
      }),
    );
  });

  it("property: outsideFilter lists exactly the values the filter does not admit", () => {
    fc.assert(
      fc.property(arbFilter, arbList, (f, narrow) => {
        const outside = outsideFilter(spec, f, narrow);
        if (isAll(f)) expect(outside).toEqual([]);
        const allowed = admitted(d, f);
        expect(outside).toEqual(narrow.filter((v) => !allowed.includes(keyOf(spec, v))));
      }),
    );
  });

  it("property: narrow ⊆ filter iff nothing is outside, and then the intersection is the narrowing", () => {
    fc.assert(
      fc.property(arbFilter, arbList, (f, narrow) => {
        const subset = admitted(d, narrow).every((k) => admitted(d, f).includes(k));
        expect(outsideFilter(spec, f, narrow).length === 0).toBe(subset);
        if (subset) {
          expect(admitted(d, meet(f, narrow))).toEqual(admitted(d, narrow));
          expect(admitted(d, meet(narrow, f))).toEqual(admitted(d, narrow));
        }
      }),
    );
  });

  it("property: the intersection is a subset of both filters", () => {
    fc.assert(
      fc.property(arbFilter, arbFilter, (a, b) => {
        const ab = meet(a, b);
        if (ab === "*") return;
        expect(outsideFilter(spec, a, ab)).toEqual([]);
        expect(outsideFilter(spec, b, ab)).toEqual([]);
      }),
    );
  });
});

describe("DATETIME filters compare instants, whatever the format", () => {
  const FORMATS = ["%Y-%m-%d", "%Y%m%d", "%Y-%j", "%Y/%m/%d", "dt=%Y-%m-%d"];
  const specOf = (format: string): DimensionModel => ({
    name: "day",
    type: "DATETIME",
    format,
    granularity: "DAY",
  });
  const render = (format: string, days: readonly number[]): string[] =>
    days.map((i) => formatDatetime(BASE + i * DAY, format));
  const instants = (format: string, f: DimensionFilterModel): number[] | "*" =>
    f === "*" ? "*" : f.map((v) => datetimeToMs(specOf(format) as never, v)).sort((x, y) => x - y);

  it("property: the intersection of the same days is the same instants in every format", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 10 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom(...FORMATS),
        fc.constantFrom(...FORMATS),
        (a, b, f1, f2) => {
          const i1 = intersectFilters(specOf(f1), render(f1, a), render(f1, b));
          const i2 = intersectFilters(specOf(f2), render(f2, a), render(f2, b));
          expect(instants(f1, i1)).toEqual(instants(f2, i2));
          expect(instants(f1, i1)).toEqual(
            a
              .filter((x) => b.includes(x))
              .map((x) => BASE + x * DAY)
              .sort((x, y) => x - y),
          );
        },
      ),
    );
  });

  it("matches values by instant, not by text", () => {
    const spec = specOf("%Y-%j");
    expect(intersectFilters(spec, ["2024-065", "2024-066"], ["2024-066"])).toEqual(["2024-066"]);
    expect(outsideFilter(spec, ["2024-065"], ["2024-065", "2024-066"])).toEqual(["2024-066"]);
  });
});

// ---------------------------------------------------------------- DSL: at() narrowing

function newApp(): Application {
  return new Application("filters-app", { account: "111122223333", region: "us-east-1" });
}

function dataNode(model: FlowModel, id: string): DataNodeModel {
  const n = model.nodes[id];
  if (n?.kind !== "data") throw new Error(`${id} is not a data node`);
  return n;
}

/** The model filter of the only input of a data node consuming `input`. */
function inputOf(app: Application, input: Node | InputSignal): DataNodeModel["inputs"][number] {
  app.data("consumer", { inputs: { src: input }, compute: sparkSql("SELECT * FROM src") });
  const inputs = dataNode(app.toModel(), "consumer").inputs;
  expect(inputs).toHaveLength(1);
  return inputs[0] as DataNodeModel["inputs"][number];
}

const sorted = (f: DimensionFilterModel | undefined): unknown =>
  f === undefined || f === "*" ? f : [...f].sort();

function codes(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof FlowValidationError) return e.issues.map((i) => i.code);
    throw e;
  }
  return [];
}

describe("at() narrowing in the model", () => {
  function events(app: Application) {
    return app.s3Dataset("events", {
      bucket: "raw-bucket",
      prefix: "events",
      dimensions: {
        region: dim.string(),
        day: dim.datetime({ format: "%Y%m%d" }),
        shard: dim.long(),
      },
      filter: { region: ["NA", "EU", "JP"], day: ["2024-03-01", "20240302", new Date(Date.UTC(2024, 2, 3))] },
    });
  }

  it("keeps the declared filter when nothing narrows it", () => {
    const app = newApp();
    const input = inputOf(app, events(app));
    expect(sorted(input.filter.region)).toEqual(["EU", "JP", "NA"]);
    expect(sorted(input.filter.day)).toEqual(["20240301", "20240302", "20240303"]);
    expect(input.filter.shard).toBeUndefined();
    expect(input.ranges).toEqual({});
  });

  it("narrows within the declared filter to the intersection", () => {
    const app = newApp();
    const input = inputOf(app, events(app).at(["EU", "NA"], "20240302"));
    expect(sorted(input.filter.region)).toEqual(["EU", "NA"]);
    expect(input.filter.day).toEqual(["20240302"]);
    expect(input.filter.shard).toBeUndefined();
  });

  it('narrows an unfiltered dimension to exactly the given values, and "*" narrows nothing', () => {
    const app = newApp();
    const input = inputOf(app, events(app).at("*", "*", [3, "1"]));
    expect(sorted(input.filter.region)).toEqual(["EU", "JP", "NA"]);
    expect(sorted(input.filter.shard)).toEqual([1, 3]);
  });

  it("lists each value once, however often and in whichever form it is given", () => {
    const app = newApp();
    const input = inputOf(
      app,
      events(app).at(
        ["NA", "NA", "EU"],
        ["2024-03-02", new Date(Date.UTC(2024, 2, 2, 10)), "20240302"],
        [1, 1],
      ),
    );
    expect(sorted(input.filter.region)).toEqual(["EU", "NA"]);
    expect(input.filter.day).toEqual(["20240302"]);
    expect(input.filter.shard).toEqual([1]);
  });

  it("later at() calls replace only the positions they give", () => {
    const app = newApp();
    const input = inputOf(app, events(app).at("EU", "20240301").at(["JP", "NA"]));
    expect(sorted(input.filter.region)).toEqual(["JP", "NA"]);
    expect(input.filter.day).toEqual(["20240301"]);
  });

  it("rejects narrowing to values outside the declared filter", () => {
    const app = newApp();
    const e = events(app);
    app.data("consumer", { inputs: [e.at(["EU", "FR"], "2024-03-09")], compute: sparkSql("SELECT 1") });
    expect(codes(() => app.toModel())).toEqual(["filter.value-not-allowed", "filter.value-not-allowed"]);
    const messages = app.validate().map((i) => i.message);
    expect(messages.some((m) => m.includes('"FR"'))).toBe(true);
    expect(messages.some((m) => m.includes('"20240309"'))).toBe(true);
  });

  it('at("*", range(-7)) is a window of the tip and the 6 days before it', () => {
    const app = newApp();
    const input = inputOf(app, events(app).at("*", range(-7)));
    expect(input.ranges).toEqual({ day: { from: -6, to: 0 } });
    // A range does not narrow the filter.
    expect(sorted(input.filter.region)).toEqual(["EU", "JP", "NA"]);
    expect(sorted(input.filter.day)).toEqual(["20240301", "20240302", "20240303"]);
  });

  it("range(n) looks forward, and range(±1) is the tip alone", () => {
    const app = newApp();
    const e = events(app);
    app.data("fwd", { inputs: { src: e.at("*", range(3), range(-2)) }, compute: sparkSql("SELECT 1") });
    app.data("one", {
      inputs: { a: e.at("*", range(1)), b: e.at("*", range(-1)) },
      compute: sparkSql("SELECT 1"),
    });
    const model = app.toModel();
    expect(dataNode(model, "fwd").inputs[0]?.ranges).toEqual({
      day: { from: 0, to: 2 },
      shard: { from: -1, to: 0 },
    });
    const [a, b] = dataNode(model, "one").inputs;
    expect(a?.ranges).toEqual({ day: { from: 0, to: 0 } });
    expect(b?.ranges).toEqual({ day: { from: 0, to: 0 } });
    expect(range(-7).offsets).toEqual({ from: -6, to: 0 });
    expect(range(3).offsets).toEqual({ from: 0, to: 2 });
  });

  it("rejects a range over a STRING dimension and an empty range", () => {
    const app = newApp();
    const e = events(app);
    app.data("consumer", {
      inputs: { a: e.at(range(-2)), b: e.at("*", range(0)) },
      compute: sparkSql("SELECT 1"),
    });
    expect(codes(() => app.toModel()).sort()).toEqual(["input.range-on-string", "input.range-size"]);
  });
});

describe("DATETIME values in at() are coerced into the dimension's format", () => {
  function daily(app: Application) {
    return app.s3Dataset("daily", {
      bucket: "raw-bucket",
      dimensions: { day: dim.datetime({ format: "%Y%m%d" }) },
    });
  }

  it.each([
    ["a value in the format", "20240305", "20240305"],
    ["an ISO date", "2024-03-05", "20240305"],
    ["an ISO timestamp (truncated to the day)", "2024-03-05T23:59:00Z", "20240305"],
    ["an ISO timestamp with an offset (converted to UTC)", "2024-03-05T23:30:00-02:00", "20240306"],
    ["a Date", new Date(Date.UTC(2024, 2, 5, 13, 45)), "20240305"],
  ] as const)("%s", (_what, given, canonical) => {
    const app = newApp();
    expect(inputOf(app, daily(app).at(given)).filter.day).toEqual([canonical]);
  });

  it("coerces into HOUR formats too, and intersects with a filter declared in another form", () => {
    const app = newApp();
    const hourly = app.s3Dataset("hourly", {
      bucket: "raw-bucket",
      dimensions: { hour: dim.datetime({ format: "%Y-%m-%d-%H", granularity: "HOUR" }) },
      filter: { hour: ["2024-03-05T10:00:00Z", new Date(Date.UTC(2024, 2, 5, 11)), "2024-03-05-12"] },
    });
    const input = inputOf(app, hourly.at([new Date(Date.UTC(2024, 2, 5, 11, 30)), "2024-03-05T12:00Z"]));
    expect(sorted(input.filter.hour)).toEqual(["2024-03-05-11", "2024-03-05-12"]);
    expect(sorted(app.toModel().nodes.hourly?.signal.filter.hour)).toEqual([
      "2024-03-05-10",
      "2024-03-05-11",
      "2024-03-05-12",
    ]);
  });

  it("reports a value that is neither in the format nor ISO", () => {
    const app = newApp();
    app.data("consumer", { inputs: [daily(app).at("05/03/2024")], compute: sparkSql("SELECT 1") });
    expect(codes(() => app.toModel())).toEqual(["dimension.type-mismatch"]);
  });
});
