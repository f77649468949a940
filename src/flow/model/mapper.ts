/**
 * Evaluation of declarative link mappers, forwards (target = mapper(sources)) and backwards
 * (inverse: which source tuples produce a target value). Pure, shared by the DSL and the router.
 */
import type { DimensionModel, DimensionValue, MapperModel } from "./flow-model";
import {
  coerceDimensionValue,
  datetimeToMs,
  msToDatetime,
  renderDimensionValue,
  sameValue,
} from "./dimension-value";
import { addPeriods, granularityRank, periodsBetween, truncate, type Granularity } from "./granularity";

export interface TypedValue {
  readonly spec: DimensionModel;
  readonly value: DimensionValue;
}

/** Resolves a custom mapper's module reference to code; only the router/LocalRuntime have one. */
export type CustomMapperResolver = (ref: string) => (values: readonly DimensionValue[]) => unknown;

/** Largest expansion an inverse may produce (e.g. truncate YEAR over MINUTE would be 527,040). */
export const MAX_INVERSE_EXPANSION = 100_000;

/** How many sources each mapper takes. */
export function mapperArity(kind: MapperModel["kind"]): { readonly min: number; readonly max: number } {
  switch (kind) {
    case "literal":
      return { min: 0, max: 0 };
    case "concat":
      return { min: 2, max: Number.POSITIVE_INFINITY };
    case "combine":
      return { min: 2, max: 2 };
    case "custom":
      return { min: 1, max: Number.POSITIVE_INFINITY };
    default:
      return { min: 1, max: 1 };
  }
}

/** Target value of a link, or undefined when the mapper yields no value (e.g. a key missing from a map). */
export function applyMapper(
  mapper: MapperModel,
  sources: readonly TypedValue[],
  target: DimensionModel,
  custom?: CustomMapperResolver,
): DimensionValue | undefined {
  const first = sources[0];
  switch (mapper.kind) {
    case "literal":
      return coerceTo(target, mapper.value);
    case "eq":
      return first && convert(first, target);
    case "map": {
      if (!first) return undefined;
      // Keys are compared as values of the source dimension (a LONG key may be written "1").
      const hit = mapper.entries.find(([from]) => {
        const key = coerceTo(first.spec, from);
        return key !== undefined && sameValue(first.spec, key, first.spec, first.value);
      });
      return hit ? coerceTo(target, hit[1]) : undefined;
    }
    case "shift": {
      if (!first) return undefined;
      if (first.spec.type === "DATETIME") {
        const unit = mapper.unit ?? first.spec.granularity;
        return fromMs(target, addPeriods(datetimeToMs(first.spec, first.value), mapper.amount, unit));
      }
      return coerceTo(target, Number(first.value) + mapper.amount);
    }
    case "truncate":
      if (!first || first.spec.type !== "DATETIME") return undefined;
      return fromMs(target, truncate(datetimeToMs(first.spec, first.value), mapper.granularity));
    case "concat":
      return coerceTo(
        target,
        sources.map((s) => renderDimensionValue(s.spec, s.value)).join(mapper.separator),
      );
    case "split": {
      if (!first) return undefined;
      const part = String(first.value).split(mapper.separator)[mapper.index];
      return part === undefined ? undefined : coerceTo(target, part);
    }
    case "combine": {
      const [date, part] = sources;
      if (!date || !part || date.spec.type !== "DATETIME" || target.type !== "DATETIME") return undefined;
      const base = truncate(datetimeToMs(date.spec, date.value), date.spec.granularity);
      if (part.spec.type === "DATETIME") {
        const t = datetimeToMs(part.spec, part.value);
        return fromMs(target, base + (t - truncate(t, date.spec.granularity)));
      }
      return fromMs(target, addPeriods(base, Number(part.value), target.granularity));
    }
    case "custom": {
      if (!custom) throw new Error(`custom mapper "${mapper.ref}" needs a resolver to run`);
      const out = custom(mapper.ref)(sources.map((s) => s.value));
      return out === undefined || out === null ? undefined : coerceTo(target, out);
    }
  }
}

/**
 * Source tuples that map to `value`, one value per source (in link order); [] when none does,
 * undefined when the mapper has no inverse (split alone, custom without `inverse`).
 */
export function invertMapper(
  mapper: MapperModel,
  value: DimensionValue,
  target: DimensionModel,
  sources: readonly DimensionModel[],
  custom?: CustomMapperResolver,
): DimensionValue[][] | undefined {
  const [first, second] = sources;
  const tv: TypedValue = { spec: target, value };
  switch (mapper.kind) {
    case "literal":
      return sameValue(target, coerceTo(target, mapper.value) ?? "", target, value) ? [[]] : [];
    case "eq":
      return tuple(first && convert(tv, first));
    case "map":
      if (!first) return [];
      return mapper.entries
        .filter(([, to]) => {
          const t = coerceTo(target, to);
          return t !== undefined && sameValue(target, t, target, value);
        })
        .flatMap(([from]) => tuple(coerceTo(first, from)));
    case "shift": {
      if (!first) return [];
      if (target.type === "DATETIME" && first.type === "DATETIME") {
        const unit = mapper.unit ?? first.granularity;
        return tuple(fromMs(first, addPeriods(datetimeToMs(target, value), -mapper.amount, unit)));
      }
      return tuple(coerceTo(first, Number(value) - mapper.amount));
    }
    case "truncate": {
      if (!first || first.type !== "DATETIME" || target.type !== "DATETIME") return [];
      const start = truncate(datetimeToMs(target, value), mapper.granularity);
      return expand(first, start, addPeriods(start, 1, mapper.granularity)).map((v) => [v]);
    }
    case "concat": {
      const parts = String(value).split(mapper.separator);
      if (parts.length !== sources.length) return [];
      const out = parts.map((p, i) => coerceTo(sources[i] as DimensionModel, p));
      return out.every((v): v is DimensionValue => v !== undefined) ? [out] : [];
    }
    case "split":
      return undefined;
    case "combine": {
      if (!first || !second || first.type !== "DATETIME" || target.type !== "DATETIME") return [];
      const t = datetimeToMs(target, value);
      const base = truncate(t, first.granularity);
      const part =
        second.type === "DATETIME" ? fromMs(second, t) : periodsBetween(base, t, target.granularity);
      return tuple(fromMs(first, base), part);
    }
    case "custom": {
      if (mapper.inverse === undefined) return undefined;
      if (!custom) throw new Error(`custom mapper inverse "${mapper.inverse}" needs a resolver to run`);
      const out = custom(mapper.inverse)([value]);
      const tuples = Array.isArray(out) ? out : [out];
      return tuples.flatMap((t) => {
        const values = Array.isArray(t) ? t : [t];
        if (values.length !== sources.length) return [];
        const coerced = values.map((v, i) => (sources[i] ? coerceTo(sources[i], v) : undefined));
        return coerced.every((v): v is DimensionValue => v !== undefined) ? [coerced] : [];
      });
    }
  }
}

/** Every value of a DATETIME dimension in [startMs, endMs), at its granularity. */
function expand(
  spec: DimensionModel & { type: "DATETIME" },
  startMs: number,
  endMs: number,
): DimensionValue[] {
  const g: Granularity = spec.granularity;
  let t = truncate(startMs, g);
  if (t < startMs && granularityRank(g) > 0) t = addPeriods(t, 1, g);
  const out: DimensionValue[] = [];
  // A coarser source than the truncation still has exactly one value covering the window.
  if (t >= endMs) return [msToDatetime(spec, startMs)];
  for (; t < endMs; t = addPeriods(t, 1, g)) {
    out.push(msToDatetime(spec, t));
    if (out.length > MAX_INVERSE_EXPANSION) {
      throw new Error(`inverse of truncate expands to more than ${MAX_INVERSE_EXPANSION} values`);
    }
  }
  return out;
}

function tuple(...values: (DimensionValue | undefined)[]): DimensionValue[][] {
  return values.every((v): v is DimensionValue => v !== undefined) ? [values] : [];
}

function fromMs(spec: DimensionModel, ms: number): DimensionValue | undefined {
  if (spec.type === "DATETIME") return msToDatetime(spec, ms);
  return coerceTo(spec, new Date(ms));
}

function convert(from: TypedValue, to: DimensionModel): DimensionValue | undefined {
  if (from.spec.type === "DATETIME" && to.type === "DATETIME") {
    return msToDatetime(to, datetimeToMs(from.spec, from.value));
  }
  return coerceTo(to, to.type === "LONG" ? from.value : String(from.value));
}

function coerceTo(spec: DimensionModel, raw: unknown): DimensionValue | undefined {
  const c = coerceDimensionValue(spec, spec.type === "STRING" && typeof raw === "number" ? String(raw) : raw);
  return c.error === undefined ? c.value : undefined;
}
