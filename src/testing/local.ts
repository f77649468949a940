/**
 * Test data helpers bound to a LocalRuntime: where a partition lives in its storage, and writing an
 * input partition the way its dataset declares it (format, completion marker).
 */
import type { LocalRuntime, SignalTarget } from "../runtime-bundle/local/local-runtime";
import type { DataTable, DataTableInput } from "./markdown-table";
import { writePartition, type PartitionFormat, type WritePartitionOptions } from "./partition-io";

/**
 * The local folder of one partition of an s3Dataset or glueTable (or of a data node, to seed an
 * upstream output) in a LocalRuntime: `<datasets[id]>/<segments>` when the runtime was started with
 * a folder bound to the dataset, else `<dir>/external/<id>/<segments>`; every dimension must be given.
 *
 * ```ts
 * await writePartition(inputPartition(rt, events.at("NA", "2024-05-07")), `
 *   | cid  | amount |
 *   | long | double |
 *   | 1    | 10.5   |`);
 * ```
 */
export function inputPartition(rt: LocalRuntime, target: SignalTarget): string {
  return rt.partitionPath(target);
}

/**
 * Writes an input partition of a LocalRuntime as its node declares it: an s3Dataset's `format` and
 * `completion` marker (none when `completion: null`), Parquet and no marker for a glueTable, the
 * node's format and `_SUCCESS` for a data node. Options override both. Returns the data file's path.
 * Injecting the event is still the test's job (`rt.process(target)`).
 */
export async function writeInput(
  rt: LocalRuntime,
  target: SignalTarget,
  data: string | DataTableInput | DataTable,
  options: WritePartitionOptions = {},
): Promise<string> {
  const id = "selectors" in target ? target.node.id : target.id;
  const node = rt.model.nodes[id];
  if (node === undefined) throw new Error(`writeInput: "${id}" is not a node of this flow`);
  let format: string = "parquet";
  let completion: string | null = null;
  if (node.kind === "s3Dataset") [format, completion] = [node.format, node.completion];
  else if (node.kind === "data") [format, completion] = [node.format, "_SUCCESS"];
  else if (node.kind !== "glueTable") {
    throw new Error(
      `writeInput: node "${id}" is a ${node.kind}: only s3Dataset, glueTable and data nodes hold data`,
    );
  }
  const chosen = options.format ?? format;
  if (chosen !== "parquet" && chosen !== "csv" && chosen !== "json") {
    throw new Error(
      `writeInput: node "${id}" is declared as ${chosen}, which the local helpers cannot write; pass { format: "parquet" | "csv" | "json" }`,
    );
  }
  return writePartition(rt.partitionPath(target), data, {
    ...options,
    format: chosen as PartitionFormat,
    completion: options.completion === undefined ? completion : options.completion,
  });
}
