/**
 * What the AWS event adapters produce: signals for the router, engine state changes for running
 * executions, and the deliveries they ignored, each with the reason (nothing is dropped silently).
 */
import type { DispatchResult } from "../../core/dispatcher";
import type { Signal } from "../../core/signal";

/** Engines whose state changes arrive as EventBridge events. */
export type EventEngine = "glue" | "athena" | "emr" | "emrServerless";

/** A compute engine's state change about one job run / query / step. */
export interface EngineEvent {
  readonly engine: EventEngine;
  /** The handle the dispatcher returned when it started the run (Glue jobRunId, Athena query id…). */
  readonly handle: string;
  /** RUNNING (with the handle) | SUCCEEDED | FAILED {error, transient}. */
  readonly result: DispatchResult;
  readonly eventId: string;
}

/** A delivery (or a part of one) that produced nothing, and why. */
export interface Ignored {
  readonly reason: string;
  /** Idempotency id of the delivery, when one is known. */
  readonly eventId?: string;
  /**
   * True when the payload could not be read at all (not JSON, an unknown shape, required fields
   * missing): a candidate for the dead-letter queue. Absent for well-formed events that are simply
   * not for this application (another bucket, a deleted object, an alarm configuration change…).
   */
  readonly unprocessable?: true;
}

export interface AdaptedEvent {
  readonly signals: Signal[];
  readonly engineEvents: EngineEvent[];
  readonly ignored: Ignored[];
}

/** Where adapters put what they find. */
export interface Sink {
  signal(signal: Signal): void;
  engine(event: EngineEvent): void;
  /** A well-formed event that carries nothing for the application. */
  ignore(reason: string, eventId?: string): void;
  /** A payload that cannot be read (see `Ignored.unprocessable`). */
  reject(reason: string, eventId?: string): void;
}

/** A sink that collects into an AdaptedEvent. */
export function collectingSink(): { readonly sink: Sink; readonly result: AdaptedEvent } {
  const result: AdaptedEvent = { signals: [], engineEvents: [], ignored: [] };
  const sink: Sink = {
    signal: (s) => result.signals.push(s),
    engine: (e) => result.engineEvents.push(e),
    ignore: (reason, eventId) =>
      result.ignored.push(eventId === undefined ? { reason } : { reason, eventId }),
    reject: (reason, eventId) =>
      result.ignored.push(
        eventId === undefined ? { reason, unprocessable: true } : { reason, eventId, unprocessable: true },
      ),
  };
  return { sink, result };
}

/**
 * Signals of one delivery about several nodes share the delivery's id; the router claims ids one
 * signal at a time, so each gets `#<node>` appended when there is more than one.
 */
export function emitAll(sink: Sink, signals: readonly Signal[]): void {
  const many = signals.length > 1;
  for (const s of signals) {
    sink.signal(many && s.eventId !== undefined ? { ...s, eventId: `${s.eventId}#${s.node}` } : s);
  }
}
