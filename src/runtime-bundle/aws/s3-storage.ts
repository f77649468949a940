/**
 * Storage on S3: partitions are prefixes, completion markers are empty objects.
 * Data nodes live in the application's bucket under `internal_data/<node>/…`; nodes imported from an
 * upstream application in the upstream's bucket, under the same layout; external datasets where the
 * model says (the router binds its environment's dataset bindings into the model first).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { NodeModel } from "../../flow/model/flow-model";
import { upstreamBucket } from "../../flow/model/resource-names";
import { isDataFileName, partitionSegments } from "../core/partition-layout";
import type { Dimensions } from "../core/signal";
import type { Storage } from "../core/storage";
import { s3Sdk } from "./sdk";

export interface S3StorageProps {
  /** @default a client for the function's region, created on first use */
  readonly client?: S3Client;
  /** The application's storage bucket. */
  readonly bucket: string;
  /** Glue table locations by node id (`s3://bucket/prefix`), for glueTable inputs. @default none: a glueTable has no path */
  readonly tableLocations?: Readonly<Record<string, string>>;
}

export class S3Storage implements Storage {
  private clientInstance: S3Client | undefined;

  constructor(private readonly props: S3StorageProps) {}

  private get client(): S3Client {
    this.clientInstance ??= this.props.client ?? new (s3Sdk().S3Client)({});
    return this.clientInstance;
  }

  partitionPath(node: NodeModel, dimensions: Dimensions): string {
    return [this.root(node), ...partitionSegments(node, dimensions)].join("/");
  }

  /**
   * Whether a partition is there: its completion marker, or any data file. Both ask through
   * ListObjectsV2 with the partition's prefix, never HEAD: S3 answers a HEAD of a missing key with 404
   * only to a caller allowed `s3:ListBucket` without a prefix condition, and 403 to everyone else, while
   * every ListBucket grant Sluice writes is conditioned on `s3:prefix` (which a list carries).
   */
  async exists(path: string, completion: string | null): Promise<boolean> {
    const { bucket, key } = parseS3Uri(path);
    if (completion !== null) {
      const marker = `${key}/${completion}`;
      const listed = await this.client.send(
        new (s3Sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: marker, MaxKeys: 1 }),
      );
      return (listed.Contents ?? []).some((o) => o.Key === marker);
    }
    const listed = await this.client.send(
      new (s3Sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: `${key}/`, Delimiter: "/", MaxKeys: 50 }),
    );
    return (listed.Contents ?? []).some((o) => isDataFileName((o.Key ?? "").slice(key.length + 1)));
  }

  async writeMarker(path: string, name: string): Promise<void> {
    const { bucket, key } = parseS3Uri(path);
    // An explicit length: without it the SDK logs a "Stream of unknown length" warning for the empty body.
    await this.client.send(
      new (s3Sdk().PutObjectCommand)({ Bucket: bucket, Key: `${key}/${name}`, Body: "", ContentLength: 0 }),
    );
  }

  async clear(path: string): Promise<void> {
    const { bucket, key } = parseS3Uri(path);
    let token: string | undefined;
    do {
      const listed = await this.client.send(
        new (s3Sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: `${key}/`, ContinuationToken: token }),
      );
      const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key as string }));
      if (keys.length > 0) {
        await this.client.send(
          new (s3Sdk().DeleteObjectsCommand)({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
        );
      }
      token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async listFiles(path: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(path);
    const out: string[] = [];
    let token: string | undefined;
    do {
      const listed = await this.client.send(
        new (s3Sdk().ListObjectsV2Command)({
          Bucket: bucket,
          Prefix: `${key}/`,
          Delimiter: "/",
          ContinuationToken: token,
        }),
      );
      for (const o of listed.Contents ?? []) {
        const name = (o.Key ?? "").slice(key.length + 1);
        if (isDataFileName(name)) out.push(`s3://${bucket}/${o.Key as string}`);
      }
      token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out.sort();
  }

  async readFile(path: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(path);
    const got = await this.client.send(new (s3Sdk().GetObjectCommand)({ Bucket: bucket, Key: key }));
    return (await got.Body?.transformToByteArray()) ?? new Uint8Array();
  }

  async writeFile(path: string, body: string | Uint8Array): Promise<void> {
    const { bucket, key } = parseS3Uri(path);
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    await this.client.send(
      new (s3Sdk().PutObjectCommand)({
        Bucket: bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.byteLength,
      }),
    );
  }

  /**
   * The s3:// URI of a node's data: the bucket's internal_data (the upstream's bucket for an imported
   * node), or where the environment binds a dataset; undefined for a glueTable without a known location.
   */
  datasetRoot(node: NodeModel): string | undefined {
    if (node.kind === "glueTable" && this.props.tableLocations?.[node.id] === undefined) return undefined;
    return this.root(node);
  }

  private root(node: NodeModel): string {
    switch (node.kind) {
      case "data":
        return `s3://${this.props.bucket}/${node.path}`;
      case "upstreamData":
        // Read only: the upstream's router writes its markers; this one never writes or clears them.
        return `s3://${upstreamBucket(node.upstream)}/${node.path}`;
      case "s3Dataset":
        return `s3://${node.bucket}${node.prefix ? `/${node.prefix}` : ""}`;
      case "glueTable": {
        const location = this.props.tableLocations?.[node.id];
        if (location === undefined) throw new Error(`glue table "${node.id}" has no known S3 location`);
        return location.replace(/\/+$/, "");
      }
      default:
        throw new Error(`node "${node.id}" is a ${node.kind} and has no data`);
    }
  }
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1] as string, key: (m[2] as string).replace(/\/+$/, "") };
}
