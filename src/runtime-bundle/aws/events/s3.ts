/**
 * S3 object events → s3Dataset signals: notification Records (direct, via SNS, via SQS) and EventBridge
 * "Object Created". The key is URL-decoded as S3 encodes it, the dataset found by bucket and prefix,
 * and the key recognized with the dataset's partition layout; only the object that completes a
 * partition (its completion marker, or any data file when there is none) signals.
 */
import type { S3DatasetNodeModel } from "../../../flow/model/flow-model";
import { matchObjectKey, type PartitionObjectMatch } from "../../core/partition-layout";
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

/** Idempotency id of an object event: the same object version whichever path delivered it. */
export function s3EventId(
  bucket: string,
  key: string,
  version: { readonly sequencer?: string; readonly etag?: string; readonly eventTime?: string },
): string {
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
  if (detailType === "Object Created") {
    objectCreated(index, sink, bucketName, rawKey, version);
    return;
  }
  const key = decodeS3Key(rawKey) ?? rawKey;
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

interface Matched {
  readonly node: S3DatasetNodeModel;
  readonly match: PartitionObjectMatch;
}

function objectCreated(
  index: SourceIndex,
  sink: Sink,
  bucket: string,
  rawKey: string,
  version: { readonly sequencer?: string; readonly etag?: string; readonly eventTime?: string },
): void {
  const key = decodeS3Key(rawKey);
  if (key === undefined) {
    sink.reject(
      `S3 key ${preview(rawKey)} in bucket ${preview(bucket)} is not valid URL encoding`,
      s3EventId(bucket, rawKey, version),
    );
    return;
  }
  const eventId = s3EventId(bucket, key, version);
  if (index.isInternalData(bucket, key)) {
    sink.ignore(`own internal data (the router pushes it): s3://${bucket}/${key}`, eventId);
    return;
  }
  const candidates = index.datasetsOn(bucket);
  if (candidates.length === 0) {
    sink.ignore(`no s3Dataset on bucket ${preview(bucket)} (object ${preview(key)})`, eventId);
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
  const completing: Matched[] = [];
  const notCompletion: Matched[] = [];
  const outsideFilter: S3DatasetNodeModel[] = [];
  const otherLayout: S3DatasetNodeModel[] = [];
  for (const node of under) {
    const match = matchObjectKey(node, key);
    if (match !== undefined) {
      (match.isCompletion ? completing : notCompletion).push({ node, match });
    } else if (matchObjectKey({ ...node, signal: { ...node.signal, filter: {} } }, key) !== undefined) {
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
    const expected = node.completion === null ? "any data file" : preview(node.completion);
    sink.ignore(
      `not the completion file: ${preview(match.file)} in s3Dataset "${node.id}" (completes on ${expected})`,
      eventId,
    );
  } else if (outsideFilter.length > 0) {
    sink.ignore(
      `key ${preview(key)} is a partition outside the filter of s3Dataset "${outsideFilter[0].id}"`,
      eventId,
    );
  } else {
    const ids = otherLayout.map((n) => `"${n.id}"`).join(", ");
    sink.ignore(`key ${preview(key)} does not match the partition layout of s3Dataset ${ids}`, eventId);
  }
}
