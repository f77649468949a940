/**
 * Storage on the local filesystem, for LocalRuntime and tests.
 *
 * Layout (segments from `partitionSegments`):
 * - data node:        `<root>/internal_data/<id>/<value>/<value>…`
 * - external dataset: `<datasets[id]>/<segment>/<segment>…` when a local folder is bound to it,
 *                     else `<root>/external/<id>/<segment>/<segment>…` (drop files there in tests).
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import type { NodeModel } from "../../flow/model/flow-model";
import { isDataFileName, partitionSegments } from "../core/partition-layout";
import type { Dimensions } from "../core/signal";
import type { Storage } from "../core/storage";

/** Folder under the root that holds external datasets without a bound local folder. */
export const LOCAL_EXTERNAL_DIR = "external";

export interface LocalStorageProps {
  /** Folder that stands for the storage bucket: data nodes live under `<root>/internal_data/<id>`. */
  readonly root: string;
  /**
   * External dataset id → local folder with the same partition layout (for s3Dataset: the folder that
   * stands for s3://bucket/prefix; for glueTable: the table location). A dataset without an entry lives
   * in `<root>/external/<id>`.
   */
  readonly datasets?: Readonly<Record<string, string>>;
  /** Upstream application name → the folder that stands for its storage bucket (imported nodes). */
  readonly upstreams?: Readonly<Record<string, string>>;
}

export class LocalStorage implements Storage {
  /** Absolute root folder. */
  readonly root: string;
  private readonly datasets: Readonly<Record<string, string>>;
  private readonly upstreams = new Map<string, string>();

  constructor(props: LocalStorageProps) {
    this.root = path.resolve(props.root);
    const datasets: Record<string, string> = {};
    for (const [id, dir] of Object.entries(props.datasets ?? {})) datasets[id] = path.resolve(dir);
    this.datasets = datasets;
    for (const [name, dir] of Object.entries(props.upstreams ?? {})) this.addUpstream(name, dir);
  }

  /** Binds an upstream application's storage root, where its imported nodes' partitions are. */
  addUpstream(name: string, root: string): void {
    this.upstreams.set(name, path.resolve(root));
  }

  /** The folder that holds every partition of a node (the partition path of a node without dimensions). */
  datasetRoot(node: NodeModel): string {
    switch (node.kind) {
      case "data":
        return path.join(this.root, ...node.path.split("/"));
      case "upstreamData": {
        const root = this.upstreams.get(node.upstream.application);
        if (root === undefined) {
          throw new Error(
            `node "${node.id}" is imported from "${node.upstream.application}", whose local storage is not known (subscribe to its LocalRuntime)`,
          );
        }
        return path.join(root, ...node.path.split("/"));
      }
      case "s3Dataset":
      case "glueTable":
        return Object.hasOwn(this.datasets, node.id)
          ? this.datasets[node.id]
          : path.join(this.root, LOCAL_EXTERNAL_DIR, node.id);
      default:
        throw new Error(
          `node "${node.id}" is a ${node.kind} and has no partitions: only s3Dataset, glueTable and data nodes hold data`,
        );
    }
  }

  partitionPath(node: NodeModel, dimensions: Dimensions): string {
    const segments = partitionSegments(node, dimensions);
    return path.join(this.datasetRoot(node), ...segments);
  }

  async exists(dir: string, completion: string | null): Promise<boolean> {
    if (completion !== null) {
      assertFileName(completion);
      try {
        return (await stat(path.join(dir, completion))).isFile();
      } catch (e) {
        if (isMissing(e)) return false;
        throw e;
      }
    }
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.some((e) => e.isFile() && isDataFileName(e.name));
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  async writeMarker(dir: string, name: string): Promise<void> {
    assertFileName(name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, name), "");
  }

  async listFiles(dir: string): Promise<string[]> {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && isDataFileName(e.name))
        .map((e) => path.join(dir, e.name))
        .sort();
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }

  async readFile(file: string): Promise<Uint8Array> {
    return readFile(file);
  }

  async writeFile(file: string, body: string | Uint8Array): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body);
  }

  /** Removes everything inside the partition folder (files and sub-folders); keeps the folder itself. */
  async clear(dir: string): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    await Promise.all(entries.map((name) => rm(path.join(dir, name), { recursive: true, force: true })));
  }
}

function assertFileName(name: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new Error(`completion marker ${JSON.stringify(name)} must be a plain file name`);
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
