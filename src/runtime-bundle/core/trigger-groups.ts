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
}

export function offer(
  route: Route,
  bucket: GroupBucket | undefined,
  alias: string,
  dims: Dimensions,
  now: number,
  newId: () => string,
  custom?: CustomMapperResolver,
): OfferResult {
  const expired: PendingGroup[] = [];
  const live: PendingGroup[] = [];
  for (const g of bucket?.groups ?? []) {
    if (isExpired(g, now)) expired.push(g);
    else live.push(g);
  }
  let joined = false;
  let duplicate = false;
  const completed: PendingGroup[] = [];
  const groups = live.map((g) => {
    if (g.state !== "pending") {
      if (sameDims(g.received[alias], dims)) duplicate = true;
      return g;
    }
    const had = g.received[alias];
    if (had !== undefined) {
      if (sameDims(had, dims)) duplicate = true;
      return g;
    }
    if (!consistent(route, g.received, alias, dims, custom)) return g;
    joined = true;
    const next: PendingGroup = { ...g, received: { ...g.received, [alias]: dims } };
    if (isComplete(route, next)) completed.push(next);
    return next;
  });
  const created: PendingGroup[] = [];
  if (!joined && !duplicate) {
    const g: PendingGroup = {
      id: newId(),
      createdAt: now,
      expiresAt: now + route.node.pendingTtlSeconds * 1000,
      received: { [alias]: dims },
      state: "pending",
    };
    created.push(g);
    groups.push(g);
    if (isComplete(route, g)) completed.push(g);
  }
  return { groups, created, completed, expired, noop: !joined && duplicate && expired.length === 0 };
}

/** A group that has not been claimed for execution expires at its TTL, waiting on a range check or not. */
export function isExpired(g: PendingGroup, now: number): boolean {
  return g.state !== "triggering" && g.expiresAt <= now;
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
