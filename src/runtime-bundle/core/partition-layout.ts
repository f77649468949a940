/**
 * Partition layout: how the dimension values of a partition map to path segments under a dataset's
 * root, and back. Pure functions shared by every Storage implementation and the event adapters.
 *
 * - s3Dataset: one segment per dimension from the node's templates (`"region={}"`, `"{}"`, `"{}-hourly"`).
 * - glueTable: hive style, `<dimension>=<value>`.
 * - data: the bare values, under `internal_data/<id>`.
 *
 * Values are rendered with `renderDimensionValue`. Only the canonical rendering of a value is accepted
 * back (`"0042"` for a LONG with 4 digits, not `"42"`; `"2024-05-07"` for a daily `%Y-%m-%d`, not an
 * ISO timestamp), so that a parsed partition's path is exactly the one `partitionSegments` computes:
 * completion checks and markers always look at the folder the event came from.
 *
 * URL-encoding/decoding of S3 keys is the caller's job: everything here works on decoded text.
 */
import type {
  DataNodeModel,
  DimensionModel,
  DimensionValue,
  NodeModel,
  S3DatasetNodeModel,
  SignalModel,
  UpstreamDataNodeModel,
} from "../../flow/model/flow-model";
import { coerceDimensionValue, renderDimensionValue } from "../../flow/model/dimension-value";
import { COMPLETION_MARKER } from "./storage";
import type { Dimensions } from "./signal";

/** An object of a partition, recognized from its key. */
export interface PartitionObjectMatch {
  /** Canonical values of every dimension of the node's signal. */
  readonly dimensions: Dimensions;
  /** Name of the object inside the partition folder. */
  readonly file: string;
  /** True when this object signals that the partition is complete. */
  readonly isCompletion: boolean;
}

/** Node kinds whose partitions hold data and therefore have a layout. */
export type PartitionedNodeModel = Extract<
  NodeModel,
  { kind: "s3Dataset" | "glueTable" | "data" | "upstreamData" }
>;

export function hasPartitions(node: NodeModel): node is PartitionedNodeModel {
  return (
    node.kind === "s3Dataset" ||
    node.kind === "glueTable" ||
    node.kind === "data" ||
    node.kind === "upstreamData"
  );
}

/**
 * The path segments of one partition of a node, one per dimension in the signal's order.
 * Values are canonicalized first (a LONG given as "7", a DATETIME given as an ISO string or a Date are
 * accepted). Throws for nodes without data (timer, metrics, alarms), for a missing or invalid value, and
 * for a value whose rendering cannot be a single path segment (contains "/", or is "." or "..").
 */
/** Dimension value standing for "every partition" in a path: a glob segment. */
export const WILDCARD = "*";

export function partitionSegments(node: NodeModel, dims: Dimensions): string[] {
  const templates = segmentTemplates(node);
  return node.signal.dimensions.map((spec, i) => {
    const raw = dims[spec.name];
    if (raw === undefined) {
      throw new Error(`node "${node.id}": no value for dimension "${spec.name}" of its partition path`);
    }
    // A wildcard reads every partition of the dimension (a reference input not narrowed by links).
    if (raw === WILDCARD) return templates[i].prefix + WILDCARD + templates[i].suffix;
    const c = coerceDimensionValue(spec, raw);
    if (c.error !== undefined) throw new Error(`node "${node.id}", dimension "${spec.name}": ${c.error}`);
    const segment = templates[i].prefix + renderDimensionValue(spec, c.value) + templates[i].suffix;
    const problem = segmentProblem(segment);
    if (problem !== undefined) {
      throw new Error(
        `node "${node.id}", dimension "${spec.name}": value ${JSON.stringify(String(raw))} cannot be a path segment (${problem})`,
      );
    }
    return segment;
  });
}

/**
 * The inverse of `partitionSegments`: given exactly the segments after the dataset's root (one per
 * dimension), the canonical values; undefined when the count differs, a segment does not match its
 * template, a value does not coerce, or the value is not in its canonical rendering.
 * Does not apply the node's filter (see `inFilter`). Throws for nodes without data.
 */
export function parsePartitionSegments(node: NodeModel, segments: readonly string[]): Dimensions | undefined {
  const templates = segmentTemplates(node);
  const specs = node.signal.dimensions;
  if (segments.length !== specs.length) return undefined;
  const out: Record<string, DimensionValue> = {};
  for (let i = 0; i < specs.length; i++) {
    const value = parseSegment(specs[i], templates[i], segments[i]);
    if (value === undefined) return undefined;
    out[specs[i].name] = value;
  }
  return out;
}

/**
 * Recognizes an S3 object key (already URL-decoded) of an s3Dataset:
 * `<prefix>/<segment per dimension>/<file>`. Exactly one file segment must follow the partition
 * segments (deeper keys and folder placeholders ending in "/" do not match). `isCompletion` is
 * `file === completion`, or, when the node has no completion marker, true for any data file (a name not
 * starting with "_" or "."). Values outside the node's filter do not match.
 */
export function matchObjectKey(node: S3DatasetNodeModel, key: string): PartitionObjectMatch | undefined {
  return matchUnder(node, node.prefix, key, (file) =>
    node.completion === null ? isDataFileName(file) : file === node.completion,
  );
}

/**
 * Recognizes a key of a data node's partition in its application's storage bucket (for an imported
 * node, the upstream's): `internal_data/<id>/<value>/<value>…/<file>`; `isCompletion` when the file is
 * the `_SUCCESS` marker. Values outside the node's filter do not match.
 */
export function matchInternalKey(
  node: DataNodeModel | UpstreamDataNodeModel,
  key: string,
): PartitionObjectMatch | undefined {
  return matchUnder(node, node.path, key, (file) => file === COMPLETION_MARKER);
}

/**
 * True when every filtered dimension of the signal has a value admitted by its filter. A dimension
 * absent from `dims` passes only when it is unfiltered. LONG values compare numerically.
 */
export function inFilter(signal: SignalModel, dims: Dimensions): boolean {
  for (const [name, filter] of Object.entries(signal.filter)) {
    if (filter === "*") continue;
    const value = dims[name];
    if (value === undefined) return false;
    const spec = signal.dimensions.find((d) => d.name === name);
    const numeric = spec?.type === "LONG" && String(value).trim() !== "";
    const admitted = filter.some((v) => v === value || (numeric && Number(v) === Number(value)));
    if (!admitted) return false;
  }
  return true;
}

/** True for names that count as data in a partition without a completion marker. */
export function isDataFileName(name: string): boolean {
  return name.length > 0 && !name.startsWith("_") && !name.startsWith(".");
}

// ---------------------------------------------------------------- internals

interface SegmentTemplate {
  readonly prefix: string;
  readonly suffix: string;
}

function segmentTemplates(node: NodeModel): readonly SegmentTemplate[] {
  switch (node.kind) {
    case "s3Dataset": {
      if (node.partitions.length !== node.signal.dimensions.length) {
        throw new Error(
          `s3Dataset "${node.id}": ${node.partitions.length} partition template(s) for ${node.signal.dimensions.length} dimension(s)`,
        );
      }
      return node.partitions.map((t, i) => {
        const parts = t.split("{}");
        if (parts.length !== 2 || t.includes("/")) {
          throw new Error(
            `s3Dataset "${node.id}": partition template ${i + 1} "${t}" must contain exactly one "{}" and no "/"`,
          );
        }
        return { prefix: parts[0], suffix: parts[1] };
      });
    }
    case "glueTable":
      return node.signal.dimensions.map((d) => ({ prefix: `${d.name}=`, suffix: "" }));
    case "data":
    case "upstreamData":
      return node.signal.dimensions.map(() => ({ prefix: "", suffix: "" }));
    default:
      throw new Error(
        `node "${node.id}" is a ${node.kind} and has no partitions: only s3Dataset, glueTable and data nodes hold data`,
      );
  }
}

function parseSegment(
  spec: DimensionModel,
  template: SegmentTemplate,
  segment: string,
): DimensionValue | undefined {
  if (segmentProblem(segment) !== undefined) return undefined;
  const { prefix, suffix } = template;
  if (segment.length < prefix.length + suffix.length) return undefined;
  if (!segment.startsWith(prefix) || !segment.endsWith(suffix)) return undefined;
  const text = segment.slice(prefix.length, segment.length - suffix.length);
  const c = coerceDimensionValue(spec, text);
  if (c.error !== undefined) return undefined;
  // Only the canonical rendering names the partition; anything else would be a different folder.
  return renderDimensionValue(spec, c.value) === text ? c.value : undefined;
}

/**
 * Why a key that has the shape of one of the node's partition objects (its root, one segment per
 * dimension, then a file) names no partition: the first segment whose value is not a valid value of
 * its dimension (`"abc" is not a valid value of dimension "n" (LONG): …`). Undefined when the key
 * does not have that shape, or every value is valid (the key is outside the filter, or fine).
 */
export function invalidPartitionValue(
  node: PartitionedNodeModel,
  root: string,
  key: string,
): string | undefined {
  if (root !== "" && !key.startsWith(`${root}/`)) return undefined;
  const parts = (root === "" ? key : key.slice(root.length + 1)).split("/");
  const specs = node.signal.dimensions;
  if (parts.length !== specs.length + 1) return undefined;
  const templates = segmentTemplates(node);
  for (let i = 0; i < specs.length; i++) {
    const { prefix, suffix } = templates[i];
    const segment = parts[i];
    if (
      segment.length < prefix.length + suffix.length ||
      !segment.startsWith(prefix) ||
      !segment.endsWith(suffix)
    )
      return undefined; // another layout, not a bad value
    const text = segment.slice(prefix.length, segment.length - suffix.length);
    const c = coerceDimensionValue(specs[i], text);
    const why =
      c.error ??
      (renderDimensionValue(specs[i], c.value) === text
        ? undefined
        : `not its canonical form ${JSON.stringify(renderDimensionValue(specs[i], c.value))}`);
    if (why !== undefined)
      return `${JSON.stringify(text)} is not a valid value of dimension "${specs[i].name}" (${specs[i].type}): ${why}`;
  }
  return undefined;
}

function segmentProblem(segment: string): string | undefined {
  if (segment.length === 0) return "empty";
  if (segment.includes("/")) return 'contains "/"';
  if (segment === "." || segment === "..") return `is "${segment}"`;
  if (segment.includes("\0")) return "contains a NUL character";
  return undefined;
}

function matchUnder(
  node: PartitionedNodeModel,
  root: string,
  key: string,
  isCompletion: (file: string) => boolean,
): PartitionObjectMatch | undefined {
  let rest = key;
  if (root !== "") {
    if (!key.startsWith(`${root}/`)) return undefined;
    rest = key.slice(root.length + 1);
  }
  const parts = rest.split("/");
  if (parts.length !== node.signal.dimensions.length + 1) return undefined;
  const file = parts[parts.length - 1];
  if (segmentProblem(file) !== undefined) return undefined;
  const dimensions = parsePartitionSegments(node, parts.slice(0, -1));
  if (dimensions === undefined || !inFilter(node.signal, dimensions)) return undefined;
  return { dimensions, file, isCompletion: isCompletion(file) };
}
