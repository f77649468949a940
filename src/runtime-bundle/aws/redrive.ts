/**
 * Replaying the dead-letter queue: what a DLQ message should become on the internal queue, for a
 * `sluice remote … redrive` command (not built yet; docs/operating.md gives the AWS CLI way).
 *
 * - a router letter carries the event (or, when too large, where it is stored with its SHA-256): the
 *   event goes back; for `failed-retries` the letter's event is the SQS record, and its body goes back;
 * - a letter of an unreadable kind (not JSON, truncated, unknown source…) cannot become a signal by
 *   being sent again: it is left for a person to look at;
 * - any other message (a failed asynchronous invocation: the event itself; a redriven internal
 *   message: the message as sent) goes back as it is.
 */
import { createHash } from "node:crypto";
import type { DeadLetter } from "./dead-letters";
import type { RejectReason } from "./rejections";

/**
 * Kinds of letter whose event is worth sending again once the cause is fixed (a deploy, a permission,
 * an adapter's bug): the others name a payload that no fix of the router makes readable.
 */
const REPLAYABLE: ReadonlySet<RejectReason> = new Set(["failed-retries", "store-limit", "unreadable"]);

export type RedriveAction =
  /** Send this body to the internal queue, then delete the DLQ message. */
  | { readonly send: string }
  /** Leave the DLQ message; the reason says why. */
  | { readonly keep: string };

/**
 * What to do with one DLQ message body. `read` fetches a stored event (an s3:// URI) for letters
 * too large for SQS; its SHA-256 must match the letter's.
 */
export async function redriveAction(
  body: string,
  read: (uri: string) => Promise<string>,
): Promise<RedriveAction> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { send: body }; // not a router letter (a raw message redriven by SQS)
  }
  if (!isLetter(parsed)) return { send: body };
  if (!REPLAYABLE.has(parsed.reasonCode))
    return { keep: `${parsed.reasonCode}: the event cannot be read; fix the sender (${parsed.reason})` };
  let event: unknown = parsed.event;
  if (parsed.stored !== undefined) {
    const text = await read(parsed.stored.uri);
    const digest = createHash("sha256").update(text, "utf8").digest("hex");
    if (digest !== parsed.stored.sha256)
      return {
        keep: `stored event ${parsed.stored.uri} has SHA-256 ${digest}, the letter says ${parsed.stored.sha256}`,
      };
    event = JSON.parse(text) as unknown;
  }
  // An event that came through SQS is the record (or a batch of it): its body goes back.
  const records = (event as { Records?: unknown } | null)?.Records;
  const record = Array.isArray(records) && records.length === 1 ? (records[0] as unknown) : event;
  const inner = (record as { body?: unknown; eventSource?: unknown } | null)?.body;
  if (typeof inner === "string" && (record as { eventSource?: unknown }).eventSource === "aws:sqs")
    return { send: inner };
  return { send: JSON.stringify(event) };
}

function isLetter(v: unknown): v is DeadLetter {
  const o = v as Partial<DeadLetter> | null;
  return (
    o !== null &&
    typeof o === "object" &&
    typeof o.reason === "string" &&
    typeof o.reasonCode === "string" &&
    typeof o.at === "string" &&
    ("event" in o || o.stored !== undefined)
  );
}
