/**
 * Where partitions live, as far as the router needs to know: their paths, whether they are complete,
 * and writing completion markers. LocalStorage (filesystem) and S3 implement it.
 */
import type { NodeModel } from "../../flow/model/flow-model";
import type { Dimensions } from "./signal";

export interface Storage {
  /** Path (filesystem path or s3:// URI) of one partition of a node. */
  partitionPath(node: NodeModel, dimensions: Dimensions): string;
  /**
   * The folder or s3:// URI holding every partition of a data-holding node (s3Dataset, glueTable, data),
   * or undefined when it is not known (a glueTable without a known location).
   */
  datasetRoot?(node: NodeModel): string | undefined;
  /** True when the partition is complete: its completion marker exists, or (no marker) it has any data object. */
  exists(path: string, completion: string | null): Promise<boolean>;
  /** Writes the completion marker of a partition (creating the partition folder if needed). */
  writeMarker(path: string, name: string): Promise<void>;
  /** Removes a partition's data and marker, before an execution rewrites it. */
  clear(path: string): Promise<void>;
  /** The data files of a partition (markers and hidden files left out), sorted: user code's `files()`. */
  listFiles?(path: string): Promise<string[]>;
  /** One object's bytes (a file path or an s3:// URI): user code's `ctx.storage.read`. */
  readFile?(path: string): Promise<Uint8Array>;
  /** Writes one object (creating folders as needed): user code's `output.write` and `ctx.storage.write`. */
  writeFile?(path: string, body: string | Uint8Array): Promise<void>;
}

export const COMPLETION_MARKER = "_SUCCESS";
