/**
 * `sluice remote backfill`: one `execute` per output partition of a range, at most `concurrency` at a
 * time, a progress line as each one answers, and a summary.
 */
import type { ExecutionRecord, ExecutionStatus } from "../../runtime-bundle/core/execution-record";
import type { Dimensions } from "../../runtime-bundle/core/signal";
import { FunctionFailedError, RemoteError } from "./errors";
import { mapLimit } from "./limit";
import type { RouterClient } from "./router-client";
import { renderDimensions } from "./values";

export interface BackfillItem {
  readonly dimensions: Dimensions;
  /** The execution's status as `execute` returned it (RUNNING for a job still on its engine). */
  readonly status?: ExecutionStatus;
  readonly id?: string;
  /** The execution's error, or why the invocation failed. */
  readonly error?: string;
  readonly ms: number;
}

export interface BackfillSummary {
  readonly node: string;
  /** Executions planned. */
  readonly total: number;
  /**
   * Why the backfill stopped before the end: an invocation that failed outside the function (no
   * credentials, no such function…) would fail the same way for every value.
   */
  readonly stopped?: string;
  /** Count per execution status, plus "ERROR" for invocations that failed. */
  readonly counts: Readonly<Record<string, number>>;
  readonly ms: number;
  readonly items: readonly BackfillItem[];
}

export interface BackfillOptions {
  readonly node: string;
  readonly plan: readonly Dimensions[];
  readonly concurrency: number;
  readonly recursive: boolean;
  /** Called as each execution answers (in completion order). */
  readonly progress: (done: number, total: number, item: BackfillItem) => void;
  readonly now?: () => number;
}

export async function runBackfill(router: RouterClient, o: BackfillOptions): Promise<BackfillSummary> {
  const now = o.now ?? Date.now;
  const started = now();
  let done = 0;
  let stopped: string | undefined;
  const results = await mapLimit(
    o.plan,
    o.concurrency,
    async (dimensions) => {
      const t0 = now();
      let item: BackfillItem;
      try {
        const record = await router.invoke<ExecutionRecord>({
          sluice: "execute",
          node: o.node,
          dimensions,
          ...(o.recursive ? { recursive: true } : {}),
        });
        item = {
          dimensions,
          status: record.status,
          id: record.id,
          ...(record.error !== undefined ? { error: record.error } : {}),
          ms: now() - t0,
        };
      } catch (e) {
        if (!(e instanceof RemoteError)) throw e;
        if (!(e instanceof FunctionFailedError)) stopped ??= e.message;
        item = { dimensions, error: e.message, ms: now() - t0 };
      }
      o.progress(++done, o.plan.length, item);
      return item;
    },
    () => stopped !== undefined,
  );
  const items = results.filter((i): i is BackfillItem => i !== undefined);
  const counts: Record<string, number> = {};
  for (const i of items) counts[i.status ?? "ERROR"] = (counts[i.status ?? "ERROR"] ?? 0) + 1;
  return {
    node: o.node,
    total: o.plan.length,
    ...(stopped !== undefined ? { stopped } : {}),
    counts,
    ms: now() - started,
    items,
  };
}

export function progressLine(node: string, done: number, total: number, item: BackfillItem): string {
  const width = String(total).length;
  const what = item.status ?? "ERROR";
  const error = item.error === undefined ? "" : `: ${item.error}`;
  return `[${String(done).padStart(width)}/${total}] ${node} ${renderDimensions(item.dimensions)} ${what}${error} (${seconds(item.ms)})`;
}

export function summaryLine(s: BackfillSummary): string {
  const counts = Object.entries(s.counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  const ran = s.items.length === s.total ? `${s.total}` : `${s.items.length} of ${s.total}`;
  const stopped = s.stopped === undefined ? "" : `; stopped after an invocation error`;
  return `backfill ${s.node}: ${ran} execution${s.total === 1 ? "" : "s"}${counts ? ` (${counts})` : ""} in ${seconds(s.ms)}${stopped}`;
}

/** A backfill failed when an execution FAILED or an invocation did. */
export function backfillFailed(s: BackfillSummary): boolean {
  return s.stopped !== undefined || (s.counts.FAILED ?? 0) > 0 || (s.counts.ERROR ?? 0) > 0;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
