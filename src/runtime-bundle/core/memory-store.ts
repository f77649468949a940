/**
 * In-memory Store: the same conditional-write contract as the DynamoDB store, for LocalRuntime and tests.
 */
import type { ExecutionRecord } from "./execution-record";
import type {
  ActiveSlot,
  BucketItem,
  BucketRef,
  ExecutionSlot,
  HandleRef,
  KeyedItem,
  LegacyBucket,
  Store,
  StoreStats,
  Versioned,
  WaitingIndex,
} from "./store";

export class MemoryStore implements Store {
  readonly stats: StoreStats = { reads: 0, writes: 0, queries: 0 };
  private readonly bucketItems = new Map<string, Map<string, Map<string, Versioned<BucketItem>>>>();
  /** The same items by (route, bucket, key kind "G#"/"F#"): a prefix query reads only its kind. */
  private readonly kindItems = new Map<string, Map<string, Versioned<BucketItem>>>();
  private readonly slots = new Map<string, Versioned<ExecutionSlot>>();
  private readonly executions = new Map<string, Versioned<ExecutionRecord>>();
  private readonly byRoute = new Map<string, string[]>();
  private readonly events = new Map<string, number>();
  private readonly handles = new Map<string, HandleRef>();
  private readonly waiting = new Map<string, Versioned<WaitingIndex>>();

  async getItem(route: string, bucket: string, key: string): Promise<Versioned<BucketItem> | undefined> {
    this.stats.reads++;
    return this.bucketItems.get(route)?.get(bucket)?.get(key);
  }

  async putItem(
    route: string,
    bucket: string,
    key: string,
    item: BucketItem | undefined,
    expected: number | undefined,
  ): Promise<boolean> {
    this.stats.writes++;
    let byBucket = this.bucketItems.get(route);
    if (!byBucket) this.bucketItems.set(route, (byBucket = new Map()));
    let items = byBucket.get(bucket);
    if (!items) byBucket.set(bucket, (items = new Map()));
    if (items.get(key)?.version !== expected) return false;
    const kk = kindKey(route, bucket, key.slice(0, KIND_LENGTH));
    let kind = this.kindItems.get(kk);
    if (!kind) this.kindItems.set(kk, (kind = new Map()));
    if (item === undefined) {
      items.delete(key);
      kind.delete(key);
      if (items.size === 0) byBucket.delete(bucket);
      if (kind.size === 0) this.kindItems.delete(kk);
    } else {
      const stored = { value: clone(item), version: (expected ?? 0) + 1 };
      items.set(key, stored);
      kind.set(key, stored);
    }
    return true;
  }

  private byKind(
    route: string,
    bucket: string,
    kind: string,
  ): Map<string, Versioned<BucketItem>> | undefined {
    return this.kindItems.get(kindKey(route, bucket, kind));
  }

  async queryBucket(route: string, bucket: string, prefix: string): Promise<KeyedItem<BucketItem>[]> {
    this.stats.queries++;
    const out: KeyedItem<BucketItem>[] = [];
    const items = this.bucketItems.get(route)?.get(bucket);
    if (!items) return out;
    // Like a DynamoDB key-range Query, the facts of a bucket (F#) are read without its groups (G#).
    const kinds =
      prefix.length >= KIND_LENGTH ? [this.byKind(route, bucket, prefix.slice(0, KIND_LENGTH))] : [items];
    for (const kind of kinds)
      for (const [key, v] of kind ?? [])
        if (key.startsWith(prefix)) out.push({ key, value: v.value, version: v.version });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async buckets(route: string): Promise<BucketRef[]> {
    this.stats.queries++;
    return [...this.bucketsOf(route).keys()].sort().map((bucket) => ({ bucket }));
  }

  async legacyBuckets(): Promise<LegacyBucket[]> {
    return [];
  }

  async dropLegacyBucket(): Promise<boolean> {
    return false;
  }

  /** Every item of a route (tests and benchmarks: how many groups and facts are stored). */
  itemCount(route: string): number {
    let n = 0;
    for (const items of this.bucketsOf(route).values()) n += items.size;
    return n;
  }

  private bucketsOf(route: string): Map<string, Map<string, Versioned<BucketItem>>> {
    return this.bucketItems.get(route) ?? new Map();
  }

  async getWaiting(route: string): Promise<Versioned<WaitingIndex> | undefined> {
    this.stats.reads++;
    return this.waiting.get(route);
  }

  async putWaiting(route: string, index: WaitingIndex, expected: number | undefined): Promise<boolean> {
    this.stats.writes++;
    if (this.waiting.get(route)?.version !== expected) return false;
    if (index.keys.length === 0) this.waiting.delete(route);
    else this.waiting.set(route, { value: { keys: [...index.keys] }, version: (expected ?? 0) + 1 });
    return true;
  }

  async getSlot(route: string, outputKey: string): Promise<Versioned<ExecutionSlot> | undefined> {
    this.stats.reads++;
    return this.slots.get(`${route}\u0000${outputKey}`);
  }

  async putSlot(
    route: string,
    outputKey: string,
    slot: ExecutionSlot,
    expected: number | undefined,
  ): Promise<boolean> {
    this.stats.writes++;
    const k = `${route}\u0000${outputKey}`;
    if (this.slots.get(k)?.version !== expected) return false;
    this.slots.set(k, { value: { ...slot }, version: (expected ?? 0) + 1 });
    return true;
  }

  async activeSlots(route: string): Promise<ActiveSlot[]> {
    this.stats.queries++;
    const prefix = `${route}\u0000`;
    const out: ActiveSlot[] = [];
    for (const [k, slot] of this.slots) {
      if (k.startsWith(prefix) && slot.value.active !== undefined)
        out.push({ outputKey: k.slice(prefix.length), active: slot.value.active });
    }
    return out.sort((a, b) => (a.outputKey < b.outputKey ? -1 : a.outputKey > b.outputKey ? 1 : 0));
  }

  async createExecution(record: ExecutionRecord): Promise<boolean> {
    this.stats.writes++;
    if (this.executions.has(record.id)) return false;
    this.executions.set(record.id, { value: clone(record), version: 1 });
    const list = this.byRoute.get(record.node) ?? [];
    list.push(record.id);
    this.byRoute.set(record.node, list);
    return true;
  }

  async getExecution(id: string): Promise<Versioned<ExecutionRecord> | undefined> {
    this.stats.reads++;
    return this.executions.get(id);
  }

  async putExecution(record: ExecutionRecord, expected: number): Promise<boolean> {
    this.stats.writes++;
    const current = this.executions.get(record.id);
    if (current?.version !== expected) return false;
    this.executions.set(record.id, { value: clone(record), version: expected + 1 });
    return true;
  }

  async listExecutions(route: string): Promise<ExecutionRecord[]> {
    this.stats.queries++;
    const ids = this.byRoute.get(route) ?? [];
    return ids
      .map((id) => this.executions.get(id)?.value)
      .filter((r): r is ExecutionRecord => r !== undefined)
      .reverse();
  }

  async claimEvent(eventId: string, expiresAt: number): Promise<boolean> {
    this.stats.writes++;
    if (this.events.has(eventId)) return false;
    this.events.set(eventId, expiresAt);
    return true;
  }

  async eventSeen(eventId: string): Promise<boolean> {
    this.stats.reads++;
    return this.events.has(eventId);
  }

  async putHandle(engine: string, handle: string, ref: HandleRef): Promise<void> {
    this.stats.writes++;
    this.handles.set(`${engine}\u0000${handle}`, { ...ref });
  }

  async getHandle(engine: string, handle: string): Promise<HandleRef | undefined> {
    this.stats.reads++;
    return this.handles.get(`${engine}\u0000${handle}`);
  }
}

/** Length of an item key's kind prefix ("G#", "F#"). */
const KIND_LENGTH = 2;
const kindKey = (route: string, bucket: string, kind: string): string =>
  `${route}\u0000${bucket}\u0000${kind}`;

/** Stored values are copies: callers can never mutate the store behind a conditional write. */
function clone<T>(v: T): T {
  return structuredClone(v);
}
