/**
 * Unprocessable events go to the dead-letter queue with the reason, never silently dropped.
 *
 * A letter is bounded: SQS takes at most 262,144 bytes of body and message attributes. A letter
 * whose event would not fit keeps the event whole in the storage bucket, under
 * `dead_letters/<date>/<id>.json` (`DEAD_LETTERS_PREFIX`), and the letter carries where it is, its
 * size and its SHA-256 instead of the event: nothing is truncated.
 */
import { createHash, randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { DEAD_LETTERS_PREFIX } from "../../flow/model/deployment-contract";
import { reasonCode, type RejectReason } from "./rejections";
import { sqsSdk } from "./sdk";

/** SQS's message size limit: body and message attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 262_144;
/** Room kept for the message attributes and the letter's other fields. */
const LETTER_MARGIN_BYTES = 4096;
/** The longest reason a letter carries in full (a reason names what was seen, with previews). */
const MAX_REASON_CHARS = 4000;

export interface DeadLetter {
  readonly reason: string;
  /** The reason's kind (rejections.ts). */
  readonly reasonCode: RejectReason;
  /** The event, when the letter can carry it. */
  readonly event?: unknown;
  /** Where the event is kept when the letter cannot carry it. */
  readonly stored?: { readonly uri: string; readonly bytes: number; readonly sha256: string };
  readonly at: string;
}

/** Where a letter too large for SQS keeps its event. */
export interface LetterStorage {
  readonly bucket: string;
  put(key: string, body: string): Promise<void>;
}

export class DeadLetters {
  constructor(
    private readonly client: SQSClient | undefined,
    private readonly queueUrl: string | undefined,
    private readonly storage?: LetterStorage,
  ) {}

  /** Sends a letter; throws when it cannot be kept (the caller lets the delivery be retried). */
  async send(reason: string, event: unknown, now: number): Promise<DeadLetter> {
    const at = new Date(now).toISOString();
    const code = reasonCode(reason);
    const fullReason =
      reason.length > MAX_REASON_CHARS
        ? `${reason.slice(0, MAX_REASON_CHARS)}… (${reason.length} characters)`
        : reason;
    const eventJson = JSON.stringify(event) ?? "null";
    let letter: DeadLetter = { reason: fullReason, reasonCode: code, event, at };
    let body = JSON.stringify(letter);
    if (Buffer.byteLength(body, "utf8") > SQS_MAX_MESSAGE_BYTES - LETTER_MARGIN_BYTES) {
      if (!this.storage)
        throw new Error(
          `dead letter of ${Buffer.byteLength(body, "utf8")} bytes exceeds SQS's ${SQS_MAX_MESSAGE_BYTES} and no storage bucket is configured`,
        );
      const key = `${DEAD_LETTERS_PREFIX}${at.slice(0, 10)}/${at.replace(/[:.]/g, "")}-${randomUUID()}.json`;
      await this.storage.put(key, eventJson);
      letter = {
        reason: fullReason,
        reasonCode: code,
        stored: {
          uri: `s3://${this.storage.bucket}/${key}`,
          bytes: Buffer.byteLength(eventJson, "utf8"),
          sha256: createHash("sha256").update(eventJson, "utf8").digest("hex"),
        },
        at,
      };
      body = JSON.stringify(letter);
    }
    if (!this.client || !this.queueUrl) {
      // No queue configured (tests, misconfiguration): the log line is the record.
      console.error(JSON.stringify({ level: "error", msg: "dead letter (no DLQ configured)", ...letter }));
      return letter;
    }
    await this.client.send(
      new (sqsSdk().SendMessageCommand)({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: {
          reason: { DataType: "String", StringValue: fullReason.slice(0, 256) },
          reasonCode: { DataType: "String", StringValue: code },
        },
      }),
    );
    return letter;
  }
}
