/**
 * In-memory Store: the same conditional-write contract as the DynamoDB store, for LocalRuntime and tests.
 */
import type { ExecutionRecord } from "./execution-record";
import type {
  ActiveSlot,
  ExecutionSlot,
  GroupBucket,
  HandleRef,
  Store,
  StoreStats,
  Versioned,
  WaitingIndex,
} from "./store";

export class MemoryStore implements Store {
  readonly stats: StoreStats = { reads: 0, writes: 0, queries: 0 };
  private readonly buckets = new Map<string, Map<string, Versioned<GroupBucket>>>();
  private readonly slots = new Map<string, Versioned<ExecutionSlot>>();
  private readonly executions = new Map<string, Versioned<ExecutionRecord>>();
  private readonly byRoute = new Map<string, string[]>();
  private readonly events = new Map<string, number>();
  private readonly handles = new Map<string, HandleRef>();
  private readonly waiting = new Map<string, Versioned<WaitingIndex>>();

  async getBucket(route: string, key: string): Promise<Versioned<GroupBucket> | undefined> {
    this.stats.reads++;
    return this.buckets.get(route)?.get(key);
  }

  async putBucket(
    route: string,
    key: string,
    bucket: GroupBucket,
    expected: number | undefined,
  ): Promise<boolean> {
    this.stats.writes++;
    let items = this.buckets.get(route);
    if (!items) this.buckets.set(route, (items = new Map()));
    const current = items.get(key);
    if (current?.version !== expected) return false;
    if (bucket.groups.length === 0) items.delete(key);
    else items.set(key, { value: clone(bucket), version: (expected ?? 0) + 1 });
    return true;
  }

  async bucketKeys(route: string): Promise<string[]> {
    this.stats.queries++;
    return [...(this.buckets.get(route)?.keys() ?? [])].sort();
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

/** Stored values are copies: callers can never mutate the store behind a conditional write. */
function clone<T>(v: T): T {
  return structuredClone(v);
}
