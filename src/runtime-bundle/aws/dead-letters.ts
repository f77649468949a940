/**
 * Unprocessable events go to the dead-letter queue with the reason, never silently dropped.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sqsSdk } from "./sdk";

export interface DeadLetter {
  readonly reason: string;
  readonly event: unknown;
  readonly at: string;
}

export class DeadLetters {
  constructor(
    private readonly client: SQSClient | undefined,
    private readonly queueUrl: string | undefined,
  ) {}

  async send(reason: string, event: unknown, now: number): Promise<void> {
    const letter: DeadLetter = { reason, event, at: new Date(now).toISOString() };
    if (!this.client || !this.queueUrl) {
      // No queue configured (tests, misconfiguration): the log line is the record.
      console.error(JSON.stringify({ level: "error", msg: "dead letter (no DLQ configured)", ...letter }));
      return;
    }
    await this.client.send(
      new (sqsSdk().SendMessageCommand)({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(letter),
        MessageAttributes: { reason: { DataType: "String", StringValue: reason.slice(0, 256) } },
      }),
    );
  }
}
