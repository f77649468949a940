/**
 * What `sluice local` and `sluice remote` share about the partitions a user types: one node lookup,
 * one value coercion (with the node's dimension spec and its declared filter), and one backfill
 * planner (a range over a DATETIME or LONG dimension, other dimensions from --fixed or their
 * declared filter, at most MAX_BACKFILL_VALUES executions). Every mistake is a usage error (exit 2).
 */
import type { Application } from "../flow/application";
import { coerceDimensionValue, datetimeToMs, offsetValue } from "../flow/model/dimension-value";
import type { DimensionModel, DimensionValue, FlowModel, NodeModel } from "../flow/model/flow-model";
import { didYouMean } from "../flow/suggest";
import type { Dimensions } from "../runtime-bundle/core/signal";
import { usageError } from "./errors";
import { checkInFilter } from "./partitions";

/** A backfill runs at most this many executions (a typo in --from or --to should not start years of runs). */
export const MAX_BACKFILL_VALUES = 10_000;

/** Default and most executions a backfill runs at a time. */
export const DEFAULT_BACKFILL_CONCURRENCY = 4;
export const MAX_BACKFILL_CONCURRENCY = 100;

/** The node `id` of the flow; with `action`, it must be a data node. */
export function requireNode(model: FlowModel, id: string | undefined, action?: string): NodeModel {
  const all = Object.keys(model.nodes);
  const dataNodes = all.filter((n) => model.nodes[n]?.kind === "data");
  const list =
    action !== undefined ? `data nodes: ${dataNodes.join(", ") || "none"}` : `nodes: ${all.join(", ")}`;
  if (id === undefined) throw usageError(`${action ?? "the action"} needs a <node> (${list})`);
  const node = model.nodes[id];
  if (!node) throw usageError(`unknown node "${id}"${didYouMean(id, all)} (${list})`);
  if (action !== undefined && node.kind !== "data") {
    throw usageError(
      `node "${id}" (${node.kind}) is not a data node: ${action} takes one of ${dataNodes.join(", ") || "none"}`,
    );
  }
  return node;
}

export function typeOf(spec: DimensionModel): string {
  return spec.type === "DATETIME" ? `DATETIME ${spec.format}` : spec.type;
}

/** One value per dimension of the node, in the node's order, each coerced and within the filter. */
export function nodeDimensions(node: NodeModel, raw: readonly string[], app?: Application): Dimensions {
  const specs = node.signal.dimensions;
  if (raw.length !== specs.length) {
    const expected =
      specs.length === 0 ? "no values" : `${specs.length} value${specs.length === 1 ? "" : "s"}`;
    throw usageError(
      `node "${node.id}" takes ${expected}${
        specs.length === 0
          ? ""
          : ` (${specs.map((d) => `${d.name}: ${typeOf(d)}`).join(", ")}, in this order)`
      }, got ${raw.length}${raw.length === 0 ? "" : `: ${raw.join(" ")}`}`,
    );
  }
  const out: Record<string, DimensionValue> = {};
  specs.forEach((spec, i) => {
    const value = coerce(node.id, spec, raw[i] as string);
    checkInFilter(node, spec, value, app);
    out[spec.name] = value;
  });
  return out;
}

export function coerce(node: string, spec: DimensionModel, raw: string): DimensionValue {
  const c = coerceDimensionValue(spec, raw);
  if (c.error !== undefined)
    throw usageError(`node "${node}", dimension "${spec.name}" (${typeOf(spec)}): ${c.error}`);
  return c.value;
}

/** "region=NA day=2024-05-07". */
export function renderDimensions(dims: Dimensions): string {
  return Object.entries(dims)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
}

export function parseConcurrency(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_BACKFILL_CONCURRENCY;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_BACKFILL_CONCURRENCY)
    throw usageError(`--concurrency must be an integer from 1 to ${MAX_BACKFILL_CONCURRENCY}, got "${raw}"`);
  return n;
}

export interface BackfillPlanOptions {
  readonly from: string | undefined;
  readonly to: string | undefined;
  /** The dimension the range runs over; required when the node has several ordered ones. */
  readonly dimension: string | undefined;
  /** `--fixed region=NA,EU,market=3`: values of the other dimensions (a bare value adds to the one before it). */
  readonly fixed: string | undefined;
}

/** The dimension a backfill runs over, and its inclusive bounds. */
export interface BackfillRange {
  readonly dimension: string;
  readonly from: DimensionValue;
  readonly to: DimensionValue;
}

/**
 * The output dimensions of each execution of a backfill: every value of one ordered dimension from
 * --from to --to (inclusive, in the dimension's periods), times the values of the others (--fixed,
 * deduplicated, or the values their filter declares), the range outermost.
 */
export function backfillPlan(node: NodeModel, o: BackfillPlanOptions): Dimensions[] {
  return backfill(node, o).partitions;
}

export function backfill(
  node: NodeModel,
  o: BackfillPlanOptions,
): { readonly range: BackfillRange; readonly partitions: Dimensions[] } {
  const specs = node.signal.dimensions;
  const names = specs.map((d) => d.name).join(", ");
  const ordered = specs.filter((d) => d.type !== "STRING");
  let range: DimensionModel;
  if (o.dimension !== undefined) {
    const spec = specs.find((d) => d.name === o.dimension);
    if (!spec)
      throw usageError(
        `node "${node.id}" has no dimension "${o.dimension}"${didYouMean(
          o.dimension,
          specs.map((d) => d.name),
        )} (dimensions: ${names})`,
      );
    if (spec.type === "STRING")
      throw usageError(
        `dimension "${spec.name}" is a STRING and has no order; backfill runs over a DATETIME or LONG`,
      );
    range = spec;
  } else if (ordered.length === 1) range = ordered[0] as DimensionModel;
  else if (ordered.length === 0)
    throw usageError(`node "${node.id}" has no DATETIME or LONG dimension to backfill over`);
  else
    throw usageError(
      `node "${node.id}" has several ordered dimensions (${ordered.map((d) => d.name).join(", ")}); choose one with --dimension`,
    );
  if (o.from === undefined || o.to === undefined)
    throw usageError(
      `backfill needs --from and --to (values of "${range.name}", ${range.type === "DATETIME" ? `${range.format}, ` : ""}inclusive)`,
    );
  const values = rangeValues(node.id, range, o.from, o.to);

  const fixed = parseFixed(node, range.name, o.fixed);
  const choices = specs.map((d): readonly DimensionValue[] => {
    if (d === range) return values;
    const given = fixed.get(d.name);
    if (given) return given;
    const filter = node.signal.filter[d.name];
    if (Array.isArray(filter)) return filter as readonly DimensionValue[];
    throw usageError(
      `node "${node.id}", dimension "${d.name}" declares no values to backfill over: give them with --fixed ${d.name}=VALUE`,
    );
  });
  const total = choices.reduce((n, c) => n * c.length, 1);
  if (total > MAX_BACKFILL_VALUES)
    throw usageError(`a backfill of ${total} executions is more than ${MAX_BACKFILL_VALUES}; split it`);
  const at = specs.indexOf(range);
  const order = [at, ...specs.map((_, k) => k).filter((k) => k !== at)];
  let combos: DimensionValue[][] = [[]];
  for (const i of order)
    combos = combos.flatMap((c) => (choices[i] as readonly DimensionValue[]).map((v) => [...c, v]));
  return {
    range: {
      dimension: range.name,
      from: values[0] as DimensionValue,
      to: values[values.length - 1] as DimensionValue,
    },
    partitions: combos.map((c) =>
      Object.fromEntries(specs.map((d, k) => [d.name, c[order.indexOf(k)] as DimensionValue])),
    ),
  };
}

/** `region=NA,EU,market=3` → region: [NA, EU], market: [3]. */
function parseFixed(node: NodeModel, over: string, text: string | undefined): Map<string, DimensionValue[]> {
  const out = new Map<string, DimensionValue[]>();
  if (text === undefined) return out;
  const specs = node.signal.dimensions;
  let current: DimensionModel | undefined;
  for (const part of text.split(",").filter((p) => p.length > 0)) {
    const eq = part.indexOf("=");
    let raw = part;
    if (eq >= 0) {
      const name = part.slice(0, eq);
      current = specs.find((d) => d.name === name);
      if (!current)
        throw usageError(
          `--fixed: node "${node.id}" has no dimension "${name}"${didYouMean(
            name,
            specs.map((d) => d.name),
          )} (dimensions: ${specs.map((d) => d.name).join(", ")})`,
        );
      if (name === over) throw usageError(`--fixed: "${name}" is the dimension the backfill runs over`);
      raw = part.slice(eq + 1);
    } else if (current === undefined) throw usageError(`--fixed: "${part}" is not dimension=value`);
    const values = out.get(current.name) ?? [];
    const value = coerce(node.id, current, raw);
    if (!values.includes(value)) values.push(value);
    out.set(current.name, values);
  }
  return out;
}

function rangeValues(node: string, spec: DimensionModel, fromRaw: string, toRaw: string): DimensionValue[] {
  const from = coerce(node, spec, fromRaw);
  const to = coerce(node, spec, toRaw);
  const key = (v: DimensionValue) => (spec.type === "DATETIME" ? datetimeToMs(spec, v) : Number(v));
  if (key(from) > key(to)) throw usageError(`--from ${String(from)} is after --to ${String(to)}`);
  const out: DimensionValue[] = [];
  for (let v = from; key(v) <= key(to); v = offsetValue(spec, v, 1)) {
    out.push(v);
    if (out.length > MAX_BACKFILL_VALUES)
      throw usageError(
        `--from ${String(from)} --to ${String(to)} is more than ${MAX_BACKFILL_VALUES} values; split it`,
      );
  }
  return out;
}
