/**
 * DynamoDB Store: the router's state in one table, with single-item conditional writes only (no
 * transactions, no scans), so it also runs against emulators without TransactWriteItems.
 *
 * Items (`pk`, `sk` strings; `ver` the optimistic-concurrency version; `ttl` epoch seconds for
 * DynamoDB TTL; `doc` a JSON document):
 *
 * | item              | pk                      | sk                          | attributes                        |
 * | ----------------- | ----------------------- | --------------------------- | --------------------------------- |
 * | group of a partition | `R#<route>`          | `B#<bucket>#G#<partition>`  | ver, kind, schema, doc            |
 * | fact              | `R#<route>`             | `B#<bucket>#F#<input>#<dims>` | ver, kind, schema, doc, ttl     |
 * | legacy bucket     | `R#<route>`             | `G#<groupKey>`              | (layout 1; migrated by the sweeper) |
 * | execution slot    | `R#<route>`             | `O#<outputKey>`             | ver, active?, latest?             |
 * | execution index   | `R#<route>`             | `E#<startedAt:15>#<id>`     | id, startedAt, ttl                |
 * | execution record  | `X#<id>`                | `X`                         | ver, status, doc (record), ttl?   |
 * | idempotency key   | `E#<eventId>`           | `E`                         | ttl                               |
 * | engine handle     | `H#<engine>#<handle>`   | `H`                         | executionId, targetIndex, ttl     |
 *
 * Executions: the record lives at its own key so `getExecution` (the hot read) is one GetItem and
 * every transition is one conditional write. `listExecutions` (not on the event path) uses a per-route
 * index item written once, before the record, by `createExecution`: a Query newest first, then
 * BatchGetItem of the records. Index items whose record is missing (a crash between the two writes)
 * or whose start time differs from the record's (the losing side of a duplicate trigger) are skipped.
 * A GSI would avoid the index items but doubles the write cost of every transition and is only
 * eventually consistent; execution ids are not parsed for their route.
 *
 * A bucket's items are one contiguous sort-key range (`B#<bucket>#`): an event reads them with one
 * `Query` on that range, never the route's other buckets.
 *
 * DynamoDB items are limited to 400 KB: an item (or record) whose document exceeds
 * {@link MAX_DOCUMENT_BYTES}, or whose whole item exceeds {@link MAX_ITEM_BYTES}, is refused with a
 * {@link StoreItemTooLargeError}, never truncated.
 *
 * Keys are bounded (DynamoDB: partition key ≤ 2,048 bytes, sort key ≤ 1,024 bytes of UTF-8): a key
 * past its limit keeps a readable prefix (cut at a character boundary) followed by `~` and the
 * SHA-256 of the whole key (64 hex digits), and the item keeps the whole key in `fpk` / `fsk`. Reads
 * by key compute the same bounded key; queries whose prefix is longer than the readable part query
 * by the readable part and keep the items whose whole key starts with the prefix.
 *
 * Conditional writes carry a request token (`rt`, a UUID per write). A write whose outcome is
 * ambiguous (a failed condition, which is also what DynamoDB answers to the SDK's retry of a write
 * that was applied before the connection broke, or a network error) is resolved at once by reading
 * the item back: the token says whether this write is the one that is there.
 */
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type GetItemCommandOutput,
  type KeySchemaElement,
  type QueryCommandInput,
  type QueryCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { createHash, randomUUID } from "node:crypto";
import { ROUTING_TABLE_SCHEMA } from "../../flow/model/routing-table-schema";
import { isFinished, type ExecutionRecord } from "../core/execution-record";
import type {
  ActiveSlot,
  BucketItem,
  BucketRef,
  ExecutionSlot,
  HandleRef,
  KeyedItem,
  LegacyBucket,
  LegacyGroup,
  Store,
  StoreStats,
  Versioned,
  WaitingIndex,
} from "../core/store";

/** Key schema and TTL attribute of the routing table, for synth and {@link createRoutingTable}. */
export const routingTableKeySchema: {
  readonly attributeDefinitions: readonly AttributeDefinition[];
  readonly keySchema: readonly KeySchemaElement[];
  readonly ttlAttributeName: string;
  readonly billingMode: "PAY_PER_REQUEST";
} = {
  attributeDefinitions: [
    { AttributeName: ROUTING_TABLE_SCHEMA.partitionKey, AttributeType: ROUTING_TABLE_SCHEMA.keyType },
    { AttributeName: ROUTING_TABLE_SCHEMA.sortKey, AttributeType: ROUTING_TABLE_SCHEMA.keyType },
  ],
  keySchema: [
    { AttributeName: ROUTING_TABLE_SCHEMA.partitionKey, KeyType: "HASH" },
    { AttributeName: ROUTING_TABLE_SCHEMA.sortKey, KeyType: "RANGE" },
  ],
  ttlAttributeName: ROUTING_TABLE_SCHEMA.ttlAttribute,
  billingMode: "PAY_PER_REQUEST",
};

/**
 * Largest JSON document (bucket of groups, execution record) the store writes. DynamoDB's item limit
 * is 400 KB including attribute names and the other attributes; the margin keeps a write from
 * failing at DynamoDB after the router has decided on it.
 */
export const MAX_DOCUMENT_BYTES = 350 * 1024;

/** DynamoDB's item size limit (attribute names and values, UTF-8). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's partition key limit (bytes of UTF-8). */
export const MAX_PARTITION_KEY_BYTES = 2048;
/** DynamoDB's sort key limit (bytes of UTF-8). */
export const MAX_SORT_KEY_BYTES = 1024;
/** `~` and 64 hex digits of SHA-256 after a bounded key's readable prefix. */
const HASH_SUFFIX_BYTES = 65;

/** A bucket or record too large for one DynamoDB item: too many pending groups share one group key. */
export class StoreItemTooLargeError extends Error {
  override readonly name = "StoreItemTooLargeError";
}

/**
 * A key within DynamoDB's limits: the key itself when it fits `maxBytes` of UTF-8, else its longest
 * prefix that leaves room for `~<sha256 hex>`, cut at a character boundary, then that suffix.
 */
export function boundedKey(key: string, maxBytes: number): string {
  if (Buffer.byteLength(key, "utf8") <= maxBytes) return key;
  return `${utf8Prefix(key, maxBytes - HASH_SUFFIX_BYTES)}~${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

/** The longest prefix of `text` of at most `maxBytes` bytes of UTF-8 (never half a character). */
function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const b = Buffer.byteLength(ch, "utf8");
    if (bytes + b > maxBytes) break;
    bytes += b;
    end += ch.length;
  }
  return text.slice(0, end);
}

export interface DynamoDbStoreProps {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /**
   * TTL of history: finished executions (from their end) and the index items of executions (from
   * their start, plus a week). Idempotency keys and engine handles expire at the time their caller
   * gives, or after this TTL when that is later.
   * @default 30 days
   */
  readonly historyTtlSeconds?: number;
  /** @default the system clock */
  readonly clock?: { now(): number };
  /**
   * `Limit` of each Query page (tests exercise pagination with it).
   * @default DynamoDB's own (1 MB pages)
   */
  readonly pageSize?: number;
}

const DEFAULT_HISTORY_TTL_SECONDS = 30 * 24 * 3600;
/** Index items outlive their record's start by the history TTL plus this (a generous run time). */
const INDEX_TTL_MARGIN_SECONDS = 7 * 24 * 3600;
const BATCH_GET_MAX_KEYS = 100;
const BATCH_GET_MAX_ATTEMPTS = 8;

type Item = Record<string, AttributeValue>;
type Key = { pk: AttributeValue; sk: AttributeValue };

export class DynamoDbStore implements Store {
  /** DynamoDB requests made: GetItem and BatchGetItem are reads, Put/DeleteItem writes, Query queries. */
  readonly stats: StoreStats = { reads: 0, writes: 0, queries: 0 };
  /** Conditional writes whose outcome was ambiguous and resolved by reading the item back. */
  ambiguous = 0;
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly historyTtl: number;
  private readonly clock: { now(): number };
  private readonly pageSize: number | undefined;

  constructor(props: DynamoDbStoreProps) {
    this.client = props.client;
    this.table = props.tableName;
    this.historyTtl = props.historyTtlSeconds ?? DEFAULT_HISTORY_TTL_SECONDS;
    this.clock = props.clock ?? { now: () => Date.now() };
    this.pageSize = props.pageSize;
  }

  // ---------------------------------------------------------------- buckets

  async getItem(route: string, bucket: string, key: string): Promise<Versioned<BucketItem> | undefined> {
    const item = await this.get(itemKey(`R#${route}`, bucketSortKey(bucket, key)));
    return item && { value: JSON.parse(str(item, "doc")) as BucketItem, version: num(item, "ver") };
  }

  async putItem(
    route: string,
    bucket: string,
    key: string,
    value: BucketItem | undefined,
    expected: number | undefined,
  ): Promise<boolean> {
    const k = itemKey(`R#${route}`, bucketSortKey(bucket, key));
    if (value === undefined) return this.conditionalDelete(k, expected);
    const doc = document(
      value,
      () => `route "${route}": item ${key} of bucket ${bucket}`,
      "an item holds one partition's group or one fact; its dimension values are too large",
    );
    const item: Item = {
      ...k,
      ver: n(nextVersion(expected)),
      kind: s(value.kind),
      schema: n(value.schema),
      doc: s(doc),
    };
    // Facts also expire through DynamoDB TTL (a day after the router stops matching them), so a
    // route that is never swept does not keep them; groups expire through the sweeper (a hook).
    if (value.kind === "fact") item.ttl = n(Math.ceil(value.expiresAt / 1000) + 24 * 3600);
    return this.conditionalPut(item, expected);
  }

  async queryBucket(route: string, bucket: string, prefix: string): Promise<KeyedItem<BucketItem>[]> {
    const head = bucketSortKey(bucket, "");
    const items = await this.queryPrefix(`R#${route}`, head + prefix);
    return items.map((i) => ({
      key: fullSk(i).slice(head.length),
      value: JSON.parse(str(i, "doc")) as BucketItem,
      version: num(i, "ver"),
    }));
  }

  async buckets(route: string): Promise<BucketRef[]> {
    const items = await this.query({
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk", "#fsk": "fsk" },
      ExpressionAttributeValues: { ":pk": s(`R#${route}`), ":prefix": s("B#") },
      ProjectionExpression: "#sk, #fsk",
    });
    const seen = new Set<string>();
    for (const i of items) {
      const sk = fullSk(i);
      seen.add(sk.slice(2, sk.indexOf("#", 2)));
    }
    return [...seen].sort().map((bucket) => ({ bucket }));
  }

  async legacyBuckets(route: string): Promise<LegacyBucket[]> {
    const items = await this.query({
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
      ExpressionAttributeValues: { ":pk": s(`R#${route}`), ":prefix": s("G#") },
    });
    return items.map((i) => ({
      key: fullSk(i).slice(2),
      version: num(i, "ver"),
      groups: (JSON.parse(str(i, "doc")) as { groups: LegacyGroup[] }).groups,
    }));
  }

  async dropLegacyBucket(route: string, key: string, version: number): Promise<boolean> {
    return this.conditionalDelete(itemKey(`R#${route}`, `G#${key}`), version);
  }

  // ---------------------------------------------------------------- slots

  async getWaiting(route: string): Promise<Versioned<WaitingIndex> | undefined> {
    const item = await this.get(itemKey(`R#${route}`, "W"));
    if (!item) return undefined;
    return { value: { keys: JSON.parse(str(item, "doc")) as string[] }, version: num(item, "ver") };
  }

  async putWaiting(route: string, index: WaitingIndex, expected: number | undefined): Promise<boolean> {
    const k = itemKey(`R#${route}`, "W");
    if (index.keys.length === 0) return this.conditionalDelete(k, expected);
    const doc = document(
      index.keys,
      () => `route "${route}": the index of ${index.keys.length} group keys waiting on range checks`,
      "too many groups wait on range checks at once: shorten the pending TTL or check fewer partitions",
    );
    return this.conditionalPut({ ...k, ver: n(nextVersion(expected)), doc: s(doc) }, expected);
  }

  async getSlot(route: string, outputKey: string): Promise<Versioned<ExecutionSlot> | undefined> {
    const item = await this.get(itemKey(`R#${route}`, `O#${outputKey}`));
    if (!item) return undefined;
    const slot: { active?: string; latest?: string } = {};
    if (item.active?.S !== undefined) slot.active = item.active.S;
    if (item.latest?.S !== undefined) slot.latest = item.latest.S;
    return { value: slot, version: num(item, "ver") };
  }

  async putSlot(
    route: string,
    outputKey: string,
    slot: ExecutionSlot,
    expected: number | undefined,
  ): Promise<boolean> {
    const item: Item = { ...itemKey(`R#${route}`, `O#${outputKey}`), ver: n(nextVersion(expected)) };
    if (slot.active !== undefined) item.active = s(slot.active);
    if (slot.latest !== undefined) item.latest = s(slot.latest);
    return this.conditionalPut(item, expected);
  }

  async activeSlots(route: string): Promise<ActiveSlot[]> {
    const items = await this.query({
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      FilterExpression: "attribute_exists(#active)",
      ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk", "#active": "active", "#fsk": "fsk" },
      ExpressionAttributeValues: { ":pk": s(`R#${route}`), ":prefix": s("O#") },
      ProjectionExpression: "#sk, #fsk, #active",
    });
    return items.map((i) => ({ outputKey: fullSk(i).slice(2), active: str(i, "active") }));
  }

  // ---------------------------------------------------------------- executions

  async createExecution(record: ExecutionRecord): Promise<boolean> {
    const item = this.executionItem(record, 1);
    // The index item first (unconditional, idempotent): a crash between the writes leaves an index
    // item without a record, which listExecutions skips, never a record that cannot be listed.
    const startedAt = Math.max(0, Math.floor(record.startedAt));
    await this.send(
      "writes",
      new PutItemCommand({
        TableName: this.table,
        Item: {
          ...itemKey(`R#${record.node}`, indexSortKey(startedAt, record.id)),
          id: s(record.id),
          startedAt: n(startedAt),
          ttl: n(Math.ceil(startedAt / 1000) + this.historyTtl + INDEX_TTL_MARGIN_SECONDS),
        },
      }),
    );
    return this.conditionalPut(item, undefined);
  }

  async getExecution(id: string): Promise<Versioned<ExecutionRecord> | undefined> {
    const item = await this.get(itemKey(`X#${id}`, "X"));
    return item && { value: JSON.parse(str(item, "doc")) as ExecutionRecord, version: num(item, "ver") };
  }

  async putExecution(record: ExecutionRecord, expected: number): Promise<boolean> {
    return this.conditionalPut(this.executionItem(record, expected + 1), expected);
  }

  async listExecutions(route: string): Promise<ExecutionRecord[]> {
    const index = (
      await this.query({
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
        ExpressionAttributeValues: { ":pk": s(`R#${route}`), ":prefix": s("E#") },
        ScanIndexForward: false,
      })
    ).map((i) => ({ id: str(i, "id"), startedAt: num(i, "startedAt") }));
    const records = await this.batchGetRecords([...new Set(index.map((e) => e.id))]);
    // Each record once, at its own index item (an item of a losing duplicate create has another start).
    const exact = new Set(index.filter((e) => records.get(e.id)?.startedAt === e.startedAt).map((e) => e.id));
    const out: ExecutionRecord[] = [];
    const seen = new Set<string>();
    for (const e of index) {
      const r = records.get(e.id);
      if (!r || seen.has(e.id) || (exact.has(e.id) && r.startedAt !== e.startedAt)) continue;
      seen.add(e.id);
      out.push(r);
    }
    return out;
  }

  private executionItem(record: ExecutionRecord, version: number): Item {
    const doc = document(
      record,
      () => `execution ${record.id}`,
      "its inputs or errors are too large to record",
    );
    const item: Item = {
      ...itemKey(`X#${record.id}`, "X"),
      ver: n(version),
      status: s(record.status),
      doc: s(doc),
    };
    if (isFinished(record.status)) {
      const ended = record.endedAt ?? this.clock.now();
      item.ttl = n(Math.ceil(ended / 1000) + this.historyTtl);
    }
    return item;
  }

  private async batchGetRecords(ids: readonly string[]): Promise<Map<string, ExecutionRecord>> {
    const out = new Map<string, ExecutionRecord>();
    for (let i = 0; i < ids.length; i += BATCH_GET_MAX_KEYS) {
      let keys: Item[] = ids.slice(i, i + BATCH_GET_MAX_KEYS).map((id) => keyOnly(itemKey(`X#${id}`, "X")));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= BATCH_GET_MAX_ATTEMPTS)
          throw new Error(`DynamoDbStore: ${keys.length} execution records stayed unprocessed (throttled)`);
        if (attempt > 0) await sleep(Math.min(50 * 2 ** attempt, 2000));
        const res = await this.send<BatchGetItemCommandOutput>(
          "reads",
          new BatchGetItemCommand({
            RequestItems: {
              [this.table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: "#doc",
                ExpressionAttributeNames: { "#doc": "doc" },
              },
            },
          }),
        );
        for (const item of res.Responses?.[this.table] ?? []) {
          const r = JSON.parse(str(item, "doc")) as ExecutionRecord;
          out.set(r.id, r);
        }
        keys = res.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- idempotency and handles

  async claimEvent(eventId: string, expiresAt: number): Promise<boolean> {
    return this.conditionalPut(
      { ...itemKey(`E#${eventId}`, "E"), ttl: n(this.historyExpiry(expiresAt)) },
      undefined,
    );
  }

  async eventSeen(eventId: string): Promise<boolean> {
    return (await this.get(itemKey(`E#${eventId}`, "E"))) !== undefined;
  }

  async putHandle(engine: string, handle: string, ref: HandleRef, expiresAt: number): Promise<void> {
    await this.send(
      "writes",
      new PutItemCommand({
        TableName: this.table,
        Item: {
          ...itemKey(`H#${engine}#${handle}`, "H"),
          executionId: s(ref.executionId),
          targetIndex: n(ref.targetIndex),
          ttl: n(this.historyExpiry(expiresAt)),
        },
      }),
    );
  }

  async getHandle(engine: string, handle: string): Promise<HandleRef | undefined> {
    const item = await this.get(itemKey(`H#${engine}#${handle}`, "H"));
    return item && { executionId: str(item, "executionId"), targetIndex: num(item, "targetIndex") };
  }

  /** Epoch seconds: the caller's expiry (epoch ms), or the history TTL from now when that is later. */
  private historyExpiry(expiresAtMs: number): number {
    return Math.max(Math.ceil(expiresAtMs / 1000), Math.ceil(this.clock.now() / 1000) + this.historyTtl);
  }

  // ---------------------------------------------------------------- requests

  private async get(key: Key): Promise<Item | undefined> {
    const res = await this.send<GetItemCommandOutput>(
      "reads",
      new GetItemCommand({ TableName: this.table, Key: keyOnly(key), ConsistentRead: true }),
    );
    return res.Item;
  }

  /**
   * Put if the item is at `expected` (undefined: absent); false on a failed condition. The item
   * carries a request token: an ambiguous outcome is resolved by reading the item back.
   */
  private async conditionalPut(item: Item, expected: number | undefined): Promise<boolean> {
    const token = randomUUID();
    const written: Item = { ...item, rt: s(token) };
    checkItemSize(written);
    try {
      await this.send(
        "writes",
        new PutItemCommand({ TableName: this.table, Item: written, ...condition(expected) }),
      );
      return true;
    } catch (e) {
      if (!isAmbiguous(e)) throw e;
      this.ambiguous++;
      // The item as it is now: ours (the token) means the write was applied.
      let now: Item | undefined;
      try {
        now = await this.get({ pk: written.pk as AttributeValue, sk: written.sk as AttributeValue });
      } catch {
        throw e;
      }
      if (now?.rt?.S === token) return true;
      if (isConditionFailed(e)) return false;
      // A network or server error and the item is not ours: not applied (yet); the caller retries.
      throw e;
    }
  }

  /**
   * Delete if the item is at `expected`. Ambiguous outcomes are resolved by reading back: an item
   * that is still at `expected` was not deleted (a network error is thrown again; the caller retries),
   * an item that is gone or moved on is a failed condition for the caller (it re-reads and decides).
   */
  private async conditionalDelete(key: Key, expected: number | undefined): Promise<boolean> {
    try {
      await this.send(
        "writes",
        new DeleteItemCommand({ TableName: this.table, Key: keyOnly(key), ...condition(expected) }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw e;
    }
  }

  /** Items of a partition whose whole sort key starts with `prefix`, however long the prefix. */
  private async queryPrefix(pk: string, prefix: string): Promise<Item[]> {
    const readable = utf8Prefix(prefix, MAX_SORT_KEY_BYTES - HASH_SUFFIX_BYTES);
    const items = await this.query({
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
      ExpressionAttributeValues: {
        ":pk": s(boundedKey(pk, MAX_PARTITION_KEY_BYTES)),
        ":prefix": s(readable),
      },
      ConsistentRead: true,
    });
    return readable === prefix ? items : items.filter((i) => fullSk(i).startsWith(prefix));
  }

  /** Every item of a key condition, page by page. */
  private async query(
    input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey" | "Limit">,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const res = await this.send<QueryCommandOutput>(
        "queries",
        new QueryCommand({
          ...input,
          TableName: this.table,
          ConsistentRead: true,
          ...(this.pageSize === undefined ? {} : { Limit: this.pageSize }),
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      items.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  private async send<O>(kind: keyof StoreStats, command: { readonly input: unknown }): Promise<O> {
    this.stats[kind]++;
    // One narrow cast instead of an overload per command type.
    return (this.client.send as (c: unknown) => Promise<O>)(command);
  }
}

/**
 * Creates the routing table (on-demand billing) and waits until it is active; enables TTL on `ttl`
 * where the endpoint supports it (local emulators such as dynalite do not: that error is ignored).
 * For tests and local use; deployed tables come from synth with {@link routingTableKeySchema}.
 */
export async function createRoutingTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: routingTableKeySchema.billingMode,
      AttributeDefinitions: [...routingTableKeySchema.attributeDefinitions],
      KeySchema: [...routingTableKeySchema.keySchema],
    }),
  );
  for (let attempt = 0; ; attempt++) {
    const res = await client.send(new DescribeTableCommand({ TableName: name }));
    if (res.Table?.TableStatus === "ACTIVE") break;
    if (attempt >= 600) throw new Error(`table ${name} did not become ACTIVE`);
    await sleep(Math.min(100 * (attempt + 1), 1000));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: routingTableKeySchema.ttlAttributeName, Enabled: true },
      }),
    );
  } catch (e) {
    if (!(e instanceof Error && e.name === "UnknownOperationException")) throw e;
  }
}

function condition(expected: number | undefined): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Item;
} {
  return expected === undefined
    ? { ConditionExpression: "attribute_not_exists(#pk)", ExpressionAttributeNames: { "#pk": "pk" } }
    : {
        ConditionExpression: "#ver = :ver",
        ExpressionAttributeNames: { "#ver": "ver" },
        ExpressionAttributeValues: { ":ver": n(expected) },
      };
}

function nextVersion(expected: number | undefined): number {
  return (expected ?? 0) + 1;
}

/** Newest first by start time (ms, zero-padded to 15 digits), then by id. */
function indexSortKey(startedAt: number, id: string): string {
  return `E#${String(startedAt).padStart(15, "0")}#${id}`;
}

function document(value: unknown, what: () => string, hint: string): string {
  const doc = JSON.stringify(value);
  const bytes = Buffer.byteLength(doc, "utf8");
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new StoreItemTooLargeError(
      `${what()}: ${Math.ceil(bytes / 1024)} KB exceeds the DynamoDB store's limit of ` +
        `${MAX_DOCUMENT_BYTES / 1024} KB per item (DynamoDB items are at most 400 KB): ${hint}`,
    );
  }
  return doc;
}

/** Sort key of a bucket item: the bucket (no "#" inside: its parts are URI-encoded) then the item key. */
function bucketSortKey(bucket: string, key: string): string {
  return `B#${bucket}#${key}`;
}

/**
 * The key attributes of an item, bounded (see {@link boundedKey}). A bounded key's whole value is kept
 * in `fpk` / `fsk` when the item is written (spread into the item with the key).
 */
function itemKey(pk: string, sk: string): Key & Item {
  const key: Key & Item = {
    pk: s(boundedKey(pk, MAX_PARTITION_KEY_BYTES)),
    sk: s(boundedKey(sk, MAX_SORT_KEY_BYTES)),
  };
  if (key.pk.S !== pk) key.fpk = s(pk);
  if (key.sk.S !== sk) key.fsk = s(sk);
  return key;
}

/** Only the key attributes (GetItem and DeleteItem take nothing else). */
function keyOnly(k: Key): Key {
  return { pk: k.pk, sk: k.sk };
}

/** The whole sort key of an item (its `fsk` when the stored key is bounded). */
function fullSk(item: Item): string {
  return item.fsk?.S ?? str(item, "sk");
}

/** Bytes of an item as DynamoDB counts them: attribute names and values (strings and numbers as text). */
export function itemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, v] of Object.entries(item)) {
    bytes += Buffer.byteLength(name, "utf8");
    if (v.S !== undefined) bytes += Buffer.byteLength(v.S, "utf8");
    else if (v.N !== undefined) bytes += Math.ceil(v.N.length / 2) + 1;
    else bytes += Buffer.byteLength(JSON.stringify(v), "utf8");
  }
  return bytes;
}

function checkItemSize(item: Item): void {
  const bytes = itemBytes(item);
  if (bytes > MAX_ITEM_BYTES)
    throw new StoreItemTooLargeError(
      `item ${describeKey(item)}: ${bytes} bytes exceeds DynamoDB's item limit of ${MAX_ITEM_BYTES} bytes`,
    );
}

function isConditionFailed(e: unknown): boolean {
  return e instanceof Error && e.name === "ConditionalCheckFailedException";
}

/**
 * A write whose outcome is not known: a failed condition (also what the SDK's retry of an applied
 * write gets), or a network or server error. Validation errors are not ambiguous: nothing was written.
 */
function isAmbiguous(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (isConditionFailed(e)) return true;
  if (e.name === "ValidationException" || e.name === "StoreItemTooLargeError") return false;
  // A 4xx (validation, throttling, access) was refused before anything was written.
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return !(status !== undefined && status >= 400 && status < 500);
}

function s(v: string): AttributeValue {
  return { S: v };
}

function n(v: number): AttributeValue {
  return { N: String(v) };
}

function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new Error(`DynamoDbStore: item ${describeKey(item)} has no string "${name}"`);
  return v;
}

function num(item: Item, name: string): number {
  const v = item[name]?.N;
  if (v === undefined) throw new Error(`DynamoDbStore: item ${describeKey(item)} has no number "${name}"`);
  return Number(v);
}

function describeKey(item: Item): string {
  return `${item.pk?.S ?? "?"}/${item.sk?.S ?? "?"}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
