/** Partition values typed on the command line, checked against a node's declared filter. */
import type { Application } from "../flow/application";
import type { DimensionModel, DimensionValue, NodeModel } from "../flow/model/flow-model";
import { usageError } from "./errors";

function declaredOrder(
  values: readonly DimensionValue[],
  app: Application | undefined,
  node: string,
  dimension: string,
): readonly DimensionValue[] {
  const props = app?.node(node)?.props as { filter?: Record<string, unknown> } | undefined;
  const declared = props?.filter?.[dimension];
  if (!Array.isArray(declared)) return values;
  const strings = declared.map(String);
  return strings.length === values.length && values.every((v) => strings.includes(String(v)))
    ? [...values].sort((a, b) => strings.indexOf(String(a)) - strings.indexOf(String(b)))
    : values;
}

/**
 * Throws a usage error when the node's filter declares values for the dimension and `value` is not
 * one. The values are listed in the order the flow declares them when the application is given.
 */
export function checkInFilter(
  node: NodeModel,
  spec: DimensionModel,
  value: DimensionValue,
  app?: Application,
): void {
  const filter = node.signal.filter[spec.name];
  if (!Array.isArray(filter)) return;
  const allowed = declaredOrder(filter as readonly DimensionValue[], app, node.id, spec.name);
  if (allowed.some((v) => String(v) === String(value))) return;
  throw usageError(
    `node "${node.id}", dimension "${spec.name}": ${String(value)} is not in the filter (${allowed.map(String).join(", ")})`,
  );
}
