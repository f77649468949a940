/**
 * The router's state, designed for single-item conditional writes (DynamoDB without transactions):
 * every write names one item and the version it expects, so concurrent or duplicate deliveries
 * race on one item and exactly one wins. No operation here needs a scan on the event path.
 *
 * Trigger state lives in *buckets* (a route's shared linked components, see route-table.ts): one
 * item per output partition that has a pending group (a {@link GroupItem}) and one item per live
 * fact (a {@link FactItem}). An event reads and writes only the items of its bucket.
 */
import type { ExecutionRecord } from "./execution-record";
import type { Dimensions } from "./signal";

/**
 * Layout version of bucket items. Items of another layout, or written for another link structure
 * of the route (`signature`), are expired through `onPendingExpired` with a reason, never stranded.
 */
export const ITEM_SCHEMA = 2;

/** A triggered group of a partition, kept for a while as its events' idempotency ids. */
export interface SpentGroup {
  readonly ids: readonly string[];
  readonly executionId: string;
  /** Dropped after this time (the router's `consumedRetentionMs`). */
  readonly until: number;
}

/**
 * The trigger group of one output partition within a bucket.
 * - "pending": holds tokens (events that pin the whole partition), waits for the other inputs;
 * - "waiting": complete, a range check is not yet satisfied (`received` is what it will run with);
 * - "triggering": claimed for execution `executionId` (kept until the execution exists);
 * - "consumed": no current group, only `spent` (the ids of groups that executed).
 */
export interface GroupItem {
  readonly kind: "group";
  readonly schema: number;
  /** The route's link signature when the item was written. */
  readonly signature: string;
  /** Id of the current group (execution ids derive from it). */
  readonly id: string;
  /** The output partition. */
  readonly partition: Dimensions;
  readonly createdAt: number;
  /** TTL of the current group (pending, waiting). */
  readonly expiresAt: number;
  readonly state: "pending" | "waiting" | "triggering" | "consumed";
  /** Tokens received per input alias. */
  readonly tokens: Readonly<Record<string, Dimensions>>;
  /** Idempotency ids of the tokens that carried one, per alias. */
  readonly ids?: Readonly<Record<string, string>>;
  /** Waiting, triggering: every trigger input's event (tokens and the facts chosen). */
  readonly received?: Readonly<Record<string, Dimensions>>;
  readonly executionId?: string;
  readonly spent?: readonly SpentGroup[];
}

/**
 * An event that pins only part of the output partition: live until `expiresAt`, never consumed.
 * One item per (input, dimensions); a re-landed fact refreshes it with a new arrival.
 */
export interface FactItem {
  readonly kind: "fact";
  readonly schema: number;
  readonly signature: string;
  readonly alias: string;
  /** The event's dimensions (the input's). */
  readonly dims: Dimensions;
  /** Output dimensions it pins. */
  readonly pins: Dimensions;
  /** Id of the latest arrival (its event id, or a generated one): fact sets are named by arrivals. */
  readonly arrival: string;
  /** Event ids of recent arrivals (a redelivery of one is a no-op). */
  readonly ids: readonly string[];
  readonly createdAt: number;
  readonly arrivedAt: number;
  readonly expiresAt: number;
}

export type BucketItem = GroupItem | FactItem;

/** A stored item with its key in the bucket. */
export interface KeyedItem<T> {
  readonly key: string;
  readonly value: T;
  readonly version: number;
}

/** A route's bucket, as listed for sweeps and `pending()`. */
export interface BucketRef {
  readonly bucket: string;
}

/** A bucket of the layout before {@link ITEM_SCHEMA} 2 (all groups of a key in one item). */
export interface LegacyBucket {
  readonly key: string;
  readonly version: number;
  readonly groups: readonly LegacyGroup[];
}

/** A group of the previous layout. */
export interface LegacyGroup {
  readonly id: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly received: Readonly<Record<string, Dimensions>>;
  readonly state: "pending" | "waiting" | "triggering" | "consumed";
  readonly executionId?: string;
}

/** Keys (`<bucket>\u0000<item key>`) of a route's groups waiting on range checks: one item per route. */
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

/** Item key prefixes inside a bucket. */
export const GROUP_PREFIX = "G#";
export const FACT_PREFIX = "F#";

export interface Store {
  /** One item of a bucket. */
  getItem(route: string, bucket: string, key: string): Promise<Versioned<BucketItem> | undefined>;
  /**
   * Writes (or, with `item` undefined, deletes) one item if it is still at `expected` (undefined:
   * must not exist). False on conflict.
   */
  putItem(
    route: string,
    bucket: string,
    key: string,
    item: BucketItem | undefined,
    expected: number | undefined,
  ): Promise<boolean>;
  /** The items of one bucket whose key starts with `prefix` ("" for all): one key-range query. */
  queryBucket(route: string, bucket: string, prefix: string): Promise<KeyedItem<BucketItem>[]>;
  /** A route's buckets (a key-range query for `pending()` and sweeps; never on the event path). */
  buckets(route: string): Promise<BucketRef[]>;
  /** Buckets of the previous layout still stored for a route (migrated by the sweeper). */
  legacyBuckets(route: string): Promise<LegacyBucket[]>;
  /** Deletes a legacy bucket if it is still at `version`. */
  dropLegacyBucket(route: string, key: string, version: number): Promise<boolean>;

  getWaiting(route: string): Promise<Versioned<WaitingIndex> | undefined>;
  /** Conditional like putItem; an empty index is deleted. */
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
