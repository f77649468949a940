/**
 * Defensive reading of untrusted JSON: every accessor tolerates any input (null-prototype objects,
 * arrays, wrong types) and never throws, so a malformed delivery becomes an ignored entry, not a crash.
 */
import { parseIso } from "../../../flow/model/strftime";

export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An own property (never one inherited from Object.prototype, such as `constructor`). */
export function field(o: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** A non-empty string property. */
export function text(o: JsonObject, key: string): string | undefined {
  const v = field(o, key);
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

export function object(o: JsonObject, key: string): JsonObject | undefined {
  const v = field(o, key);
  return isObject(v) ? v : undefined;
}

export function list(o: JsonObject, key: string): readonly unknown[] | undefined {
  const v = field(o, key);
  return Array.isArray(v) ? v : undefined;
}

/** The JSON value of a string, or undefined when it is not JSON. */
export function parseJson(value: string): { readonly value: unknown } | undefined {
  try {
    return { value: JSON.parse(value) as unknown };
  } catch {
    return undefined;
  }
}

/** An EventBridge event's `detail`: an object, or (EventBridge Scheduler) a JSON string of one. */
export function eventDetail(event: JsonObject): JsonObject | undefined {
  const d = field(event, "detail");
  if (isObject(d)) return d;
  if (typeof d === "string") {
    const parsed = parseJson(d);
    if (parsed !== undefined && isObject(parsed.value)) return parsed.value;
  }
  return undefined;
}

/** A short quoted preview of a text, for reasons. */
export function preview(value: string, max = 60): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}

/** What a value is, in a few words: `an object with keys "a", "b"`, `a number`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `the text ${preview(value)}`;
  if (typeof value !== "object") return `a ${typeof value}`;
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch {
    return "an unreadable object";
  }
  if (keys.length === 0) return "an empty object";
  const shown = keys.slice(0, 8).map((k) => preview(k, 30));
  return `an object with keys ${shown.join(", ")}${keys.length > 8 ? ", …" : ""}`;
}

/** The message of anything thrown. */
export function thrownMessage(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return "unknown error";
  }
}

/**
 * Epoch ms of an AWS timestamp: ISO-8601 with `Z`, `±HH:MM` or CloudWatch's `±HHMM`
 * ("2019-10-02T17:04:40.989+0000"); undefined for anything else.
 */
export function parseAwsTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const normalized = value.trim().replace(/(T[^+-]*[+-]\d{2})(\d{2})$/, "$1:$2");
  return parseIso(normalized);
}

export const ACCOUNT_ID = /^\d{12}$/;

/** A 12-digit account id, or undefined (missing, or a placeholder such as "EXAMPLE"). */
export function accountId(value: unknown): string | undefined {
  return typeof value === "string" && ACCOUNT_ID.test(value) ? value : undefined;
}

/** The account of an ARN `arn:<partition>:<service>:<region>:<account>:…`, when it is a real one. */
export function arnAccount(arn: unknown): string | undefined {
  return typeof arn === "string" ? accountId(arn.split(":")[4]) : undefined;
}

/** The last path segment of an ARN's resource: `rule/bus/name` and `schedule/group/name` → name. */
export function arnResourceName(arn: string): string {
  const resource = arn.split(":").slice(5).join(":");
  const base = resource === "" ? arn : resource;
  return base.slice(base.lastIndexOf("/") + 1);
}
