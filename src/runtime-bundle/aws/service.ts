/**
 * The router as a Lambda service: every delivery shape the synthesized rules and queues produce goes
 * through one `handle(event)`. SQS batches report partial failures; unprocessable events go to the
 * dead-letter queue with their reason; deferred tasks come back through the internal queue.
 */
import type { Engine } from "../../flow/model/flow-model";
import type { Clock } from "../core/clock";
import type { DispatchResult } from "../core/dispatcher";
import type { ExecutionRecord } from "../core/execution-record";
import type { FactView, Router, PendingView, PollResult, ProcessOutcome } from "../core/router";
import type { Dimensions } from "../core/signal";
import type { DeadLetters } from "./dead-letters";
import type { EmfMetrics } from "./emf-metrics";
import { adaptEvent } from "./events/adapt";
import { reasonCode } from "./rejections";
import type { SourceIndex } from "./events/source-index";
import type { SqsScheduler, TaskMessage } from "./sqs-scheduler";

/** Direct invocations of the router function (`sluice remote …`). */
export type RemoteCommand =
  | { readonly sluice: "process"; readonly node: string; readonly dimensions: Dimensions }
  | {
      readonly sluice: "execute";
      readonly node: string;
      readonly dimensions: Dimensions;
      readonly recursive?: boolean;
    }
  | { readonly sluice: "poll"; readonly node: string; readonly dimensions: Dimensions }
  | { readonly sluice: "kill"; readonly node: string; readonly dimensions: Dimensions }
  | { readonly sluice: "pending"; readonly node: string }
  | { readonly sluice: "facts"; readonly node: string }
  | { readonly sluice: "executions"; readonly node: string }
  | { readonly sluice: "sweep" };

export type CommandResult =
  | ProcessOutcome
  | ExecutionRecord
  | PollResult
  | PendingView[]
  | FactView[]
  | ExecutionRecord[]
  | { readonly swept: true }
  | { readonly killed: ExecutionRecord | null };

export interface SqsRecord {
  readonly messageId: string;
  readonly body: string;
  readonly eventSource?: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

export interface HandleResult {
  readonly batchItemFailures?: { readonly itemIdentifier: string }[];
  readonly signals?: number;
  readonly ignored?: readonly string[];
  readonly result?: CommandResult;
}

export interface RouterServiceProps {
  readonly router: Router;
  readonly index: SourceIndex;
  readonly clock: Clock;
  readonly deadLetters: DeadLetters;
  readonly scheduler?: SqsScheduler;
  readonly metrics?: EmfMetrics;
  /** Name of the sweeper's EventBridge rule: its scheduled events run `sweep()`. */
  readonly sweeperRule?: string;
  /** A message received this many times is dead-lettered instead of failing the batch again. @default 5 */
  readonly maxReceives?: number;
}

export class RouterService {
  constructor(private readonly props: RouterServiceProps) {}

  /**
   * One invocation. Never throws for one bad record of an SQS batch: the records to retry are in
   * `batchItemFailures`, and only those. A direct (asynchronous) invocation follows Lambda's
   * asynchronous semantics: an event the router cannot use is dead-lettered by the router itself and
   * the invocation succeeds; a failure worth retrying (a dependency down, a dead letter that could not
   * be sent) throws, so Lambda retries it twice and then sends the event to the function's
   * dead-letter queue.
   */
  async handle(event: unknown): Promise<HandleResult> {
    try {
      if (isCommand(event)) return { result: await this.command(event) };
      if (isSqsBatch(event)) return await this.sqsBatch(event.Records);
      if (this.isSweep(event)) {
        await this.props.router.sweep();
        return { result: { swept: true } };
      }
      return await this.deliver(event);
    } finally {
      await this.props.scheduler?.flush();
      this.props.metrics?.flush();
    }
  }

  /** One message at a time: a poison message fails alone (or goes to the DLQ), never the batch. */
  private async sqsBatch(records: readonly SqsRecord[]): Promise<HandleResult> {
    const failures: { itemIdentifier: string }[] = [];
    let signals = 0;
    const ignored: string[] = [];
    for (const record of records) {
      try {
        const r = await this.sqsRecord(record);
        signals += r.signals ?? 0;
        ignored.push(...(r.ignored ?? []));
      } catch (e) {
        const receives = Number(record.attributes?.ApproximateReceiveCount ?? "1");
        const reason = thrown(e);
        log("error", "message failed", { messageId: record.messageId, receives, error: reason });
        // A permanent error (state too large for the store) fails the same way on every receive.
        const last = receives >= (this.props.maxReceives ?? 5) || isPermanent(e);
        const letter = isPermanent(e) ? reason : `failed ${receives} times: ${reason}`;
        if (!last || !(await this.tryDeadLetter(letter, record)))
          failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures, signals, ignored };
  }

  private async sqsRecord(record: SqsRecord): Promise<HandleResult> {
    const body = parseJson(record.body);
    if (isTaskMessage(body)) {
      const now = this.props.clock.now();
      // SQS delays at most 15 minutes: a task that is not due yet goes back with the rest of its delay.
      if (body.at > now + 1000 && this.props.scheduler) await this.props.scheduler.send(body);
      else await this.props.router.runTask(body.task);
      return { signals: 0 };
    }
    if (isCommand(body)) {
      await this.command(body);
      return { signals: 0 };
    }
    return this.deliver({ Records: [record] });
  }

  /**
   * Adapts an AWS event and routes what it carries; what it cannot use is logged or dead-lettered.
   * A signal whose state cannot be stored (StoreItemTooLargeError) is dead-lettered alone; any other
   * error is thrown (the delivery is retried). A dead letter that cannot be sent is thrown too.
   */
  private async deliver(event: unknown): Promise<HandleResult> {
    const adapted = adaptEvent(event, this.props.index);
    for (const i of adapted.ignored) {
      if (i.unprocessable) await this.deadLetter(i.reason, event);
      else {
        const code = reasonCode(i.reason);
        // Counted by kind (outside the filter is worth seeing on a dashboard), never dead-lettered.
        if (code === "outside-filter") this.props.metrics?.rejected(code);
        log("info", "event ignored", { reason: i.reason, eventId: i.eventId });
      }
    }
    for (const s of adapted.signals) {
      let outcome: ProcessOutcome;
      try {
        outcome = await this.props.router.process(s);
      } catch (e) {
        if (!isPermanent(e)) throw e;
        await this.deadLetter(`signal of "${s.node}" cannot be stored: ${thrown(e)}`, event);
        continue;
      }
      log("info", "signal", {
        node: s.node,
        dimensions: s.dimensions,
        eventId: s.eventId,
        matched: outcome.matched,
        executions: outcome.executions,
        unmatched: outcome.unmatched,
      });
    }
    for (const e of adapted.engineEvents) {
      const known = await this.props.router.onEngineEvent(
        e.engine as Engine,
        e.handle,
        e.result as DispatchResult,
      );
      if (!known) log("info", "engine event for an unknown job", { engine: e.engine, handle: e.handle });
    }
    return { signals: adapted.signals.length, ignored: adapted.ignored.map((i) => i.reason) };
  }

  /** Sends a dead letter and counts it (EventsDeadLettered, EventsRejected by reason); throws when it cannot. */
  private async deadLetter(reason: string, event: unknown): Promise<void> {
    const letter = await this.props.deadLetters.send(reason, event, this.props.clock.now());
    this.props.metrics?.emit(undefined, "EventsDeadLettered");
    this.props.metrics?.rejected(letter.reasonCode);
    log("error", "dead letter", {
      reason: letter.reason,
      reasonCode: letter.reasonCode,
      ...(letter.stored ? { stored: letter.stored.uri } : {}),
    });
  }

  /** `deadLetter`, reporting a failed send (throttled, queue gone) instead of throwing it. */
  private async tryDeadLetter(reason: string, event: SqsRecord): Promise<boolean> {
    try {
      await this.deadLetter(reason, event);
      return true;
    } catch (e) {
      log("error", "dead letter not sent: the message stays on its queue", {
        messageId: event.messageId,
        reason,
        error: thrown(e),
      });
      this.props.metrics?.emit(undefined, "RouterErrors");
      return false;
    }
  }

  private async command(c: RemoteCommand): Promise<CommandResult> {
    const { router } = this.props;
    switch (c.sluice) {
      case "process":
        return router.process({ node: c.node, dimensions: c.dimensions });
      case "execute":
        return router.execute(
          c.node,
          c.dimensions,
          c.recursive === undefined ? {} : { recursive: c.recursive },
        );
      case "poll":
        return router.poll(c.node, c.dimensions);
      case "kill":
        return { killed: (await router.kill(c.node, c.dimensions)) ?? null };
      case "pending":
        return router.pending(c.node);
      case "facts":
        return router.facts(c.node);
      case "executions":
        return router.executions(c.node);
      case "sweep":
        await router.sweep();
        return { swept: true };
    }
  }

  private isSweep(event: unknown): boolean {
    const e = event as { source?: unknown; resources?: unknown };
    const rule = this.props.sweeperRule;
    return (
      rule !== undefined &&
      e !== null &&
      typeof e === "object" &&
      e.source === "aws.events" &&
      Array.isArray(e.resources) &&
      e.resources.some((r) => typeof r === "string" && r.endsWith(`/${rule}`))
    );
  }
}

const COMMANDS = new Set(["process", "execute", "poll", "kill", "pending", "facts", "executions", "sweep"]);

function isCommand(e: unknown): e is RemoteCommand {
  return e !== null && typeof e === "object" && COMMANDS.has(String((e as { sluice?: unknown }).sluice));
}

function isTaskMessage(e: unknown): e is TaskMessage {
  return e !== null && typeof e === "object" && (e as { sluice?: unknown }).sluice === "task";
}

function isSqsBatch(e: unknown): e is { Records: SqsRecord[] } {
  const records = (e as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((r) => (r as SqsRecord)?.eventSource === "aws:sqs")
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Errors that fail the same way however often the delivery is retried. */
function isPermanent(e: unknown): boolean {
  return e instanceof Error && e.name === "StoreItemTooLargeError";
}

function thrown(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function log(level: "info" | "error", msg: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}
