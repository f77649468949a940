/**
 * The embedded-code protocol between the router and the Spark driver (Glue, EMR Serverless, EMR):
 * everything a run needs (code, input partitions, output path, dimensions, environment) travels as
 * one JSON document, base64-encoded in the single argument `--sluice_spec`. The dispatchers write
 * nothing to S3 themselves; a spec too large for the engine's argument limits fails the target with a
 * message saying so.
 */
import { SPARK_JOB_SPEC_VERSION, SPEC_ARGUMENT } from "../../../flow/model/deployment-contract";
import type { DataFormat, JsonValue } from "../../../flow/model/flow-model";
import type { DispatchRequest } from "../../core/dispatcher";
import type { Dimensions } from "../../core/signal";

/** The argument that carries the base64-encoded spec, and the spec's version (the deployment contract's). */
export { SPARK_JOB_SPEC_VERSION, SPEC_ARGUMENT } from "../../../flow/model/deployment-contract";

export interface SparkJobSpecInput {
  readonly node: string;
  /** Partition URIs (s3://…), tip first for ranges; empty for signals without data (timers, alarms). */
  readonly paths: readonly string[];
  /** Declared format; null when the input does not declare one (a Glue table). */
  readonly format: DataFormat | null;
  /** Tip value of each dimension the input is narrowed to; dimensions read whole are absent. */
  readonly dimensions: Dimensions;
  readonly reference: boolean;
}

export interface SparkJobSpec {
  readonly version: typeof SPARK_JOB_SPEC_VERSION;
  readonly executionId: string;
  /** Id of the data node the run computes. */
  readonly node: string;
  readonly kind: "sparkSql" | "pySpark";
  readonly code: string;
  /** By alias. */
  readonly inputs: Readonly<Record<string, SparkJobSpecInput>>;
  readonly output: { readonly path: string; readonly format: DataFormat; readonly dimensions: Dimensions };
  /** The output partition's dimension values (same as output.dimensions). */
  readonly dimensions: Dimensions;
  readonly env: string;
  readonly config: Readonly<Record<string, JsonValue>>;
  /**
   * 0-based position of the target in the node's compute list. The driver ignores it; crash recovery
   * (GlueDispatcher.recover) tells a run of one target from another's by it. Absent from specs written
   * before it was added.
   */
  readonly targetIndex: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** The spec of a request, or a message saying why the request cannot run on a Spark engine. */
export function sparkJobSpec(request: DispatchRequest): SparkJobSpec | string {
  const { target } = request;
  if (target.kind !== "sparkSql" && target.kind !== "pySpark") {
    return `a ${target.kind} target cannot run on ${target.engine}: only sparkSql and pySpark targets run on Spark engines`;
  }
  const code = target.code ?? "";
  if (code.trim() === "") return `the ${target.kind} target has no code`;
  const inputs: Record<string, SparkJobSpecInput> = {};
  for (const [alias, input] of Object.entries(request.inputs)) {
    inputs[alias] = {
      node: input.node,
      paths: [...input.paths],
      format: input.format ?? null,
      dimensions: input.dimensions,
      reference: input.reference,
    };
  }
  return {
    version: SPARK_JOB_SPEC_VERSION,
    executionId: request.executionId,
    node: request.node.id,
    kind: target.kind,
    code,
    inputs,
    output: {
      path: request.output.path,
      format: request.output.format,
      dimensions: request.output.dimensions,
    },
    dimensions: request.output.dimensions,
    env: request.env,
    config: request.config,
    targetIndex: request.targetIndex,
    attempt: request.attempt,
  };
}

/** Base64 of the spec's UTF-8 JSON: the value of `--sluice_spec`. */
export function encodeSparkJobSpec(spec: SparkJobSpec): string {
  return Buffer.from(JSON.stringify(spec), "utf8").toString("base64");
}

/** The inverse of encodeSparkJobSpec (for the driver and tests); throws on a malformed or unknown-version spec. */
export function decodeSparkJobSpec(encoded: string): SparkJobSpec {
  const spec = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as SparkJobSpec;
  if (typeof spec !== "object" || spec === null || spec.version !== SPARK_JOB_SPEC_VERSION) {
    throw new Error(`not a version ${SPARK_JOB_SPEC_VERSION} Sluice Spark job spec`);
  }
  return spec;
}

/** Size in bytes of a string sent as UTF-8. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * The message of a spec that does not fit an engine's argument limit, or undefined when it fits.
 * `what` names the limit ("Glue job run arguments"), `size`/`limit` are in the limit's unit.
 */
export function oversizeMessage(
  what: string,
  size: number,
  limit: number,
  unit: "bytes" | "characters",
): string | undefined {
  if (size <= limit) return undefined;
  return (
    `the job spec does not fit: ${what} take ${size} ${unit} with the base64-encoded ${SPEC_ARGUMENT}, ` +
    `over the limit of ${limit} ${unit}. Shorten the code (e.g. move helpers into a library), ` +
    `narrow the input ranges, or shorten sparkArgs`
  );
}

/**
 * spark-submit arguments of `params.sparkArgs`, verbatim: each key then its value (a key with an empty
 * value is a flag on its own), in declaration order.
 */
export function sparkSubmitArgs(sparkArgs: Readonly<Record<string, string>> | undefined): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(sparkArgs ?? {})) {
    out.push(key);
    if (value !== "") out.push(value);
  }
  return out;
}

/** Message when `sparkArgs` tries to set the spec argument itself, else undefined. */
export function reservedArgumentProblem(
  sparkArgs: Readonly<Record<string, string>> | undefined,
): string | undefined {
  return sparkArgs !== undefined && Object.hasOwn(sparkArgs, SPEC_ARGUMENT)
    ? `sparkArgs must not set ${SPEC_ARGUMENT}: Sluice passes the job spec in it`
    : undefined;
}

/**
 * What every Spark engine checks before it starts anything: the request yields a spec, and the user's
 * sparkArgs don't override the protocol's own argument. A string is the reason it cannot start.
 */
export function startableSpec(request: DispatchRequest): SparkJobSpec | string {
  const spec = sparkJobSpec(request);
  if (typeof spec === "string") return spec;
  return reservedArgumentProblem(request.target.params.sparkArgs) ?? spec;
}
