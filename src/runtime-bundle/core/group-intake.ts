/**
 * The group intake: offers an event to its route's bucket (tokens to their partition's group,
 * facts to the bucket), claims the groups an arrival completes, holds complete groups on range
 * checks (the route's waiting index), expires groups and facts at their TTL, and shows what pending
 * groups wait for. Write-then-look: a token writes its group and then reads the bucket's facts; a
 * fact writes itself and then reads the bucket's groups. Of two concurrent arrivals the later read
 * sees both, so a partition completed by a race is never left pending; a claim is a conditional
 * write, so only one of them triggers it.
 */
import type { CustomMapperResolver } from "../../flow/model/mapper";
import type { Clock } from "./clock";
import type { ExecutionRunner, ResumeMode } from "./execution-runner";
import type { HookCalls } from "./hook-calls";
import type { MetricsSink } from "./hooks";
import { completionOf, outputDimensions, partitionsOf, selectInputs } from "./materialize";
import { agrees, pinsOf } from "./pins";
import { retryOnConflict, type ConflictPolicy } from "./retry-on-conflict";
import type { Route } from "./route-table";
import type { Dimensions } from "./signal";
import type { Storage } from "./storage";
import { FACT_PREFIX, ITEM_SCHEMA, type FactItem, type GroupItem, type KeyedItem, type Store } from "./store";
import {
  arrive,
  classify,
  comboKeyOf,
  completion,
  consume,
  current,
  factKeyOf,
  factSets,
  groupKeyOf,
  isExpired,
  isSpent,
  liveFact,
  offerToken,
  redeployReason,
  type TokenDecision,
} from "./trigger-groups";

/** Runs work now, or hands it to the caller's background (LocalRuntime's `wait: false`). */
export type Run = (work: () => Promise<void>) => Promise<void>;

export interface IntakeProps {
  readonly store: Store;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly hooks: HookCalls;
  readonly runner: ExecutionRunner;
  readonly conflicts: ConflictPolicy;
  readonly newId: () => string;
  readonly consumedRetentionMs: number;
  readonly metrics?: MetricsSink;
  readonly custom?: CustomMapperResolver;
}

/** A pending group as `pending()` shows it. */
export interface GroupView {
  /** The output partition (every output dimension, never "*"). */
  readonly dimensions: Dimensions;
  /** Aliases of the trigger inputs that have a token or a compatible live fact. */
  readonly received: readonly string[];
  /** Aliases of the trigger inputs still missing. */
  readonly missing: readonly string[];
  /** For a group waiting on a range check: the partitions (paths) that do not exist yet. */
  readonly missingPartitions?: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly state: "pending" | "waiting";
}

/** A live fact as `facts()` shows it. */
export interface FactView {
  /** The input alias. */
  readonly input: string;
  /** The event's dimensions (the input's). */
  readonly dimensions: Dimensions;
  /** The output dimensions it pins (a fact for every partition that agrees). */
  readonly pins: Dimensions;
  readonly arrivedAt: number;
  readonly expiresAt: number;
}

const isFact = (i: KeyedItem<GroupItem | FactItem>): i is KeyedItem<FactItem> => i.value.kind === "fact";
const isGroup = (i: KeyedItem<GroupItem | FactItem>): i is KeyedItem<GroupItem> => i.value.kind === "group";
const waitingKey = (bucket: string, key: string): string => `${bucket}\u0000${key}`;

export class GroupIntake {
  constructor(private readonly p: IntakeProps) {}

  /** Offers an event on `alias` to its route; returns the executions it started. */
  async offer(
    route: Route,
    alias: string,
    dims: Dimensions,
    eventId: string | undefined,
    run: Run,
  ): Promise<string[]> {
    const cls = classify(route, alias, dims, this.p.custom);
    if (!cls) return [];
    const bucket = route.groupKey(alias, dims);
    return cls.kind === "token"
      ? this.offerToken(route, bucket, alias, dims, cls.partition, eventId, run)
      : this.offerFact(route, bucket, alias, dims, cls.pins, eventId, run);
  }

  private async offerToken(
    route: Route,
    bucket: string,
    alias: string,
    dims: Dimensions,
    partition: Dimensions,
    eventId: string | undefined,
    run: Run,
  ): Promise<string[]> {
    const { store, clock } = this.p;
    const key = groupKeyOf(route, partition);
    for (let round = 0; round < 3; round++) {
      const d = await retryOnConflict<TokenDecision>(
        `route "${route.id}": group ${bucket}/${key}`,
        async () => {
          const cur = await store.getItem(route.id, bucket, key);
          const item = cur?.value.kind === "group" ? cur.value : undefined;
          const ctx = { route, alias, dims, partition, eventId, now: clock.now(), newId: this.p.newId };
          const decision = offerToken(item, ctx);
          if (decision.kind !== "write") return { value: decision };
          return (await store.putItem(route.id, bucket, key, decision.next, cur?.version))
            ? { value: decision }
            : undefined;
        },
        this.p.conflicts,
        this.p.metrics,
      );
      // A redelivered token the group holds: the delivery that wrote it may have died before the claim.
      if (d.kind === "noop" && d.held === undefined) return [];
      if (d.kind === "resume") {
        await this.resumeExecution(route, d.executionId, run);
        return [];
      }
      if (d.kind === "finish-trigger") {
        await this.trigger(route, bucket, key, d.item, run);
        continue;
      }
      if (d.kind === "write") {
        if (d.expired) await this.expired(route, d.expired.item.partition, d.expired.reason);
        if (d.created) await this.p.hooks.call(route, "onPendingCreated", { dimensions: partition });
      }
      const held = d.kind === "write" ? d.next.tokens : d.held;
      if (held === undefined) return [];
      const facts = (await store.queryBucket(route.id, bucket, FACT_PREFIX))
        .filter(isFact)
        .map((f) => f.value);
      // Incomplete as written: nothing to claim (a fact arriving later finds the group).
      if (!completion(route, partition, held, facts, clock.now(), this.p.custom)) return [];
      return this.claim(route, bucket, key, facts, run);
    }
    return [];
  }

  private async offerFact(
    route: Route,
    bucket: string,
    alias: string,
    dims: Dimensions,
    pins: Dimensions,
    eventId: string | undefined,
    run: Run,
  ): Promise<string[]> {
    const { store, clock } = this.p;
    const key = factKeyOf(route, alias, dims);
    const arrival = eventId ?? this.p.newId();
    const fact = await retryOnConflict<FactItem>(
      `route "${route.id}": fact ${bucket}/${key}`,
      async () => {
        const now = clock.now();
        const cur = await store.getItem(route.id, bucket, key);
        const had = cur?.value.kind === "fact" ? cur.value : undefined;
        // A redelivery: the fact is written; what it completes is looked at again (idempotently).
        if (had && eventId !== undefined && had.ids.includes(eventId) && liveFact(route, had, now))
          return { value: had };
        const next = arrive(route, had, alias, dims, pins, arrival, eventId, now);
        return (await store.putItem(route.id, bucket, key, next, cur?.version)) ? { value: next } : undefined;
      },
      this.p.conflicts,
      this.p.metrics,
    );
    const items = await store.queryBucket(route.id, bucket, "");
    const now = clock.now();
    const facts = items.filter(isFact).map((f) => f.value);
    const started: string[] = [];
    for (const g of items.filter(isGroup)) {
      const v = g.value;
      if (v.state !== "pending" || !current(route, v) || isExpired(v, now)) continue;
      if (v.tokens[alias] !== undefined || !agrees(route, pins, v.partition)) continue;
      started.push(...(await this.claim(route, bucket, g.key, facts, run, g)));
    }
    for (const set of factSets(route, fact, facts, now, this.p.custom))
      started.push(...(await this.claimSet(route, bucket, set.partition, set.received, set.arrivals, run)));
    return started;
  }

  /**
   * Claims a pending group that its tokens and the bucket's live facts complete: "triggering" (then
   * triggered) when its range checks hold, else "waiting".
   */
  private async claim(
    route: Route,
    bucket: string,
    key: string,
    facts: readonly FactItem[],
    run: Run,
    first?: KeyedItem<GroupItem>,
  ): Promise<string[]> {
    const { store, clock } = this.p;
    let seen = first;
    const claimed = await retryOnConflict<GroupItem | undefined>(
      `route "${route.id}": group ${bucket}/${key}`,
      async () => {
        const cur = seen ?? (await store.getItem(route.id, bucket, key));
        seen = undefined;
        const g = cur?.value;
        const now = clock.now();
        if (!cur || g?.kind !== "group" || g.state !== "pending" || !current(route, g) || isExpired(g, now))
          return { value: undefined };
        const received = completion(route, g.partition, g.tokens, facts, now, this.p.custom);
        if (!received) return { value: undefined };
        const ready = (await this.missingRanges(route, received)).length === 0;
        const next: GroupItem = ready
          ? { ...g, state: "triggering", received, executionId: `${route.id}-${g.id}` }
          : { ...g, state: "waiting", received };
        return (await store.putItem(route.id, bucket, key, next, cur.version)) ? { value: next } : undefined;
      },
      this.p.conflicts,
      this.p.metrics,
    );
    if (!claimed) return [];
    if (claimed.state === "waiting") {
      await this.updateWaiting(route, (keys) =>
        keys.includes(waitingKey(bucket, key)) ? keys : [...keys, waitingKey(bucket, key)],
      );
      return [];
    }
    return [await this.trigger(route, bucket, key, claimed, run)];
  }

  /** A fact set that pins a whole partition: its own group item, created claimed (once per set). */
  private async claimSet(
    route: Route,
    bucket: string,
    partition: Dimensions,
    received: Record<string, Dimensions>,
    arrivals: readonly string[],
    run: Run,
  ): Promise<string[]> {
    const { store, clock } = this.p;
    const key = comboKeyOf(route, partition, arrivals);
    const id = `c${key.slice(key.lastIndexOf("#") + 1)}`;
    const now = clock.now();
    const ready = (await this.missingRanges(route, received)).length === 0;
    const item: GroupItem = {
      kind: "group",
      schema: ITEM_SCHEMA,
      signature: route.signature,
      id,
      partition,
      createdAt: now,
      expiresAt: now + route.node.pendingTtlSeconds * 1000,
      state: ready ? "triggering" : "waiting",
      tokens: {},
      received,
      ...(ready ? { executionId: `${route.id}-${id}` } : {}),
    };
    if (!(await store.putItem(route.id, bucket, key, item, undefined))) {
      const had = (await store.getItem(route.id, bucket, key))?.value;
      if (had?.kind === "group" && had.state === "triggering")
        return [await this.trigger(route, bucket, key, had, run)];
      return [];
    }
    if (!ready) {
      await this.updateWaiting(route, (keys) => [...keys, waitingKey(bucket, key)]);
      return [];
    }
    return [await this.trigger(route, bucket, key, item, run)];
  }

  /**
   * A claimed ("triggering") group becomes an execution, then leaves its item. Idempotent: when the
   * execution exists (a retry after a crash, or a concurrent delivery) it is resumed, not restarted.
   */
  async trigger(
    route: Route,
    bucket: string,
    key: string,
    g: GroupItem,
    run: Run,
    mode: ResumeMode = "trigger",
  ): Promise<string> {
    const { runner } = this.p;
    const id = g.executionId ?? `${route.id}-${g.id}`;
    const received = g.received ?? g.tokens;
    const started = await runner.start(route, id, g.partition, received);
    await this.consumeItem(route, bucket, key, g.id);
    const record = started.record;
    if (record && started.claimed) await run(() => runner.dispatchClaimed(route, record, 0, 0));
    else if (record && started.existing) await run(() => runner.resume(route, record, mode));
    return id;
  }

  private async resumeExecution(route: Route, executionId: string, run: Run): Promise<void> {
    const record = (await this.p.store.getExecution(executionId))?.value;
    if (record) await run(() => this.p.runner.resume(route, record, "trigger"));
  }

  /** The triggered group leaves its item (its token ids stay for the retention; see `consume`). */
  private async consumeItem(route: Route, bucket: string, key: string, groupId: string): Promise<void> {
    const { store, clock } = this.p;
    await retryOnConflict(
      `route "${route.id}": group ${bucket}/${key}`,
      async () => {
        const cur = await store.getItem(route.id, bucket, key);
        const g = cur?.value;
        if (!cur || g?.kind !== "group" || g.id !== groupId || g.state !== "triggering")
          return { value: undefined };
        const next = consume(g, clock.now(), this.p.consumedRetentionMs);
        return (await store.putItem(route.id, bucket, key, next, cur.version))
          ? { value: undefined }
          : undefined;
      },
      this.p.conflicts,
      this.p.metrics,
    );
  }

  /** Range-checked inputs' partitions (paths) that do not exist yet. */
  async missingRanges(route: Route, received: Readonly<Record<string, Dimensions>>): Promise<string[]> {
    if (!route.inputs.some((i) => i.model.rangeCheck)) return [];
    const sel = selectInputs(route, received, this.p.custom);
    const missing: string[] = [];
    for (const input of route.inputs) {
      if (!input.model.rangeCheck) continue;
      for (const part of partitionsOf(input, sel[input.alias] ?? {})) {
        const path = this.p.storage.partitionPath(input.source, part);
        if (!(await this.p.storage.exists(path, completionOf(input.source)))) missing.push(path);
      }
    }
    return missing;
  }

  /** Groups waiting on range checks whose partitions may now exist: only those the waiting index names. */
  async recheckWaiting(route: Route, run: Run): Promise<string[]> {
    const { store, clock } = this.p;
    const started: string[] = [];
    const settled: string[] = [];
    for (const wk of (await store.getWaiting(route.id))?.value.keys ?? []) {
      const [bucket, key] = wk.split("\u0000") as [string, string];
      const cur = await store.getItem(route.id, bucket, key);
      const g = cur?.value;
      if (!cur || g?.kind !== "group" || g.state !== "waiting" || isExpired(g, clock.now())) {
        settled.push(wk);
        continue;
      }
      if ((await this.missingRanges(route, g.received ?? g.tokens)).length > 0) continue;
      const next: GroupItem = { ...g, state: "triggering", executionId: `${route.id}-${g.id}` };
      if (!(await store.putItem(route.id, bucket, key, next, cur.version))) continue;
      settled.push(wk);
      started.push(await this.trigger(route, bucket, key, next, run));
    }
    if (settled.length > 0)
      await this.updateWaiting(route, (keys) => keys.filter((k) => !settled.includes(k)));
    return started;
  }

  private async updateWaiting(
    route: Route,
    change: (keys: readonly string[]) => readonly string[],
  ): Promise<void> {
    const { store } = this.p;
    await retryOnConflict(
      `route "${route.id}": waiting index`,
      async () => {
        const cur = await store.getWaiting(route.id);
        const before = cur?.value.keys ?? [];
        const keys = change(before);
        if (keys.length === before.length && keys.every((k, i) => k === before[i]))
          return { value: undefined };
        return (await store.putWaiting(route.id, { keys }, cur?.version)) ? { value: undefined } : undefined;
      },
      this.p.conflicts,
      this.p.metrics,
    );
  }

  private async expired(route: Route, dimensions: Dimensions, reason: string): Promise<void> {
    await this.p.hooks.call(route, "onPendingExpired", { dimensions, reason });
  }

  /** The route's pending and waiting groups, oldest first. */
  async pending(route: Route): Promise<GroupView[]> {
    const { store, clock } = this.p;
    const now = clock.now();
    const out: GroupView[] = [];
    for (const { bucket } of await store.buckets(route.id)) {
      const items = await store.queryBucket(route.id, bucket, "");
      const facts = items.filter(isFact).map((f) => f.value);
      for (const { value: g } of items.filter(isGroup)) {
        if ((g.state !== "pending" && g.state !== "waiting") || !current(route, g) || isExpired(g, now))
          continue;
        const has = (alias: string): boolean =>
          g.tokens[alias] !== undefined ||
          g.received?.[alias] !== undefined ||
          facts.some(
            (f) =>
              f.alias === alias &&
              liveFact(route, f, now) &&
              agrees(route, f.pins, g.partition) &&
              pinsOf(route, { ...g.tokens, [alias]: f.dims }, this.p.custom) !== undefined,
          );
        const triggers = route.triggers.map((t) => t.alias);
        const missingPartitions =
          g.state === "waiting" ? await this.missingRanges(route, g.received ?? g.tokens) : undefined;
        out.push({
          dimensions: g.partition,
          received: triggers.filter(has),
          missing: triggers.filter((a) => !has(a)),
          ...(missingPartitions === undefined ? {} : { missingPartitions }),
          createdAt: g.createdAt,
          expiresAt: g.expiresAt,
          state: g.state,
        });
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The route's live facts, oldest arrival first. */
  async facts(route: Route): Promise<FactView[]> {
    const { store, clock } = this.p;
    const now = clock.now();
    const out: FactView[] = [];
    for (const { bucket } of await store.buckets(route.id))
      for (const { value: f } of (await store.queryBucket(route.id, bucket, FACT_PREFIX)).filter(isFact))
        if (liveFact(route, f, now))
          out.push({
            input: f.alias,
            dimensions: f.dims,
            pins: f.pins,
            arrivedAt: f.arrivedAt,
            expiresAt: f.expiresAt,
          });
    return out.sort((a, b) => a.arrivedAt - b.arrivedAt);
  }

  /**
   * Housekeeping of one route: expires groups past their TTL (onPendingExpired, reason "ttl") and
   * items of another layout or link structure (reason "redeploy: …"), drops expired facts and spent
   * items, finishes interrupted triggers, claims groups that live facts complete, and migrates
   * buckets of the previous layout (their claimed groups run, their pending ones expire).
   */
  async sweep(route: Route, run: Run): Promise<void> {
    const { store, clock } = this.p;
    for (const { bucket } of await store.buckets(route.id)) {
      const items = await store.queryBucket(route.id, bucket, "");
      const facts = items.filter(isFact).map((f) => f.value);
      for (const it of items) {
        const now = clock.now();
        const v = it.value;
        if (v.kind === "fact") {
          if (!liveFact(route, v, now)) await store.putItem(route.id, bucket, it.key, undefined, it.version);
          continue;
        }
        const stale = !current(route, v);
        if (stale || isExpired(v, now)) {
          if (v.state === "triggering") {
            await this.trigger(route, bucket, it.key, v, run, "sweep");
            continue;
          }
          const keep = stale ? undefined : consume({ ...v, ids: {} }, now, this.p.consumedRetentionMs);
          if (!(await store.putItem(route.id, bucket, it.key, keep, it.version))) continue;
          if (v.state !== "consumed")
            await this.expired(route, v.partition, stale ? redeployReason(route, v) : "ttl");
        } else if (isSpent(v, now)) await store.putItem(route.id, bucket, it.key, undefined, it.version);
        else if (v.state === "triggering") await this.trigger(route, bucket, it.key, v, run, "sweep");
        else if (v.state === "pending")
          await this.claim(route, bucket, it.key, facts, run, it as KeyedItem<GroupItem>);
      }
    }
    await this.migrateLegacy(route, run);
  }

  private async migrateLegacy(route: Route, run: Run): Promise<void> {
    const { store, clock } = this.p;
    for (const lb of await store.legacyBuckets(route.id)) {
      if (!(await store.dropLegacyBucket(route.id, lb.key, lb.version))) continue;
      for (const g of lb.groups) {
        if (g.state === "triggering" && g.executionId !== undefined) {
          try {
            const output = outputDimensions(
              route,
              selectInputs(route, g.received, this.p.custom),
              this.p.custom,
            );
            const started = await this.p.runner.start(route, g.executionId, output, g.received);
            const record = started.record;
            if (record && started.claimed)
              await run(() => this.p.runner.dispatchClaimed(route, record, 0, 0));
            else if (record) await run(() => this.p.runner.resume(route, record, "sweep"));
            continue;
          } catch {
            // The group no longer fits the route: it expires below.
          }
        }
        if (g.state === "consumed") continue;
        if (g.state !== "triggering" && g.expiresAt <= clock.now()) {
          await this.expired(route, pinsOf(route, g.received, this.p.custom)?.pins ?? {}, "ttl");
          continue;
        }
        await this.expired(
          route,
          pinsOf(route, g.received, this.p.custom)?.pins ?? {},
          `redeploy: stored by layout 1, the router uses ${ITEM_SCHEMA}`,
        );
      }
    }
  }
}
