/**
 * `sluice local <flow.ts> <action> … --dir DIR`: the flow on this machine, in a LocalRuntime whose
 * state (a FileStore under `<dir>/.sluice/state`, the virtual clock in `<dir>/.sluice/clock.json`)
 * and data (`<dir>/internal_data`, external datasets under `<dir>/external/<id>` unless bound with
 * --datasets) persist between runs: an event processed by one run joins the events of the next.
 * Compute given as inline functions lives in the flow file and is loaded again by every run.
 * One run at a time per DIR (the state folder is locked while a run uses it).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DimensionModel, DimensionValue, FlowModel, NodeModel } from "../../flow/model/flow-model";
import { coerceDimensionValue, datetimeToMs, offsetValue } from "../../flow/model/dimension-value";
import type { ExecutionRecord } from "../../runtime-bundle/core/execution-record";
import { FileStore } from "../../runtime-bundle/local/file-store";
import { LocalRuntime } from "../../runtime-bundle/local/local-runtime";
import { EXIT, flag, type Args, type Command, type Io } from "../args";
import { loadFlow } from "../load-flow";

const ACTIONS = ["process", "execute", "poll", "pending", "executions", "backfill"] as const;
type Action = (typeof ACTIONS)[number];

/** Most partitions one backfill may run (a guard against a --from/--to typo over minutes). */
const MAX_BACKFILL = 100_000;

export const localCommand: Command = {
  name: "local",
  usage: `local <flow.ts> <action> … --dir DIR [--datasets id=folder,…]
                                  the flow on this machine, in a LocalRuntime whose state and data
                                  persist in DIR between runs (--datasets: local folders of datasets):
      process <node> <value…>     a signal of <node> (one value per dimension, in order)
      execute <node> <value…> [--recursive]
                                  an execution of a data node's partition; exit 4 if it FAILED
      poll <node> <value…>        the partition's path, or its last executions
      pending <node>              the node's open trigger groups
      executions <node>           the node's executions, newest first
      backfill <node> --from V --to V [--dimension D] [--fixed d=v,…] [--concurrency N] [--recursive]
                                  execute every partition of a range (other dimensions: --fixed,
                                  or the values their filter declares), N at a time (default 4);
                                  exit 4 if any failed`,
  valueFlags: ["--dir", "--datasets", "--from", "--to", "--dimension", "--concurrency", "--fixed"],
  async run(args, io) {
    try {
      return await runLocal(args, io);
    } catch (e) {
      if (e instanceof CliError) {
        io.err.write(`sluice local: ${e.message}\n`);
        return e.code;
      }
      throw e;
    }
  },
};

/** A one-line error with its exit code. */
class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(oneLine(message));
  }
}

function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** What to do, validated against the flow before any state is opened. */
type Plan =
  | {
      readonly action: "process" | "execute" | "poll";
      readonly node: NodeModel;
      readonly values: DimensionValue[];
    }
  | { readonly action: "pending" | "executions"; readonly node: NodeModel }
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
    throw usageError(`unknown action "${action}" (actions: ${ACTIONS.join(", ")})`);
  }
  const dir = flag(args, "--dir");
  if (dir === undefined) {
    throw usageError("--dir DIR is required: the folder that keeps the local state and data between runs");
  }
  const app = loadFlow(file);
  const model = app.toModel();
  const datasets = parseDatasets(model, flag(args, "--datasets"));
  const plan = planOf(model, action as Action, args);

  let store: FileStore;
  try {
    mkdirSync(dir, { recursive: true });
    store = new FileStore(join(dir, ".sluice", "state"), { lock: true });
  } catch (e) {
    throw new CliError(messageOf(e), EXIT.runtime);
  }
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await LocalRuntime.start(app, {
      dir,
      store,
      clockFile: join(dir, ".sluice", "clock.json"),
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

// ---------------------------------------------------------------- planning (usage errors)

function planOf(model: FlowModel, action: Action, args: Args): Plan {
  const id = args.positional[3];
  const rest = args.positional.slice(4);
  switch (action) {
    case "process": {
      const node = nodeOf(model, id, action, false);
      return { action, node, values: valuesOf(node, rest) };
    }
    case "execute":
    case "poll": {
      const node = nodeOf(model, id, action, true);
      return { action, node, values: valuesOf(node, rest) };
    }
    case "pending":
    case "executions":
    case "backfill": {
      const node = nodeOf(model, id, action, true);
      if (rest.length > 0) {
        throw usageError(`${action} takes only <node>, got also ${rest.map((r) => `"${r}"`).join(" ")}`);
      }
      return action === "backfill" ? { action, node, backfill: backfillOf(node, args) } : { action, node };
    }
  }
}

function nodeOf(model: FlowModel, id: string | undefined, action: Action, data: boolean): NodeModel {
  const all = Object.keys(model.nodes);
  const dataNodes = all.filter((n) => model.nodes[n]?.kind === "data");
  const candidates = (data ? dataNodes : all).join(", ") || "none in this flow";
  if (id === undefined) throw usageError(`${action} needs a <node> (${candidates})`);
  const node = model.nodes[id];
  if (!node) throw usageError(`unknown node "${id}" (nodes: ${all.join(", ")})`);
  if (data && node.kind !== "data") {
    throw usageError(`node "${id}" (${node.kind}) is not a data node: ${action} takes one of ${candidates}`);
  }
  return node;
}

function describeDimension(spec: DimensionModel): string {
  return `${spec.name}: ${typeOf(spec)}`;
}

function typeOf(spec: DimensionModel): string {
  return spec.type === "DATETIME" ? `DATETIME ${spec.format}` : spec.type;
}

/** The values of one partition, given in dimension order, as canonical values. */
function valuesOf(node: NodeModel, raw: readonly string[]): DimensionValue[] {
  const dims = node.signal.dimensions;
  if (raw.length !== dims.length) {
    const expected = dims.length === 0 ? "no values" : `${dims.length} value${dims.length === 1 ? "" : "s"}`;
    throw usageError(
      `node "${node.id}" takes ${expected}${
        dims.length === 0 ? "" : ` (${dims.map(describeDimension).join(", ")}, in this order)`
      }, got ${raw.length}${raw.length === 0 ? "" : `: ${raw.join(" ")}`}`,
    );
  }
  return dims.map((spec, i) => coerce(node, spec, raw[i] as string));
}

function coerce(node: NodeModel, spec: DimensionModel, raw: string): DimensionValue {
  const c = coerceDimensionValue(spec, raw);
  if (c.error !== undefined) {
    throw usageError(`node "${node.id}", dimension "${spec.name}" (${typeOf(spec)}): ${c.error}`);
  }
  return c.value;
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
    out[id] = pair.slice(eq + 1);
  }
  return out;
}

function backfillOf(node: NodeModel, args: Args): Backfill {
  const dims = node.signal.dimensions;
  const datetimes = dims.filter((d) => d.type === "DATETIME");
  const name = flag(args, "--dimension");
  let spec: DimensionModel | undefined;
  if (name !== undefined) {
    spec = dims.find((d) => d.name === name);
    if (!spec)
      throw usageError(
        `node "${node.id}" has no dimension "${name}" (${dims.map((d) => d.name).join(", ")})`,
      );
    if (spec.type !== "DATETIME") {
      throw usageError(
        `--dimension ${name}: dimension "${name}" of node "${node.id}" is a ${spec.type}, not a DATETIME`,
      );
    }
  } else if (datetimes.length === 1) spec = datetimes[0];
  else if (datetimes.length === 0)
    throw usageError(`node "${node.id}" has no DATETIME dimension to backfill over`);
  else {
    throw usageError(
      `node "${node.id}" has several DATETIME dimensions (${datetimes.map((d) => d.name).join(", ")}): choose one with --dimension`,
    );
  }
  const datetime = spec as DimensionModel & { type: "DATETIME" };
  const fromRaw = flag(args, "--from");
  const toRaw = flag(args, "--to");
  if (fromRaw === undefined || toRaw === undefined) {
    throw usageError(
      `backfill needs --from and --to (values of "${datetime.name}", ${datetime.format}, inclusive)`,
    );
  }
  const from = coerce(node, datetime, fromRaw);
  const to = coerce(node, datetime, toRaw);
  const toMs = datetimeToMs(datetime, to);
  if (datetimeToMs(datetime, from) > toMs) throw usageError(`--from ${from} is after --to ${to}`);
  const times: DimensionValue[] = [];
  for (let v = from; datetimeToMs(datetime, v) <= toMs; v = offsetValue(datetime, v, 1)) {
    times.push(v);
    if (times.length > MAX_BACKFILL)
      throw usageError(`--from ${from} --to ${to} spans more than ${MAX_BACKFILL} partitions`);
  }

  const fixed = parseFixed(node, datetime.name, flag(args, "--fixed"));
  const choices: DimensionValue[][] = dims.map((d) => {
    if (d.name === datetime.name) return times;
    const given = fixed.get(d.name);
    if (given) return given;
    const filter = node.signal.filter[d.name];
    if (Array.isArray(filter)) return [...(filter as readonly DimensionValue[])];
    throw usageError(
      `node "${node.id}", dimension "${d.name}" declares no values to backfill over: give them with --fixed ${d.name}=VALUE`,
    );
  });
  // The datetime dimension outermost, so partitions run in time order.
  const order = [dims.indexOf(datetime), ...dims.map((_, i) => i).filter((i) => dims[i] !== datetime)];
  let partitions: DimensionValue[][] = [[]];
  for (const i of order) {
    partitions = partitions.flatMap((p) => (choices[i] as DimensionValue[]).map((v) => [...p, v]));
  }
  partitions = partitions.map((p) => dims.map((_, i) => p[order.indexOf(i)] as DimensionValue));
  if (partitions.length > MAX_BACKFILL)
    throw usageError(`the backfill spans more than ${MAX_BACKFILL} partitions`);

  const c = flag(args, "--concurrency") ?? "4";
  const concurrency = /^\d+$/.test(c) ? Number(c) : NaN;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw usageError(`--concurrency ${c}: give a whole number of executions at a time, 1 or more`);
  }
  return {
    dimension: datetime.name,
    from,
    to,
    concurrency,
    recursive: args.flags.has("--recursive"),
    partitions,
  };
}

/** `--fixed region=NA,market=3` (a bare value adds to the dimension before it: `region=NA,EU`). */
function parseFixed(node: NodeModel, over: string, text: string | undefined): Map<string, DimensionValue[]> {
  const out = new Map<string, DimensionValue[]>();
  if (text === undefined) return out;
  let current: DimensionModel | undefined;
  for (const part of text.split(",").filter((p) => p.length > 0)) {
    const eq = part.indexOf("=");
    let raw = part;
    if (eq >= 0) {
      const name = part.slice(0, eq);
      current = node.signal.dimensions.find((d) => d.name === name);
      if (!current) {
        throw usageError(
          `--fixed: node "${node.id}" has no dimension "${name}" (${node.signal.dimensions.map((d) => d.name).join(", ")})`,
        );
      }
      if (name === over) throw usageError(`--fixed: "${name}" is the dimension the backfill runs over`);
      raw = part.slice(eq + 1);
    } else if (current === undefined) {
      throw usageError(`--fixed: "${part}" is not dimension=value`);
    }
    const values = out.get(current.name) ?? [];
    values.push(coerce(node, current, raw));
    out.set(current.name, values);
  }
  return out;
}

// ---------------------------------------------------------------- actions

async function perform(
  plan: Plan,
  runtime: LocalRuntime,
  store: FileStore,
  args: Args,
  io: Io,
): Promise<number> {
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
    case "pending": {
      const groups = await runtime.pending({ id: node.id });
      if (io.json) io.out.write(`${JSON.stringify(groups, null, 2)}\n`);
      else if (groups.length === 0) io.out.write(`${node.id}: no pending groups\n`);
      else {
        const dims = node.signal.dimensions.map((d) => d.name);
        io.out.write(
          table(
            [...dims, "received", "state", "created", "expires"],
            groups.map((g) => [
              ...dims.map((d) => (g.dimensions[d] === undefined ? "*" : String(g.dimensions[d]))),
              g.received.join(","),
              g.state,
              iso(g.createdAt),
              iso(g.expiresAt),
            ]),
          ),
        );
      }
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
      return backfill(node, plan.backfill, runtime, store, io);
  }
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

async function backfill(
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
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

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
