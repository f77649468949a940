/**
 * From a complete trigger group to what an execution needs: the dimensions of reference inputs
 * (through links), the output dimensions (through output links), and every input's partition paths
 * (ranges expanded tip first). And backwards, for execute(): from output dimensions to the trigger
 * events that would produce them.
 */
import type { DimensionModel, DimensionValue, LinkModel, NodeModel } from "../../flow/model/flow-model";
import { offsetValue, sameValue } from "../../flow/model/dimension-value";
import { applyMapper, invertMapper, type CustomMapperResolver } from "../../flow/model/mapper";
import type { Route, RouteInput } from "./route-table";
import type { Dimensions } from "./signal";

/** Per dimension: the values an input reads ("*": all of them). */
export type Selection = Record<string, readonly DimensionValue[] | "*">;

export class MaterializeError extends Error {
  override readonly name = "MaterializeError";
}

/**
 * Selections of every input: trigger inputs from their events, references derived through links
 * (forwards, or through single-valued inverses), else their filter, else everything.
 */
export function selectInputs(
  route: Route,
  received: Readonly<Record<string, Dimensions>>,
  custom?: CustomMapperResolver,
): Record<string, Selection> {
  const sel: Record<string, Selection> = {};
  for (const i of route.inputs) {
    const got = received[i.alias];
    if (i.trigger && got)
      sel[i.alias] = Object.fromEntries(i.dims.map((d) => [d.name, [got[d.name] as DimensionValue]]));
    else sel[i.alias] = {};
  }
  // Fixed point: references may depend on other references.
  for (let changed = true; changed;) {
    changed = false;
    for (const i of route.inputs) {
      if (i.trigger) continue;
      const s = sel[i.alias] as Selection;
      for (const d of i.dims) {
        if (s[d.name] !== undefined) continue;
        const values = deriveThroughLinks(route, sel, i.alias, d.name, custom);
        if (values !== undefined) {
          s[d.name] = values;
          changed = true;
        }
      }
    }
  }
  for (const i of route.inputs) {
    const s = sel[i.alias] as Selection;
    for (const d of i.dims) {
      if (s[d.name] !== undefined) continue;
      const f = i.model.filter[d.name];
      s[d.name] = f === undefined || f === "*" ? "*" : f;
    }
  }
  return sel;
}

function deriveThroughLinks(
  route: Route,
  sel: Record<string, Selection>,
  alias: string,
  dimension: string,
  custom?: CustomMapperResolver,
): readonly DimensionValue[] | undefined {
  const single = (a: string, d: string): DimensionValue | undefined => {
    const v = sel[a]?.[d];
    return v !== undefined && v !== "*" && v.length === 1 ? v[0] : undefined;
  };
  for (const l of route.node.links) {
    if (l.target.input === alias && l.target.dimension === dimension) {
      const sources = l.sources.map((s) => {
        const v = single(s.input, s.dimension);
        return v === undefined ? undefined : { spec: route.spec(s.input, s.dimension), value: v };
      });
      if (sources.some((s) => s === undefined)) continue;
      const v = applyMapper(
        l.mapper,
        sources as { spec: DimensionModel; value: DimensionValue }[],
        route.spec(alias, dimension),
        custom,
      );
      if (v !== undefined) return [v];
    }
    const at = l.sources.findIndex((s) => s.input === alias && s.dimension === dimension);
    if (at >= 0) {
      const t = single(l.target.input, l.target.dimension);
      if (t === undefined) continue;
      const specs = l.sources.map((s) => route.spec(s.input, s.dimension));
      const tuples = invertMapper(l.mapper, t, route.spec(l.target.input, l.target.dimension), specs, custom);
      if (tuples === undefined || tuples.length === 0) continue;
      return dedupe(tuples.map((tuple) => tuple[at] as DimensionValue));
    }
  }
  return undefined;
}

/** Output dimensions of a complete group; throws MaterializeError when a link cannot produce one value. */
export function outputDimensions(
  route: Route,
  sel: Record<string, Selection>,
  custom?: CustomMapperResolver,
): Dimensions {
  const out: Record<string, DimensionValue> = {};
  for (const spec of route.outputDims) {
    const l = route.node.outputLinks.find((o) => o.dimension === spec.name);
    if (!l) throw new MaterializeError(`route "${route.id}": output dimension "${spec.name}" has no link`);
    const sources = l.sources.map((s) => {
      const v = sel[s.input]?.[s.dimension];
      if (v === undefined || v === "*" || v.length !== 1) {
        throw new MaterializeError(
          `route "${route.id}": output dimension "${spec.name}" needs one value of input "${s.input}" dimension "${s.dimension}"`,
        );
      }
      return { spec: route.spec(s.input, s.dimension), value: v[0] as DimensionValue };
    });
    const v = applyMapper(l.mapper, sources, spec, custom);
    if (v === undefined)
      throw new MaterializeError(
        `route "${route.id}": output dimension "${spec.name}" has no value for its inputs`,
      );
    out[spec.name] = v;
  }
  return out;
}

/** Every partition (as dimension values) an input reads: cartesian product, ranges expanded tip first. */
export function partitionsOf(input: RouteInput, sel: Selection): Dimensions[] {
  let combos: Record<string, DimensionValue | "*">[] = [{}];
  for (const d of input.dims) {
    const chosen = sel[d.name] ?? "*";
    const range = input.model.ranges[d.name];
    let values: (DimensionValue | "*")[];
    if (chosen === "*") values = ["*"];
    // A reference's tip comes through its links, a trigger's from its event: both read the window.
    else if (range) values = dedupe(chosen.flatMap((tip) => expandRange(d, tip, range.from, range.to)));
    else values = [...chosen];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [d.name]: v })));
  }
  return combos as Dimensions[];
}

/** Tip first, then outwards: range(-3) at d gives d, d-1, d-2. */
export function expandRange(
  spec: DimensionModel,
  tip: DimensionValue,
  from: number,
  to: number,
): DimensionValue[] {
  const offsets: number[] = [];
  if (from < 0) for (let k = to; k >= from; k--) offsets.push(k);
  else for (let k = from; k <= to; k++) offsets.push(k);
  return offsets.map((k) => (k === 0 ? tip : offsetValue(spec, tip, k)));
}

/**
 * execute(): trigger events that produce `output`. Output links are inverted, then values spread
 * across input links until every trigger input is determined (a multi-valued inverse takes its
 * latest value as the tip). Throws MaterializeError naming what stays undetermined.
 */
export function triggersForOutput(
  route: Route,
  output: Dimensions,
  custom?: CustomMapperResolver,
): Record<string, Dimensions> {
  const known: Record<string, Record<string, DimensionValue>> = {};
  const set = (a: string, d: string, v: DimensionValue): boolean => {
    const k = (known[a] ??= {});
    if (k[d] !== undefined) return false;
    k[d] = v;
    return true;
  };
  for (const spec of route.outputDims) {
    const value = output[spec.name];
    if (value === undefined)
      throw new MaterializeError(`route "${route.id}": output dimension "${spec.name}" is missing`);
    const l = route.node.outputLinks.find((o) => o.dimension === spec.name);
    if (!l || l.sources.length === 0) continue;
    const tuples = invertMapper(
      l.mapper,
      value,
      spec,
      l.sources.map((s) => route.spec(s.input, s.dimension)),
      custom,
    );
    if (tuples === undefined) {
      throw new MaterializeError(
        `route "${route.id}": output dimension "${spec.name}" links through a mapper without an inverse`,
      );
    }
    const tuple = tuples[tuples.length - 1];
    if (tuple === undefined)
      throw new MaterializeError(
        `route "${route.id}": no input value produces ${spec.name}=${String(value)}`,
      );
    l.sources.forEach((s, i) => set(s.input, s.dimension, tuple[i] as DimensionValue));
  }
  spreadThroughLinks(route, known, set, custom);
  for (const i of route.triggers) {
    for (const d of i.dims) {
      if (known[i.alias]?.[d.name] !== undefined) continue;
      const f = i.model.filter[d.name];
      if (f !== undefined && f !== "*" && f.length === 1) set(i.alias, d.name, f[0] as DimensionValue);
      else {
        throw new MaterializeError(
          `route "${route.id}", input "${i.alias}", dimension "${d.name}": not determined by the output; link it or narrow it to one value`,
        );
      }
    }
  }
  return Object.fromEntries(route.triggers.map((i) => [i.alias, known[i.alias] as Dimensions]));
}

function spreadThroughLinks(
  route: Route,
  known: Record<string, Record<string, DimensionValue>>,
  set: (a: string, d: string, v: DimensionValue) => boolean,
  custom?: CustomMapperResolver,
): void {
  const get = (r: { input: string; dimension: string }): DimensionValue | undefined =>
    known[r.input]?.[r.dimension];
  for (let changed = true; changed;) {
    changed = false;
    for (const l of route.node.links) {
      const target = get(l.target);
      const sources = l.sources.map(get);
      if (target === undefined && sources.every((s) => s !== undefined)) {
        const v = applyMapper(
          l.mapper,
          l.sources.map((s, i) => ({
            spec: route.spec(s.input, s.dimension),
            value: sources[i] as DimensionValue,
          })),
          route.spec(l.target.input, l.target.dimension),
          custom,
        );
        if (v !== undefined) changed = set(l.target.input, l.target.dimension, v) || changed;
      } else if (target !== undefined && sources.some((s) => s === undefined)) {
        changed = invertInto(route, l, target, set, custom) || changed;
      }
    }
  }
}

function invertInto(
  route: Route,
  l: LinkModel,
  target: DimensionValue,
  set: (a: string, d: string, v: DimensionValue) => boolean,
  custom?: CustomMapperResolver,
): boolean {
  const specs = l.sources.map((s) => route.spec(s.input, s.dimension));
  const tuples = invertMapper(
    l.mapper,
    target,
    route.spec(l.target.input, l.target.dimension),
    specs,
    custom,
  );
  const tuple = tuples?.[tuples.length - 1];
  if (tuple === undefined) return false;
  let changed = false;
  l.sources.forEach((s, i) => (changed = set(s.input, s.dimension, tuple[i] as DimensionValue) || changed));
  return changed;
}

/** The node's completion marker: its own for datasets, _SUCCESS for data nodes, none for tables. */
export function completionOf(node: NodeModel): string | null {
  if (node.kind === "s3Dataset") return node.completion;
  if (node.kind === "data" || node.kind === "upstreamData") return "_SUCCESS";
  return null;
}

function dedupe(values: readonly DimensionValue[]): DimensionValue[] {
  const out: DimensionValue[] = [];
  for (const v of values) if (!out.includes(v)) out.push(v);
  return out;
}

/** Equality of two dimension maps of the same spec. */
export function sameDimensions(specs: readonly DimensionModel[], a: Dimensions, b: Dimensions): boolean {
  return specs.every((s) => {
    const x = a[s.name];
    const y = b[s.name];
    return x !== undefined && y !== undefined && sameValue(s, x, s, y);
  });
}
