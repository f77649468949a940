/**
 * Deferred work on AWS: each task is an SQS message on the internal queue, delayed until it is due
 * (SQS delays at most 15 minutes; a task received early is sent again with the remaining delay).
 * The sweeper catches anything a crash lost.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DeferredTask, Scheduler } from "../core/hooks";
import { sqsSdk } from "./sdk";

export const MAX_SQS_DELAY_SECONDS = 900;

/** The internal queue's message for deferred work. */
export interface TaskMessage {
  readonly sluice: "task";
  readonly at: number;
  readonly task: DeferredTask;
}

export class SqsScheduler implements Scheduler {
  private readonly sends: Promise<unknown>[] = [];

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly now: () => number,
  ) {}

  schedule(at: number, task: DeferredTask): void {
    this.sends.push(this.send({ sluice: "task", at, task }));
  }

  send(message: TaskMessage): Promise<unknown> {
    const delay = Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.ceil((message.at - this.now()) / 1000)));
    return this.client.send(
      new (sqsSdk().SendMessageCommand)({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: delay,
      }),
    );
  }

  /** Waits for every message scheduled so far; called before an invocation returns. */
  async flush(): Promise<void> {
    const pending = this.sends.splice(0);
    await Promise.all(pending);
  }
}
