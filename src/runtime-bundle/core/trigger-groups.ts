/**
 * The trigger rule (brief §3, "Order never matters"), as pure functions over a bucket's items.
 *
 * A trigger group is one output partition of the node (within a bucket). An event pins the output
 * dimensions its linked values determine (see pins.ts):
 * - an event that pins the whole partition is a *token* for it, held by the partition's group and
 *   consumed when the partition executes;
 * - an event that pins only part of it is a *fact* for every partition that agrees with what it
 *   pins: live until the node's pending TTL, never consumed.
 * A partition is complete when every trigger (non-reference) input has an unconsumed token or a
 * live fact compatible with it, and the combination (tokens and one fact per remaining input) is
 * link-consistent and agrees with the partition. It executes on the arrival of the event that
 * completes it. When several live facts of one input fit, the newest arrival is taken.
 *
 * With no token at all (every input's events are facts), a combination of facts that pins the whole
 * partition completes it: it executes once per *fact set* (the arrivals of the facts it combines),
 * so a redelivery never runs it again and a re-landed fact (a new arrival) does.
 */
import type { CustomMapperResolver } from "../../flow/model/mapper";
import { shortHash } from "./hash";
import { agrees, pinsOf } from "./pins";
import type { Route } from "./route-table";
import { dimensionKey, type Dimensions } from "./signal";
import { FACT_PREFIX, GROUP_PREFIX, ITEM_SCHEMA, type FactItem, type GroupItem } from "./store";

/** How many event ids of recent arrivals a fact remembers. */
const FACT_IDS_KEPT = 16;

/** Key of a partition's group item in its bucket. */
export function groupKeyOf(route: Route, partition: Dimensions): string {
  return GROUP_PREFIX + outputKey(route, partition);
}

/** Key of a fact set's group item (facts only): one per partition and fact set. */
export function comboKeyOf(route: Route, partition: Dimensions, arrivals: readonly string[]): string {
  return `${groupKeyOf(route, partition)}#${shortHash([...arrivals].sort().join("\u0000"))}`;
}

/** Key of a fact item: the input and its dimensions. */
export function factKeyOf(route: Route, alias: string, dims: Dimensions): string {
  const input = route.input(alias);
  return `${FACT_PREFIX}${alias}#${dimensionKey(input?.dims.map((d) => d.name) ?? Object.keys(dims), dims)}`;
}

/** Text form of an output partition (slot keys, item keys). */
export function outputKey(route: Route, dims: Dimensions): string {
  return dimensionKey(
    route.outputDims.map((d) => d.name),
    dims,
  );
}

/** Whether an item was written for this layout and link structure. */
export function current(route: Route, item: { schema: number; signature: string }): boolean {
  return item.schema === ITEM_SCHEMA && item.signature === route.signature;
}

/** A fact that can still complete partitions. */
export function liveFact(route: Route, f: FactItem, now: number): boolean {
  return current(route, f) && f.expiresAt > now;
}

/** A group past its TTL that never executed. */
export function isExpired(g: GroupItem, now: number): boolean {
  return (g.state === "pending" || g.state === "waiting") && g.expiresAt <= now;
}

/** What an event is for a route: a token for `partition`, or a fact pinning `pins`. */
export type Classification =
  | { readonly kind: "token"; readonly partition: Dimensions }
  | { readonly kind: "fact"; readonly pins: Dimensions };

/** undefined: the event contradicts the route's links by itself and can complete nothing. */
export function classify(
  route: Route,
  alias: string,
  dims: Dimensions,
  custom?: CustomMapperResolver,
): Classification | undefined {
  const p = pinsOf(route, { [alias]: dims }, custom);
  if (!p) return undefined;
  return p.complete ? { kind: "token", partition: p.pins } : { kind: "fact", pins: p.pins };
}

/** What a token does to its partition's group item. */
export type TokenDecision =
  /** A repeat of a token a triggered group consumed: resume that execution. */
  | { readonly kind: "resume"; readonly executionId: string }
  /** The group is being triggered: finish that first, then offer again. */
  | { readonly kind: "finish-trigger"; readonly item: GroupItem }
  /**
   * A second token for a pending group, or a repeat. `held`: the pending group already holds this
   * very token (same event id, or none): a redelivery after an invocation that wrote the token and
   * died before claiming, so whether the group (these tokens) is complete is looked at again.
   */
  | { readonly kind: "noop"; readonly held?: Readonly<Record<string, Dimensions>> }
  | {
      readonly kind: "write";
      readonly next: GroupItem;
      /** The group opened a new one (onPendingCreated). */
      readonly created: boolean;
      /** A previous group of the partition that expired or was written for another link structure. */
      readonly expired?: { readonly item: GroupItem; readonly reason: string };
    };

export interface TokenContext {
  readonly route: Route;
  readonly alias: string;
  readonly dims: Dimensions;
  readonly partition: Dimensions;
  readonly eventId: string | undefined;
  readonly now: number;
  readonly newId: () => string;
}

/** The transition of a partition's group item on a token. */
export function offerToken(item: GroupItem | undefined, c: TokenContext): TokenDecision {
  const { route, now } = c;
  let expired: { item: GroupItem; reason: string } | undefined;
  let base = item;
  if (base && !current(route, base)) {
    if (base.state !== "consumed") expired = { item: base, reason: redeployReason(route, base) };
    base = undefined;
  }
  const spent = (base?.spent ?? []).filter((s) => s.until > now);
  if (c.eventId !== undefined) {
    const hit = spent.find((s) => s.ids.includes(c.eventId as string));
    if (hit) return { kind: "resume", executionId: hit.executionId };
  }
  if (base && base.state === "triggering") return { kind: "finish-trigger", item: base };
  if (base && (base.state === "pending" || base.state === "waiting")) {
    if (isExpired(base, now)) expired = { item: base, reason: "ttl" };
    else {
      if (base.tokens[c.alias] !== undefined)
        return base.state === "pending" && base.ids?.[c.alias] === c.eventId
          ? { kind: "noop", held: base.tokens }
          : { kind: "noop" };
      if (base.state === "waiting") return { kind: "noop" };
      return {
        kind: "write",
        created: false,
        next: {
          ...base,
          tokens: { ...base.tokens, [c.alias]: c.dims },
          ...(c.eventId === undefined ? {} : { ids: { ...base.ids, [c.alias]: c.eventId } }),
          spent,
        },
      };
    }
  }
  const next: GroupItem = {
    kind: "group",
    schema: ITEM_SCHEMA,
    signature: route.signature,
    id: c.newId(),
    partition: c.partition,
    createdAt: now,
    expiresAt: now + route.node.pendingTtlSeconds * 1000,
    state: "pending",
    tokens: { [c.alias]: c.dims },
    ...(c.eventId === undefined ? {} : { ids: { [c.alias]: c.eventId } }),
    spent,
  };
  return { kind: "write", next, created: true, ...(expired ? { expired } : {}) };
}

/** Why an item of another layout or link structure is dropped. */
export function redeployReason(route: Route, item: { schema: number; signature: string }): string {
  return item.schema !== ITEM_SCHEMA
    ? `redeploy: stored by layout ${item.schema}, the router uses ${ITEM_SCHEMA}`
    : `redeploy: the inputs or links of node "${route.id}" changed`;
}

/** A fact item after an arrival (new, or a refresh of the same input and dimensions). */
export function arrive(
  route: Route,
  had: FactItem | undefined,
  alias: string,
  dims: Dimensions,
  pins: Dimensions,
  arrival: string,
  eventId: string | undefined,
  now: number,
): FactItem {
  const keep = had && current(route, had) && had.expiresAt > now ? had : undefined;
  const ids = [...(keep?.ids ?? []), ...(eventId === undefined ? [] : [eventId])].slice(-FACT_IDS_KEPT);
  return {
    kind: "fact",
    schema: ITEM_SCHEMA,
    signature: route.signature,
    alias,
    dims,
    pins,
    arrival,
    ids,
    createdAt: keep?.createdAt ?? now,
    arrivedAt: now,
    expiresAt: now + route.node.pendingTtlSeconds * 1000,
  };
}

/**
 * The events a partition's group would run with: its tokens and, for every other trigger input,
 * the newest live fact that keeps the combination link-consistent and agrees with the partition;
 * undefined when some input has neither.
 */
export function completion(
  route: Route,
  partition: Dimensions,
  tokens: Readonly<Record<string, Dimensions>>,
  facts: readonly FactItem[],
  now: number,
  custom?: CustomMapperResolver,
): Record<string, Dimensions> | undefined {
  const open = route.triggers.filter((t) => tokens[t.alias] === undefined).map((t) => t.alias);
  const candidates = open.map((alias) =>
    newestFirst(facts.filter((f) => f.alias === alias && liveFact(route, f, now))),
  );
  if (candidates.some((c) => c.length === 0)) return undefined;
  const chosen: Record<string, Dimensions> = { ...tokens };
  const search = (i: number): boolean => {
    const pin = pinsOf(route, chosen, custom);
    if (!pin || !agrees(route, pin.pins, partition)) return false;
    if (i === open.length) return true;
    const alias = open[i] as string;
    for (const f of candidates[i] as FactItem[]) {
      if (!agrees(route, f.pins, partition)) continue;
      chosen[alias] = f.dims;
      if (search(i + 1)) return true;
    }
    delete chosen[alias];
    return false;
  };
  return search(0) ? chosen : undefined;
}

/** A combination of facts (one per trigger input) that pins a whole partition. */
export interface FactSet {
  readonly partition: Dimensions;
  readonly received: Record<string, Dimensions>;
  /** The arrivals of its facts: the set's identity. */
  readonly arrivals: readonly string[];
}

/**
 * The fact sets a newly arrived fact completes (routes whose every input sent facts): every
 * link-consistent combination of live facts, one per trigger input, that includes `fact` and pins
 * the whole output partition.
 */
export function factSets(
  route: Route,
  fact: FactItem,
  facts: readonly FactItem[],
  now: number,
  custom?: CustomMapperResolver,
  limit = 10_000,
): FactSet[] {
  const others = route.triggers.filter((t) => t.alias !== fact.alias).map((t) => t.alias);
  const candidates = others.map((alias) =>
    newestFirst(facts.filter((f) => f.alias === alias && liveFact(route, f, now))),
  );
  if (candidates.some((c) => c.length === 0)) return [];
  const out: FactSet[] = [];
  const received: Record<string, Dimensions> = { [fact.alias]: fact.dims };
  const arrivals: string[] = [fact.arrival];
  const walk = (i: number): void => {
    if (out.length >= limit) return;
    const pin = pinsOf(route, received, custom);
    if (!pin) return;
    if (i === others.length) {
      if (pin.complete) out.push({ partition: pin.pins, received: { ...received }, arrivals: [...arrivals] });
      return;
    }
    const alias = others[i] as string;
    for (const f of candidates[i] as FactItem[]) {
      received[alias] = f.dims;
      arrivals.push(f.arrival);
      walk(i + 1);
      arrivals.pop();
    }
    delete received[alias];
  };
  walk(0);
  return out;
}

function newestFirst(facts: readonly FactItem[]): FactItem[] {
  return [...facts].sort(
    (a, b) => b.arrivedAt - a.arrivedAt || (a.arrival < b.arrival ? 1 : a.arrival > b.arrival ? -1 : 0),
  );
}

/**
 * A triggered group leaves its item: the ids of its tokens stay as a spent group for `retentionMs`
 * (a redelivery of one is then a repeat); an item with nothing left is deleted (undefined).
 */
export function consume(item: GroupItem, now: number, retentionMs: number): GroupItem | undefined {
  const spent = (item.spent ?? []).filter((s) => s.until > now);
  const ids = Object.values(item.ids ?? {});
  if (ids.length > 0 && item.executionId !== undefined)
    spent.push({ ids, executionId: item.executionId, until: now + retentionMs });
  if (spent.length === 0) return undefined;
  const { ids: _ids, received: _received, executionId: _executionId, ...rest } = item;
  return { ...rest, state: "consumed", tokens: {}, spent, expiresAt: Math.max(...spent.map((s) => s.until)) };
}

/** A consumed item whose spent groups all passed their retention: deleted by the sweeper. */
export function isSpent(item: GroupItem, now: number): boolean {
  return item.state === "consumed" && (item.spent ?? []).every((s) => s.until <= now);
}
