/**
 * SDK clients of the twin: real AWS SDK v3 clients whose calls are authorized as a role (the IAM
 * middleware) and then either sent to a local stand-in (dynalite, s3rver) or answered by a twin of
 * the service (SQS queues of the module, the engines).
 */
import { createHash } from "node:crypto";
import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments } from "@smithy/types";

/** The part of an SDK v3 client the twin uses. */
interface StackClient {
  readonly middlewareStack: {
    add(
      middleware: (
        next: InitializeHandler<object, object>,
        context: HandlerExecutionContext,
      ) => InitializeHandler<object, object>,
      options: { step: "initialize"; priority: "low"; name: string },
    ): void;
  };
}
/** What a service twin answers for a command, by command name (`StartJobRunCommand`). */
export type ServiceAnswer = (command: string, input: Record<string, unknown>) => Promise<unknown>;

/**
 * Answers every command of `client` with `answer` instead of sending it: placed at the end of the
 * initialize step, after the authorization middleware, so a denied call never reaches the twin.
 */
export function answeredBy<C>(client: C, answer: ServiceAnswer): C {
  (client as unknown as StackClient).middlewareStack.add(
    (_next, context) => async (args: InitializeHandlerArguments<object>) => {
      const output = (await answer(
        String(context.commandName),
        args.input as Record<string, unknown>,
      )) as object;
      return { output: { $metadata: { httpStatusCode: 200 }, ...output }, response: {} };
    },
    { step: "initialize", priority: "low", name: "sluiceTwinAnswer" },
  );
  return client;
}

/** A message a queue of the module received. */
export interface QueuedMessage {
  readonly queue: string;
  readonly messageId: string;
  readonly body: string;
  readonly delaySeconds: number;
  readonly sentAt: number;
  readonly attributes?: Record<string, unknown>;
}

/** SQS limit on a message, body and attributes together. */
export const SQS_MESSAGE_MAX_BYTES = 262_144;

/**
 * The module's queues: SendMessage/SendMessageBatch to a queue the module created (by URL), within
 * SQS's size and delay limits; everything else is a twin error.
 */
export class QueueTwin {
  readonly messages: QueuedMessage[] = [];

  constructor(
    private readonly urls: ReadonlySet<string>,
    private readonly now: () => number,
  ) {}

  answer: ServiceAnswer = async (command, input) => {
    // The SDK checks each message's MD5 against the one SQS answers, as SQS computes it.
    if (command === "SendMessageCommand") {
      return { MessageId: this.accept(input), MD5OfMessageBody: md5(String(input.MessageBody ?? "")) };
    }
    if (command === "SendMessageBatchCommand") {
      const entries = (input.Entries as Record<string, unknown>[] | undefined) ?? [];
      return {
        Successful: entries.map((e) => ({
          Id: e.Id,
          MessageId: this.accept({ ...e, QueueUrl: input.QueueUrl }),
          MD5OfMessageBody: md5(String(e.MessageBody ?? "")),
        })),
        Failed: [],
      };
    }
    throw awsError("InvalidAction", `the SQS twin does not implement ${command}`);
  };

  /** Removes and returns the messages of `queue` that are due at `now`. */
  take(queue: string, now: number): QueuedMessage[] {
    const due = this.messages.filter((m) => m.queue === queue && m.sentAt + m.delaySeconds * 1000 <= now);
    for (const m of due) this.messages.splice(this.messages.indexOf(m), 1);
    return due;
  }

  private accept(input: Record<string, unknown>): string {
    const queue = String(input.QueueUrl ?? "");
    if (!this.urls.has(queue))
      throw awsError("QueueDoesNotExist", `The specified queue does not exist: ${queue}`);
    const body = String(input.MessageBody ?? "");
    const size = Buffer.byteLength(body) + Buffer.byteLength(JSON.stringify(input.MessageAttributes ?? {}));
    if (size > SQS_MESSAGE_MAX_BYTES) {
      throw awsError(
        "InvalidParameterValue",
        `One or more parameters are invalid. Reason: Message must be shorter than ${SQS_MESSAGE_MAX_BYTES} bytes.`,
      );
    }
    const delaySeconds = Number(input.DelaySeconds ?? 0);
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      throw awsError(
        "InvalidParameterValue",
        `DelaySeconds ${String(input.DelaySeconds)} is not from 0 to 900`,
      );
    }
    const messageId = `m-${this.messages.length}-${Math.random().toString(36).slice(2, 10)}`;
    this.messages.push({
      queue,
      messageId,
      body,
      delaySeconds,
      sentAt: this.now(),
      ...(input.MessageAttributes ? { attributes: input.MessageAttributes as Record<string, unknown> } : {}),
    });
    return messageId;
  }
}

function md5(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: "client", $metadata: { httpStatusCode: 400 } });
}
