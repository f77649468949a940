/**
 * Trigger-group rules (brief §3), as pure functions over one bucket of groups:
 * an event joins every pending group it is consistent with and whose input it has not yet received;
 * if it joins none it opens a new group; a repeat of an event a group already has is a no-op.
 */
import type { DimensionValue, LinkModel } from "../../flow/model/flow-model";
import { sameValue } from "../../flow/model/dimension-value";
import { applyMapper, type CustomMapperResolver } from "../../flow/model/mapper";
import type { Route } from "./route-table";
import type { Dimensions } from "./signal";
import type { GroupBucket, PendingGroup } from "./store";

export interface OfferResult {
  readonly groups: PendingGroup[];
  /** Groups the event opened. */
  readonly created: PendingGroup[];
  /** Groups that now have every trigger input (still "pending": the caller decides what happens). */
  readonly completed: PendingGroup[];
  /** Groups found past their TTL (removed from `groups`). */
  readonly expired: PendingGroup[];
  /** True when the event changed nothing (duplicate delivery). */
  readonly noop: boolean;
  /**
   * Claimed ("triggering") and consumed groups that already hold the event: a repeat delivery, maybe
   * the retry of one that died while triggering them, so the caller resumes their executions.
   */
  readonly holding: PendingGroup[];
}

export function offer(
  route: Route,
  bucket: GroupBucket | undefined,
  alias: string,
  dims: Dimensions,
  now: number,
  newId: () => string,
  custom?: CustomMapperResolver,
  eventId?: string,
): OfferResult {
  const expired: PendingGroup[] = [];
  const live: PendingGroup[] = [];
  let pruned = false;
  for (const g of bucket?.groups ?? []) {
    if (g.state === "consumed" && g.expiresAt <= now) pruned = true;
    else if (isExpired(g, now)) expired.push(g);
    else live.push(g);
  }
  // An event a triggered group consumed is a repeat, whatever the groups still pending would make of it.
  const consumedBy = live.filter((g) => g.state === "consumed" && holdsId(g, eventId));
  if (consumedBy.length > 0) {
    const noop = expired.length === 0 && !pruned;
    return { groups: live, created: [], completed: [], expired, noop, holding: consumedBy };
  }
  let joined = false;
  let duplicate = false;
  const holding: PendingGroup[] = [];
  const completed: PendingGroup[] = [];
  const withId = (g: PendingGroup): PendingGroup =>
    eventId === undefined ? g : { ...g, ids: { ...g.ids, [alias]: eventId } };
  const groups = live.map((g) => {
    if (g.state === "consumed") return g;
    if (g.state !== "pending") {
      if (sameDims(g.received[alias], dims)) {
        duplicate = true;
        if (g.state === "triggering") holding.push(g);
      }
      return g;
    }
    const had = g.received[alias];
    if (had !== undefined) {
      if (sameDims(had, dims)) duplicate = true;
      return g;
    }
    if (!consistent(route, g.received, alias, dims, custom)) return g;
    joined = true;
    const next: PendingGroup = withId({ ...g, received: { ...g.received, [alias]: dims } });
    if (isComplete(route, next)) completed.push(next);
    return next;
  });
  const created: PendingGroup[] = [];
  if (!joined && !duplicate) {
    const g: PendingGroup = withId({
      id: newId(),
      createdAt: now,
      expiresAt: now + route.node.pendingTtlSeconds * 1000,
      received: { [alias]: dims },
      state: "pending",
    });
    created.push(g);
    groups.push(g);
    if (isComplete(route, g)) completed.push(g);
  }
  const noop = !joined && duplicate && expired.length === 0 && !pruned;
  return { groups, created, completed, expired, noop, holding };
}

function holdsId(g: PendingGroup, eventId: string | undefined): boolean {
  return eventId !== undefined && g.ids !== undefined && Object.values(g.ids).includes(eventId);
}

/** A group that has not been claimed for execution expires at its TTL, waiting on a range check or not. */
export function isExpired(g: PendingGroup, now: number): boolean {
  return (g.state === "pending" || g.state === "waiting") && g.expiresAt <= now;
}

/** A consumed group past its retention: dropped without a hook. */
export function isSpent(g: PendingGroup, now: number): boolean {
  return g.state === "consumed" && g.expiresAt <= now;
}

export function isComplete(route: Route, g: PendingGroup): boolean {
  return route.triggers.every((t) => g.received[t.alias] !== undefined);
}

/** Every link that involves the new event's input and only inputs already known must hold. */
export function consistent(
  route: Route,
  received: Readonly<Record<string, Dimensions>>,
  alias: string,
  dims: Dimensions,
  custom?: CustomMapperResolver,
): boolean {
  const known = (a: string): Dimensions | undefined => (a === alias ? dims : received[a]);
  return route.node.links.every((l) => !involves(l, alias) || holds(route, l, known, custom) !== false);
}

/** undefined when the link cannot be evaluated yet (an input not received, or a reference). */
function holds(
  route: Route,
  l: LinkModel,
  known: (alias: string) => Dimensions | undefined,
  custom?: CustomMapperResolver,
): boolean | undefined {
  const target = known(l.target.input)?.[l.target.dimension];
  if (target === undefined) return undefined;
  const sources: { spec: ReturnType<Route["spec"]>; value: DimensionValue }[] = [];
  for (const s of l.sources) {
    const v = known(s.input)?.[s.dimension];
    if (v === undefined) return undefined;
    sources.push({ spec: route.spec(s.input, s.dimension), value: v });
  }
  const targetSpec = route.spec(l.target.input, l.target.dimension);
  const mapped = applyMapper(l.mapper, sources, targetSpec, custom);
  return mapped !== undefined && sameValue(targetSpec, mapped, targetSpec, target);
}

function involves(l: LinkModel, alias: string): boolean {
  return l.target.input === alias || l.sources.some((s) => s.input === alias);
}

export function sameDims(a: Dimensions | undefined, b: Dimensions): boolean {
  if (a === undefined) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
