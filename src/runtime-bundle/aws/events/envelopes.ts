/**
 * Envelopes: unwraps what a Lambda receives (SQS batches, SNS notifications, S3 notification Records,
 * EventBridge events, or any nesting of them: S3 → SNS → SQS doubly JSON-encodes) into the payloads
 * the adapters understand, each with the idempotency id of the innermost envelope that carried it.
 */
import { describeValue, field, isObject, object, parseJson, preview, text, type JsonObject } from "./fields";
import type { Sink } from "./types";

export type Payload =
  /** One entry of an S3 notification's Records. */
  | { readonly kind: "s3Record"; readonly record: JsonObject }
  /** Sent when a bucket notification configuration is saved. */
  | { readonly kind: "s3TestEvent"; readonly event: JsonObject }
  /** An event with "detail-type" and "source" (EventBridge, CloudWatch Events). */
  | { readonly kind: "eventBridge"; readonly event: JsonObject }
  /** A CloudWatch alarm action invoking Lambda directly (alarmData, alarmArn, accountId). */
  | { readonly kind: "alarmAction"; readonly event: JsonObject }
  /** A CloudWatch alarm notification through SNS (AlarmName, NewStateValue, StateChangeTime). */
  | { readonly kind: "classicAlarm"; readonly message: JsonObject };

export interface Unwrapped {
  readonly payload: Payload;
  /** Id of the innermost envelope (SQS messageId, SNS MessageId, EventBridge id) when there is one. */
  readonly envelopeId?: string;
  /** Envelopes passed through, outermost first: "sqs", "sns". */
  readonly via: readonly string[];
}

/** Deeper nesting than any AWS delivery path produces: refuse rather than recurse on hostile input. */
export const MAX_NESTING = 8;

interface Context {
  readonly id?: string;
  readonly via: readonly string[];
  readonly depth: number;
}

/** The payloads inside a raw delivery; what cannot be unwrapped goes to `sink` as ignored. */
export function unwrap(raw: unknown, sink: Sink): Unwrapped[] {
  const out: Unwrapped[] = [];
  visit(raw, { via: [], depth: 0 }, out, sink);
  return out;
}

function visit(value: unknown, ctx: Context, out: Unwrapped[], sink: Sink): void {
  if (ctx.depth > MAX_NESTING) {
    sink.reject(`${where(ctx)} is nested more than ${MAX_NESTING} envelopes deep`, ctx.id);
    return;
  }
  const deeper: Context = { ...ctx, depth: ctx.depth + 1 };
  if (typeof value === "string") {
    const parsed = parseJson(value);
    if (parsed === undefined) {
      sink.reject(
        isTruncatedJson(value)
          ? `${where(ctx)} is truncated JSON (${value.length} characters, ending ${preview(value.slice(-40))})`
          : `${where(ctx)} is not JSON: ${preview(value)}`,
        ctx.id,
      );
      return;
    }
    visit(parsed.value, deeper, out, sink);
    return;
  }
  if (Array.isArray(value)) {
    // EventBridge Pipes and hand-made batches deliver arrays of events.
    if (value.length === 0) sink.reject(`${where(ctx)} is an empty array`, ctx.id);
    for (const item of value) visit(item, deeper, out, sink);
    return;
  }
  if (!isObject(value)) {
    sink.reject(`${where(ctx)} is ${describeValue(value)}, not an event`, ctx.id);
    return;
  }
  const records = field(value, "Records");
  if (records !== undefined) {
    if (!Array.isArray(records)) {
      sink.reject(`${where(ctx)} has Records that are ${describeValue(records)}, not a list`, ctx.id);
    } else if (records.length === 0) {
      sink.reject(`${where(ctx)} has no Records`, ctx.id);
    } else {
      for (const r of records) visitRecord(r, deeper, out, sink);
    }
    return;
  }
  if (isSnsEnvelope(value)) {
    visitSns(value, deeper, out, sink);
    return;
  }
  const id = text(value, "id") ?? ctx.id;
  const emit = (payload: Payload, envelopeId = id): void => {
    out.push(envelopeId === undefined ? { payload, via: ctx.via } : { payload, envelopeId, via: ctx.via });
  };
  if (typeof field(value, "detail-type") === "string" && typeof field(value, "source") === "string") {
    emit({ kind: "eventBridge", event: value });
  } else if (object(value, "alarmData") !== undefined) {
    emit({ kind: "alarmAction", event: value }, ctx.id);
  } else if (
    typeof field(value, "AlarmName") === "string" &&
    typeof field(value, "NewStateValue") === "string"
  ) {
    emit({ kind: "classicAlarm", message: value }, ctx.id);
  } else if (field(value, "Event") === "s3:TestEvent") {
    emit({ kind: "s3TestEvent", event: value }, text(value, "RequestId") ?? ctx.id);
  } else {
    sink.reject(`${where(ctx)} is not a known AWS event: ${describeValue(value)}`, ctx.id);
  }
}

/** An entry of Records: an SQS message, an SNS notification or an S3 event (eventSource may be missing). */
function visitRecord(record: unknown, ctx: Context, out: Unwrapped[], sink: Sink): void {
  if (!isObject(record)) {
    sink.reject(`a record of ${where(ctx)} is ${describeValue(record)}`, ctx.id);
    return;
  }
  const source = text(record, "eventSource") ?? text(record, "EventSource");
  if (source === "aws:sqs" || (source === undefined && field(record, "body") !== undefined)) {
    const id = text(record, "messageId") ?? ctx.id;
    const body = field(record, "body");
    const inner: Context = { ...ctx, via: [...ctx.via, "sqs"], ...(id === undefined ? {} : { id }) };
    if (typeof body !== "string") {
      sink.reject(`SQS message has a body that is ${describeValue(body)}, not text`, id);
      return;
    }
    visit(body, inner, out, sink);
  } else if (source === "aws:sns" || (source === undefined && field(record, "Sns") !== undefined)) {
    const sns = object(record, "Sns");
    if (sns === undefined) {
      sink.reject(`SNS record has no Sns notification`, ctx.id);
      return;
    }
    visitSns(sns, ctx, out, sink);
  } else if (source === "aws:s3" || (source === undefined && object(record, "s3") !== undefined)) {
    out.push({
      payload: { kind: "s3Record", record },
      via: ctx.via,
      ...(ctx.id === undefined ? {} : { envelopeId: ctx.id }),
    });
  } else {
    const what = source === undefined ? describeValue(record) : `from ${preview(source)}`;
    sink.reject(`a record of ${where(ctx)} is not an SQS, SNS or S3 record: ${what}`, ctx.id);
  }
}

/** An SNS notification: the record's `Sns`, or the JSON envelope SNS puts in an SQS body (non-raw delivery). */
function isSnsEnvelope(o: JsonObject): boolean {
  return (
    typeof field(o, "Type") === "string" &&
    field(o, "Message") !== undefined &&
    (typeof field(o, "TopicArn") === "string" || typeof field(o, "MessageId") === "string")
  );
}

function visitSns(sns: JsonObject, ctx: Context, out: Unwrapped[], sink: Sink): void {
  const id = text(sns, "MessageId") ?? ctx.id;
  const type = field(sns, "Type");
  if (type !== undefined && type !== "Notification") {
    sink.ignore(
      `SNS ${typeof type === "string" ? preview(type) : describeValue(type)} message, not a notification`,
      id,
    );
    return;
  }
  const message = field(sns, "Message");
  if (typeof message !== "string") {
    sink.reject(`SNS notification has a Message that is ${describeValue(message)}, not text`, id);
    return;
  }
  visit(message, { ...ctx, via: [...ctx.via, "sns"], ...(id === undefined ? {} : { id }) }, out, sink);
}

function where(ctx: Context): string {
  const last = ctx.via[ctx.via.length - 1];
  if (last === "sqs") return "SQS message body";
  if (last === "sns") return "SNS message";
  return "event";
}

/** JSON that starts as an object or array and ends before it closes (cut short on the way). */
function isTruncatedJson(text: string): boolean {
  if (!/^\s*[[{]/.test(text)) return false;
  try {
    JSON.parse(text);
    return false;
  } catch (e) {
    if (!(e instanceof SyntaxError)) return false;
    if (/end of (JSON )?(input|data)|Unterminated/i.test(e.message)) return true;
    // V8 names where parsing stopped: at the very end, the text was cut short.
    const at = /at position (\d+)/.exec(e.message);
    return at !== null && Number(at[1]) >= text.trimEnd().length;
  }
}
