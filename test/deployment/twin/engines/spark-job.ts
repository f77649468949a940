/**
 * What the Spark driver (src/runtime-bundle/spark/sluice_driver.py) does to S3, as the role its engine
 * runs it with: it decodes `--sluice_spec`, lists and reads every input partition, and writes the
 * output below the output path (never the completion marker: the router writes that). Spark itself
 * is not run; its S3 calls are, so a missing grant fails the job as it would on AWS.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

interface SpecInput {
  readonly node: string;
  readonly paths: readonly string[];
  readonly reference: boolean;
}

export interface TwinSparkSpec {
  readonly version: number;
  readonly executionId: string;
  readonly node: string;
  readonly kind: string;
  readonly inputs: Readonly<Record<string, SpecInput>>;
  readonly output: { readonly path: string; readonly format: string };
  readonly targetIndex?: number;
  readonly attempt: number;
}

/** The spec of the `--sluice_spec` argument in `args` (a Glue arguments map or an argument list). */
export function decodeSpec(args: Readonly<Record<string, string>> | readonly string[]): TwinSparkSpec {
  let value: string | undefined;
  if (Array.isArray(args)) {
    const list = args as readonly string[];
    const i = list.indexOf("--sluice_spec");
    value = i >= 0 ? list[i + 1] : list.find((a) => a.startsWith("--sluice_spec="))?.slice(14);
  } else value = (args as Readonly<Record<string, string>>)["--sluice_spec"];
  if (value === undefined) throw new Error("the job has no --sluice_spec argument");
  return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as TwinSparkSpec;
}

/**
 * A job run of the driver as its engine starts it: the engine reads the script (as the job's role),
 * then the driver runs with its arguments. Resolves to an error message, or undefined on success.
 */
export async function runDriver(
  s3: S3Client,
  script: string | undefined,
  args: Readonly<Record<string, string>> | readonly string[],
): Promise<string | undefined> {
  try {
    if (script === undefined) throw new Error("the job runs no s3:// script");
    const at = parseS3Uri(script);
    await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
    return await runSparkSpec(decodeSpec(args), s3);
  } catch (e) {
    return `could not start: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

/** Runs the driver's S3 contract as `s3`'s role; resolves to an error message, or undefined on success. */
export async function runSparkSpec(spec: TwinSparkSpec, s3: S3Client): Promise<string | undefined> {
  try {
    let rows = 0;
    for (const [alias, input] of Object.entries(spec.inputs)) {
      for (const path of input.paths) {
        const { bucket, key } = parseS3Uri(path);
        const prefix = key.endsWith("/") ? key : `${key}/`;
        const listed = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 100 }),
        );
        const files = (listed.Contents ?? []).filter(
          (o) => !/(^|\/)(_SUCCESS|_[^/]*\$folder\$)$/.test(o.Key ?? ""),
        );
        if (files.length === 0) {
          return `AnalysisException: Path does not exist: ${path} (input ${alias})`;
        }
        for (const f of files.slice(0, 3)) {
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: f.Key }));
          rows += (await got.Body?.transformToString())?.split("\n").filter(Boolean).length ?? 0;
        }
      }
    }
    const out = parseS3Uri(spec.output.path);
    await s3.send(
      new PutObjectCommand({
        Bucket: out.bucket,
        Key: `${out.key.replace(/\/$/, "")}/part-00000-${spec.executionId}.${spec.output.format || "parquet"}`,
        Body: JSON.stringify({ node: spec.node, rowsRead: rows }),
      }),
    );
    return undefined;
  } catch (e) {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    return `${err.name ?? "Error"} (${err.$metadata?.httpStatusCode ?? "?"}): ${err.message ?? String(e)}`;
  }
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] as string };
}
