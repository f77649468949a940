/**
 * A faithful Amazon EventBridge event-pattern matcher for the deployment twin: which events a rule's
 * `event_pattern` (as Terraform holds it) lets through, and why PutRule would refuse a pattern.
 *
 * Semantics follow the EventBridge user guide and, where it is silent, aws/event-ruler, the matcher
 * EventBridge is built on:
 * - A pattern compiles to dotted field paths (`detail.object.key`), each with an array of
 *   alternatives (OR); all paths must match (AND). `$or` (at any level) expands the pattern into
 *   alternative sets of paths.
 * - The event is flattened the same way: each scalar (string, number, boolean, null) is a leaf at its
 *   dotted path; arrays add no path step, so a field whose value is an array matches if any element
 *   does. Objects and empty arrays are not leaves: a leaf pattern or `exists` never matches them.
 *   As in event-ruler, `{"a": {"b": ...}}` and `{"a.b": ...}` address the same field.
 * - Array consistency: the leaves matched for one rule must not come from different elements of the
 *   same array (`{"items": {"a": [1], "b": [2]}}` needs one item with both).
 * - A missing field matches only `{ "exists": false }`, which holds when no leaf exists at that path
 *   (in an array, none in the element already chosen by fields earlier in sorted path order).
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
import { compileLeaf, isRecord, type FieldCondition, type JsonScalar } from "./event-pattern-operators";

/** An event pattern as an object (what `JSON.stringify` turns into Terraform's `event_pattern`). */
export type EventPattern = { readonly [key: string]: unknown };

/**
 * The default EventBridge quota on the size of an event pattern, in characters (adjustable to 4096
 * on request).
 */
const MAX_PATTERN_LENGTH = 2048;

/** Field names event-ruler reserves for operators: they cannot be field names inside `$or`. */
const RESERVED_IN_OR = new Set([
  "exactly",
  "equals-ignore-case",
  "prefix",
  "suffix",
  "anything-but",
  "exists",
  "wildcard",
  "numeric",
  "cidr",
  "=",
  "<",
  "<=",
  ">",
  ">=",
  "regex",
  "not-wildcard",
  "not-equals-ignore-case",
  "date-after",
  "date-on-or-after",
  "date-before",
  "date-on-or-before",
  "in-date-range",
  "ip-address-in-range",
  "ip-address-not-in-range",
]);

/** One alternative of a pattern (a `$or` branch combination): dotted path to its condition. */
type SubRule = ReadonlyMap<string, FieldCondition>;

interface Compiled {
  readonly rules: readonly SubRule[];
  readonly errors: readonly string[];
}

/**
 * The reasons EventBridge would reject the pattern at PutRule (an empty list if it is valid): not a
 * JSON object, an empty object, a field that is neither an object nor an array, an empty array, a
 * match value that is neither a scalar nor an operator object, an unknown or malformed operator
 * (prefix, suffix, equals-ignore-case, wildcard with consecutive `*` or a bad escape, anything-but,
 * numeric, exists, cidr), a `$or` that is not an array of at least two objects or that uses an
 * operator name as a field, and a pattern longer than the default 2048-character quota.
 *
 * Each reason starts with the location of the problem, such as `detail.state[0]`.
 *
 * @param pattern - the pattern, as an object or as its JSON text.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
 */
export function patternErrors(pattern: EventPattern | string): string[] {
  return [...compile(pattern).errors];
}

/**
 * Whether EventBridge would deliver `event` to a rule with this pattern. An event that is not a JSON
 * object matches nothing.
 *
 * @param pattern - the pattern, as an object or as its JSON text (Terraform's `event_pattern`).
 * @param event - the event, a JSON value (it is serialised, so `undefined` properties are absent).
 * @throws Error if the pattern is invalid (see {@link patternErrors}), listing the reasons.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
export function matchesPattern(pattern: EventPattern | string, event: unknown): boolean {
  const { rules, errors } = compile(pattern);
  if (errors.length > 0) throw new Error(`Invalid EventBridge event pattern: ${errors.join("; ")}`);
  const serialised = JSON.stringify(event);
  const root: unknown = serialised === undefined ? undefined : JSON.parse(serialised);
  if (!isRecord(root)) return false;
  const index = indexEvent(root);
  return rules.some((rule) => matchesRule(rule, index));
}

// ---------------------------------------------------------------------------------- compiling

function compile(pattern: EventPattern | string): Compiled {
  const invalid = (reason: string): Compiled => ({ rules: [], errors: [reason] });
  let text: string | undefined;
  let root: unknown;
  try {
    text = typeof pattern === "string" ? pattern : JSON.stringify(pattern);
    root = text === undefined ? undefined : JSON.parse(text);
  } catch (e) {
    return invalid(`pattern: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (text === undefined || !isRecord(root))
    return invalid("pattern: the event pattern must be a JSON object");
  const errors: string[] = [];
  if (text.length > MAX_PATTERN_LENGTH) {
    errors.push(`pattern: ${text.length} characters, over the ${MAX_PATTERN_LENGTH}-character default quota`);
  }
  const rules = compileObject(root, "", "", false, errors);
  return { rules, errors };
}

/** Every combination of one alternative of `a` with one of `b`, `b`'s paths overriding `a`'s. */
function product(a: readonly SubRule[], b: readonly SubRule[]): SubRule[] {
  return a.flatMap((x) => b.map((y) => new Map([...x, ...y])));
}

/**
 * An object of the pattern: `path` is its dotted field path, `where` its location for messages;
 * inside a `$or` branch, operator names are refused as field names.
 */
function compileObject(
  node: Record<string, unknown>,
  path: string,
  where: string,
  inOr: boolean,
  errors: string[],
): SubRule[] {
  const keys = Object.keys(node);
  if (keys.length === 0) errors.push(`${where || "pattern"}: empty objects are not allowed`);
  let rules: SubRule[] = [new Map()];
  for (const key of keys) {
    const value = node[key];
    const at = where === "" ? key : `${where}.${key}`;
    if (key === "$or") {
      rules = product(rules, compileOr(value, path, at, errors));
      continue;
    }
    if (inOr && RESERVED_IN_OR.has(key)) {
      errors.push(`${at}: "${key}" is an operator name, not allowed as a field name inside $or`);
      continue;
    }
    const fieldPath = path === "" ? key : `${path}.${key}`;
    if (Array.isArray(value)) {
      const condition = compileLeaf(value, at, errors);
      rules = rules.map((rule) => new Map(rule).set(fieldPath, condition));
    } else if (isRecord(value)) {
      rules = product(rules, compileObject(value, fieldPath, at, inOr, errors));
    } else {
      errors.push(`${at}: must be an object or an array of match values`);
    }
  }
  return rules;
}

function compileOr(value: unknown, path: string, at: string, errors: string[]): SubRule[] {
  if (!Array.isArray(value)) {
    errors.push(`${at}: $or must be an array of objects`);
    return [new Map()];
  }
  if (value.length < 2) errors.push(`${at}: $or needs at least 2 objects`);
  return value.flatMap((branch: unknown, i) => {
    if (isRecord(branch)) return compileObject(branch, path, `${at}[${i}]`, true, errors);
    errors.push(`${at}[${i}]: only objects are allowed in $or`);
    return [];
  });
}

// ---------------------------------------------------------------------------------- matching

/** Array id to element index, for each array enclosing a leaf (event-ruler's ArrayMembership). */
type Membership = ReadonlyMap<number, number>;

interface Leaf {
  readonly value: JsonScalar;
  readonly arrays: Membership;
}

/** The event's leaves by dotted path. */
function indexEvent(event: Record<string, unknown>): Map<string, Leaf[]> {
  const index = new Map<string, Leaf[]>();
  let arrayCount = 0;
  const visit = (node: unknown, path: string, arrays: Membership): void => {
    if (Array.isArray(node)) {
      const id = arrayCount++;
      node.forEach((element: unknown, i) => {
        const container = Array.isArray(element) || isRecord(element);
        visit(element, path, container ? new Map(arrays).set(id, i) : arrays);
      });
    } else if (isRecord(node)) {
      for (const [key, value] of Object.entries(node))
        visit(value, path === "" ? key : `${path}.${key}`, arrays);
    } else if (node === null || ["string", "number", "boolean"].includes(typeof node)) {
      const leaves = index.get(path) ?? [];
      leaves.push({ value: node as JsonScalar, arrays });
      index.set(path, leaves);
    }
  };
  visit(event, "", new Map());
  return index;
}

/** The membership so far extended with a leaf's, or undefined if they disagree on an array element. */
function merge(soFar: Membership, leaf: Membership): Membership | undefined {
  let merged: Map<number, number> | undefined;
  for (const [array, element] of leaf) {
    const chosen = soFar.get(array);
    if (chosen === undefined) (merged ??= new Map(soFar)).set(array, element);
    else if (chosen !== element) return undefined;
  }
  return merged ?? soFar;
}

/**
 * Whether some array-consistent choice of leaves satisfies every path of the rule. Paths are taken
 * in sorted order, as event-ruler walks them, which only matters to `exists: false` inside arrays.
 */
function matchesRule(rule: SubRule, index: ReadonlyMap<string, readonly Leaf[]>): boolean {
  const fields = [...rule].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const from = (n: number, arrays: Membership): boolean => {
    const field = fields[n];
    if (field === undefined) return true;
    const [path, condition] = field;
    const leaves = (index.get(path) ?? []).flatMap((leaf) => {
      const merged = merge(arrays, leaf.arrays);
      return merged === undefined ? [] : [{ value: leaf.value, merged }];
    });
    if (condition.matchesAbsent && leaves.length === 0 && from(n + 1, arrays)) return true;
    return leaves.some(({ value, merged }) => condition.tests.some((t) => t(value)) && from(n + 1, merged));
  };
  return from(0, new Map());
}
