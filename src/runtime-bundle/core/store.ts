/**
 * The router's state, designed for single-item conditional writes (DynamoDB without transactions):
 * every write names one item and the version it expects, so concurrent or duplicate deliveries
 * race on one item and exactly one wins. No operation here needs a scan on the event path.
 */
import type { ExecutionRecord } from "./execution-record";
import type { Dimensions } from "./signal";

export interface PendingGroup {
  readonly id: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Trigger dimensions received per input alias. */
  readonly received: Readonly<Record<string, Dimensions>>;
  /**
   * "pending": waiting for inputs; "waiting": all inputs in, a range check is not yet satisfied;
   * "triggering": claimed for execution `executionId` (kept until the execution exists, for crash recovery);
   * "consumed": triggered, kept until `expiresAt` only as the idempotency ids of the events it consumed
   * (`received` is empty), so that a redelivery of one of them is recognised as a repeat.
   */
  readonly state: "pending" | "waiting" | "triggering" | "consumed";
  readonly executionId?: string;
  /** Idempotency ids of the received events that carried one, per input alias. */
  readonly ids?: Readonly<Record<string, string>>;
}

/** All pending groups of one route that share a group key: one item. */
export interface GroupBucket {
  readonly groups: readonly PendingGroup[];
}

export interface WaitingIndex {
  readonly keys: readonly string[];
}

/** Per (route, output partition): the execution running now and the latest one. */
export interface ExecutionSlot {
  readonly active?: string;
  readonly latest?: string;
}

/** A slot with an active execution, as the sweeper lists them. */
export interface ActiveSlot {
  readonly outputKey: string;
  readonly active: string;
}

export interface Versioned<T> {
  readonly value: T;
  /** Opaque to callers: pass it back to a conditional write. */
  readonly version: number;
}

export interface Store {
  getBucket(route: string, key: string): Promise<Versioned<GroupBucket> | undefined>;
  /** Writes if the item is still at `expected` (undefined: must not exist). False on conflict. Empty buckets are deleted. */
  putBucket(route: string, key: string, bucket: GroupBucket, expected: number | undefined): Promise<boolean>;
  /** Keys of a route's buckets (a key-range query, for `pending()`, TTL sweeps and recovery; not the event path). */
  bucketKeys(route: string): Promise<string[]>;

  /** Keys of a route's buckets that hold groups waiting on a range check: one item per route. */
  getWaiting(route: string): Promise<Versioned<WaitingIndex> | undefined>;
  /** Conditional like putBucket; an empty index is deleted. */
  putWaiting(route: string, index: WaitingIndex, expected: number | undefined): Promise<boolean>;

  getSlot(route: string, outputKey: string): Promise<Versioned<ExecutionSlot> | undefined>;
  putSlot(
    route: string,
    outputKey: string,
    slot: ExecutionSlot,
    expected: number | undefined,
  ): Promise<boolean>;
  /**
   * A route's slots that have an active execution (a key-range query on the route, for the sweeper's
   * recovery of executions a crashed invocation left behind; not the event path).
   */
  activeSlots(route: string): Promise<ActiveSlot[]>;

  /** Creates an execution record; false if one with that id exists (idempotent trigger). */
  createExecution(record: ExecutionRecord): Promise<boolean>;
  getExecution(id: string): Promise<Versioned<ExecutionRecord> | undefined>;
  putExecution(record: ExecutionRecord, expected: number): Promise<boolean>;
  /** A route's executions, newest first. */
  listExecutions(route: string): Promise<ExecutionRecord[]>;

  /** Records an idempotency key; false when it was already recorded. */
  claimEvent(eventId: string, expiresAt: number): Promise<boolean>;
  /** True when the idempotency key has been recorded. */
  eventSeen(eventId: string): Promise<boolean>;

  /** Remembers which execution target an engine job handle belongs to (state-change events carry only the handle). */
  putHandle(engine: string, handle: string, ref: HandleRef, expiresAt: number): Promise<void>;
  getHandle(engine: string, handle: string): Promise<HandleRef | undefined>;
}

export interface HandleRef {
  readonly executionId: string;
  readonly targetIndex: number;
}

/** Counts of store calls, for the benchmark's "store operations per event". */
export interface StoreStats {
  reads: number;
  writes: number;
  queries: number;
}
