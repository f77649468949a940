import fc from "fast-check";
import { allOf, anyOf, Application, FlowValidationError, not, type CompositeAlarm } from "sluice";
import { alarmsOfRule, evaluateAlarmRule, renderAlarmRule } from "../../src/flow/model/alarm-rule";
import type { AlarmRuleModel, AlarmState, FlowModel } from "../../src/flow/model/flow-model";

// ---------------------------------------------------------------- a parser for CloudWatch AlarmRule syntax

/**
 * How AND and OR group. CloudWatch does not document their precedence, so a rendering is only safe
 * if every plausible reading gives it the same meaning. NOT binds tightest in every reading.
 */
interface Reading {
  readonly name: string;
  readonly precedence: { readonly AND: number; readonly OR: number };
  readonly rightAssociative?: boolean;
}

const READINGS: readonly Reading[] = [
  // (a) the usual one: NOT > AND > OR.
  { name: "NOT > AND > OR", precedence: { AND: 2, OR: 1 } },
  // (b) AND and OR of equal precedence, left to right.
  { name: "AND = OR, left-associative", precedence: { AND: 1, OR: 1 } },
  // Two more for good measure.
  { name: "NOT > OR > AND", precedence: { AND: 1, OR: 2 } },
  { name: "AND = OR, right-associative", precedence: { AND: 1, OR: 1 }, rightAssociative: true },
];
const [STANDARD, FLAT] = READINGS as [Reading, Reading];

type Token =
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "string"; readonly text: string }
  | { readonly kind: "(" | ")" };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === " " || c === "\t" || c === "\n") {
      i++;
    } else if (c === "(" || c === ")") {
      out.push({ kind: c });
      i++;
    } else if (c === '"') {
      let text = "";
      i++;
      for (;;) {
        const d = src[i];
        if (d === undefined) throw new SyntaxError(`unterminated string in ${src}`);
        if (d === '"') break;
        if (d === "\\") {
          const e = src[i + 1];
          if (e !== '"' && e !== "\\") throw new SyntaxError(`bad escape \\${e} in ${src}`);
          text += e;
          i += 2;
        } else {
          text += d;
          i++;
        }
      }
      i++;
      out.push({ kind: "string", text });
    } else if (/[A-Z_]/.test(c)) {
      let text = "";
      while (i < src.length && /[A-Z_]/.test(src[i] as string)) text += src[i++];
      out.push({ kind: "word", text });
    } else {
      throw new SyntaxError(`unexpected "${c}" at ${i} in ${src}`);
    }
  }
  return out;
}

const STATE_WORDS: readonly string[] = ["ALARM", "OK", "INSUFFICIENT_DATA"];

/** Parses a rendered AlarmRule into a rule over alarm *names*, grouping AND/OR as `reading` says. */
function parseAlarmRule(src: string, reading: Reading): AlarmRuleModel {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token => {
    const t = tokens[pos++];
    if (t === undefined) throw new SyntaxError(`unexpected end of ${src}`);
    return t;
  };
  const expect_ = (kind: Token["kind"]): Token => {
    const t = next();
    if (t.kind !== kind) throw new SyntaxError(`expected ${kind} at token ${pos - 1} of ${src}`);
    return t;
  };
  const binary = (t: Token | undefined): "AND" | "OR" | undefined =>
    t?.kind === "word" && (t.text === "AND" || t.text === "OR") ? t.text : undefined;

  function expression(minPrecedence: number): AlarmRuleModel {
    let left = unary();
    for (;;) {
      const op = binary(peek());
      if (op === undefined) return left;
      const p = reading.precedence[op];
      if (p < minPrecedence) return left;
      pos++;
      const right = expression(reading.rightAssociative ? p : p + 1);
      left = { op: op === "AND" ? "and" : "or", terms: [left, right] };
    }
  }

  function unary(): AlarmRuleModel {
    const t = peek();
    if (t?.kind === "word" && t.text === "NOT") {
      pos++;
      return { op: "not", term: unary() };
    }
    return primary();
  }

  function primary(): AlarmRuleModel {
    const t = next();
    if (t.kind === "(") {
      const e = expression(0);
      expect_(")");
      return e;
    }
    if (t.kind === "word" && t.text === "TRUE") return { op: "const", value: true };
    if (t.kind === "word" && t.text === "FALSE") return { op: "const", value: false };
    if (t.kind === "word" && STATE_WORDS.includes(t.text)) {
      expect_("(");
      const name = expect_("string") as { text: string };
      expect_(")");
      return { op: "state", state: t.text as AlarmState, alarm: name.text };
    }
    throw new SyntaxError(`unexpected token ${JSON.stringify(t)} at ${pos - 1} of ${src}`);
  }

  const rule = expression(0);
  if (pos !== tokens.length) throw new SyntaxError(`trailing tokens after ${pos} in ${src}`);
  return rule;
}

describe("the test parser itself", () => {
  it("parses every construct", () => {
    expect(parseAlarmRule('NOT (ALARM("a") OR OK("b\\"c")) AND TRUE', STANDARD)).toEqual({
      op: "and",
      terms: [
        {
          op: "not",
          term: {
            op: "or",
            terms: [
              { op: "state", state: "ALARM", alarm: "a" },
              { op: "state", state: "OK", alarm: 'b"c' },
            ],
          },
        },
        { op: "const", value: true },
      ],
    });
    expect(parseAlarmRule('INSUFFICIENT_DATA("x\\\\") OR FALSE', STANDARD)).toEqual({
      op: "or",
      terms: [
        { op: "state", state: "INSUFFICIENT_DATA", alarm: "x\\" },
        { op: "const", value: false },
      ],
    });
    expect(() => parseAlarmRule('ALARM("a") AND', STANDARD)).toThrow(SyntaxError);
    expect(() => parseAlarmRule('ALARM("a") ALARM("b")', STANDARD)).toThrow(SyntaxError);
    expect(() => parseAlarmRule('ALARM("a)', STANDARD)).toThrow(SyntaxError);
  });

  it("tells the readings apart on an unparenthesized mix of AND and OR", () => {
    // a OR b AND c: (a) reads a OR (b AND c), (b) reads (a OR b) AND c. With a=ALARM, c=OK they differ.
    const src = 'ALARM("a") OR ALARM("b") AND ALARM("c")';
    const states: Record<string, AlarmState> = { a: "ALARM", b: "OK", c: "OK" };
    const value = (r: Reading): boolean =>
      evaluateAlarmRule(parseAlarmRule(src, r), (n) => states[n] as AlarmState);
    expect(value(STANDARD)).toBe(true);
    expect(value(FLAT)).toBe(false);
  });
});

// ---------------------------------------------------------------- rendering is unambiguous

const STATES: readonly AlarmState[] = ["ALARM", "OK", "INSUFFICIENT_DATA"];
const IDS = ["a0", "a1", "a2", "a3"] as const;

const arbLeaf: fc.Arbitrary<AlarmRuleModel> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("state" as const),
      state: fc.constantFrom(...STATES),
      alarm: fc.constantFrom(...IDS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("const" as const), value: fc.boolean() }) },
);

/** Random rule trees of depth ≤ 4 over up to 4 alarms. */
const arbRule: fc.Arbitrary<AlarmRuleModel> = fc.letrec<{ rule: AlarmRuleModel }>((tie) => ({
  rule: fc.oneof(
    { maxDepth: 4, depthIdentifier: "rule" },
    arbLeaf,
    fc.record({
      op: fc.constantFrom("and" as const, "or" as const),
      terms: fc.array(tie("rule"), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ op: fc.constant("not" as const), term: tie("rule") }),
  ),
})).rule;

function depth(r: AlarmRuleModel): number {
  if (r.op === "not") return 1 + depth(r.term);
  if (r.op === "and" || r.op === "or") return 1 + Math.max(...r.terms.map(depth));
  return 0;
}

/** Every assignment of the 3 states to the alarms: 3^n of them. */
function assignments(alarms: readonly string[]): Record<string, AlarmState>[] {
  return alarms.reduce<Record<string, AlarmState>[]>(
    (acc, id) => acc.flatMap((a) => STATES.map((s) => ({ ...a, [id]: s }))),
    [{}],
  );
}

/** Alarm names that stress quoting: quotes, backslashes, keywords and parentheses inside names. */
const TRICKY_NAMES = ["plain-name", 'say "hi"', "back\\slash\\", 'x") OR TRUE OR NOT ("', "AND", " OR "];

const arbNames: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.constant(Object.fromEntries(IDS.map((id) => [id, id]))),
  fc
    .uniqueArray(fc.constantFrom(...TRICKY_NAMES), { minLength: 4, maxLength: 4 })
    .map((names) => Object.fromEntries(IDS.map((id, i) => [id, names[i] as string]))),
  fc
    .uniqueArray(fc.string({ minLength: 1, maxLength: 10 }), { minLength: 4, maxLength: 4 })
    .map((names) => Object.fromEntries(IDS.map((id, i) => [id, names[i] as string]))),
);

describe("renderAlarmRule is unambiguous", () => {
  it("property: every reading of the rendering evaluates like the rule, in every state assignment", () => {
    fc.assert(
      fc.property(arbRule, arbNames, (rule, names) => {
        expect(depth(rule)).toBeLessThanOrEqual(4);
        const rendered = renderAlarmRule(rule, (id) => names[id] as string);
        const byName = Object.fromEntries(Object.entries(names).map(([id, n]) => [n, id]));
        const parsed = READINGS.map((r) => parseAlarmRule(rendered, r));
        for (const states of assignments(alarmsOfRule(rule))) {
          const expected = evaluateAlarmRule(rule, (id) => states[id] as AlarmState);
          parsed.forEach((p) => {
            const got = evaluateAlarmRule(p, (name) => states[byName[name] as string] as AlarmState);
            expect(got).toBe(expected);
          });
        }
      }),
      { numRuns: 500 },
    );
  });

  it("property: the rendering mentions exactly the rule's alarms, each as written", () => {
    fc.assert(
      fc.property(arbRule, arbNames, (rule, names) => {
        const rendered = renderAlarmRule(rule, (id) => names[id] as string);
        expect(alarmsOfRule(parseAlarmRule(rendered, STANDARD)).sort()).toEqual(
          alarmsOfRule(rule)
            .map((id) => names[id] as string)
            .sort(),
        );
      }),
    );
  });
});

// ---------------------------------------------------------------- exact strings

const s = (alarm: string, state: AlarmState = "ALARM"): AlarmRuleModel => ({ op: "state", state, alarm });
const and = (...terms: AlarmRuleModel[]): AlarmRuleModel => ({ op: "and", terms });
const or = (...terms: AlarmRuleModel[]): AlarmRuleModel => ({ op: "or", terms });
const neg = (term: AlarmRuleModel): AlarmRuleModel => ({ op: "not", term });
const render = (rule: AlarmRuleModel): string => renderAlarmRule(rule, (id) => id);

describe("renderAlarmRule strings", () => {
  it("renders the brief's example", () => {
    expect(render(or(s("a"), and(s("b", "OK"), neg(s("c")))))).toBe(
      'ALARM("a") OR (OK("b") AND NOT ALARM("c"))',
    );
  });

  it("renders atoms", () => {
    expect(render(s("a"))).toBe('ALARM("a")');
    expect(render(s("a", "OK"))).toBe('OK("a")');
    expect(render(s("a", "INSUFFICIENT_DATA"))).toBe('INSUFFICIENT_DATA("a")');
    expect(render({ op: "const", value: true })).toBe("TRUE");
    expect(render({ op: "const", value: false })).toBe("FALSE");
    expect(render(neg(s("a")))).toBe('NOT ALARM("a")');
    expect(render(neg(neg(s("a"))))).toBe('NOT NOT ALARM("a")');
  });

  it("parenthesizes a group under NOT, also at the top level", () => {
    expect(render(neg(or(s("a"), s("b"))))).toBe('NOT (ALARM("a") OR ALARM("b"))');
    expect(render(neg(and(s("a"), s("b", "OK"))))).toBe('NOT (ALARM("a") AND OK("b"))');
    expect(render(and(neg(or(s("a"), s("b"))), s("c")))).toBe(
      'NOT (ALARM("a") OR ALARM("b")) AND ALARM("c")',
    );
  });

  it("flattens same-operator nesting and parenthesizes mixed nesting", () => {
    expect(render(and(s("a"), and(s("b"), and(s("c"), s("d")))))).toBe(
      'ALARM("a") AND ALARM("b") AND ALARM("c") AND ALARM("d")',
    );
    expect(render(or(or(s("a"), s("b")), or(s("c"))))).toBe('ALARM("a") OR ALARM("b") OR ALARM("c")');
    expect(render(or(and(s("a"), s("b")), and(s("c"), s("d"))))).toBe(
      '(ALARM("a") AND ALARM("b")) OR (ALARM("c") AND ALARM("d"))',
    );
    expect(render(and(s("a"), or(s("b"), and(s("c"), or(s("d"), s("e"))))))).toBe(
      'ALARM("a") AND (ALARM("b") OR (ALARM("c") AND (ALARM("d") OR ALARM("e"))))',
    );
    // NOT stops flattening: its operand is a group of its own.
    expect(render(and(s("a"), neg(and(s("b"), s("c")))))).toBe(
      'ALARM("a") AND NOT (ALARM("b") AND ALARM("c"))',
    );
  });

  it("escapes quotes and backslashes in names", () => {
    expect(renderAlarmRule(s("x"), () => 'we"ird\\name')).toBe('ALARM("we\\"ird\\\\name")');
    expect(renderAlarmRule(or(s("x"), s("y")), (id) => `${id}"`)).toBe('ALARM("x\\"") OR ALARM("y\\"")');
    expect(
      parseAlarmRule(
        renderAlarmRule(s("x"), () => 'a\\"b'),
        STANDARD,
      ),
    ).toEqual(s('a\\"b'));
  });
});

// ---------------------------------------------------------------- DSL

describe("composite alarms in the DSL", () => {
  function flow() {
    const app = new Application("alarm-app", { account: "111122223333", region: "us-east-1" });
    const lambda = app.externalMetric("lambda", {
      namespace: "AWS/Lambda",
      subDimensions: { FunctionName: "ingest" },
    });
    const failures = app.alarm("failures", {
      metric: lambda.get("Errors"),
      threshold: 1,
      comparison: "GreaterThanOrEqualToThreshold",
    });
    const latency = app.alarm("latency", {
      metric: lambda.get("Duration"),
      statistic: "p99",
      threshold: 1000,
      comparison: "GreaterThanThreshold",
      alarmName: "ingest-latency",
    });
    const shared = app.externalAlarm("shared", { alarmName: "shared-health" });
    const sameExplicit = app.externalAlarm("same_explicit", {
      alarmName: "explicit-health",
      account: "111122223333",
      region: "us-east-1",
    });
    const remote = app.externalAlarm("remote", {
      account: "222233334444",
      region: "us-west-2",
      alarmName: "foo-availability",
    });
    const otherRegion = app.externalAlarm("other_region", { region: "eu-west-1", alarmName: "bar-health" });
    const monitor = app.compositeAlarm("monitor", {
      rule: anyOf(failures.is("ALARM"), allOf(shared.is("OK"), not(remote.is("ALARM")))),
    });
    const top = app.compositeAlarm("top", {
      rule: allOf(
        monitor.is("ALARM"),
        not(latency.is("OK")),
        anyOf(sameExplicit.is("INSUFFICIENT_DATA"), otherRegion.is("ALARM")),
      ),
      alarmName: "top-level",
    });
    return { app, monitor, top };
  }

  const rendered = (c: CompositeAlarm): string => c.alarmRule();

  it("uses names for same-account/region alarms and the ARN for an alarm elsewhere", () => {
    const { monitor } = flow();
    expect(rendered(monitor)).toBe(
      'ALARM("alarm-app-failures") OR (OK("shared-health") AND NOT ALARM("arn:aws:cloudwatch:us-west-2:222233334444:alarm:foo-availability"))',
    );
  });

  it("uses explicit alarm names, composite alarm names, and ARNs for other regions of the same account", () => {
    const { top } = flow();
    expect(rendered(top)).toBe(
      'ALARM("alarm-app-monitor") AND NOT OK("ingest-latency") AND (INSUFFICIENT_DATA("explicit-health") OR ALARM("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:bar-health"))',
    );
  });

  it("puts the same string in the model, next to the rule over node ids", () => {
    const { app, monitor, top } = flow();
    const model: FlowModel = app.toModel();
    const m = model.nodes.monitor;
    const t = model.nodes.top;
    if (m?.kind !== "compositeAlarm" || t?.kind !== "compositeAlarm") throw new Error("not composite alarms");
    expect(m.alarmRule).toBe(monitor.alarmRule());
    expect(t.alarmRule).toBe(top.alarmRule());
    expect(m.alarmName).toBe("alarm-app-monitor");
    expect(t.alarmName).toBe("top-level");
    expect(m.rule).toEqual(or(s("failures"), and(s("shared", "OK"), neg(s("remote")))));
    const remote = model.nodes.remote;
    expect(remote?.kind === "externalAlarm" && remote.arn).toBe(
      "arn:aws:cloudwatch:us-west-2:222233334444:alarm:foo-availability",
    );

    // The rendered string means the model's rule under every reading.
    const nameOf: Record<string, string> = {
      failures: "alarm-app-failures",
      shared: "shared-health",
      remote: "arn:aws:cloudwatch:us-west-2:222233334444:alarm:foo-availability",
    };
    const idOf = Object.fromEntries(Object.entries(nameOf).map(([id, n]) => [n, id]));
    for (const states of assignments(alarmsOfRule(m.rule))) {
      const expected = evaluateAlarmRule(m.rule, (id) => states[id] as AlarmState);
      for (const r of READINGS) {
        const p = parseAlarmRule(m.alarmRule, r);
        expect(evaluateAlarmRule(p, (n) => states[idOf[n] as string] as AlarmState)).toBe(expected);
      }
    }
  });

  it("throws FlowValidationError for a rule with an empty group", () => {
    const app = new Application("alarm-app", { account: "111122223333", region: "us-east-1" });
    const c = app.compositeAlarm("empty", { rule: anyOf() });
    expect(() => c.alarmRule()).toThrow(FlowValidationError);
  });
});
