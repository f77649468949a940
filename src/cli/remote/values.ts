/**
 * Command-line values of a node's dimensions, coerced with the node's dimension spec (one-line errors),
 * and the value ranges of a backfill.
 */
import { coerceDimensionValue, datetimeToMs, offsetValue } from "../../flow/model/dimension-value";
import type { DimensionModel, DimensionValue, FlowModel, NodeModel } from "../../flow/model/flow-model";
import type { Dimensions } from "../../runtime-bundle/core/signal";
import { usageError } from "./errors";

/** A backfill enumerates at most this many values (a typo in --from or --to should not start years of runs). */
export const MAX_BACKFILL_VALUES = 10_000;

export function requireNode(model: FlowModel, id: string | undefined, kind?: "data"): NodeModel {
  const dataNodes = () =>
    Object.values(model.nodes)
      .filter((n) => n.kind === "data")
      .map((n) => n.id)
      .join(", ") || "none";
  if (id === undefined)
    throw usageError(kind === "data" ? `missing <node> (data nodes: ${dataNodes()})` : "missing <node>");
  const node = model.nodes[id];
  if (!node) {
    throw usageError(
      `no node "${id}" in ${model.application.name} (${kind === "data" ? `data nodes: ${dataNodes()}` : `nodes: ${Object.keys(model.nodes).join(", ")}`})`,
    );
  }
  if (kind === "data" && node.kind !== "data")
    throw usageError(`"${id}" is a ${node.kind} node, not a data node (data nodes: ${dataNodes()})`);
  return node;
}

/** One value per dimension of the node, in the node's order. */
export function nodeDimensions(node: NodeModel, raw: readonly string[]): Dimensions {
  const specs = node.signal.dimensions;
  if (raw.length !== specs.length) {
    const names = specs.map((d) => `<${d.name}>`).join(" ");
    throw usageError(
      `node "${node.id}" takes ${specs.length} value${specs.length === 1 ? "" : "s"} (${names || "none"}), got ${raw.length}`,
    );
  }
  const out: Record<string, DimensionValue> = {};
  specs.forEach((spec, i) => (out[spec.name] = coerce(node.id, spec, raw[i] as string)));
  return out;
}

export function coerce(node: string, spec: DimensionModel, raw: string): DimensionValue {
  const c = coerceDimensionValue(spec, raw);
  if (c.error !== undefined) throw usageError(`node "${node}", dimension "${spec.name}": ${c.error}`);
  return c.value;
}

/** "region=NA day=2024-05-07". */
export function renderDimensions(dims: Dimensions): string {
  return Object.entries(dims)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
}

export interface BackfillPlanOptions {
  readonly from: string | undefined;
  readonly to: string | undefined;
  /** The dimension the range runs over; required when the node has several ordered ones. */
  readonly dimension: string | undefined;
  /** `--fixed region=NA,EU,market=3`: values of the other dimensions (a bare value adds to the one before it). */
  readonly fixed: string | undefined;
}

/**
 * The output dimensions of each execution of a backfill: every value of one ordered dimension from
 * --from to --to (inclusive, in the dimension's periods), times the values of the others (--fixed, or
 * the values their filter declares), in range order.
 */
export function backfillPlan(node: NodeModel, o: BackfillPlanOptions): Dimensions[] {
  const specs = node.signal.dimensions;
  const names = specs.map((d) => d.name).join(", ");
  const ordered = specs.filter((d) => d.type !== "STRING");
  let range: DimensionModel;
  if (o.dimension !== undefined) {
    const spec = specs.find((d) => d.name === o.dimension);
    if (!spec) throw usageError(`node "${node.id}" has no dimension "${o.dimension}" (dimensions: ${names})`);
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
    throw usageError(`backfill needs --from and --to (values of "${range.name}", inclusive)`);
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
  // The range outermost, so executions start in range order.
  const at = specs.indexOf(range);
  let combos: DimensionValue[][] = [[]];
  for (const i of [at, ...specs.map((_, k) => k).filter((k) => k !== at)])
    combos = combos.flatMap((c) => (choices[i] as readonly DimensionValue[]).map((v) => [...c, v]));
  const order = [at, ...specs.map((_, k) => k).filter((k) => k !== at)];
  return combos.map((c) =>
    Object.fromEntries(specs.map((d, k) => [d.name, c[order.indexOf(k)] as DimensionValue])),
  );
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
          `--fixed: node "${node.id}" has no dimension "${name}" (dimensions: ${specs.map((d) => d.name).join(", ")})`,
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
