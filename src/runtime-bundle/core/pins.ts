/**
 * What events determine, through a route's links (pure): the values an event, or a combination of
 * events, fixes for every input dimension and output dimension it reaches.
 *
 * Links are followed forwards (target = mapper(sources), always one value) and backwards only
 * through one-to-one mappers (`eq`, `shift`, an injective `map`): an inverse with several values
 * (truncate, a many-to-one map) pins nothing. A link that derives a value different from one already
 * known makes the combination inconsistent.
 */
import type { DimensionValue, LinkModel } from "../../flow/model/flow-model";
import { sameValue } from "../../flow/model/dimension-value";
import { applyMapper, invertMapper, type CustomMapperResolver } from "../../flow/model/mapper";
import type { Route } from "./route-table";
import type { Dimensions } from "./signal";

/** Output dimensions a combination pins; `complete` when that is every output dimension. */
export interface Pinning {
  readonly pins: Dimensions;
  readonly complete: boolean;
}

const at = (input: string, dimension: string): string => `${input}\u0000${dimension}`;

/**
 * Values known from `received` (per alias) and everything the links derive from them; undefined
 * when two of them disagree (the combination is not link-consistent).
 */
export function propagate(
  route: Route,
  received: Readonly<Record<string, Dimensions>>,
  custom?: CustomMapperResolver,
): Map<string, DimensionValue> | undefined {
  const known = new Map<string, DimensionValue>();
  for (const [alias, dims] of Object.entries(received))
    for (const [d, v] of Object.entries(dims)) known.set(at(alias, d), v);
  const set = (input: string, dimension: string, v: DimensionValue): boolean => {
    const k = at(input, dimension);
    const had = known.get(k);
    if (had === undefined) {
      known.set(k, v);
      return true;
    }
    const spec = route.spec(input, dimension);
    if (!sameValue(spec, had, spec, v)) throw CONFLICT;
    return false;
  };
  try {
    for (let changed = true; changed;) {
      changed = false;
      for (const l of route.node.links) {
        if (forward(route, l, known, custom, set)) changed = true;
        if (backward(route, l, known, custom, set)) changed = true;
      }
    }
  } catch (e) {
    if (e === CONFLICT) return undefined;
    throw e;
  }
  return known;
}

const CONFLICT = new Error("conflict");

function forward(
  route: Route,
  l: LinkModel,
  known: Map<string, DimensionValue>,
  custom: CustomMapperResolver | undefined,
  set: (input: string, dimension: string, v: DimensionValue) => boolean,
): boolean {
  const sources = [];
  for (const s of l.sources) {
    const v = known.get(at(s.input, s.dimension));
    if (v === undefined) return false;
    sources.push({ spec: route.spec(s.input, s.dimension), value: v });
  }
  const targetSpec = route.spec(l.target.input, l.target.dimension);
  const v = applyMapper(l.mapper, sources, targetSpec, custom);
  // A source value the mapper has no image for (a key missing from a map) can never meet a target.
  if (v === undefined) {
    if (known.has(at(l.target.input, l.target.dimension))) throw CONFLICT;
    return false;
  }
  return set(l.target.input, l.target.dimension, v);
}

function backward(
  route: Route,
  l: LinkModel,
  known: Map<string, DimensionValue>,
  custom: CustomMapperResolver | undefined,
  set: (input: string, dimension: string, v: DimensionValue) => boolean,
): boolean {
  if (!oneToOne(l)) return false;
  const s = l.sources[0] as { input: string; dimension: string };
  if (known.has(at(s.input, s.dimension))) return false;
  const t = known.get(at(l.target.input, l.target.dimension));
  if (t === undefined) return false;
  const tuples = invertMapper(
    l.mapper,
    t,
    route.spec(l.target.input, l.target.dimension),
    [route.spec(s.input, s.dimension)],
    custom,
  );
  if (tuples === undefined) return false;
  if (tuples.length === 0) throw CONFLICT;
  const v = tuples.length === 1 ? tuples[0]?.[0] : undefined;
  return v === undefined ? false : set(s.input, s.dimension, v);
}

/** One-to-one mappers: following them either way gives exactly one value. */
export function oneToOne(l: LinkModel): boolean {
  if (l.sources.length !== 1) return false;
  return (
    l.mapper.kind === "eq" || l.mapper.kind === "shift" || (l.mapper.kind === "map" && l.mapper.injective)
  );
}

/** The output dimensions that known values determine. */
export function outputOf(
  route: Route,
  known: ReadonlyMap<string, DimensionValue>,
  custom?: CustomMapperResolver,
): Pinning {
  const pins: Record<string, DimensionValue> = {};
  for (const spec of route.outputDims) {
    const l = route.node.outputLinks.find((o) => o.dimension === spec.name);
    if (!l) continue;
    const sources = [];
    let ok = true;
    for (const s of l.sources) {
      const v = known.get(at(s.input, s.dimension));
      if (v === undefined) {
        ok = false;
        break;
      }
      sources.push({ spec: route.spec(s.input, s.dimension), value: v });
    }
    if (!ok) continue;
    const v = applyMapper(l.mapper, sources, spec, custom);
    if (v !== undefined) pins[spec.name] = v;
  }
  return { pins, complete: route.outputDims.every((d) => pins[d.name] !== undefined) };
}

/** What a combination of events pins; undefined when it is not link-consistent. */
export function pinsOf(
  route: Route,
  received: Readonly<Record<string, Dimensions>>,
  custom?: CustomMapperResolver,
): Pinning | undefined {
  const known = propagate(route, received, custom);
  return known && outputOf(route, known, custom);
}

/** True when every dimension `part` pins has the same value in `whole`. */
export function agrees(route: Route, part: Dimensions, whole: Dimensions): boolean {
  return route.outputDims.every((d) => {
    const a = part[d.name];
    const b = whole[d.name];
    return a === undefined || (b !== undefined && sameValue(d, a, d, b));
  });
}
