/** Partition layout: segments of a partition, parsing them back, recognizing object keys, filters. */
import fc from "fast-check";
import type {
  DataNodeModel,
  DatetimeDimensionModel,
  DimensionFilterModel,
  DimensionModel,
  GlueTableNodeModel,
  LongDimensionModel,
  NodeModel,
  S3DatasetNodeModel,
  SignalModel,
  StringDimensionModel,
} from "../../src/flow/model/flow-model";
import type { Granularity } from "../../src/flow/model/granularity";
import { canonicalValue } from "../../src/flow/model/dimension-value";
import {
  hasPartitions,
  inFilter,
  isDataFileName,
  matchInternalKey,
  matchObjectKey,
  parsePartitionSegments,
  partitionSegments,
} from "../../src/runtime-bundle/core/partition-layout";
import type { Dimensions } from "../../src/runtime-bundle/core/signal";
import { briefApp } from "../support/brief-app";

// ---------------------------------------------------------------- fixtures

const str = (name: string): StringDimensionModel => ({ name, type: "STRING" });
const long = (name: string, digits?: number): LongDimensionModel =>
  digits === undefined ? { name, type: "LONG" } : { name, type: "LONG", digits };
const datetime = (
  name: string,
  format = "%Y-%m-%d",
  granularity: Granularity = "DAY",
): DatetimeDimensionModel => ({
  name,
  type: "DATETIME",
  format,
  granularity,
});

function signal(
  kind: SignalModel["kind"],
  dimensions: readonly DimensionModel[],
  filter: Record<string, DimensionFilterModel> = {},
): SignalModel {
  return { kind, dimensions, filter };
}

function s3(
  dimensions: readonly DimensionModel[],
  partitions: readonly string[],
  opts: { prefix?: string; completion?: string | null; filter?: Record<string, DimensionFilterModel> } = {},
): S3DatasetNodeModel {
  return {
    id: "events",
    kind: "s3Dataset",
    signal: signal("s3", dimensions, opts.filter),
    metadata: {},
    account: "444455556666",
    region: "us-east-1",
    bucket: "raw",
    prefix: opts.prefix ?? "events",
    partitions,
    format: "parquet",
    completion: opts.completion === undefined ? "_SUCCESS" : opts.completion,
  };
}

function glue(dimensions: readonly DimensionModel[]): GlueTableNodeModel {
  return {
    id: "customers",
    kind: "glueTable",
    signal: signal("glueTable", dimensions),
    metadata: {},
    account: "111122223333",
    region: "us-east-1",
    database: "crm",
    table: "customers",
  };
}

function data(
  dimensions: readonly DimensionModel[],
  filter: Record<string, DimensionFilterModel> = {},
  id = "joined",
): DataNodeModel {
  return {
    id,
    kind: "data",
    signal: signal("internal", dimensions, filter),
    metadata: {},
    inputs: [],
    links: [],
    outputLinks: [],
    autoLink: true,
    compute: [],
    hooks: { handlers: {}, checkpoints: [] },
    retries: 0,
    pendingTtlSeconds: 86400,
    format: "parquet",
    path: `internal_data/${id}`,
  };
}

const EVENTS = s3([str("region"), datetime("day")], ["region={}", "{}"], {
  filter: { region: ["EU", "JP", "NA"] },
});

// ---------------------------------------------------------------- partitionSegments

describe("partitionSegments", () => {
  it("fills s3Dataset templates in dimension order", () => {
    expect(partitionSegments(EVENTS, { region: "NA", day: "2024-05-07" })).toEqual([
      "region=NA",
      "2024-05-07",
    ]);
  });

  it("keeps literal text on both sides of {}", () => {
    const n = s3([datetime("dt"), long("h", 2)], ["dt={}", "{}-hourly"]);
    expect(partitionSegments(n, { dt: "2024-05-07", h: 7 })).toEqual(["dt=2024-05-07", "07-hourly"]);
  });

  it("uses hive style for Glue tables", () => {
    expect(partitionSegments(glue([long("region_id"), str("kind")]), { region_id: 2, kind: "x" })).toEqual([
      "region_id=2",
      "kind=x",
    ]);
  });

  it("uses bare values for data nodes", () => {
    expect(
      partitionSegments(data([str("region"), datetime("day")]), { region: "NA", day: "2024-05-07" }),
    ).toEqual(["NA", "2024-05-07"]);
  });

  it("zero-pads LONG values with digits, keeping the sign in front", () => {
    const n = data([long("a", 4), long("b", 4), long("c", 2), long("d")]);
    expect(partitionSegments(n, { a: 42, b: -42, c: 12345, d: 7 })).toEqual(["0042", "-0042", "12345", "7"]);
  });

  it("canonicalizes values first (LONG as text, ISO timestamps, Dates)", () => {
    const n = data([long("n", 3), datetime("day"), datetime("hour", "%Y%m%d%H", "HOUR")]);
    expect(
      partitionSegments(n, {
        n: "5",
        day: "2024-05-07T13:45:00Z",
        hour: new Date(Date.UTC(2024, 4, 7, 13, 45)) as never,
      }),
    ).toEqual(["005", "2024-05-07", "2024050713"]);
  });

  it("returns no segments for a node without dimensions", () => {
    expect(partitionSegments(data([]), {})).toEqual([]);
  });

  it("ignores extra dimensions", () => {
    expect(partitionSegments(data([str("r")]), { r: "x", other: 1 })).toEqual(["x"]);
  });

  it("throws on a missing dimension, naming node and dimension", () => {
    expect(() => partitionSegments(EVENTS, { region: "NA" })).toThrow(/events.*day/);
  });

  it("throws on a value that does not coerce", () => {
    expect(() => partitionSegments(data([long("n")]), { n: "abc" })).toThrow(/joined.*"n".*LONG/);
    expect(() => partitionSegments(data([datetime("day")]), { day: "May 7th" })).toThrow(/"day"/);
    expect(() => partitionSegments(data([str("s")]), { s: "" })).toThrow(/empty/);
  });

  it("throws on values that cannot be one path segment", () => {
    const n = data([str("s")]);
    expect(() => partitionSegments(n, { s: "a/b" })).toThrow(/path segment.*"\/"/);
    expect(() => partitionSegments(n, { s: ".." })).toThrow(/path segment/);
    expect(() => partitionSegments(n, { s: "." })).toThrow(/path segment/);
    // inside a template, dots are harmless
    expect(partitionSegments(glue([str("s")]), { s: ".." })).toEqual(["s=.."]);
  });

  it("throws for kinds without data", () => {
    const timer: NodeModel = {
      id: "daily",
      kind: "timer",
      schedule: "rate(1 day)",
      signal: signal("timer", [datetime("day")]),
      metadata: {},
    };
    expect(() => partitionSegments(timer, { day: "2024-05-07" })).toThrow(
      /"daily" is a timer and has no partitions/,
    );
    expect(() => parsePartitionSegments(timer, ["2024-05-07"])).toThrow(/has no partitions/);
    expect(hasPartitions(timer)).toBe(false);
    expect(hasPartitions(EVENTS)).toBe(true);
  });

  it("throws for malformed templates", () => {
    expect(() => partitionSegments(s3([str("a")], ["a"]), { a: "x" })).toThrow(/exactly one "\{\}"/);
    expect(() => partitionSegments(s3([str("a")], ["{}{}"]), { a: "x" })).toThrow(/exactly one/);
    expect(() => partitionSegments(s3([str("a")], ["x/{}"]), { a: "x" })).toThrow(/no "\/"/);
    expect(() => partitionSegments(s3([str("a")], []), { a: "x" })).toThrow(/0 partition template/);
  });
});

// ---------------------------------------------------------------- parsePartitionSegments

describe("parsePartitionSegments", () => {
  it("inverts s3Dataset templates", () => {
    expect(parsePartitionSegments(EVENTS, ["region=NA", "2024-05-07"])).toEqual({
      region: "NA",
      day: "2024-05-07",
    });
  });

  it("does not apply the filter", () => {
    expect(parsePartitionSegments(EVENTS, ["region=XX", "2024-05-07"])).toEqual({
      region: "XX",
      day: "2024-05-07",
    });
  });

  it("matches literal text on both sides", () => {
    const n = s3([str("a"), long("h", 2)], ["pre-{}-post", "{}-hourly"]);
    expect(parsePartitionSegments(n, ["pre-x-post", "07-hourly"])).toEqual({ a: "x", h: 7 });
    expect(parsePartitionSegments(n, ["pre--post-post", "07-hourly"])).toEqual({ a: "-post", h: 7 });
    expect(parsePartitionSegments(n, ["pre-x-pos", "07-hourly"])).toBeUndefined();
    expect(parsePartitionSegments(n, ["pr-x-post", "07-hourly"])).toBeUndefined();
    expect(parsePartitionSegments(n, ["pre-x-post", "07-daily"])).toBeUndefined();
    // prefix and suffix overlapping is not a match
    expect(parsePartitionSegments(s3([str("a")], ["ab{}ba"]), ["aba"])).toBeUndefined();
  });

  it("rejects empty values", () => {
    expect(parsePartitionSegments(EVENTS, ["region=", "2024-05-07"])).toBeUndefined();
    expect(parsePartitionSegments(data([str("s")]), [""])).toBeUndefined();
  });

  it("returns numbers for LONG dimensions", () => {
    expect(parsePartitionSegments(glue([long("region_id")]), ["region_id=2"])).toEqual({ region_id: 2 });
    expect(parsePartitionSegments(data([long("n", 4)]), ["-0042"])).toEqual({ n: -42 });
  });

  it("accepts only the canonical rendering", () => {
    expect(parsePartitionSegments(data([long("n", 4)]), ["42"])).toBeUndefined();
    expect(parsePartitionSegments(data([long("n")]), ["007"])).toBeUndefined();
    expect(parsePartitionSegments(data([long("n")]), ["+7"])).toBeUndefined();
    expect(parsePartitionSegments(data([long("n")]), ["7.0"])).toBeUndefined();
    expect(parsePartitionSegments(data([long("n")]), ["99999999999999999999"])).toBeUndefined();
    expect(parsePartitionSegments(data([datetime("day")]), ["2024-05-07T00:00:00Z"])).toBeUndefined();
    expect(parsePartitionSegments(data([datetime("day")]), ["2024-02-30"])).toBeUndefined();
    // an hour value in a daily dimension with an hourly format is not the canonical (truncated) value
    expect(
      parsePartitionSegments(data([datetime("d", "%Y-%m-%d-%H", "DAY")]), ["2024-05-07-13"]),
    ).toBeUndefined();
    expect(parsePartitionSegments(data([datetime("d", "%Y-%m-%d-%H", "DAY")]), ["2024-05-07-00"])).toEqual({
      d: "2024-05-07-00",
    });
  });

  it("parses hive segments of Glue tables by name", () => {
    const n = glue([str("a"), str("b")]);
    expect(parsePartitionSegments(n, ["a=1", "b=2"])).toEqual({ a: "1", b: "2" });
    expect(parsePartitionSegments(n, ["b=2", "a=1"])).toBeUndefined();
    expect(parsePartitionSegments(n, ["a=x=y", "b=2"])).toEqual({ a: "x=y", b: "2" });
  });

  it("requires exactly one segment per dimension", () => {
    expect(parsePartitionSegments(EVENTS, ["region=NA"])).toBeUndefined();
    expect(parsePartitionSegments(EVENTS, ["region=NA", "2024-05-07", "x"])).toBeUndefined();
    expect(parsePartitionSegments(data([]), [])).toEqual({});
  });

  it("rejects segments that are not single path segments", () => {
    expect(parsePartitionSegments(data([str("s")]), [".."])).toBeUndefined();
    expect(parsePartitionSegments(data([str("s")]), ["a/b"])).toBeUndefined();
  });
});

// ---------------------------------------------------------------- matchObjectKey

describe("matchObjectKey", () => {
  it("recognizes the completion marker", () => {
    expect(matchObjectKey(EVENTS, "events/region=NA/2024-05-07/_SUCCESS")).toEqual({
      dimensions: { region: "NA", day: "2024-05-07" },
      file: "_SUCCESS",
      isCompletion: true,
    });
  });

  it("recognizes data files that are not the marker", () => {
    expect(matchObjectKey(EVENTS, "events/region=NA/2024-05-07/part-0000.parquet")).toEqual({
      dimensions: { region: "NA", day: "2024-05-07" },
      file: "part-0000.parquet",
      isCompletion: false,
    });
  });

  it("requires the prefix followed by a slash", () => {
    expect(matchObjectKey(EVENTS, "other/region=NA/2024-05-07/_SUCCESS")).toBeUndefined();
    expect(matchObjectKey(EVENTS, "events2/region=NA/2024-05-07/_SUCCESS")).toBeUndefined();
    expect(matchObjectKey(EVENTS, "region=NA/2024-05-07/_SUCCESS")).toBeUndefined();
  });

  it("supports multi-level prefixes and the empty prefix", () => {
    const deep = s3([str("r")], ["{}"], { prefix: "a/b/c" });
    expect(matchObjectKey(deep, "a/b/c/x/_SUCCESS")?.dimensions).toEqual({ r: "x" });
    const root = s3([str("r")], ["r={}"], { prefix: "" });
    expect(matchObjectKey(root, "r=x/_SUCCESS")?.dimensions).toEqual({ r: "x" });
    expect(matchObjectKey(root, "/r=x/_SUCCESS")).toBeUndefined();
  });

  it("requires exactly one file segment after the partition", () => {
    expect(matchObjectKey(EVENTS, "events/region=NA/2024-05-07")).toBeUndefined();
    expect(matchObjectKey(EVENTS, "events/region=NA/2024-05-07/")).toBeUndefined();
    expect(matchObjectKey(EVENTS, "events/region=NA/2024-05-07/sub/_SUCCESS")).toBeUndefined();
    expect(matchObjectKey(EVENTS, "events/region=NA//_SUCCESS")).toBeUndefined();
  });

  it("rejects segments that do not match their template or value", () => {
    expect(matchObjectKey(EVENTS, "events/NA/2024-05-07/_SUCCESS")).toBeUndefined();
    expect(matchObjectKey(EVENTS, "events/region=NA/20240507/_SUCCESS")).toBeUndefined();
  });

  it("respects the node's filter", () => {
    expect(matchObjectKey(EVENTS, "events/region=XX/2024-05-07/_SUCCESS")).toBeUndefined();
    expect(matchObjectKey(EVENTS, "events/region=JP/2024-05-07/_SUCCESS")).toBeDefined();
  });

  it("with a null completion, every data file completes the partition", () => {
    const n = s3([str("r")], ["{}"], { completion: null });
    expect(matchObjectKey(n, "events/x/part-0.csv")?.isCompletion).toBe(true);
    expect(matchObjectKey(n, "events/x/_SUCCESS")?.isCompletion).toBe(false);
    expect(matchObjectKey(n, "events/x/.crc")?.isCompletion).toBe(false);
  });

  it("honours a custom completion name", () => {
    const n = s3([str("r")], ["{}"], { completion: "DONE" });
    expect(matchObjectKey(n, "events/x/DONE")?.isCompletion).toBe(true);
    expect(matchObjectKey(n, "events/x/_SUCCESS")?.isCompletion).toBe(false);
  });

  it("a dataset without dimensions has its files right under the prefix", () => {
    const n = s3([], [], { prefix: "snapshot" });
    expect(matchObjectKey(n, "snapshot/_SUCCESS")).toEqual({
      dimensions: {},
      file: "_SUCCESS",
      isCompletion: true,
    });
    expect(matchObjectKey(n, "snapshot/x/_SUCCESS")).toBeUndefined();
  });

  it("works on the FlowModel the DSL builds (design brief)", () => {
    const m = briefApp().toModel();
    const events = m.nodes.events;
    if (events.kind !== "s3Dataset") throw new Error("events is not an s3Dataset");
    expect(matchObjectKey(events, "events/region=EU/2024-05-07/_SUCCESS")).toEqual({
      dimensions: { region: "EU", day: "2024-05-07" },
      file: "_SUCCESS",
      isCompletion: true,
    });
    expect(partitionSegments(m.nodes.customers, { region_id: 3 })).toEqual(["region_id=3"]);
    expect(partitionSegments(m.nodes.joined, { region: "NA", day: "2024-05-07" })).toEqual([
      "NA",
      "2024-05-07",
    ]);
  });
});

// ---------------------------------------------------------------- matchInternalKey

describe("matchInternalKey", () => {
  const joined = data([str("region"), datetime("day")]);

  it("recognizes the marker of a data node's partition", () => {
    expect(matchInternalKey(joined, "internal_data/joined/NA/2024-05-07/_SUCCESS")).toEqual({
      dimensions: { region: "NA", day: "2024-05-07" },
      file: "_SUCCESS",
      isCompletion: true,
    });
  });

  it("recognizes data files as not completing", () => {
    expect(matchInternalKey(joined, "internal_data/joined/NA/2024-05-07/part-0.parquet")?.isCompletion).toBe(
      false,
    );
  });

  it("rejects other nodes, wrong depth and bad values", () => {
    expect(matchInternalKey(joined, "internal_data/joined2/NA/2024-05-07/_SUCCESS")).toBeUndefined();
    expect(matchInternalKey(joined, "internal_data/other/NA/2024-05-07/_SUCCESS")).toBeUndefined();
    expect(matchInternalKey(joined, "internal_data/joined/NA/_SUCCESS")).toBeUndefined();
    expect(matchInternalKey(joined, "internal_data/joined/NA/2024-05-07/x/_SUCCESS")).toBeUndefined();
    expect(matchInternalKey(joined, "internal_data/joined/NA/2024-5-7/_SUCCESS")).toBeUndefined();
    expect(matchInternalKey(joined, "joined/NA/2024-05-07/_SUCCESS")).toBeUndefined();
  });

  it("respects the data node's filter", () => {
    const n = data([long("n", 2)], { n: [1, 2] });
    expect(matchInternalKey(n, "internal_data/joined/02/_SUCCESS")?.dimensions).toEqual({ n: 2 });
    expect(matchInternalKey(n, "internal_data/joined/03/_SUCCESS")).toBeUndefined();
  });
});

// ---------------------------------------------------------------- inFilter

describe("inFilter", () => {
  const sig = signal("s3", [str("region"), long("id"), datetime("day")], {
    region: ["EU", "NA"],
    id: [1, 2],
    day: "*",
  });

  it("admits values in every filter", () => {
    expect(inFilter(sig, { region: "NA", id: 2, day: "2024-05-07" })).toBe(true);
  });

  it("rejects a value outside a filter", () => {
    expect(inFilter(sig, { region: "JP", id: 2, day: "2024-05-07" })).toBe(false);
    expect(inFilter(sig, { region: "NA", id: 3, day: "2024-05-07" })).toBe(false);
  });

  it("compares LONG values numerically", () => {
    expect(inFilter(sig, { region: "NA", id: "2", day: "x" })).toBe(true);
    expect(inFilter(sig, { region: "NA", id: "", day: "x" })).toBe(false);
  });

  it("STRING values compare exactly", () => {
    expect(inFilter(sig, { region: "na", id: 1, day: "x" })).toBe(false);
  });

  it("a missing filtered dimension fails; a missing unfiltered one passes", () => {
    expect(inFilter(sig, { id: 1, day: "x" })).toBe(false);
    expect(inFilter(sig, { region: "EU", id: 1 })).toBe(true);
  });

  it("admits everything without filters", () => {
    expect(inFilter(signal("s3", [str("a")]), { a: "anything" })).toBe(true);
  });
});

describe("isDataFileName", () => {
  it("skips markers and hidden files", () => {
    expect(isDataFileName("part-0.parquet")).toBe(true);
    expect(isDataFileName("_SUCCESS")).toBe(false);
    expect(isDataFileName(".part-0.crc")).toBe(false);
    expect(isDataFileName("")).toBe(false);
  });
});

// ---------------------------------------------------------------- properties

describe("properties", () => {
  /** Literal template text: no "/" and no "{}". */
  const literal = fc
    .string({ maxLength: 4 })
    .filter((s) => !s.includes("/") && !s.includes("{}") && !s.includes("\0"));
  const stringValue = fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((s) => !s.includes("/") && !s.includes("\0") && s !== "." && s !== "..");

  const FORMATS: readonly [string, Granularity][] = [
    ["%Y-%m-%d", "DAY"],
    ["%Y%m%d", "DAY"],
    ["%Y-%m-%d-%H", "HOUR"],
    ["%Y%m%d%H%M", "MINUTE"],
    ["%Y-%m", "MONTH"],
    ["%Y", "YEAR"],
    ["%Y-%j", "DAY"],
    ["%Y-%m-%d %H:%M:%S", "MINUTE"],
  ];
  const MIN_MS = Date.UTC(1000, 0, 1);
  const MAX_MS = Date.UTC(9999, 11, 31);

  /** A dimension spec together with a canonical value for it. */
  const dimension = (name: string): fc.Arbitrary<[DimensionModel, string | number]> =>
    fc.oneof(
      stringValue.map((v): [DimensionModel, string | number] => [str(name), v]),
      fc
        .tuple(fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }), fc.maxSafeInteger())
        .filter(([, v]) => !Object.is(v, -0))
        .map(([digits, v]): [DimensionModel, string | number] => [long(name, digits), v]),
      fc
        .tuple(fc.constantFrom(...FORMATS), fc.integer({ min: MIN_MS, max: MAX_MS }))
        .map(([[format, granularity], ms]): [DimensionModel, string | number] => {
          const spec = datetime(name, format, granularity);
          return [spec, canonicalValue(spec, new Date(ms))];
        }),
    );

  const partitioned = fc
    .integer({ min: 0, max: 4 })
    .chain((n) =>
      fc.tuple(
        fc.tuple(...Array.from({ length: n }, (_, i) => dimension(`d${i}`))),
        fc.array(fc.tuple(literal, literal), { minLength: n, maxLength: n }),
        fc.constantFrom<"s3Dataset" | "glueTable" | "data">("s3Dataset", "glueTable", "data"),
      ),
    )
    .map(([dims, affixes, kind]) => {
      const specs = dims.map(([spec]) => spec);
      const values: Record<string, string | number> = {};
      for (const [spec, v] of dims) values[spec.name] = v;
      const node: NodeModel =
        kind === "s3Dataset"
          ? s3(
              specs,
              affixes.map(([p, s]) => `${p}{}${s}`),
              { prefix: "root/of" },
            )
          : kind === "glueTable"
            ? glue(specs)
            : data(specs);
      return { node, values: values as Dimensions };
    });

  it("parse(segments(d)) = d for STRING, LONG (with digits) and DATETIME dimensions", () => {
    fc.assert(
      fc.property(partitioned, ({ node, values }) => {
        const segments = partitionSegments(node, values);
        expect(segments).toHaveLength(node.signal.dimensions.length);
        for (const s of segments) expect(s.includes("/")).toBe(false);
        expect(parsePartitionSegments(node, segments)).toEqual(values);
      }),
      { numRuns: 500 },
    );
  });

  it("an object key built from segments is recognized with the same dimensions", () => {
    fc.assert(
      fc.property(
        partitioned.filter((p) => p.node.kind === "s3Dataset"),
        fc.constantFrom("_SUCCESS", "part-0.parquet"),
        ({ node, values }, file) => {
          const n = node as S3DatasetNodeModel;
          const key = [n.prefix, ...partitionSegments(n, values), file].join("/");
          expect(matchObjectKey(n, key)).toEqual({
            dimensions: values,
            file,
            isCompletion: file === "_SUCCESS",
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a parsed segment always renders back to itself (only canonical paths parse)", () => {
    const specs: DimensionModel[] = [
      long("n"),
      long("n", 3),
      datetime("n"),
      datetime("n", "%Y%m%d%H", "HOUR"),
      datetime("n", "%Y-%m-%d-%H", "DAY"),
      str("n"),
    ];
    const segment = fc.oneof(
      fc.string({ maxLength: 14 }),
      fc.stringMatching(/^[+-]?\d{1,12}$/),
      fc.stringMatching(/^\d{4}-\d{2}-\d{2}(-\d{2})?$/),
      fc.stringMatching(/^\d{10}$/),
    );
    fc.assert(
      fc.property(fc.constantFrom(...specs), segment, (spec, seg) => {
        const node = data([spec]);
        const parsed = parsePartitionSegments(node, [seg]);
        if (parsed !== undefined) expect(partitionSegments(node, parsed)).toEqual([seg]);
      }),
      { numRuns: 1000 },
    );
  });
});
