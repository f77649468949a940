/**
 * Glue Data Catalog "Table State Change" → glueTable signals, one per created partition. Each entry of
 * `changedPartitions` holds the partition's values comma-joined in partition-key order ("2018,01"; a
 * bracketed "[2018, 01]" is accepted too); values are matched against the node's dimensions as the
 * hive path `<dimension>=<value>` would be, so only canonical values signal.
 */
import { inFilter, parsePartitionSegments } from "../../core/partition-layout";
import type { Signal } from "../../core/signal";
import { list, preview, text, type JsonObject } from "./fields";
import type { SourceIndex } from "./source-index";
import { emitAll, type Sink } from "./types";

/** Changes that add partitions. */
export const PARTITION_CREATIONS: readonly string[] = ["BatchCreatePartition", "CreatePartition"];

/** The values of one `changedPartitions` entry. */
export function partitionValues(entry: string): string[] {
  const trimmed = entry.trim();
  const inner = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  return inner.split(",").map((v) => v.trim());
}

export function adaptGlueTableChange(
  event: JsonObject,
  detail: JsonObject | undefined,
  index: SourceIndex,
  sink: Sink,
  envelopeId?: string,
): void {
  const id = text(event, "id") ?? envelopeId;
  const database = detail && text(detail, "databaseName");
  const table = detail && text(detail, "tableName");
  const change = (detail && text(detail, "typeOfChange")) ?? "";
  if (database === undefined || table === undefined) {
    sink.reject(`Glue Data Catalog Table State Change names no database and table`, id);
    return;
  }
  const label = `Glue table ${database}.${table}`;
  if (!PARTITION_CREATIONS.includes(change)) {
    sink.ignore(`${label}: catalog change ${preview(change)} does not create partitions`, id);
    return;
  }
  const nodes = index.glueTables(database, table);
  if (nodes.length === 0) {
    sink.ignore(`${label}: no glueTable node`, id);
    return;
  }
  const entries = (detail && list(detail, "changedPartitions")) ?? [];
  const partitions = entries.filter((p): p is string => typeof p === "string");
  if (partitions.length === 0) {
    sink.reject(`${label}: ${change} lists no changed partitions`, id);
    return;
  }
  for (const partition of partitions) {
    const eventId = `glue:${database}.${table}/${partition}@${id ?? text(event, "time") ?? ""}`;
    const values = partitionValues(partition);
    const signals: Signal[] = [];
    for (const node of nodes) {
      const specs = node.signal.dimensions;
      if (values.length !== specs.length) {
        sink.ignore(
          `${label}: partition ${preview(partition)} has ${values.length} value(s), node "${node.id}" has ${specs.length} dimension(s)`,
          eventId,
        );
        continue;
      }
      const dimensions = parsePartitionSegments(
        node,
        values.map((v, i) => `${specs[i].name}=${v}`),
      );
      if (dimensions === undefined) {
        sink.ignore(
          `${label}: partition ${preview(partition)} is not in the canonical form of node "${node.id}"'s dimensions`,
          eventId,
        );
      } else if (!inFilter(node.signal, dimensions)) {
        sink.ignore(
          `${label}: partition ${preview(partition)} is outside the filter of node "${node.id}"`,
          eventId,
        );
      } else {
        signals.push({ node: node.id, dimensions, eventId });
      }
    }
    emitAll(sink, signals);
  }
}
