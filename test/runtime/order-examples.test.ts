/**
 * Order never matters (brief §3), over every example flow: an event universe in which each input
 * partition of each source node arrives once (two values per dimension, filters respected), run in
 * random orders in a fresh LocalRuntime with every data node's compute a no-op (so executions succeed
 * and push downstream). The set of (node, partition) that execute is the same in every order.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { LocalRuntime, type Application } from "sluice";
import type { DimensionModel, DimensionValue } from "../../src/flow/model/flow-model";
import { loadFlow } from "../../src/cli/load-flow";

const EXAMPLES = join(__dirname, "..", "..", "examples");
const flows = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

interface Event {
  readonly node: string;
  readonly values: readonly DimensionValue[];
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** A minimal strftime for the formats flows use. */
function strftime(format: string, t: Date): string {
  return format.replace(/%([YmdHMS])/g, (_, c: string) =>
    c === "Y"
      ? String(t.getUTCFullYear())
      : c === "m"
        ? pad(t.getUTCMonth() + 1)
        : c === "d"
          ? pad(t.getUTCDate())
          : c === "H"
            ? pad(t.getUTCHours())
            : c === "M"
              ? pad(t.getUTCMinutes())
              : pad(t.getUTCSeconds()),
  );
}

const PERIOD_MS: Readonly<Record<string, number>> = {
  MINUTE: 60_000,
  HOUR: 3600_000,
  DAY: 86_400_000,
  MONTH: 31 * 86_400_000,
  YEAR: 366 * 86_400_000,
};

/** Values of a dimension: the filter's (up to three), or two of its type (`periods` of a datetime). */
function valuesOf(
  spec: DimensionModel,
  filter: unknown,
  periods: readonly number[] = [0, 1],
): DimensionValue[] {
  if (Array.isArray(filter)) return (filter as DimensionValue[]).slice(0, 3);
  if (spec.type === "STRING") return ["A", "B"];
  if (spec.type === "LONG") return [1, 2];
  const step = PERIOD_MS[spec.granularity] ?? PERIOD_MS.DAY;
  const t0 = Date.UTC(2024, 4, 7);
  return periods.map((k) => strftime(spec.format, new Date(t0 + k * (step as number))));
}

/**
 * A local folder per S3 dataset in which every partition around the events' values exists (with its
 * completion marker), so that range checks hold: what executes then depends on the rule alone.
 */
function datasetFolders(app: Application, root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of Object.values(app.toModel().nodes)) {
    if (n.kind !== "s3Dataset") continue;
    const dir = join(root, n.id);
    const window = Array.from({ length: 40 }, (_, k) => k - 35);
    const lists = n.signal.dimensions.map((d) => valuesOf(d, n.signal.filter[d.name], window));
    for (const values of product(lists)) {
      const part = join(dir, ...n.partitions.map((t, i) => t.replace("{}", String(values[i]))));
      mkdirSync(part, { recursive: true });
      writeFileSync(join(part, n.completion ?? "part-0"), "");
    }
    out[n.id] = dir;
  }
  return out;
}

function product(lists: readonly (readonly DimensionValue[])[]): DimensionValue[][] {
  return lists.reduce<DimensionValue[][]>((acc, l) => acc.flatMap((p) => l.map((v) => [...p, v])), [[]]);
}

/** Every partition (two values per dimension) of every source node a data node takes as input. */
function universe(app: Application): Event[] {
  const model = app.toModel();
  /** Source node → the filters its inputs declare (an input's filter narrows the node's). */
  const sources = new Map<string, Record<string, unknown>>();
  for (const n of Object.values(model.nodes))
    if (n.kind === "data")
      for (const i of Object.values(n.inputs))
        if (model.nodes[i.node]?.kind !== "data")
          sources.set(i.node, { ...sources.get(i.node), ...i.filter });
  const out: Event[] = [];
  for (const [id, inputFilter] of [...sources].sort()) {
    const n = model.nodes[id];
    if (!n || !app.node(id)) continue;
    const filter = (d: string): unknown =>
      Array.isArray(inputFilter[d]) ? inputFilter[d] : n.signal.filter[d];
    const lists = n.signal.dimensions.map((d) => valuesOf(d, filter(d.name)));
    for (const values of product(lists)) out.push({ node: id, values });
  }
  return out;
}

async function executed(file: string, events: readonly Event[]): Promise<string[]> {
  const app = loadFlow(file);
  const model = app.toModel();
  const data = Object.values(model.nodes)
    .filter((n) => n.kind === "data")
    .map((n) => n.id);
  const root = mkdtempSync(join(tmpdir(), "sluice-order-"));
  const rt = await LocalRuntime.start(app, {
    dir: join(root, "local"),
    datasets: datasetFolders(app, join(root, "datasets")),
    compute: Object.fromEntries(data.map((id) => [id, async () => {}])),
  });
  try {
    for (const e of events) {
      const node = app.node(e.node) as NonNullable<ReturnType<Application["node"]>>;
      await rt.process(node.at(...(e.values as never[])));
    }
    const out: string[] = [];
    for (const id of data) {
      const node = app.node(id);
      if (!node) continue;
      for (const r of await rt.executions(node)) out.push(`${id}:${JSON.stringify(r.dimensions)}`);
    }
    return [...new Set(out)].sort();
  } finally {
    await rt.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

test.each(flows)(
  "examples/%s: each input partition once, in random orders, the same partitions execute",
  async (name) => {
    const file = join(EXAMPLES, name, "flow.ts");
    const events = universe(loadFlow(file));
    expect(events.length).toBeGreaterThan(0);
    const reference = await executed(file, events);
    // Every example executes something: the universe reaches its data nodes.
    expect(reference.length).toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        async (order) => {
          expect(await executed(file, order)).toEqual(reference);
        },
      ),
      { numRuns: 8 },
    );
    const reversed = await executed(file, [...events].reverse());
    expect(reversed).toEqual(reference);
  },
  120_000,
);
