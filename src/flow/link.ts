/**
 * Links between dimensions and the declarative mappers they use. A link reads
 * `link(target, mapper, ...sources)`: target = mapper(sources). Mappers are plain data so the route
 * table stays data; their inverses let execute() and backfills work from the output side.
 */
import type { Granularity } from "./model/granularity";
import type { DimensionValue, MapperModel } from "./model/flow-model";
import type { DimensionRef } from "./node";

/** A link endpoint: a node's or an input selection's dimension, or an output dimension by name. */
export type LinkEndpoint = DimensionRef | string;

export class Link {
  constructor(
    readonly target: LinkEndpoint,
    readonly mapper: Mapper,
    readonly sources: readonly LinkEndpoint[],
  ) {}
}

export class Mapper {
  /** @param error set when the mapper's own arguments are wrong; reported where it is used */
  constructor(
    readonly model: MapperModel,
    readonly error?: string,
  ) {}
}

/**
 * `link(target, mapper, ...sources)`; `link(target, source)` means `eq`.
 * Output links name the output dimension as a string: `link("day", truncate("DAY"), hourly.dim("hour"))`.
 */
export function link(
  target: LinkEndpoint,
  mapperOrSource: Mapper | LinkEndpoint,
  ...sources: LinkEndpoint[]
): Link {
  return mapperOrSource instanceof Mapper
    ? new Link(target, mapperOrSource, sources)
    : new Link(target, eq, [mapperOrSource, ...sources]);
}

/** Identity (with type conversion where the dimension types allow). */
export const eq: Mapper = new Mapper({ kind: "eq" });

/** Value lookup; the inverse is derived (a function when the map is injective). */
export function map(
  entries: Readonly<Record<string, DimensionValue>> | ReadonlyMap<DimensionValue, DimensionValue>,
): Mapper {
  const pairs: [DimensionValue, DimensionValue][] =
    entries instanceof Map
      ? [...entries.entries()]
      : Object.entries(entries as Record<string, DimensionValue>);
  const error = pairs.length === 0 ? "map() needs at least one entry" : undefined;
  pairs.sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  const targets = pairs.map(([, v]) => String(v));
  const injective = new Set(targets).size === targets.length;
  return new Mapper({ kind: "map", entries: pairs, injective }, error);
}

/** target = source + amount units (units default to the source's granularity; LONG adds integers). */
export function shift(amount: number, unit?: Granularity): Mapper {
  const error = Number.isInteger(amount) ? undefined : `shift amount ${amount} must be an integer`;
  return new Mapper(unit === undefined ? { kind: "shift", amount } : { kind: "shift", amount, unit }, error);
}

/** target = source truncated to the start of its period (hour → day). */
export function truncate(granularity: Granularity): Mapper {
  return new Mapper({ kind: "truncate", granularity });
}

/** target = sources joined with the separator. */
export function concat(separator = "-"): Mapper {
  const error = separator === "" ? "concat() needs a non-empty separator to be invertible" : undefined;
  return new Mapper({ kind: "concat", separator }, error);
}

/** target = part `index` of the source split by the separator. */
export function split(separator: string, index: number): Mapper {
  const error =
    separator === ""
      ? "split() needs a non-empty separator"
      : Number.isInteger(index) && index >= 0
        ? undefined
        : `split() index ${index} must be a non-negative integer`;
  return new Mapper({ kind: "split", separator, index }, error);
}

/** target (DATETIME) = date source + time source (a DATETIME, or a LONG count of the target's periods). */
export function combine(): Mapper {
  return new Mapper({ kind: "combine" });
}

/** A fixed value; takes no sources. `link("region", literal("NA"))`. */
export function literal(value: DimensionValue): Mapper {
  return new Mapper({ kind: "literal", value });
}

/** Escape hatch: a function in user code, "path/to/module.ts#export", with an optional inverse. */
export function custom(ref: string, options: { readonly inverse?: string } = {}): Mapper {
  return new Mapper(
    options.inverse === undefined
      ? { kind: "custom", ref }
      : { kind: "custom", ref, inverse: options.inverse },
  );
}
