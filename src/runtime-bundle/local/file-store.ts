/**
 * FileStore: the Store kept in a folder, so that successive `sluice local` runs continue where the
 * last one left off (the CLI uses `<dir>/.sluice/state`).
 *
 * Layout, one JSON file per item (`{ "version": n, "key": …, "value": … }`):
 * - `routes/<route>/items/<bucket>/<key>.json` a bucket's group and fact items (`.bucket.json` names
 *   the bucket); `routes/<route>/buckets/` is the previous layout, migrated by the sweeper
 * - `routes/<route>/waiting.json`           the route's waiting index
 * - `routes/<route>/slots/<outputKey>.json` execution slots
 * - `routes/<route>/executions/<seq>.json`  the route's executions in creation order (`{ "id": … }`)
 * - `executions/<id>.json`                  execution records
 * - `events/<eventId>.json`, `handles/<engine>/<handle>.json`
 *
 * Names are percent-encoded (anything outside `[A-Za-z0-9_-]`), or a SHA-256 when that is too long
 * for a file name; the original key is always inside the file.
 *
 * Conditional writes: every operation does its read, its version check and its write synchronously,
 * so concurrent calls of one process never interleave inside an operation. Writes go to a temporary
 * file that is renamed over the item (updates) or hard-linked to its name (creates, which fail when
 * the name exists), so a crash never leaves a half-written item. Across processes, `lock: true` takes
 * `LOCK` in the folder (exclusive create, holding the pid) until close(): one process at a time owns
 * the state, which is what the CLI does; a lock left by a process that is gone is taken over.
 */
import { createHash } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ExecutionRecord } from "../core/execution-record";
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

export interface FileStoreOptions {
  /** Take the folder's lock file until close() (one process at a time). @default false */
  readonly lock?: boolean;
}

/** Another live process holds the folder's lock. */
export class FileStoreLockedError extends Error {
  override readonly name = "FileStoreLockedError";
}

interface Item<T> {
  readonly version: number;
  readonly key: string;
  readonly value: T;
}

const MAX_NAME = 200;
/** The file in a bucket's folder that names the bucket. */
const BUCKET_MARKER = ".bucket.json";

export class FileStore implements Store {
  readonly stats: StoreStats = { reads: 0, writes: 0, queries: 0 };
  /** Absolute folder of the state. */
  readonly root: string;
  private lockFile: string | undefined;
  private tmpSeq = 0;

  constructor(root: string, options: FileStoreOptions = {}) {
    this.root = resolve(root);
    mkdirSync(this.root, { recursive: true });
    if (options.lock) this.lock();
  }

  /** Releases the lock, if this store holds it. */
  close(): void {
    if (this.lockFile === undefined) return;
    try {
      unlinkSync(this.lockFile);
    } catch (e) {
      if (!isCode(e, "ENOENT")) throw e;
    }
    this.lockFile = undefined;
  }

  // ---------------------------------------------------------------- buckets

  async getItem(route: string, bucket: string, key: string): Promise<Versioned<BucketItem> | undefined> {
    this.stats.reads++;
    return versioned(this.read<BucketItem>(this.itemFile(route, bucket, key)));
  }

  async putItem(
    route: string,
    bucket: string,
    key: string,
    item: BucketItem | undefined,
    expected: number | undefined,
  ): Promise<boolean> {
    this.stats.writes++;
    const file = this.itemFile(route, bucket, key);
    if (item === undefined) {
      const current = this.read<BucketItem>(file);
      if (current?.version !== expected) return false;
      if (current !== undefined) unlinkSync(file);
      return true;
    }
    return this.conditionalPut(file, key, item, expected, false);
  }

  async queryBucket(route: string, bucket: string, prefix: string): Promise<KeyedItem<BucketItem>[]> {
    this.stats.queries++;
    return this.items<BucketItem>(this.bucketDir(route, bucket))
      .filter((i) => i.key.startsWith(prefix))
      .map((i) => ({ key: i.key, value: i.value, version: i.version }))
      .sort((a, b) => compare(a.key, b.key));
  }

  async buckets(route: string): Promise<BucketRef[]> {
    this.stats.queries++;
    const dir = join(this.routeDir(route), "items");
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if (isCode(e, "ENOENT")) return [];
      throw e;
    }
    const out: BucketRef[] = [];
    for (const name of names) {
      const marker = this.read<string>(join(dir, name, BUCKET_MARKER));
      if (marker !== undefined && this.items<BucketItem>(join(dir, name)).length > 0)
        out.push({ bucket: marker.value });
    }
    return out.sort((a, b) => compare(a.bucket, b.bucket));
  }

  async legacyBuckets(route: string): Promise<LegacyBucket[]> {
    this.stats.queries++;
    return this.items<{ groups: LegacyGroup[] }>(join(this.routeDir(route), "buckets")).map((i) => ({
      key: i.key,
      version: i.version,
      groups: i.value.groups,
    }));
  }

  async dropLegacyBucket(route: string, key: string, version: number): Promise<boolean> {
    this.stats.writes++;
    const file = join(this.routeDir(route), "buckets", fileName(key));
    if (this.read(file)?.version !== version) return false;
    unlinkSync(file);
    return true;
  }

  async getWaiting(route: string): Promise<Versioned<WaitingIndex> | undefined> {
    this.stats.reads++;
    return versioned(this.read<WaitingIndex>(this.waitingFile(route)));
  }

  async putWaiting(route: string, index: WaitingIndex, expected: number | undefined): Promise<boolean> {
    this.stats.writes++;
    return this.conditionalPut(
      this.waitingFile(route),
      route,
      { keys: [...index.keys] },
      expected,
      index.keys.length === 0,
    );
  }

  // ---------------------------------------------------------------- slots

  async getSlot(route: string, outputKey: string): Promise<Versioned<ExecutionSlot> | undefined> {
    this.stats.reads++;
    return versioned(this.read<ExecutionSlot>(this.slotFile(route, outputKey)));
  }

  async putSlot(
    route: string,
    outputKey: string,
    slot: ExecutionSlot,
    expected: number | undefined,
  ): Promise<boolean> {
    this.stats.writes++;
    return this.conditionalPut(this.slotFile(route, outputKey), outputKey, slot, expected, false);
  }

  async activeSlots(route: string): Promise<ActiveSlot[]> {
    this.stats.queries++;
    return this.items<ExecutionSlot>(join(this.routeDir(route), "slots"))
      .filter((i) => i.value.active !== undefined)
      .map((i) => ({ outputKey: i.key, active: i.value.active as string }))
      .sort((a, b) => compare(a.outputKey, b.outputKey));
  }

  // ---------------------------------------------------------------- executions

  async createExecution(record: ExecutionRecord): Promise<boolean> {
    this.stats.writes++;
    if (!this.create(this.executionFile(record.id), { version: 1, key: record.id, value: record }))
      return false;
    // The route's index entry: the next sequence number (creates of this process never interleave).
    const dir = join(this.routeDir(record.node), "executions");
    for (let seq = listDir(dir).length; ; seq++) {
      const entry = { version: 1, key: record.id, value: { id: record.id } };
      if (this.create(join(dir, `${String(seq).padStart(12, "0")}.json`), entry)) return true;
    }
  }

  async getExecution(id: string): Promise<Versioned<ExecutionRecord> | undefined> {
    this.stats.reads++;
    return versioned(this.read<ExecutionRecord>(this.executionFile(id)));
  }

  async putExecution(record: ExecutionRecord, expected: number): Promise<boolean> {
    this.stats.writes++;
    return this.conditionalPut(this.executionFile(record.id), record.id, record, expected, false);
  }

  async listExecutions(route: string): Promise<ExecutionRecord[]> {
    this.stats.queries++;
    const dir = join(this.routeDir(route), "executions");
    return listDir(dir)
      .sort()
      .reverse()
      .map((name) => this.read<{ id: string }>(join(dir, name))?.value.id)
      .map((id) => (id === undefined ? undefined : this.read<ExecutionRecord>(this.executionFile(id))?.value))
      .filter((r): r is ExecutionRecord => r !== undefined);
  }

  // ---------------------------------------------------------------- events and handles

  async claimEvent(eventId: string, expiresAt: number): Promise<boolean> {
    this.stats.writes++;
    return this.create(join(this.root, "events", fileName(eventId)), {
      version: 1,
      key: eventId,
      value: { expiresAt },
    });
  }

  async eventSeen(eventId: string): Promise<boolean> {
    this.stats.reads++;
    return this.read(join(this.root, "events", fileName(eventId))) !== undefined;
  }

  async putHandle(engine: string, handle: string, ref: HandleRef, expiresAt: number): Promise<void> {
    this.stats.writes++;
    const file = this.handleFile(engine, handle);
    this.replace(file, { version: 1, key: handle, value: { ...ref, expiresAt } });
  }

  async getHandle(engine: string, handle: string): Promise<HandleRef | undefined> {
    this.stats.reads++;
    const item = this.read<HandleRef>(this.handleFile(engine, handle));
    return item === undefined
      ? undefined
      : { executionId: item.value.executionId, targetIndex: item.value.targetIndex };
  }

  // ---------------------------------------------------------------- files

  private routeDir(route: string): string {
    return join(this.root, "routes", encodeName(route));
  }

  private bucketDir(route: string, bucket: string): string {
    return join(this.routeDir(route), "items", fileName(`b${bucket}`));
  }

  /** An item's file; the bucket's folder holds a marker naming the bucket (folder names are encoded). */
  private itemFile(route: string, bucket: string, key: string): string {
    const dir = this.bucketDir(route, bucket);
    const marker = join(dir, BUCKET_MARKER);
    if (this.read(marker) === undefined) this.conditionalPut(marker, bucket, bucket, undefined, false);
    return join(dir, fileName(key));
  }

  private waitingFile(route: string): string {
    return join(this.routeDir(route), "waiting.json");
  }

  private slotFile(route: string, outputKey: string): string {
    return join(this.routeDir(route), "slots", fileName(outputKey));
  }

  private executionFile(id: string): string {
    return join(this.root, "executions", fileName(id));
  }

  private handleFile(engine: string, handle: string): string {
    return join(this.root, "handles", encodeName(engine), fileName(handle));
  }

  /** Writes `value` if the item is at `expected` (undefined: absent); deletes it instead when `remove`. */
  private conditionalPut<T>(
    file: string,
    key: string,
    value: T,
    expected: number | undefined,
    remove: boolean,
  ): boolean {
    if (this.read(file)?.version !== expected) return false;
    if (remove) {
      if (expected !== undefined) unlinkSync(file);
      return true;
    }
    this.replace(file, { version: (expected ?? 0) + 1, key, value });
    return true;
  }

  private read<T>(file: string): Item<T> | undefined {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      if (isCode(e, "ENOENT")) return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as Item<T>;
    } catch {
      throw new Error(`corrupt state file ${file}: delete it, or the whole ${this.root} to start over`);
    }
  }

  /** Every item of a folder (its files), in no particular order. */
  private items<T>(dir: string): Item<T>[] {
    return listDir(dir)
      .filter((name) => name !== BUCKET_MARKER)
      .map((name) => this.read<T>(join(dir, name)))
      .filter((i): i is Item<T> => i !== undefined);
  }

  /** Atomically writes the item over whatever is there. */
  private replace(file: string, item: Item<unknown>): void {
    const tmp = this.writeTemp(file, item);
    renameSync(tmp, file);
  }

  /** Atomically creates the item; false when the name exists. */
  private create(file: string, item: Item<unknown>): boolean {
    const tmp = this.writeTemp(file, item);
    try {
      linkSync(tmp, file);
      return true;
    } catch (e) {
      if (isCode(e, "EEXIST")) return false;
      throw e;
    } finally {
      unlinkSync(tmp);
    }
  }

  private writeTemp(file: string, item: Item<unknown>): string {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = join(dirname(file), `.tmp-${process.pid}-${++this.tmpSeq}`);
    writeFileSync(tmp, JSON.stringify(item));
    return tmp;
  }

  private lock(): void {
    const file = join(this.root, "LOCK");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
        this.lockFile = file;
        return;
      } catch (e) {
        if (!isCode(e, "EEXIST")) throw e;
      }
      const pid = Number(readText(file)?.trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new FileStoreLockedError(
          `${this.root} is in use by another sluice process (pid ${pid}); wait for it to finish, or delete ${file} if that process is gone`,
        );
      }
      // Left by a process that is gone: take it over.
      try {
        unlinkSync(file);
      } catch (e) {
        if (!isCode(e, "ENOENT")) throw e;
      }
    }
    throw new FileStoreLockedError(`could not take ${file}: another process keeps taking it`);
  }
}

function versioned<T>(item: Item<T> | undefined): Versioned<T> | undefined {
  return item === undefined ? undefined : { value: item.value, version: item.version };
}

/** A file name for any key: percent-encoded, or a hash when that is too long (the key is in the file). */
function fileName(key: string): string {
  return `${encodeName(key)}.json`;
}

function encodeName(key: string): string {
  const encoded = encodeURIComponent(key).replace(
    /[.!~*'()]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (encoded.length === 0) return "%";
  if (encoded.length <= MAX_NAME) return encoded;
  return `~${createHash("sha256").update(key).digest("hex")}`;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch (e) {
    if (isCode(e, "ENOENT")) return [];
    throw e;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if (isCode(e, "ENOENT")) return undefined;
    throw e;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return !isCode(e, "ESRCH");
  }
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === code;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
