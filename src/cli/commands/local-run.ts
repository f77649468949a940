/**
 * `sluice local <flow.ts> <action> … --dir DIR`: the flow on this machine, in a LocalRuntime whose
 * state (a FileStore under `<dir>/.sluice/state`, the virtual clock in `<dir>/.sluice/clock.json`)
 * and data (`<dir>/internal_data`, external datasets under `<dir>/external/<id>` unless bound with
 * --datasets) persist between runs: an event processed by one run joins the events of the next.
 * Compute given as inline functions lives in the flow file and is loaded again by every run.
 * One run at a time per DIR (the state folder is locked while a run uses it).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import type { Application } from "../../flow/application";
import { join } from "node:path";
import type { DimensionModel, DimensionValue, FlowModel, NodeModel } from "../../flow/model/flow-model";
import type { ExecutionRecord } from "../../runtime-bundle/core/execution-record";
import { FileStore } from "../../runtime-bundle/local/file-store";
import { LocalRuntime } from "../../runtime-bundle/local/local-runtime";
import { EXIT, flag, type Args, type Io } from "../args";
import { didYouMean } from "../../flow/suggest";
import { CliError, oneLine, usageError } from "../errors";
import { loadFlow } from "../load-flow";
import { backfill, nodeDimensions, parseConcurrency, requireNode } from "../plan";
import { renderPending } from "../pending-view";
import { renderTable } from "../remote/table";

export const ACTIONS = [
  "process",
  "execute",
  "poll",
  "pending",
  "facts",
  "executions",
  "status",
  "backfill",
] as const;
type Action = (typeof ACTIONS)[number];

/** `sluice local` (the command's metadata is in ./local, so that help never loads the runtime). */
export async function runLocalCommand(args: Args, io: Io): Promise<number> {
  return runLocal(args, io);
}

/** What to do, validated against the flow before any state is opened. */
type Plan =
  | {
      readonly action: "process" | "execute" | "poll";
      readonly node: NodeModel;
      readonly values: DimensionValue[];
    }
  | { readonly action: "pending" | "facts" | "executions"; readonly node: NodeModel }
  | { readonly action: "status"; readonly nodes: readonly NodeModel[] }
  | { readonly action: "backfill"; readonly node: NodeModel; readonly backfill: Backfill };

interface Backfill {
  readonly dimension: string;
  readonly from: DimensionValue;
  readonly to: DimensionValue;
  readonly concurrency: number;
  /** Execute missing upstream partitions first. */
  readonly recursive: boolean;
  /** Output partitions, each as values in dimension order. */
  readonly partitions: readonly DimensionValue[][];
}

async function runLocal(args: Args, io: Io): Promise<number> {
  const file = args.positional[1] as string;
  const action = args.positional[2];
  if (action === undefined) throw usageError(`missing <action> after ${file} (${ACTIONS.join(", ")})`);
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw usageError(
      `unknown action "${action}"${didYouMean(action, ACTIONS)} (actions: ${ACTIONS.join(", ")})`,
    );
  }
  const dir = flag(args, "--dir");
  if (dir === undefined) {
    throw usageError("--dir DIR is required: the folder that keeps the local state and data between runs");
  }
  const app = loadFlow(file);
  const model = app.toModel();
  const datasets = parseDatasets(model, flag(args, "--datasets"));
  const plan = planOf(model, action as Action, args, app);

  let store: FileStore;
  try {
    mkdirSync(dir, { recursive: true });
    store = new FileStore(join(dir, ".sluice", "state"), { lock: true });
  } catch (e) {
    throw new CliError(messageOf(e), EXIT.runtime);
  }
  let runtime: LocalRuntime | undefined;
  try {
    const clockFile = join(dir, ".sluice", "clock.json");
    keepUpWithRealTime(clockFile);
    runtime = await LocalRuntime.start(app, {
      dir,
      store,
      clockFile,
      startTime: Date.now(),
      ...(datasets ? { datasets } : {}),
    });
    return await perform(plan, runtime, store, args, io);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(messageOf(e), EXIT.runtime);
  } finally {
    try {
      await runtime?.stop();
    } finally {
      store.close();
    }
  }
}

/**
 * The virtual clock of a state folder starts at the real time and, at every run, moves up to the real
 * time again (never back): timestamps read as real times. Within a run it moves only as the runtime
 * advances it (retry backoff, TTLs), so it can be ahead of the real time; `status` then shows both.
 */
function keepUpWithRealTime(clockFile: string): void {
  let now: unknown;
  try {
    now = (JSON.parse(readFileSync(clockFile, "utf8")) as { now?: unknown }).now;
  } catch {
    return; // no clock yet: LocalRuntime starts it at startTime
  }
  const real = Date.now();
  if (typeof now === "number" && now < real) {
    writeFileSync(clockFile, `${JSON.stringify({ now: real, iso: new Date(real).toISOString() })}\n`);
  }
}

// ---------------------------------------------------------------- planning (usage errors)

function planOf(model: FlowModel, action: Action, args: Args, app: Application): Plan {
  const id = args.positional[3];
  const rest = args.positional.slice(4);
  switch (action) {
    case "status": {
      if (rest.length > 0) throw usageError(`status takes at most one <node>, got also "${rest.join(" ")}"`);
      if (id !== undefined) return { action, nodes: [requireNode(model, id, action)] };
      return { action, nodes: Object.values(model.nodes).filter((n) => n.kind === "data") };
    }
    case "process": {
      const node = requireNode(model, id);
      return { action, node, values: valuesOf(node, rest, app) };
    }
    case "execute":
    case "poll": {
      const node = requireNode(model, id, action);
      return { action, node, values: valuesOf(node, rest, app) };
    }
    case "pending":
    case "facts":
    case "executions":
    case "backfill": {
      const node = requireNode(model, id, action);
      if (rest.length > 0) {
        throw usageError(`${action} takes only <node>, got also ${rest.map((r) => `"${r}"`).join(" ")}`);
      }
      return action === "backfill" ? { action, node, backfill: backfillOf(node, args) } : { action, node };
    }
  }
}

/** The partition's values in dimension order. */
function valuesOf(node: NodeModel, raw: readonly string[], app: Application): DimensionValue[] {
  const dims = nodeDimensions(node, raw, app);
  return node.signal.dimensions.map((d) => dims[d.name] as DimensionValue);
}

function parseDatasets(model: FlowModel, text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const external = Object.values(model.nodes)
    .filter((n) => n.kind === "s3Dataset" || n.kind === "glueTable")
    .map((n) => n.id);
  const out: Record<string, string> = {};
  for (const pair of text.split(",").filter((p) => p.length > 0)) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || eq === pair.length - 1) throw usageError(`--datasets: "${pair}" is not id=folder`);
    const id = pair.slice(0, eq);
    if (!external.includes(id)) {
      throw usageError(
        `--datasets: "${id}" is not an s3Dataset or glueTable of the flow (${external.join(", ") || "none"})`,
      );
    }
    const folder = pair.slice(eq + 1);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw usageError(`--datasets: the folder of "${id}", ${folder}, does not exist`);
    }
    out[id] = folder;
  }
  return out;
}

function backfillOf(node: NodeModel, args: Args): Backfill {
  const { range, partitions } = backfill(node, {
    from: flag(args, "--from"),
    to: flag(args, "--to"),
    dimension: flag(args, "--dimension"),
    fixed: flag(args, "--fixed"),
  });
  return {
    dimension: range.dimension,
    from: range.from,
    to: range.to,
    concurrency: parseConcurrency(flag(args, "--concurrency")),
    recursive: args.flags.has("--recursive"),
    partitions: partitions.map((p) => node.signal.dimensions.map((d) => p[d.name] as DimensionValue)),
  };
}

// ---------------------------------------------------------------- actions

async function perform(
  plan: Plan,
  runtime: LocalRuntime,
  store: FileStore,
  args: Args,
  io: Io,
): Promise<number> {
  if (plan.action === "status") return status(plan.nodes, runtime, io);
  const node = plan.node;
  switch (plan.action) {
    case "process": {
      const target = { node: { id: node.id }, selectors: plan.values };
      const outcome = await runtime.process(target);
      const records = await latest(store, outcome.executions);
      if (io.json) {
        io.out.write(`${JSON.stringify({ ...outcome, executions: records }, null, 2)}\n`);
        return records.some(failed) ? EXIT.runtime : EXIT.ok;
      }
      const label = `${node.id} ${showDims(node.signal.dimensions, dimsOf(node, plan.values))}`;
      if (outcome.matched.length === 0) {
        io.out.write(`${label}: matched nothing${outcome.unmatched ? ` (${outcome.unmatched})` : ""}\n`);
        return EXIT.ok;
      }
      io.out.write(`${label} → ${outcome.matched.map((m) => `${m.route} (input ${m.input})`).join(", ")}\n`);
      for (const r of records) io.out.write(`  ${showRecord(runtime, r)}\n`);
      if (records.length === 0) io.out.write("  no execution yet (see `pending`)\n");
      return records.some(failed) ? EXIT.runtime : EXIT.ok;
    }
    case "execute": {
      const target = { node: { id: node.id }, selectors: plan.values };
      const started = await runtime.execute(target, { recursive: args.flags.has("--recursive") });
      const [record] = await latest(store, [started.id]);
      const r = record ?? started;
      io.out.write(io.json ? `${JSON.stringify(r, null, 2)}\n` : `${showRecord(runtime, r)}\n`);
      return failed(r) ? EXIT.runtime : EXIT.ok;
    }
    case "poll": {
      const result = await runtime.poll({ node: { id: node.id }, selectors: plan.values });
      const label = `${node.id} ${showDims(node.signal.dimensions, dimsOf(node, plan.values))}`;
      if (io.json) io.out.write(`${JSON.stringify(result, null, 2)}\n`);
      else if (result.path !== undefined) io.out.write(`${result.path}\n`);
      else if (result.records !== undefined) {
        io.out.write(`${label}: the latest execution did not succeed\n`);
        for (const r of result.records) io.out.write(`  ${showRecord(runtime, r)}\n`);
      } else io.out.write(`${label}: no finished execution yet\n`);
      return result.records !== undefined ? EXIT.runtime : EXIT.ok;
    }
    case "pending":
    case "facts": {
      const [groups, facts] = await Promise.all([
        plan.action === "pending" ? runtime.pending({ id: node.id }) : Promise.resolve([]),
        runtime.facts({ id: node.id }),
      ]);
      const report = { node: node.id, groups, facts };
      if (io.json) {
        io.out.write(
          `${JSON.stringify(plan.action === "pending" ? report : { node: node.id, facts }, null, 2)}\n`,
        );
      } else if (plan.action === "facts" && facts.length === 0) io.out.write(`${node.id}: no live facts\n`);
      else io.out.write(renderPending(node, report));
      return EXIT.ok;
    }
    case "executions": {
      const records = await runtime.executions({ id: node.id });
      if (io.json) io.out.write(`${JSON.stringify(records, null, 2)}\n`);
      else if (records.length === 0) io.out.write(`${node.id}: no executions\n`);
      else {
        const dims = node.signal.dimensions.map((d) => d.name);
        io.out.write(
          table(
            ["id", ...dims, "status", "attempts", "started", "duration", "error"],
            records.map((r) => [
              r.id,
              ...dims.map((d) => String(r.dimensions[d] ?? "")),
              r.status,
              String(r.attempts),
              iso(r.startedAt),
              r.endedAt === undefined ? "" : duration(r.endedAt - r.startedAt),
              r.error === undefined ? "" : oneLine(r.error),
            ]),
          ),
        );
      }
      return EXIT.ok;
    }
    case "backfill":
      return runBackfill(node, plan.backfill, runtime, store, io);
  }
}

/** Executions `status` shows per node. */
const STATUS_EXECUTIONS = 3;

/** Per data node: what its pending groups wait for (missing partitions by name), its last executions, its failures. */
async function status(nodes: readonly NodeModel[], runtime: LocalRuntime, io: Io): Promise<number> {
  const report = [];
  for (const node of nodes) {
    const [groups, facts, records] = await Promise.all([
      runtime.pending({ id: node.id }),
      runtime.facts({ id: node.id }),
      runtime.executions({ id: node.id }),
    ]);
    const failures = records.filter(failed);
    report.push({
      node,
      groups,
      facts,
      executions: records.length,
      failed: failures.length,
      last: records.slice(0, STATUS_EXECUTIONS),
      lastFailure: failures[0],
    });
  }
  if (io.json) {
    io.out.write(
      `${JSON.stringify(
        {
          now: runtime.now(),
          nodes: report.map(({ node, ...r }) => ({ node: node.id, ...r })),
        },
        null,
        2,
      )}\n`,
    );
    return EXIT.ok;
  }
  const virtual = runtime.now();
  const real = Date.now();
  io.out.write(
    Math.abs(virtual - real) < 60_000
      ? `now: ${iso(real)}\n`
      : `now: ${iso(real)} (the virtual clock is at ${iso(virtual)})\n`,
  );
  for (const r of report) {
    const counts = `${r.executions} execution${r.executions === 1 ? "" : "s"}, ${r.failed} failed, ${r.groups.length} pending group${r.groups.length === 1 ? "" : "s"}`;
    io.out.write(`\n${r.node.id}: ${counts}\n`);
    for (const g of r.groups) {
      const waits = [
        ...(g.missing.length > 0 ? [`inputs ${g.missing.join(", ")}`] : []),
        ...(g.missingPartitions?.length ? [`partitions ${g.missingPartitions.join(", ")}`] : []),
      ];
      io.out.write(
        `  pending ${showDims(r.node.signal.dimensions, g.dimensions)}: ${g.state}, received ${g.received.join(", ") || "nothing"}${
          waits.length > 0 ? `; waits for ${waits.join(" and ")}` : ""
        }\n`,
      );
    }
    for (const f of r.facts) {
      io.out.write(
        `  fact ${f.input} ${showDims(r.node.signal.dimensions, f.pins)} until ${iso(f.expiresAt)}\n`,
      );
    }
    for (const rec of r.last) io.out.write(`  ${showRecord(runtime, rec)}\n`);
    if (r.lastFailure !== undefined && !r.last.includes(r.lastFailure)) {
      io.out.write(`  last failure: ${showRecord(runtime, r.lastFailure)}\n`);
    }
  }
  return EXIT.ok;
}

interface BackfillRow {
  readonly id?: string;
  readonly dimensions: Record<string, DimensionValue>;
  /** An execution status, or ERROR when the execution could not start. */
  readonly status: string;
  readonly attempts: number;
  /** Wall-clock time of the execution in this run. */
  readonly durationMs: number;
  readonly path?: string;
  readonly error?: string;
}

async function runBackfill(
  node: NodeModel,
  plan: Backfill,
  runtime: LocalRuntime,
  store: FileStore,
  io: Io,
): Promise<number> {
  const total = plan.partitions.length;
  const rows: BackfillRow[] = new Array(total);
  const progress = new Progress(node, total, io);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const values = plan.partitions[i] as DimensionValue[];
      const dimensions = dimsOf(node, values);
      progress.started();
      const t0 = performance.now();
      let row: BackfillRow;
      try {
        const started = await runtime.execute(
          { node: { id: node.id }, selectors: values },
          { recursive: plan.recursive },
        );
        const r = (await latest(store, [started.id]))[0] ?? started;
        row = {
          id: r.id,
          dimensions,
          status: r.status,
          attempts: r.attempts,
          durationMs: Math.round(performance.now() - t0),
          ...(r.status === "SUCCEEDED" ? { path: r.path } : {}),
          ...(r.error === undefined ? {} : { error: oneLine(r.error) }),
        };
      } catch (e) {
        row = {
          dimensions,
          status: "ERROR",
          attempts: 0,
          durationMs: Math.round(performance.now() - t0),
          error: messageOf(e),
        };
      }
      rows[i] = row;
      progress.finished(row);
    }
  };
  // At most `concurrency` executions at a time: a pool of workers over the partitions, in order.
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, total) }, worker));
  progress.end();

  const counts: Record<string, number> = { total };
  for (const r of rows) counts[r.status.toLowerCase()] = (counts[r.status.toLowerCase()] ?? 0) + 1;
  const anyFailed = rows.some((r) => r.status !== "SUCCEEDED" && r.status !== "SKIPPED");
  if (io.json) {
    io.out.write(
      `${JSON.stringify(
        {
          node: node.id,
          dimension: plan.dimension,
          from: plan.from,
          to: plan.to,
          concurrency: plan.concurrency,
          executions: rows,
          counts,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const dims = node.signal.dimensions.map((d) => d.name);
    io.out.write(
      table(
        [...dims, "status", "attempts", "duration", "error"],
        rows.map((r) => [
          ...dims.map((d) => String(r.dimensions[d] ?? "")),
          r.status,
          String(r.attempts),
          duration(r.durationMs),
          r.error ?? "",
        ]),
      ),
    );
    const parts = Object.entries(counts)
      .filter(([k]) => k !== "total")
      .sort(([a], [b]) => (a === "succeeded" ? -1 : b === "succeeded" ? 1 : a < b ? -1 : 1))
      .map(([k, v]) => `${v} ${k}`);
    io.out.write(`${node.id}: ${total} execution${total === 1 ? "" : "s"}: ${parts.join(", ")}\n`);
  }
  return anyFailed ? EXIT.runtime : EXIT.ok;
}

/** Progress on stderr: a bar redrawn in place on a terminal, a line per execution otherwise, none with --json. */
class Progress {
  private done = 0;
  private failures = 0;
  private running = 0;
  private readonly tty: boolean;

  constructor(
    private readonly node: NodeModel,
    private readonly total: number,
    private readonly io: Io,
  ) {
    this.tty = (io.err as { isTTY?: unknown }).isTTY === true;
  }

  started(): void {
    this.running++;
    if (this.tty && !this.io.json) this.draw();
  }

  finished(row: BackfillRow): void {
    this.running--;
    this.done++;
    if (row.status !== "SUCCEEDED" && row.status !== "SKIPPED") this.failures++;
    if (this.io.json) return;
    if (this.tty) this.draw();
    else {
      const label = showDims(this.node.signal.dimensions, row.dimensions);
      this.io.err.write(
        `[${this.done}/${this.total}] ${this.node.id} ${label} ${row.status} ${duration(row.durationMs)}${
          row.error ? `: ${row.error}` : ""
        }\n`,
      );
    }
  }

  end(): void {
    if (this.tty && !this.io.json) this.io.err.write("\n");
  }

  private draw(): void {
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    const extra = [
      this.running > 0 ? `${this.running} running` : "",
      this.failures > 0 ? `${this.failures} failed` : "",
    ].filter((s) => s.length > 0);
    this.io.err.write(
      `\r\x1b[2K${this.node.id} ${bar} ${this.done}/${this.total}${extra.length ? ` (${extra.join(", ")})` : ""}`,
    );
  }
}

// ---------------------------------------------------------------- helpers

/** The records as the store holds them now (after retries and polls ran). */
async function latest(store: FileStore, ids: readonly string[]): Promise<ExecutionRecord[]> {
  const out: ExecutionRecord[] = [];
  for (const id of ids) {
    const r = (await store.getExecution(id))?.value;
    if (r) out.push(r);
  }
  return out;
}

function failed(r: ExecutionRecord): boolean {
  return r.status === "FAILED" || r.status === "KILLED";
}

function dimsOf(node: NodeModel, values: readonly DimensionValue[]): Record<string, DimensionValue> {
  const out: Record<string, DimensionValue> = {};
  node.signal.dimensions.forEach((d, i) => (out[d.name] = values[i] as DimensionValue));
  return out;
}

function showDims(specs: readonly DimensionModel[], dims: Readonly<Record<string, DimensionValue>>): string {
  return specs.map((d) => `${d.name}=${String(dims[d.name] ?? "*")}`).join(" ");
}

function showRecord(runtime: LocalRuntime, r: ExecutionRecord): string {
  const node = runtime.model.nodes[r.node];
  const dims = node ? showDims(node.signal.dimensions, r.dimensions) : JSON.stringify(r.dimensions);
  const attempts = `${r.attempts} attempt${r.attempts === 1 ? "" : "s"}`;
  const tail =
    r.status === "SUCCEEDED" ? ` → ${r.path}` : r.error !== undefined ? `: ${oneLine(r.error)}` : "";
  return `${r.id} ${dims} ${r.status} (${attempts})${tail}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `${renderTable(header, rows)}\n`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

function messageOf(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e));
}
