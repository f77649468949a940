/**
 * What a node waits for, as `sluice local pending` and `sluice remote pending` show it: per open
 * trigger group its output partition, the inputs received and missing, and for a range check the
 * partitions that do not exist yet; then the node's live facts (input, what they pin, expiry).
 */
import type { NodeModel } from "../flow/model/flow-model";
import type { FactView, PendingView } from "../runtime-bundle/core/router";
import { isoSeconds as iso, renderTable as table } from "./remote/table";

export interface PendingReport {
  readonly node: string;
  readonly groups: readonly PendingView[];
  readonly facts: readonly FactView[];
}

function dims(d: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(d);
  return entries.length === 0 ? "(no dimensions)" : entries.map(([k, v]) => `${k}=${String(v)}`).join(" ");
}

export function renderPending(node: NodeModel, report: PendingReport): string {
  const lines: string[] = [];
  const names = node.signal.dimensions.map((d) => d.name);
  if (report.groups.length === 0) lines.push(`${node.id}: no pending groups`);
  else {
    lines.push(
      table(
        [...names, "received", "missing", "state", "created", "expires"],
        report.groups.map((g) => [
          ...names.map((d) => String(g.dimensions[d])),
          g.received.join(",") || "-",
          g.missing.join(",") || "-",
          g.state,
          iso(g.createdAt),
          iso(g.expiresAt),
        ]),
      ),
    );
    for (const g of report.groups) {
      if (g.missingPartitions !== undefined && g.missingPartitions.length > 0) {
        lines.push(
          `${dims(g.dimensions)}: waits for ${g.missingPartitions.length} missing partition${
            g.missingPartitions.length === 1 ? "" : "s"
          }: ${g.missingPartitions.join(", ")}`,
        );
      }
    }
  }
  if (report.facts.length > 0) {
    lines.push(`live facts of ${node.id}:`);
    lines.push(
      table(
        ["input", "dimensions", "pins", "arrived", "expires"],
        report.facts.map((f) => [
          f.input,
          dims(f.dimensions),
          dims(f.pins),
          iso(f.arrivedAt),
          iso(f.expiresAt),
        ]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}
