import { createHash } from "node:crypto";

/**
 * Deterministic AWS resource names of an application, shared by synth (which creates the resources)
 * and the router (which recognises events about them). Names stay within AWS limits: a name that
 * would be too long keeps a readable head and ends in a stable hash of the whole.
 */

/** FNV-1a, 32 bit, hex: a short stable digest with no dependency. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** `parts` joined by "-", cut to `max` characters with a hash suffix when longer. */
export function boundedName(parts: readonly string[], max: number): string {
  const full = parts.join("-");
  if (full.length <= max) return full;
  const hash = shortHash(full);
  return `${full.slice(0, max - hash.length - 1)}-${hash}`;
}

/** S3 bucket names: at most 63 characters. */
export const STORAGE_BUCKET_MAX = 63;
/** What a too-long bucket name keeps of itself before `-<8 hex digits of its SHA-1>`. */
export const STORAGE_BUCKET_HEAD = STORAGE_BUCKET_MAX - 9;

export const resourceNames = {
  /**
   * The application's storage bucket (63 chars): a global namespace, so account and region are part
   * of it. A longer name keeps its first 54 characters and ends in `-` and the first 8 hex digits of
   * the SHA-1 of the whole name, so it never ends in a hyphen and two regions or accounts never share
   * it. A Terraform module computes the same with `substr` and `sha1` ({@link STORAGE_BUCKET_MAX}).
   */
  storageBucket: (app: string, account: string, region: string): string => {
    const full = `${app}-${account}-${region}`;
    return full.length <= STORAGE_BUCKET_MAX
      ? full
      : `${full.slice(0, STORAGE_BUCKET_HEAD)}-${createHash("sha1").update(full).digest("hex").slice(0, 8)}`;
  },
  /** Router Lambda function (64 chars). */
  routerFunction: (app: string): string => boundedName([app, "router"], 64),
  /** Routing table (DynamoDB, 255 chars). */
  routingTable: (app: string): string => boundedName([app, "routing"], 255),
  /** EventBridge rule that fires a timer (64 chars). */
  timerRule: (app: string, timer: string): string =>
    boundedName([app, "timer", timer.replace(/_/g, "-")], 64),
  /** EventBridge rule of the sweeper schedule (64 chars). */
  sweeperRule: (app: string): string => boundedName([app, "sweeper"], 64),
  /** Dead-letter queue of unprocessable events (80 chars). */
  deadLetterQueue: (app: string): string => boundedName([app, "dlq"], 80),
  /** Internal queue between router invocations (80 chars). */
  internalQueue: (app: string): string => boundedName([app, "internal"], 80),
  /** Glue job for one (language, Glue version) (255 chars): `app-glue-python-4-0`. */
  glueJob: (app: string, language: "sql" | "python", glueVersion: string): string =>
    boundedName([app, "glue", language, glueVersion.replace(/\./g, "-")], 255),
  /** Athena workgroup (128 chars). */
  athenaWorkgroup: (app: string): string => boundedName([app, "athena"], 128),
  /** Glue database of the application's own tables (lowercase, underscores, 255 chars). */
  glueDatabase: (app: string): string =>
    boundedName([app.replace(/-/g, "_"), "sluice"], 255).replace(/-/g, "_"),
  /** EMR Serverless application (64 chars). */
  emrServerlessApplication: (app: string): string => boundedName([app, "spark"], 64),
} as const;

/** The storage bucket an imported node's data is in: the upstream's reference, else its derived name. */
export function upstreamBucket(ref: {
  readonly application: string;
  readonly account: string;
  readonly region: string;
  readonly bucket?: string;
}): string {
  return ref.bucket ?? resourceNames.storageBucket(ref.application, ref.account, ref.region);
}
