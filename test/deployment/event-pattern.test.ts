/**
 * The deployment twin's EventBridge event-pattern matcher: every operator (positive and negative),
 * arrays, $or, the PutRule validation errors, the vendored AWS sample events against the rules Sluice
 * synthesizes, and property tests.
 */
import fc from "fast-check";
import { matchesPattern, patternErrors, type EventPattern } from "./twin/event-pattern";
import { readVector } from "../support/vectors";

/** Whether `pattern` matches the event `{ field: value }`. */
const on = (pattern: unknown[], value: unknown): boolean =>
  matchesPattern({ field: pattern }, { field: value });

describe("exact values", () => {
  it("matches strings exactly and case-sensitively", () => {
    expect(matchesPattern({ source: ["aws.s3"] }, { source: "aws.s3" })).toBe(true);
    expect(matchesPattern({ source: ["aws.s3"] }, { source: "AWS.S3" })).toBe(false);
    expect(matchesPattern({ source: ["aws.s3"] }, { source: "aws.s3 " })).toBe(false);
  });

  it("treats the array of a leaf as alternatives and the fields as all required", () => {
    const pattern = { source: ["aws.ec2", "aws.fargate"], "detail-type": ["X"] };
    expect(matchesPattern(pattern, { source: "aws.fargate", "detail-type": "X" })).toBe(true);
    expect(matchesPattern(pattern, { source: "aws.ecs", "detail-type": "X" })).toBe(false);
    expect(matchesPattern(pattern, { source: "aws.ec2" })).toBe(false);
  });

  it("compares numbers numerically and never with strings", () => {
    expect(on([5], 5.0)).toBe(true);
    expect(on([5], JSON.parse("5.0"))).toBe(true);
    expect(on([301.8], JSON.parse("3.018e2"))).toBe(true);
    expect(on([5], "5")).toBe(false);
    expect(on(["5"], 5)).toBe(false);
    expect(on([5], 6)).toBe(false);
  });

  it("matches booleans and null only as themselves; null and the empty string differ", () => {
    expect(on([true], true)).toBe(true);
    expect(on([true], "true")).toBe(false);
    expect(on([false], true)).toBe(false);
    expect(on([null], null)).toBe(true);
    expect(on([null], "")).toBe(false);
    expect(on([""], null)).toBe(false);
    expect(on([""], "")).toBe(true);
    expect(on(["null"], null)).toBe(false);
  });

  it("follows nested objects, and a missing field or a field of the wrong shape never matches", () => {
    const pattern = { detail: { bucket: { name: ["b"] } } };
    expect(matchesPattern(pattern, { detail: { bucket: { name: "b" }, other: 1 } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { bucket: {} } })).toBe(false);
    expect(matchesPattern(pattern, { detail: {} })).toBe(false);
    expect(matchesPattern(pattern, {})).toBe(false);
    expect(matchesPattern(pattern, { detail: { bucket: "b" } })).toBe(false);
    // A leaf pattern does not match an object value.
    expect(matchesPattern({ detail: ["b"] }, { detail: { name: "b" } })).toBe(false);
  });

  it("matches an event array when any element matches, however deeply nested", () => {
    const pattern = { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:other"] };
    const event = {
      resources: ["arn:aws:autoscaling:x", "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"],
    };
    expect(matchesPattern(pattern, event)).toBe(true);
    expect(matchesPattern(pattern, { resources: ["arn:aws:autoscaling:x"] })).toBe(false);
    expect(matchesPattern(pattern, { resources: [] })).toBe(false);
    expect(on(["x"], [["a"], ["b", ["x"]]])).toBe(true);
  });

  it("looks into arrays of objects, one element at a time (array consistency)", () => {
    const event = {
      employees: [
        { firstName: "John", lastName: "Doe" },
        { firstName: "Anna", lastName: "Smith" },
      ],
    };
    expect(matchesPattern({ employees: { firstName: ["Anna"] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ["Anna"], lastName: ["Smith"] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ["Anna"], lastName: ["Doe"] } }, event)).toBe(false);
    const nested = { groups: [[{ a: 1, b: 2 }], [{ a: 3, b: 4 }]] };
    expect(matchesPattern({ groups: { a: [3], b: [4] } }, nested)).toBe(true);
    expect(matchesPattern({ groups: { a: [1], b: [4] } }, nested)).toBe(false);
  });

  it("addresses a.b the same whether nested or dotted (as event-ruler does)", () => {
    expect(
      matchesPattern(
        { detail: { state: { status: ["running"] } } },
        { detail: { "state.status": "running" } },
      ),
    ).toBe(true);
    expect(matchesPattern({ "detail.state": ["running"] }, { detail: { state: "running" } })).toBe(true);
  });

  it("accepts the pattern as JSON text and ignores what is not a JSON object event", () => {
    const text = JSON.stringify({ source: ["aws.glue"] });
    expect(matchesPattern(text, { source: "aws.glue" })).toBe(true);
    expect(matchesPattern(text, [{ source: "aws.glue" }])).toBe(false);
    expect(matchesPattern(text, "aws.glue")).toBe(false);
    expect(matchesPattern(text, null)).toBe(false);
    expect(matchesPattern({ field: [{ exists: false }] }, { field: undefined })).toBe(true);
  });
});

describe("string operators", () => {
  it("prefix, also ignoring case; strings only", () => {
    expect(on([{ prefix: "2017-10-02" }], "2017-10-02T18:43:48Z")).toBe(true);
    expect(on([{ prefix: "2017-10-02" }], "2017-10-03T18:43:48Z")).toBe(false);
    expect(on([{ prefix: "1" }], 12)).toBe(false);
    expect(on([{ prefix: "" }], "anything")).toBe(true);
    expect(on([{ prefix: { "equals-ignore-case": "EventB" } }], "eventbridge")).toBe(true);
    expect(on([{ prefix: { "equals-ignore-case": "EventB" } }], "EVENTBRIDGE")).toBe(true);
    expect(on([{ prefix: { "equals-ignore-case": "EventB" } }], "xEventB")).toBe(false);
  });

  it("suffix, also ignoring case; strings only", () => {
    expect(on([{ suffix: ".png" }], "image.png")).toBe(true);
    expect(on([{ suffix: ".png" }], "image.PNG")).toBe(false);
    expect(on([{ suffix: ".png" }], "image.png.txt")).toBe(false);
    expect(on([{ suffix: "5" }], 5)).toBe(false);
    expect(on([{ suffix: { "equals-ignore-case": ".png" } }], "image.PNG")).toBe(true);
    expect(on([{ suffix: { "equals-ignore-case": ".png" } }], "image.pnG")).toBe(true);
    expect(on([{ suffix: { "equals-ignore-case": ".png" } }], "image.jpg")).toBe(false);
  });

  it("equals-ignore-case", () => {
    expect(on([{ "equals-ignore-case": "alice" }], "ALICE")).toBe(true);
    expect(on([{ "equals-ignore-case": "alice" }], "aLiCe")).toBe(true);
    expect(on([{ "equals-ignore-case": "alice" }], "alicia")).toBe(false);
    expect(on([{ "equals-ignore-case": "alice" }], "alice ")).toBe(false);
    expect(on([{ "equals-ignore-case": "true" }], true)).toBe(false);
    expect(on([{ "equals-ignore-case": "a.c" }], "abc")).toBe(false);
    expect(on([{ "equals-ignore-case": "straße" }], "STRASSE")).toBe(true);
  });

  it("wildcard: * is any run (even empty), \\* a star, \\\\ a backslash, the rest literal", () => {
    const success = [{ wildcard: "orders/*/_SUCCESS" }];
    expect(on(success, "orders/dt=2024-01-01/_SUCCESS")).toBe(true);
    expect(on(success, "orders/a/b/_SUCCESS")).toBe(true);
    expect(on(success, "orders//_SUCCESS")).toBe(true);
    expect(on(success, "orders/dt=1/_SUCCESS.tmp")).toBe(false);
    expect(on(success, "x/orders/a/_SUCCESS")).toBe(false);
    expect(on([{ wildcard: "*" }], "")).toBe(true);
    expect(on([{ wildcard: "*" }], 1)).toBe(false);
    expect(on([{ wildcard: "a*b*c" }], "aXbYc")).toBe(true);
    expect(on([{ wildcard: "a*b*c" }], "aXcYb")).toBe(false);
    expect(on([{ wildcard: "a.b" }], "axb")).toBe(false);
    expect(on([{ wildcard: "a\\*b" }], "a*b")).toBe(true);
    expect(on([{ wildcard: "a\\*b" }], "axb")).toBe(false);
    expect(on([{ wildcard: "a\\\\b" }], "a\\b")).toBe(true);
    expect(on([{ wildcard: "\\**" }], "*tail")).toBe(true);
    expect(on([{ wildcard: "\\**" }], "tail")).toBe(false);
  });
});

describe("anything-but", () => {
  it("excludes a string or a list of strings", () => {
    expect(on([{ "anything-but": "initializing" }], "running")).toBe(true);
    expect(on([{ "anything-but": "initializing" }], "initializing")).toBe(false);
    expect(on([{ "anything-but": ["stopped", "overloaded"] }], "running")).toBe(true);
    expect(on([{ "anything-but": ["stopped", "overloaded"] }], "overloaded")).toBe(false);
  });

  it("excludes a number or a list of numbers, numerically", () => {
    expect(on([{ "anything-but": 123 }], 124)).toBe(true);
    expect(on([{ "anything-but": 123 }], 123.0)).toBe(false);
    expect(on([{ "anything-but": [100, 200, 300] }], 100.1)).toBe(true);
    expect(on([{ "anything-but": [100, 200, 300] }], 200)).toBe(false);
  });

  it("lets other types through, and never a missing field", () => {
    expect(on([{ "anything-but": [100, 500] }], "100")).toBe(true);
    expect(on([{ "anything-but": "100" }], 100)).toBe(true);
    expect(on([{ "anything-but": "x" }], null)).toBe(true);
    expect(on([{ "anything-but": { prefix: "x" } }], true)).toBe(true);
    expect(matchesPattern({ field: [{ "anything-but": "x" }] }, {})).toBe(false);
    expect(matchesPattern({ field: [{ "anything-but": "x" }] }, { field: { nested: "y" } })).toBe(false);
    expect(matchesPattern({ field: [{ "anything-but": "x" }] }, { field: [] })).toBe(false);
  });

  it("matches an array holding any value outside the list", () => {
    expect(on([{ "anything-but": [100, 500] }], [100, 50])).toBe(true);
    expect(on([{ "anything-but": [100, 500] }], [100, 500])).toBe(false);
  });

  it("excludes prefixes, suffixes, case-insensitive values and wildcards", () => {
    expect(on([{ "anything-but": { prefix: "us-" } }], "eu-west-1")).toBe(true);
    expect(on([{ "anything-but": { prefix: "us-" } }], "us-east-1")).toBe(false);
    expect(on([{ "anything-but": { prefix: ["init", "error"] } }], "error-3")).toBe(false);
    expect(on([{ "anything-but": { suffix: ".png" } }], "a.jpg")).toBe(true);
    expect(on([{ "anything-but": { suffix: [".png", ".gif"] } }], "a.gif")).toBe(false);
    expect(on([{ "anything-but": { "equals-ignore-case": "Stopped" } }], "STOPPED")).toBe(false);
    expect(on([{ "anything-but": { "equals-ignore-case": ["Stopped", "OverLoaded"] } }], "running")).toBe(
      true,
    );
    expect(on([{ "anything-but": { wildcard: "*/lib/*" } }], "/usr/lib/x.so")).toBe(false);
    expect(on([{ "anything-but": { wildcard: ["*/bin/*.jar", "*.class"] } }], "/usr/share/doc")).toBe(true);
  });
});

describe("numeric", () => {
  it("compares JSON numbers with one bound or a range", () => {
    const range = [{ numeric: [">", 0, "<=", 5] }];
    expect(on(range, 5)).toBe(true);
    expect(on(range, 0.0001)).toBe(true);
    expect(on(range, 0)).toBe(false);
    expect(on(range, 5.0001)).toBe(false);
    expect(on([{ numeric: [">=", 0, "<", 5] }], 0)).toBe(true);
    expect(on([{ numeric: [">=", 0, "<", 5] }], 5)).toBe(false);
    expect(on([{ numeric: ["<", 10] }], -3)).toBe(true);
    expect(on([{ numeric: ["<", 10] }], 10)).toBe(false);
    expect(on([{ numeric: ["<=", 10] }], 10)).toBe(true);
    expect(on([{ numeric: [">", 10] }], 10)).toBe(false);
    expect(on([{ numeric: [">=", 10] }], 10)).toBe(true);
    expect(on([{ numeric: ["=", 3.018e2] }], 301.8)).toBe(true);
    expect(on([{ numeric: ["=", 301.8] }], 301.9)).toBe(false);
  });

  it("does not match strings, booleans or null", () => {
    expect(on([{ numeric: [">", 0] }], "5")).toBe(false);
    expect(on([{ numeric: [">", 0] }], true)).toBe(false);
    expect(on([{ numeric: ["<", 1] }], null)).toBe(false);
  });
});

describe("exists", () => {
  it("exists: true matches any leaf value, null included, but not an object", () => {
    expect(on([{ exists: true }], "x")).toBe(true);
    expect(on([{ exists: true }], null)).toBe(true);
    expect(on([{ exists: true }], [1])).toBe(true);
    expect(on([{ exists: true }], [])).toBe(false);
    expect(on([{ exists: true }], { c1: 100 })).toBe(false);
    expect(matchesPattern({ field: [{ exists: true }] }, {})).toBe(false);
  });

  it("exists: false matches a missing field, or one that is not a leaf", () => {
    const pattern = { detail: { "c-count": [{ exists: false }] } };
    expect(matchesPattern(pattern, { detail: { state: "running" } })).toBe(true);
    expect(matchesPattern(pattern, {})).toBe(true);
    expect(matchesPattern(pattern, { detail: { "c-count": { c1: 100 } } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { "c-count": 5 } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { "c-count": null } })).toBe(false);
  });

  it("combines with other alternatives and respects array elements", () => {
    expect(on([{ exists: false }, "x"], "x")).toBe(true);
    expect(on([{ exists: false }, "x"], "y")).toBe(false);
    expect(matchesPattern({ field: [{ exists: false }, "x"] }, {})).toBe(true);
    const items = { items: [{ a: 1, b: 2 }, { a: 3 }] };
    expect(matchesPattern({ items: { a: [3], b: [{ exists: false }] } }, items)).toBe(true);
    expect(matchesPattern({ items: { a: [1], b: [{ exists: false }] } }, items)).toBe(false);
  });
});

describe("cidr and IP addresses", () => {
  it("matches IPv4 addresses in the block", () => {
    expect(on([{ cidr: "10.0.0.0/24" }], "10.0.0.255")).toBe(true);
    expect(on([{ cidr: "10.0.0.0/24" }], "10.0.1.0")).toBe(false);
    expect(on([{ cidr: "10.0.0.0/8" }], "10.200.3.4")).toBe(true);
    expect(on([{ cidr: "0.0.0.0/0" }], "192.168.1.1")).toBe(true);
    expect(on([{ cidr: "10.0.0.0/24" }], "not an ip")).toBe(false);
    expect(on([{ cidr: "10.0.0.0/24" }], "10.0.0.256")).toBe(false);
    expect(on([{ cidr: "10.0.0.0/24" }], 10)).toBe(false);
  });

  it("matches IPv6 addresses in the block, never across families", () => {
    expect(on([{ cidr: "2001:db8::/32" }], "2001:0DB8:0000:0000:0000:0000:0000:0001")).toBe(true);
    expect(on([{ cidr: "2001:db8::/32" }], "2001:db9::1")).toBe(false);
    expect(on([{ cidr: "2001:db8:1234:5600::/56" }], "2001:db8:1234:56ff::1")).toBe(true);
    expect(on([{ cidr: "2001:db8:1234:5600::/56" }], "2001:db8:1234:5700::")).toBe(false);
    expect(on([{ cidr: "::/0" }], "10.0.0.1")).toBe(false);
  });

  it("matches an exact IPv6 address however it is written", () => {
    expect(on(["2001:db8::1"], "2001:DB8:0:0:0:0:0:1")).toBe(true);
    expect(on(["2001:db8::1"], "2001:db8::2")).toBe(false);
    expect(on(["1.2.3.4"], "1.2.3.4")).toBe(true);
  });
});

describe("$or", () => {
  it("at the top level and nested, each branch with its own fields", () => {
    const pattern = {
      source: ["aws.cloudwatch"],
      $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2", "AWS/ES"] }],
    };
    expect(matchesPattern(pattern, { source: "aws.cloudwatch", namespace: "AWS/ES" })).toBe(true);
    expect(matchesPattern(pattern, { source: "aws.cloudwatch", metricName: "CPUUtilization" })).toBe(true);
    expect(matchesPattern(pattern, { source: "aws.cloudwatch", namespace: "AWS/S3" })).toBe(false);
    expect(matchesPattern(pattern, { source: "aws.ec2", namespace: "AWS/ES" })).toBe(false);
    const nested = { detail: { $or: [{ a: [1] }, { b: [2], $or: [{ c: [3] }, { d: [4] }] }] } };
    expect(matchesPattern(nested, { detail: { a: 1 } })).toBe(true);
    expect(matchesPattern(nested, { detail: { b: 2, d: 4 } })).toBe(true);
    expect(matchesPattern(nested, { detail: { b: 2 } })).toBe(false);
  });

  it("with exists: false and prefix in the branches", () => {
    const pattern = { $or: [{ a: [{ exists: false }] }, { a: [{ prefix: "ok-" }] }] };
    expect(matchesPattern(pattern, {})).toBe(true);
    expect(matchesPattern(pattern, { a: "ok-1" })).toBe(true);
    expect(matchesPattern(pattern, { a: "ko-1" })).toBe(false);
  });

  it("keeps array consistency across the branches and the fields beside them", () => {
    const pattern = { $or: [{ items: { a: [1] } }, { items: { b: [2] } }], items: { c: [3] } };
    expect(matchesPattern(pattern, { items: [{ a: 1 }, { c: 3 }] })).toBe(false);
    expect(matchesPattern(pattern, { items: [{ a: 1, c: 3 }] })).toBe(true);
    expect(matchesPattern(pattern, { items: [{ a: 0 }, { b: 2, c: 3 }] })).toBe(true);
  });
});

describe("patternErrors", () => {
  const valid: EventPattern[] = [
    { source: ["aws.s3"], detail: { object: { key: [{ wildcard: "a/*/_SUCCESS" }, "a/_SUCCESS"] } } },
    { a: [{ numeric: [">=", 0, "<", 1] }, { numeric: ["=", 5] }], b: [null, true, 1, "x"] },
    { a: [{ "anything-but": { prefix: ["x", "y"] } }, { cidr: "2001:db8::/48" }, { exists: false }] },
    { $or: [{ a: ["1"] }, { b: ["2"] }], c: { $or: [{ d: [1] }, { e: [2] }] } },
    { prefix: ["a field may be called prefix outside $or"] },
  ];
  it.each(valid.map((p) => [JSON.stringify(p), p]))("accepts %s", (_text, pattern) => {
    expect(patternErrors(pattern)).toEqual([]);
    expect(patternErrors(JSON.stringify(pattern))).toEqual([]);
  });

  const invalid: Array<[string, EventPattern | string, string]> = [
    ["JSON that does not parse", "{ source: [", "not valid JSON"],
    ["a JSON array", "[]", "must be a JSON object"],
    ["JSON null", "null", "must be a JSON object"],
    ["an empty pattern", {}, "empty objects"],
    ["an empty nested object", { detail: {} }, "detail: empty objects"],
    ["a leaf that is not an array", { source: "aws.s3" }, "source: must be an object or an array"],
    ["a numeric leaf", { a: 5 }, "a: must be an object or an array"],
    ["an empty array", { source: [] }, "source: empty arrays"],
    ["an array in a leaf", { a: [["x"]] }, "a[0]: a match value must be"],
    ["an unknown operator", { a: [{ regex: "x.*" }] }, 'unknown operator "regex"'],
    ["an empty operator object", { a: [{}] }, "exactly one key"],
    ["two operators in one object", { a: [{ prefix: "x", suffix: "y" }] }, "exactly one key"],
    ["a prefix that is not a string", { a: [{ prefix: 5 }] }, "prefix takes"],
    ["a prefix with another sub-operator", { a: [{ prefix: { wildcard: "x" } }] }, "prefix takes"],
    ["a suffix that is not a string", { a: [{ suffix: ["x"] }] }, "suffix takes"],
    ["an equals-ignore-case number", { a: [{ "equals-ignore-case": 1 }] }, "equals-ignore-case takes"],
    ["consecutive wildcards", { a: [{ wildcard: "a**b" }] }, "consecutive wildcard"],
    ["a bad wildcard escape", { a: [{ wildcard: "a\\b" }] }, "invalid escape"],
    ["a trailing wildcard backslash", { a: [{ wildcard: "a\\" }] }, "invalid escape"],
    ["a wildcard that is not a string", { a: [{ wildcard: 1 }] }, "wildcard takes"],
    ["an empty anything-but list", { a: [{ "anything-but": [] }] }, "non-empty list"],
    ["a mixed anything-but list", { a: [{ "anything-but": ["a", 1] }] }, "only strings or only numbers"],
    ["an anything-but boolean", { a: [{ "anything-but": true }] }, "anything-but takes"],
    ["an anything-but null", { a: [{ "anything-but": null }] }, "anything-but takes"],
    ["an unknown anything-but operator", { a: [{ "anything-but": { numeric: [">", 1] } }] }, "unsupported"],
    ["an empty anything-but prefix", { a: [{ "anything-but": { prefix: "" } }] }, "must not be empty"],
    ["an anything-but prefix number", { a: [{ "anything-but": { prefix: 1 } }] }, "takes a string or a list"],
    ["an anything-but wildcard **", { a: [{ "anything-but": { wildcard: ["**"] } }] }, "consecutive"],
    [
      "anything-but with two keys",
      { a: [{ "anything-but": { prefix: "a", suffix: "b" } }] },
      "exactly one key",
    ],
    ["numeric not an array", { a: [{ numeric: 5 }] }, "numeric takes an array"],
    ["numeric without an operator", { a: [{ numeric: [5] }] }, "operator string"],
    ["an unknown numeric operator", { a: [{ numeric: ["!=", 5] }] }, 'unknown numeric operator "!="'],
    ["a numeric string value", { a: [{ numeric: [">", "5"] }] }, "must be a number"],
    ["a numeric operator without value", { a: [{ numeric: ["<"] }] }, "must be a number"],
    ["a numeric = range", { a: [{ numeric: ["=", 1, "<", 2] }] }, "too many elements"],
    ["an upper bound first", { a: [{ numeric: ["<", 5, ">", 0] }] }, "too many elements"],
    ["a bad range operator", { a: [{ numeric: [">", 0, ">", 5] }] }, '"<" or "<="'],
    ["a range without top", { a: [{ numeric: [">", 0, "<"] }] }, "must be a number"],
    ["a range too long", { a: [{ numeric: [">", 0, "<", 5, "<", 6] }] }, "too many elements"],
    ["an empty range", { a: [{ numeric: [">=", 5, "<=", 5] }] }, "less than its top"],
    ["an inverted range", { a: [{ numeric: [">", 5, "<", 1] }] }, "less than its top"],
    ["exists not a boolean", { a: [{ exists: "true" }] }, "exists takes true or false"],
    ["a cidr without mask", { a: [{ cidr: "10.0.0.0" }] }, 'one "/" required'],
    ["a cidr with a bad mask", { a: [{ cidr: "10.0.0.0/x" }] }, "must be an integer"],
    ["a cidr mask too long", { a: [{ cidr: "10.0.0.0/33" }] }, "between 0 and 31"],
    ["a cidr with a bad address", { a: [{ cidr: "10.0.0.300/8" }] }, "invalid IP address"],
    ["a cidr not a string", { a: [{ cidr: 10 }] }, "cidr takes a string"],
    ["$or not an array", { $or: { a: ["x"] } }, "$or must be an array"],
    ["$or with one branch", { $or: [{ a: ["x"] }] }, "at least 2"],
    ["$or with a non-object", { $or: [{ a: ["x"] }, ["b"]] }, "only objects"],
    ["$or with an empty branch", { $or: [{ a: ["x"] }, {}] }, "$or[1]: empty objects"],
    ["an operator name in $or", { $or: [{ numeric: [1] }, { prefix: ["abc"] }] }, "operator name"],
    ["an invalid leaf in $or", { $or: [{ a: ["x"] }, { b: [] }] }, "$or[1].b: empty arrays"],
    ["a pattern over the size quota", { a: ["x".repeat(2100)] }, "2048-character"],
  ];
  it.each(invalid)("rejects %s", (_what, pattern, reason) => {
    const errors = patternErrors(pattern);
    expect(errors.join("\n")).toContain(reason);
    expect(() => matchesPattern(pattern, { a: "x" })).toThrow(/Invalid EventBridge event pattern/);
  });

  it("lists every problem with its location", () => {
    const errors = patternErrors({ source: [], detail: { state: [{ prefix: 1 }, "ok", { nope: 1 }] } });
    expect(errors).toEqual([
      "source: empty arrays are not allowed",
      'detail.state[0]: prefix takes a string or { "equals-ignore-case": string }',
      'detail.state[2]: unknown operator "nope"',
    ]);
  });
});

// ---------------------------------------------------------------------------------- real events

interface S3Event {
  account: string;
  detail: { bucket: { name: string }; object: { key: string } };
}

/** A copy of the S3 "Object Created" sample (the vector file itself stays untouched). */
function s3Created(key: string): S3Event {
  const event = structuredClone(readVector("s3-eventbridge.object-created.awsdocs.json")) as S3Event;
  event.detail.object.key = key;
  return event;
}

/** The rules Sluice synthesizes (src/synth/processor.ts), for the sample events' names. */
const rules = {
  s3Success: {
    source: ["aws.s3"],
    "detail-type": ["Object Created"],
    detail: { bucket: { name: ["DOC-EXAMPLE-BUCKET1"] }, object: { key: [{ suffix: "/_SUCCESS" }] } },
  },
  upstream: {
    source: ["aws.s3"],
    "detail-type": ["Object Created"],
    account: ["111122223333"],
    detail: {
      bucket: { name: ["DOC-EXAMPLE-BUCKET1"] },
      object: { key: ["orders/_SUCCESS", { wildcard: "orders/*/_SUCCESS" }] },
    },
  },
  schedule: {
    source: ["aws.events"],
    resources: ["arn:aws:events:us-east-1:123456789012:rule/MyScheduledRule"],
  },
  glue: { source: ["aws.glue"], "detail-type": ["Glue Job State Change"], detail: { jobName: ["MyJob"] } },
  glueFailures: {
    source: ["aws.glue"],
    "detail-type": ["Glue Job State Change"],
    detail: { state: ["FAILED", "TIMEOUT", "STOPPED"] },
  },
  athena: {
    source: ["aws.athena"],
    "detail-type": ["Athena Query State Change"],
    detail: { workgroupName: ["primary"] },
  },
  emr: {
    source: ["aws.emr"],
    "detail-type": ["EMR Cluster State Change"],
    detail: { state: ["TERMINATED"] },
  },
  emrServerless: {
    source: ["aws.emr-serverless"],
    "detail-type": ["EMR Serverless Job Run State Change"],
    detail: { applicationId: ["00f1982r1uukb925"], state: [{ "anything-but": ["SUBMITTED", "PENDING"] }] },
  },
  alarm: {
    source: ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    detail: { alarmName: ["ServerCpuTooHigh"], state: { value: ["ALARM"] } },
  },
} satisfies Record<string, EventPattern>;

describe("the vendored AWS sample events", () => {
  it("S3 Object Created: completion markers by suffix and by wildcard, on a copy of the sample", () => {
    expect(matchesPattern(rules.s3Success, readVector("s3-eventbridge.object-created.awsdocs.json"))).toBe(
      false,
    );
    expect(matchesPattern(rules.s3Success, s3Created("orders/dt=2021-11-12/_SUCCESS"))).toBe(true);
    expect(matchesPattern(rules.s3Success, s3Created("orders/dt=2021-11-12/part-0.parquet"))).toBe(false);
    expect(matchesPattern(rules.upstream, s3Created("orders/dt=2021-11-12/hour=00/_SUCCESS"))).toBe(true);
    expect(matchesPattern(rules.upstream, s3Created("orders/_SUCCESS"))).toBe(true);
    expect(matchesPattern(rules.upstream, s3Created("returns/dt=2021-11-12/_SUCCESS"))).toBe(false);
    const otherAccount = { ...s3Created("orders/dt=1/_SUCCESS"), account: "444455556666" };
    expect(matchesPattern(rules.upstream, otherAccount)).toBe(false);
    expect(readVector("s3-eventbridge.object-created.awsdocs.json")).toMatchObject({
      detail: { object: { key: "example-key" } },
    });
  });

  it("S3 Object Deleted is not an Object Created", () => {
    const deleted = structuredClone(readVector("s3-eventbridge.object-deleted.awsdocs.json")) as S3Event;
    deleted.detail.object.key = "orders/dt=2021-11-12/_SUCCESS";
    expect(matchesPattern(rules.s3Success, deleted)).toBe(false);
    expect(matchesPattern({ ...rules.s3Success, "detail-type": ["Object Deleted"] }, deleted)).toBe(true);
  });

  it("S3 samples by size, source IP and request fields", () => {
    const created = readVector("s3-eventbridge.object-created.awsdocs.json");
    expect(matchesPattern({ detail: { object: { size: [{ numeric: [">", 0, "<=", 5] }] } } }, created)).toBe(
      true,
    );
    expect(matchesPattern({ detail: { object: { size: [{ numeric: [">", 5] }] } } }, created)).toBe(false);
    expect(matchesPattern({ detail: { "source-ip-address": [{ cidr: "1.2.3.0/24" }] } }, created)).toBe(true);
    expect(matchesPattern({ detail: { "source-ip-address": [{ cidr: "10.0.0.0/8" }] } }, created)).toBe(
      false,
    );
    expect(matchesPattern({ detail: { "deletion-type": [{ exists: false }] } }, created)).toBe(true);
    const deleted = readVector("s3-eventbridge.object-deleted.awsdocs.json");
    expect(matchesPattern({ detail: { "deletion-type": [{ exists: false }] } }, deleted)).toBe(false);
    // The captured sample's redacted address is not an IP: a cidr never matches it.
    const captured = readVector("s3-eventbridge.object-created.captured.json");
    expect(matchesPattern({ detail: { "source-ip-address": [{ cidr: "0.0.0.0/0" }] } }, captured)).toBe(
      false,
    );
  });

  it("scheduled events by resources; a Scheduler event carries a string detail", () => {
    const scheduled = readVector("eventbridge.scheduled-event.awsdocs.json");
    expect(matchesPattern(rules.schedule, scheduled)).toBe(true);
    expect(matchesPattern({ ...rules.schedule, resources: [{ suffix: "/OtherRule" }] }, scheduled)).toBe(
      false,
    );
    expect(matchesPattern({ ...rules.schedule, version: [{ exists: false }] }, scheduled)).toBe(true);
    const scheduler = readVector("eventbridge-scheduler.scheduled-event.powertools.json");
    expect(matchesPattern(rules.schedule, scheduler)).toBe(false);
    expect(matchesPattern({ source: ["aws.scheduler"], detail: ["{}"] }, scheduler)).toBe(true);
    expect(
      matchesPattern({ "detail-type": ["Scheduled Event"], detail: [{ exists: true }] }, scheduled),
    ).toBe(false);
  });

  it("Glue job state changes by job name and state", () => {
    for (const state of ["succeeded", "failed", "timeout", "stopped"]) {
      const event = readVector(`glue.job-state-change.${state}.awsdocs.json`);
      expect(matchesPattern(rules.glue, event)).toBe(true);
      expect(matchesPattern(rules.glueFailures, event)).toBe(state !== "succeeded");
      expect(matchesPattern({ ...rules.glue, detail: { jobName: [{ prefix: "app-glue-" }] } }, event)).toBe(
        false,
      );
    }
    const partitions = readVector("glue.data-catalog-table-state-change.batchcreatepartition.awsdocs.json");
    expect(matchesPattern(rules.glue, partitions)).toBe(false);
    const table = {
      source: ["aws.glue"],
      "detail-type": ["Glue Data Catalog Table State Change"],
      detail: { databaseName: ["default"], tableName: ["foo"], changedPartitions: [{ prefix: "2018,02" }] },
    };
    expect(matchesPattern(table, partitions)).toBe(true);
  });

  it("Athena query state changes, and a float field compared as a number", () => {
    const succeeded = readVector("athena.query-state-change.succeeded.awsdocs.json");
    const failed = readVector("athena.query-state-change.failed.awsdocs.json");
    expect(matchesPattern(rules.athena, succeeded)).toBe(true);
    expect(matchesPattern(rules.athena, failed)).toBe(true);
    const failures = {
      ...rules.athena,
      detail: { currentState: ["FAILED"], athenaError: { errorType: [1306] } },
    };
    expect(matchesPattern(failures, failed)).toBe(true);
    expect(matchesPattern(failures, succeeded)).toBe(false);
    expect(matchesPattern({ detail: { athenaError: { retryable: [false] } } }, failed)).toBe(true);
  });

  it("EMR cluster, step and EMR Serverless job run state changes", () => {
    expect(matchesPattern(rules.emr, readVector("emr.cluster-state-change.terminated.awsdocs.json"))).toBe(
      true,
    );
    expect(matchesPattern(rules.emr, readVector("emr.cluster-state-change.starting.awsdocs.json"))).toBe(
      false,
    );
    expect(matchesPattern(rules.emr, readVector("emr.step-status-change.failed.awsdocs.json"))).toBe(false);
    const steps = {
      source: ["aws.emr"],
      "detail-type": ["EMR Step Status Change"],
      detail: { name: [{ prefix: "sluice-" }] },
    };
    expect(matchesPattern(steps, readVector("emr.step-status-change.failed.awsdocs.json"))).toBe(false);
    expect(
      matchesPattern(
        { ...steps, detail: { state: ["FAILED"] } },
        readVector("emr.step-status-change.failed.awsdocs.json"),
      ),
    ).toBe(true);
    const running = readVector("emr-serverless.job-run-state-change.running.awsdocs.json");
    const success = readVector("emr-serverless.job-run-state-change.success.clickstream.json");
    expect(matchesPattern(rules.emrServerless, running)).toBe(true);
    expect(matchesPattern(rules.emrServerless, success)).toBe(false); // another application
    const anyApplication = { source: rules.emrServerless.source, detail: { state: ["SUCCESS", "FAILED"] } };
    expect(matchesPattern(anyApplication, success)).toBe(true);
    expect(matchesPattern(anyApplication, running)).toBe(false);
  });

  it("CloudWatch alarm state changes by alarm name and state value; configuration changes are not", () => {
    const single = readVector("cloudwatch.alarm-state-change.single-metric.awsdocs.json");
    expect(matchesPattern(rules.alarm, single)).toBe(true);
    expect(
      matchesPattern(
        { ...rules.alarm, detail: { alarmName: ["ServerCpuTooHigh"], state: { value: ["OK"] } } },
        single,
      ),
    ).toBe(false);
    expect(matchesPattern({ detail: { previousState: { value: ["OK"] } } }, single)).toBe(true);
    expect(
      matchesPattern(rules.alarm, readVector("cloudwatch.alarm-state-change.metric-math.awsdocs.json")),
    ).toBe(false);
    const composite = readVector("cloudwatch.alarm-state-change.composite-with-suppressor.awsdocs.json");
    expect(
      matchesPattern({ ...rules.alarm, detail: { alarmName: ["ServiceAggregatedAlarm"] } }, composite),
    ).toBe(true);
    for (const change of ["metric-update", "composite-create", "metric-math-delete"]) {
      const event = readVector(`cloudwatch.alarm-configuration-change.${change}.awsdocs.json`);
      expect(matchesPattern({ ...rules.alarm, detail: { alarmName: [{ exists: true }] } }, event)).toBe(
        false,
      );
    }
    // Inside the metrics array, the matched fields must come from the same metric.
    const metric = {
      detail: { configuration: { metrics: { id: [{ prefix: "30b6" }], returnData: [true] } } },
    };
    expect(matchesPattern(metric, single)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------- properties

describe("properties", () => {
  const text = fc.string({ maxLength: 6, unit: fc.constantFrom("a", "b", "A", "*", "\\", "/", "é") });
  const scalar = fc.oneof(text, fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.constant(null));

  it("anything-but X is the complement of X on a present field", () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 3 }), scalar, (values, value) => {
        expect(on([{ "anything-but": values }], value)).toBe(!on(values, value));
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 3 }),
        scalar,
        (values, value) => {
          expect(on([{ "anything-but": values }], value)).toBe(!on(values, value));
        },
      ),
    );
  });

  it("anything-but { prefix | suffix | equals-ignore-case } is the complement of the operator on strings", () => {
    const op = fc.constantFrom("prefix", "suffix", "equals-ignore-case");
    fc.assert(
      fc.property(
        op,
        text.filter((s) => s !== ""),
        text,
        (name, operand, value) => {
          expect(on([{ "anything-but": { [name]: operand } }], value)).toBe(
            !on([{ [name]: operand }], value),
          );
        },
      ),
    );
  });

  it("a wildcard without a star is an exact match, and the JSON text of a pattern matches like it", () => {
    fc.assert(
      fc.property(text, text, (pattern, value) => {
        const escaped = pattern.replace(/[\\*]/g, "\\$&");
        expect(on([{ wildcard: escaped }], value)).toBe(pattern === value);
        const object = { field: [{ wildcard: `${escaped}*` }] };
        expect(matchesPattern(JSON.stringify(object), { field: value })).toBe(
          matchesPattern(object, { field: value }),
        );
      }),
    );
  });
});
