/**
 * An environment's dataset bindings applied to a FlowModel: where the external datasets are in that
 * environment (bucket, prefix, format, encryption key, owning account and region; database and table
 * of a Glue table). The router binds its model once, at start, from what synth (or the module's
 * `datasets` variable) passes it, so every later reader of the model (event matching, storage paths,
 * the format a job is told, the table Athena queries) sees the environment's locations.
 */
import {
  DATA_FORMATS,
  type DataFormat,
  type DatasetBindingModel,
  type FlowModel,
  type NodeModel,
} from "./flow-model";

/** Every data format, sorted (messages, the module variable's validation). */
export const SORTED_DATA_FORMATS: readonly DataFormat[] = [...DATA_FORMATS].sort();

/** The fields a binding may set, by dataset kind. */
export const BINDABLE: Readonly<Record<"s3Dataset" | "glueTable", readonly (keyof DatasetBindingModel)[]>> = {
  s3Dataset: ["account", "bucket", "encryptionKey", "format", "prefix", "region"],
  glueTable: ["account", "database", "region", "table"],
};

/** Every field a binding may set, sorted. */
export const BINDING_FIELDS: readonly (keyof DatasetBindingModel)[] = [
  ...new Set([...BINDABLE.s3Dataset, ...BINDABLE.glueTable]),
].sort();

/** A binding that does not fit the flow (unknown dataset, a field of the other kind, a bad format). */
export class DatasetBindingError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`dataset bindings: ${problems.join("; ")}`);
    this.name = "DatasetBindingError";
  }
}

/**
 * The model with `bindings` applied over its s3Dataset and glueTable nodes, field by field; unset
 * fields (absent, null, or an empty encryption key) keep the flow's declaration. Prefixes lose leading
 * and trailing slashes. Throws a DatasetBindingError listing every binding that does not fit.
 */
export function bindDatasets(
  model: FlowModel,
  bindings: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): FlowModel {
  const problems: string[] = [];
  const nodes: Record<string, NodeModel> = { ...model.nodes };
  for (const id of Object.keys(bindings).sort()) {
    const node = Object.hasOwn(model.nodes, id) ? model.nodes[id] : undefined;
    if (node === undefined || (node.kind !== "s3Dataset" && node.kind !== "glueTable")) {
      problems.push(
        `dataset "${id}": ${node === undefined ? "no such node" : `is a ${node.kind}, not an s3Dataset or glueTable`}`,
      );
      continue;
    }
    const binding = bindings[id] ?? {};
    const set: Record<string, string> = {};
    for (const [field, value] of Object.entries(binding)) {
      if (value === null || value === undefined) continue;
      if (!(BINDABLE[node.kind] as readonly string[]).includes(field)) {
        problems.push(`dataset "${id}" (${node.kind}): "${field}" cannot be bound`);
        continue;
      }
      if (typeof value !== "string") {
        problems.push(`dataset "${id}", field "${field}": ${JSON.stringify(value)} is not a string`);
        continue;
      }
      set[field] = value;
    }
    if (set.format !== undefined && !(DATA_FORMATS as readonly string[]).includes(set.format)) {
      problems.push(
        `dataset "${id}", field "format": "${set.format}" is not one of ${SORTED_DATA_FORMATS.join(", ")}`,
      );
      continue;
    }
    if (node.kind === "s3Dataset") {
      const { encryptionKey, prefix, format, ...rest } = set;
      const bound = {
        ...node,
        ...rest,
        ...(prefix === undefined ? {} : { prefix: prefix.replace(/^\/+|\/+$/g, "") }),
        ...(format === undefined ? {} : { format: format as DataFormat }),
        ...(encryptionKey === undefined || encryptionKey === "" ? {} : { encryptionKey }),
      };
      nodes[id] = bound;
    } else {
      nodes[id] = { ...node, ...set };
    }
  }
  if (problems.length > 0) throw new DatasetBindingError(problems);
  return { ...model, nodes };
}
