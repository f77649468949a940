/**
 * The value half of the EventBridge event-pattern matcher (see event-pattern.ts): compiles one pattern
 * leaf, an array of alternatives, into tests on a present event value, recording why EventBridge would
 * refuse it. The rules follow the AWS documentation and, where it is silent, the open-source matcher
 * EventBridge is built on (aws/event-ruler, JsonRuleCompiler and ByteMachine).
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */

/** A JSON scalar: what an event leaf holds. */
export type JsonScalar = string | number | boolean | null;

/** One alternative of a leaf: whether a present event value satisfies it. */
export type ValueTest = (value: JsonScalar) => boolean;

/** A compiled leaf: the field matches when present with a value one test accepts, or absent if allowed. */
export interface FieldCondition {
  readonly tests: readonly ValueTest[];
  /** `{ "exists": false }` is among the alternatives. */
  readonly matchesAbsent: boolean;
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ABSENT = Symbol("absent");
type Alternative = ValueTest | typeof ABSENT | undefined;

/**
 * Compiles the array of alternatives of one pattern leaf; problems are appended to `errors` as
 * `<where>: <reason>`.
 */
export function compileLeaf(values: readonly unknown[], where: string, errors: string[]): FieldCondition {
  if (values.length === 0) errors.push(`${where}: empty arrays are not allowed`);
  const tests: ValueTest[] = [];
  let matchesAbsent = false;
  values.forEach((value, i) => {
    const at = `${where}[${i}]`;
    let alternative: Alternative;
    if (typeof value === "string") alternative = exactString(value);
    // JSON numbers compare as numbers: 5 matches 5.0 and 5e0, never the string "5".
    else if (typeof value === "number" || typeof value === "boolean" || value === null) {
      alternative = (v) => v === value;
    } else if (isRecord(value)) alternative = compileOperator(value, at, errors);
    else
      errors.push(`${at}: a match value must be a string, number, true, false, null or an operator object`);
    if (alternative === ABSENT) matchesAbsent = true;
    else if (alternative !== undefined) tests.push(alternative);
  });
  return { tests, matchesAbsent };
}

const isString = (v: JsonScalar): v is string => typeof v === "string";
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function compileOperator(op: Record<string, unknown>, at: string, errors: string[]): Alternative {
  const fail = (message: string): undefined => void errors.push(`${at}: ${message}`);
  const keys = Object.keys(op);
  const name = keys[0];
  if (name === undefined || keys.length !== 1) {
    return fail(`an operator object needs exactly one key, found ${keys.length}`);
  }
  const arg = op[name];
  switch (name) {
    case "prefix":
    case "suffix": {
      const anchor = name === "prefix" ? "start" : "end";
      if (typeof arg === "string") {
        return name === "prefix"
          ? (v) => isString(v) && v.startsWith(arg)
          : (v) => isString(v) && v.endsWith(arg);
      }
      const folded = isRecord(arg) ? ignoreCaseArgument(arg) : undefined;
      if (folded === undefined) return fail(`${name} takes a string or { "equals-ignore-case": string }`);
      return regExpTest(ignoreCaseRegExp(folded, anchor));
    }
    case "equals-ignore-case":
      if (typeof arg !== "string") return fail("equals-ignore-case takes a string");
      return regExpTest(ignoreCaseRegExp(arg, "both"));
    case "wildcard": {
      if (typeof arg !== "string") return fail("wildcard takes a string");
      const parsed = wildcardRegExp(arg);
      return typeof parsed === "string" ? fail(parsed) : regExpTest(parsed);
    }
    case "anything-but":
      return compileAnythingBut(arg, fail);
    case "numeric":
      return compileNumeric(arg, fail);
    case "exists":
      if (typeof arg !== "boolean") return fail("exists takes true or false");
      return arg ? () => true : ABSENT;
    case "cidr": {
      const range = typeof arg === "string" ? parseCidr(arg) : "cidr takes a string";
      return typeof range === "string" ? fail(range) : (v) => isString(v) && inRange(range, parseIp(v));
    }
    default:
      return fail(`unknown operator "${name}"`);
  }
}

/** The string of `{ "equals-ignore-case": string }`, else undefined. */
function ignoreCaseArgument(arg: Record<string, unknown>): string | undefined {
  const keys = Object.keys(arg);
  const value = arg["equals-ignore-case"];
  return keys.length === 1 && typeof value === "string" ? value : undefined;
}

const regExpTest =
  (re: RegExp): ValueTest =>
  (v) =>
    isString(v) && re.test(v);

/** Strings of an anything-but { op: string | string[] } operand, else undefined. */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v): v is string => typeof v === "string")) return value;
  return undefined;
}

/**
 * anything-but matches any present value except the listed ones: a string list excludes only equal
 * strings and a number list only equal numbers, so a value of another type (number, boolean, null)
 * always matches, as in event-ruler.
 */
function compileAnythingBut(arg: unknown, fail: (message: string) => undefined): Alternative {
  if (typeof arg === "string" || isFiniteNumber(arg)) return (v) => v !== arg;
  if (Array.isArray(arg)) {
    if (arg.length === 0) return fail("anything-but takes a non-empty list");
    if (arg.every((v): v is string => typeof v === "string")) {
      const excluded = new Set<string>(arg);
      return (v) => !(isString(v) && excluded.has(v));
    }
    if (arg.every(isFiniteNumber)) return (v) => !(typeof v === "number" && arg.includes(v));
    return fail("an anything-but list holds only strings or only numbers");
  }
  if (!isRecord(arg)) return fail("anything-but takes a string, a number, a list of either, or an object");
  const keys = Object.keys(arg);
  const op = keys[0];
  if (op === undefined || keys.length !== 1) return fail("anything-but takes an object with exactly one key");
  const prefixOrSuffix = op === "prefix" || op === "suffix";
  if (!prefixOrSuffix && op !== "equals-ignore-case" && op !== "wildcard") {
    return fail(`unsupported anything-but operator "${op}"`);
  }
  const values = stringList(arg[op]);
  if (values === undefined) return fail(`anything-but ${op} takes a string or a list of strings`);
  if (prefixOrSuffix && values.includes("")) return fail(`anything-but ${op} must not be empty`);
  const res: RegExp[] = [];
  for (const x of prefixOrSuffix ? [] : values) {
    const parsed = op === "wildcard" ? wildcardRegExp(x) : ignoreCaseRegExp(x, "both");
    if (typeof parsed === "string") return fail(parsed);
    res.push(parsed);
  }
  const excluded = prefixOrSuffix
    ? (s: string) => values.some((x) => (op === "prefix" ? s.startsWith(x) : s.endsWith(x)))
    : (s: string) => res.some((re) => re.test(s));
  return (v) => !(isString(v) && excluded(v));
}

/** `[op, n]` for =, <, <=, >, >=, or a range `[">" | ">=", low, "<" | "<=", high]` with low < high. */
function compileNumeric(arg: unknown, fail: (message: string) => undefined): Alternative {
  if (!Array.isArray(arg)) return fail("numeric takes an array");
  const [op, value, upperOp, upper] = arg as unknown[];
  if (typeof op !== "string") return fail("numeric starts with an operator string");
  if (!["=", "<", "<=", ">", ">="].includes(op)) return fail(`unknown numeric operator "${op}"`);
  if (!isFiniteNumber(value)) return fail(`the value of numeric "${op}" must be a number`);
  const lower = (v: number): boolean => (op === ">" ? v > value : v >= value);
  if (arg.length === 2) {
    const compare: Record<string, (v: number) => boolean> = {
      "=": (v) => v === value,
      "<": (v) => v < value,
      "<=": (v) => v <= value,
      ">": lower,
      ">=": lower,
    };
    const test = compare[op];
    return (v) => typeof v === "number" && test !== undefined && test(v);
  }
  if (op !== ">" && op !== ">=") return fail(`too many elements in numeric "${op}"`);
  if (upperOp !== "<" && upperOp !== "<=") return fail(`a numeric range continues with "<" or "<="`);
  if (!isFiniteNumber(upper)) return fail(`the value of numeric "${upperOp}" must be a number`);
  if (arg.length !== 4) return fail("too many elements in numeric range");
  if (!(value < upper)) return fail("the bottom of a numeric range must be less than its top");
  return (v) => typeof v === "number" && lower(v) && (upperOp === "<" ? v < upper : v <= upper);
}

// ---------------------------------------------------------------------------------- strings

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * equals-ignore-case as event-ruler does it: each UTF-16 unit of the pattern matches its lower or
 * upper case (so "ß" matches "ß" and "SS"); the event value is not folded.
 */
function ignoreCaseRegExp(pattern: string, anchor: "start" | "end" | "both"): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const unit = pattern.charAt(i);
    const lower = unit.toLowerCase();
    const upper = unit.toUpperCase();
    source += lower === upper ? escapeRegExp(lower) : `(?:${escapeRegExp(lower)}|${escapeRegExp(upper)})`;
  }
  return new RegExp(`${anchor === "end" ? "" : "^"}${source}${anchor === "start" ? "" : "$"}`);
}

/**
 * A wildcard pattern: `*` is any run of characters, `\*` a star and `\\` a backslash. EventBridge
 * rejects consecutive `*` and a backslash before anything else. Returns the reason on error.
 */
export function wildcardRegExp(pattern: string): RegExp | string {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "*") {
      if (pattern.charAt(i + 1) === "*") return `consecutive wildcard characters at position ${i}`;
      source += "[\\s\\S]*";
    } else if (c === "\\") {
      const next = pattern.charAt(i + 1);
      if (next !== "*" && next !== "\\") return `invalid escape character at position ${i}`;
      source += escapeRegExp(next);
      i++;
    } else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`);
}

// ---------------------------------------------------------------------------------- IP addresses

/**
 * An exact string; one that is an IP address matches the same address written differently
 * ("2001:db8::1" and "2001:DB8:0:0:0:0:0:1"), as event-ruler compiles it to a one-address range.
 */
function exactString(pattern: string): ValueTest {
  const ip = parseIp(pattern);
  if (ip === undefined) return (v) => v === pattern;
  return (v) => isString(v) && (v === pattern || sameBytes(ip, parseIp(v)));
}

function sameBytes(a: readonly number[], b: readonly number[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The 4 or 16 bytes of an IPv4 or (pure hexadecimal) IPv6 address literal, else undefined. */
export function parseIp(text: string): number[] | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) {
    const bytes = text.split(".").map(Number);
    return bytes.every((b) => b <= 255) ? bytes : undefined;
  }
  if (!/^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string | undefined): string[] => (s === undefined || s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(Math.max(missing, 0)).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const bytes = all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  // Java's InetAddress (event-ruler) turns an IPv4-mapped IPv6 address into the IPv4 one.
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

interface IpRange {
  readonly base: readonly number[];
  readonly bits: number;
}

/** A CIDR block, or the reason it is malformed (event-ruler accepts masks /0-/31 and /0-/127). */
function parseCidr(text: string): IpRange | string {
  const parts = text.split("/");
  if (parts.length !== 2) return `malformed CIDR "${text}": one "/" required`;
  const [address = "", mask = ""] = parts;
  if (!/^[+-]?\d+$/.test(mask)) return `malformed CIDR "${text}": the mask bits must be an integer`;
  const bits = Number(mask);
  const base = parseIp(address);
  if (base === undefined) return `malformed CIDR "${text}": invalid IP address`;
  const max = base.length === 4 ? 31 : 127;
  if (bits < 0 || bits > max) return `malformed CIDR "${text}": mask bits must be between 0 and ${max}`;
  return { base, bits };
}

function inRange(range: IpRange, ip: readonly number[] | undefined): boolean {
  if (ip === undefined || ip.length !== range.base.length) return false;
  for (let bit = 0; bit < range.bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((ip[byte] ?? 0) & mask) !== ((range.base[byte] ?? 0) & mask)) return false;
  }
  return true;
}
