/**
 * S3 object events → s3Dataset signals: notification Records (direct, via SNS, via SQS) and EventBridge
 * "Object Created". The key is URL-decoded as S3 encodes it, the dataset found by bucket and prefix,
 * and the key recognized with the dataset's partition layout; only the object that completes a
 * partition (its completion marker, or any data file when there is none) signals.
 *
 * Collaboration: an upstream application forwards the "Object Created" events of its data nodes'
 * `_SUCCESS` markers (`internal_data/<node>/<value>…/_SUCCESS` in its storage bucket) to this
 * application's bus; each becomes a signal of every local node importing that upstream node.
 */
import { COMPLETION_MARKER, INTERNAL_DATA_PREFIX } from "../../../flow/model/deployment-contract";
import type { S3DatasetNodeModel, UpstreamDataNodeModel } from "../../../flow/model/flow-model";
import {
  invalidPartitionValue,
  matchInternalKey,
  matchObjectKey,
  type PartitionObjectMatch,
} from "../../core/partition-layout";
import type { Signal } from "../../core/signal";
import { field, object, preview, text, type JsonObject } from "./fields";
import type { SourceIndex } from "./source-index";
import { emitAll, type Sink } from "./types";

/**
 * Decodes an S3 event key: notifications URL-encode keys in form style (space → "+", "=" → "%3D").
 * Undefined when the key is not valid percent-encoding.
 */
export function decodeS3Key(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

/** S3's limit on an object key (bytes of UTF-8): a longer key in an event is not a real object's. */
export const MAX_S3_KEY_BYTES = 1024;

/** What identifies an object version in its events, best first. */
interface Version {
  readonly sequencer?: string;
  readonly etag?: string;
  readonly eventTime?: string;
}

/** Idempotency id of an object event: the same object version whichever path delivered it. */
export function s3EventId(bucket: string, key: string, version: Version): string {
  return `s3:${bucket}/${key}@${version.sequencer ?? version.etag ?? version.eventTime ?? ""}`;
}

/** One entry of an S3 notification's Records. */
export function adaptS3Record(record: JsonObject, index: SourceIndex, sink: Sink, envelopeId?: string): void {
  const s3 = object(record, "s3");
  const bucket = s3 && object(s3, "bucket");
  const obj = s3 && object(s3, "object");
  const bucketName = bucket && text(bucket, "name");
  const rawKey = obj && field(obj, "key");
  const eventName = text(record, "eventName") ?? "";
  if (bucketName === undefined || obj === undefined || typeof rawKey !== "string") {
    sink.reject(`S3 record ${preview(eventName)} names no bucket and object key`, envelopeId);
    return;
  }
  const version = {
    sequencer: text(obj, "sequencer"),
    etag: text(obj, "eTag") ?? text(obj, "etag"),
    eventTime: text(record, "eventTime"),
  };
  if (eventName.startsWith("ObjectCreated:")) {
    objectCreated(index, sink, bucketName, rawKey, version);
    return;
  }
  const key = decodeS3Key(rawKey) ?? rawKey;
  const id = s3EventId(bucketName, key, version);
  if (eventName.startsWith("ObjectRemoved:")) {
    sink.ignore(`S3 ${eventName} of s3://${bucketName}/${key}: removed objects never signal`, id);
  } else {
    sink.ignore(`S3 ${preview(eventName)} of s3://${bucketName}/${key} is not an object creation`, id);
  }
}

/** An S3 event delivered by EventBridge ("Object Created", "Object Deleted", …). */
export function adaptS3EventBridge(
  event: JsonObject,
  detail: JsonObject | undefined,
  index: SourceIndex,
  sink: Sink,
  envelopeId?: string,
): void {
  const detailType = text(event, "detail-type") ?? "";
  const bucket = detail && object(detail, "bucket");
  const obj = detail && object(detail, "object");
  const bucketName = bucket && text(bucket, "name");
  const rawKey = obj && field(obj, "key");
  if (bucketName === undefined || obj === undefined || typeof rawKey !== "string") {
    sink.reject(`S3 ${preview(detailType)} event names no bucket and object key`, envelopeId);
    return;
  }
  const version = {
    sequencer: text(obj, "sequencer"),
    etag: text(obj, "etag") ?? text(obj, "eTag"),
    eventTime: text(event, "time"),
  };
  // EventBridge carries the key as it is (notifications URL-encode it): never decoded here.
  if (detailType === "Object Created") {
    objectCreated(index, sink, bucketName, rawKey, version, text(event, "account"), false);
    return;
  }
  const key = rawKey;
  const id = s3EventId(bucketName, key, version);
  if (detailType === "Object Deleted") {
    sink.ignore(`S3 Object Deleted of s3://${bucketName}/${key}: removed objects never signal`, id);
  } else {
    sink.ignore(`S3 ${preview(detailType)} of s3://${bucketName}/${key} is not an object creation`, id);
  }
}

/** s3:TestEvent, sent when a bucket's notification configuration is saved. */
export function adaptS3TestEvent(event: JsonObject, sink: Sink, envelopeId?: string): void {
  const bucket = text(event, "Bucket");
  sink.ignore(
    `s3:TestEvent${bucket === undefined ? "" : ` of bucket ${preview(bucket)}`}: sent when a notification configuration is saved, not about an object`,
    envelopeId,
  );
}

/**
 * An object created in a bucket. `account`: the account the event says it comes from (EventBridge
 * events carry one; notification records do not).
 */
function objectCreated(
  index: SourceIndex,
  sink: Sink,
  bucket: string,
  rawKey: string,
  version: Version,
  account?: string,
  encoded = true,
): void {
  const key = encoded ? decodeS3Key(rawKey) : rawKey;
  if (key === undefined) {
    sink.reject(
      `S3 key ${preview(rawKey)} in bucket ${preview(bucket)} is not valid URL encoding`,
      s3EventId(bucket, rawKey, version),
    );
    return;
  }
  const keyBytes = Buffer.byteLength(key, "utf8");
  if (keyBytes > MAX_S3_KEY_BYTES) {
    sink.reject(
      `S3 key ${preview(key)} in bucket ${preview(bucket)} has ${keyBytes} bytes: exceeds S3's limit of ${MAX_S3_KEY_BYTES}`,
      s3EventId(bucket, key.slice(0, 256), version),
    );
    return;
  }
  const eventId = s3EventId(bucket, key, version);
  if (index.isInternalData(bucket, key)) {
    sink.ignore(`own internal data (the router pushes it): s3://${bucket}/${key}`, eventId);
    return;
  }
  const imports = index.importsOn(bucket);
  if (imports.length > 0 && key.startsWith(INTERNAL_DATA_PREFIX)) {
    upstreamObjectCreated(sink, bucket, key, eventId, imports, account);
    return;
  }
  const candidates = index.datasetsOn(bucket);
  if (candidates.length === 0) {
    sink.ignore(
      imports.length > 0
        ? `key ${preview(key)} of upstream bucket ${preview(bucket)} is not under ${INTERNAL_DATA_PREFIX} (no upstream data partition), and no s3Dataset is on the bucket`
        : `no s3Dataset on bucket ${preview(bucket)} (object ${preview(key)})`,
      eventId,
    );
    return;
  }
  const under = candidates.filter((n) => n.prefix === "" || key.startsWith(`${n.prefix}/`));
  if (under.length === 0) {
    const prefixes = candidates.map((n) => preview(n.prefix)).join(", ");
    sink.ignore(
      `key ${preview(key)} of bucket ${preview(bucket)} is under no s3Dataset prefix (${prefixes})`,
      eventId,
    );
    return;
  }
  signalPartition(sink, bucket, key, eventId, under, {
    match: matchObjectKey,
    invalid: (node) =>
      node.completion === null || key.endsWith(`/${node.completion}`)
        ? invalidPartitionValue(node, node.prefix, key)
        : undefined,
    describe: (nodes) => `s3Dataset ${nodes.map((n) => `"${n.id}"`).join(", ")}`,
    completesOn: (node) => (node.completion === null ? "any data file" : preview(node.completion)),
  });
}

/**
 * An object under `internal_data/` of an upstream's storage bucket, forwarded by the upstream's
 * EventBridge: the completion marker of a partition of one of its data nodes signals every local node
 * that imports it.
 */
function upstreamObjectCreated(
  sink: Sink,
  bucket: string,
  key: string,
  eventId: string,
  imports: readonly UpstreamDataNodeModel[],
  account: string | undefined,
): void {
  // Bucket names are global, but an event from another account than the upstream's is not its data.
  const fromAccount = account === undefined ? imports : imports.filter((n) => n.upstream.account === account);
  if (fromAccount.length === 0) {
    const upstreams = [
      ...new Set(imports.map((n) => `"${n.upstream.application}" (account ${n.upstream.account})`)),
    ];
    sink.ignore(
      `s3://${bucket}/${key}: the event comes from account ${preview(account ?? "")}, not from upstream ${upstreams.join(", ")}`,
      eventId,
    );
    return;
  }
  const under = fromAccount.filter((n) => key.startsWith(`${n.path}/`));
  if (under.length === 0) {
    const imported = [...new Set(fromAccount.map((n) => preview(n.node)))].join(", ");
    sink.ignore(
      `key ${preview(key)} of upstream bucket ${preview(bucket)} is not the data of an imported node (imported: ${imported})`,
      eventId,
    );
    return;
  }
  signalPartition(sink, bucket, key, eventId, under, {
    match: matchInternalKey,
    invalid: (node) =>
      key.endsWith(`/${COMPLETION_MARKER}`) ? invalidPartitionValue(node, node.path, key) : undefined,
    describe: (nodes) =>
      `imported node ${nodes.map((n) => `"${n.id}"`).join(", ")} of upstream ${preview(nodes[0].upstream.application)}`,
    completesOn: () => preview(COMPLETION_MARKER),
  });
}

interface Layout<N> {
  /** The key's partition and file, undefined when the key is not one of the node's (or is filtered out). */
  readonly match: (node: N, key: string) => PartitionObjectMatch | undefined;
  /**
   * Why a completion object in the node's layout names no partition: a value of the wrong type for
   * its dimension. Undefined when it is not that (another layout, a part file).
   */
  readonly invalid: (node: N) => string | undefined;
  /** The nodes, for reasons: `s3Dataset "a", "b"`. */
  readonly describe: (nodes: readonly N[]) => string;
  /** The completion file of a node, for reasons. */
  readonly completesOn: (node: N) => string;
}

/**
 * Signals the nodes whose partition the object completes; otherwise ignores it with the reason of the
 * first that explains it: not the completion file, a partition outside the filter, another layout.
 */
function signalPartition<N extends S3DatasetNodeModel | UpstreamDataNodeModel>(
  sink: Sink,
  bucket: string,
  key: string,
  eventId: string,
  nodes: readonly N[],
  layout: Layout<N>,
): void {
  const completing: { node: N; match: PartitionObjectMatch }[] = [];
  const notCompletion: { node: N; match: PartitionObjectMatch }[] = [];
  const outsideFilter: N[] = [];
  const otherLayout: N[] = [];
  for (const node of nodes) {
    const match = layout.match(node, key);
    if (match !== undefined) {
      (match.isCompletion ? completing : notCompletion).push({ node, match });
    } else if (layout.match({ ...node, signal: { ...node.signal, filter: {} } }, key) !== undefined) {
      outsideFilter.push(node);
    } else {
      otherLayout.push(node);
    }
  }
  if (completing.length > 0) {
    const folder = key.includes("/") ? key.slice(0, key.lastIndexOf("/")) : "";
    const path = `s3://${bucket}${folder === "" ? "" : `/${folder}`}`;
    const signals: Signal[] = completing.map(({ node, match }) => ({
      node: node.id,
      dimensions: match.dimensions,
      path,
      eventId,
    }));
    emitAll(sink, signals);
    return;
  }
  if (notCompletion.length > 0) {
    const { node, match } = notCompletion[0];
    sink.ignore(
      `not the completion file: ${preview(match.file)} in ${layout.describe([node])} (completes on ${layout.completesOn(node)})`,
      eventId,
    );
  } else if (outsideFilter.length > 0) {
    sink.ignore(
      `key ${preview(key)} is a partition outside the filter of ${layout.describe([outsideFilter[0]])}`,
      eventId,
    );
  } else {
    // A completion object in the layout whose value is not one of its dimension: the producer wrote a
    // partition that cannot exist (abc for a LONG, 2024-02-30): dead-lettered, not just ignored.
    for (const node of otherLayout) {
      const invalid = layout.invalid(node);
      if (invalid !== undefined) {
        sink.reject(`key ${preview(key)} of ${layout.describe([node])}: ${invalid}`, eventId);
        return;
      }
    }
    sink.ignore(
      `key ${preview(key)} does not match the partition layout of ${layout.describe(otherLayout)}`,
      eventId,
    );
  }
}
