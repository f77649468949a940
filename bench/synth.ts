/**
 * Synth benchmark (BRIEF §6, #4): wall time and peak RSS of synthesizing generated flows of 100 and
 * 1,000 data nodes to Terraform JSON through `new App({ outdir })` + `new SluiceStack(...)` +
 * `app.synth()` (not cdktf's Testing.synth). Baseline, measured in the same run: a plain
 * TerraformStack generated from Sluice's own output of the same flow: every resource and data source,
 * built with its provider binding class and given Sluice's synthesized body as overrides (what cdktf
 * itself costs for that output). Run with `npm run bench -- synth`
 * (from the repository root: run.js sets the working directory; the runtime bundle must be built,
 * `npm run build`).
 *
 * Every case runs in a fresh Node process (this file, re-run with a case argument), so module loading
 * and heap growth of one case never reach another: peak RSS is the child's
 * `process.resourceUsage().maxRSS`, which includes loading cdktf and the provider bindings each side
 * imports (Sluice: the provider modules src/synth imports; baseline: those of the types in the output). Runs are
 * interleaved Sluice / baseline, after one unreported warm-up pair.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import * as path from "node:path";
// Types only: each side requires what it uses when it runs, so a child loads nothing of the other side.
import type * as ProviderModule from "@cdktf/provider-aws/lib/provider";
import type * as Cdktf from "cdktf";
import type * as Esbuild from "esbuild";
import type { Application } from "../src/flow";
import { int, median, ratio, table } from "./support/report";

// ---------------------------------------------------------------- fixed workloads

const ROOT = process.cwd();
const BUNDLE_DIR = path.join(ROOT, "dist", "runtime-bundle");
/** Data nodes per flow; a tenth as many external datasets. */
const SIZES = [100, 1_000] as const;
/** Fresh processes per (size, side); the median is reported. Reduced for a size when a run is slow. */
const REPEAT = 5;
/** When one Sluice run of a size takes longer than this, that size runs once per side. */
const SLOW_RUN_MS = 25_000;
/** Alarms on route metrics (first data nodes), combined by one composite alarm. */
const ALARMS = 3;
const REGIONS = ["NA", "EU", "JP"];
/**
 * External datasets at most: each one Athena reads is a table ARN in the router's BatchAthenaCatalog
 * statement, which synth refuses above one managed policy's 6,144 characters (about 75 tables).
 */
const MAX_DATASETS = 60;

// ---------------------------------------------------------------- report helpers

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const elapsed = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

// ---------------------------------------------------------------- child: one case

/** What a child reports (one JSON line on stdout). */
interface CaseResult {
  /** Building the flow with the DSL (Sluice only; not part of synth). */
  readonly flowMs: number;
  /** Loading the synth modules (cdktf, provider bindings, Sluice's synth code). */
  readonly loadMs: number;
  /** Constructing the stack (Sluice: toModel, components, user-code bundle, assets staged). */
  readonly constructMs: number;
  /** app.synth(): Terraform JSON and assets written. */
  readonly synthMs: number;
  /** Peak RSS of the process, KiB. */
  readonly maxRssKiB: number;
  readonly resources: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly jsonBytes: number;
  /** The largest resources of the JSON, "type.id" → bytes. */
  readonly largest: readonly (readonly [string, number])[];
}

/** A folder with the inline handlers' module (synth bundles it with esbuild, like a user's flow). */
function handlerRoot(dir: string): string {
  const root = path.join(dir, "flow");
  mkdirSync(path.join(root, "handlers"), { recursive: true });
  writeFileSync(
    path.join(root, "handlers", "rollup.ts"),
    [
      "export const rollupA = async () => undefined;",
      "export const rollupB = async () => undefined;",
      "export const rollupC = async () => undefined;",
      "",
    ].join("\n"),
  );
  return root;
}

/**
 * `nodes` data nodes over `nodes / 10` (at most MAX_DATASETS) external S3 datasets (region × day) and one daily timer: node i
 * joins dataset i mod (nodes / 10) with the timer (linked on day), its compute in turn Spark SQL
 * (Glue), inline (router Lambda) and Presto SQL (Athena, so the dataset gets a Glue table). ALARMS
 * alarms on the first nodes' failures, one composite alarm over them.
 */
async function flow(nodes: number, root: string): Promise<Application> {
  const { Application, anyOf, dim, inline, prestoSql, sparkSql } = await import("../src/flow");
  const app = new Application(`bench-${nodes}`, { account: "111122223333", region: "us-east-1", root });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  const datasets = Array.from({ length: Math.min(nodes / 10, MAX_DATASETS) }, (_, d) =>
    app.s3Dataset(`events_${String(d).padStart(3, "0")}`, {
      bucket: "acme-raw",
      prefix: `events/e${d}`,
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
      filter: { region: REGIONS },
      format: "parquet",
      completion: "_SUCCESS",
    }),
  );
  const data = [];
  for (let i = 0; i < nodes; i++) {
    const events = datasets[i % datasets.length] as (typeof datasets)[number];
    const compute =
      i % 3 === 0
        ? sparkSql(`SELECT region, COUNT(*) AS n_${i} FROM events GROUP BY region`, {
            workers: 2,
            workerType: "G.1X",
            glueVersion: "4.0",
          })
        : i % 3 === 1
          ? inline(`handlers/rollup.ts#rollup${"ABC"[Math.floor(i / 3) % 3] as string}`)
          : prestoSql(`SELECT region, COUNT(*) AS n_${i} FROM events GROUP BY region`);
    data.push(
      app.data(`node_${String(i).padStart(4, "0")}`, {
        inputs: { daily, events },
        compute,
        retries: 1,
      }),
    );
  }
  const alarms = data.slice(0, ALARMS).map((node, k) =>
    app.alarm(`failures_${k}`, {
      metric: app.routeMetrics(node).get("ExecutionFailure"),
      statistic: "Sum",
      periodSeconds: 300,
      threshold: 1,
      comparison: "GreaterThanOrEqualToThreshold",
    }),
  );
  app.compositeAlarm("pipeline", { rule: anyOf(...alarms.map((a) => a.is("ALARM"))) });
  return app;
}

function readStack(
  outdir: string,
  id: string,
): Pick<CaseResult, "resources" | "byType" | "jsonBytes" | "largest"> {
  const text = readFileSync(path.join(outdir, "stacks", id, "cdk.tf.json"), "utf8");
  const json = JSON.parse(text) as { resource?: Record<string, Record<string, unknown>> };
  const byType: Record<string, number> = {};
  const sizes: [string, number][] = [];
  let resources = 0;
  for (const [type, ids] of Object.entries(json.resource ?? {})) {
    byType[type] = Object.keys(ids).length;
    resources += byType[type];
    for (const [rid, body] of Object.entries(ids))
      sizes.push([`${type}.${rid}`, JSON.stringify(body).length]);
  }
  const largest = sizes.sort((a, b) => b[1] - a[1]).slice(0, 3);
  return { resources, byType, jsonBytes: Buffer.byteLength(text), largest };
}

/** Sluice's case; its cdk.tf.json is copied to `tfJson`, which the baseline of the same size rebuilds. */
async function sluiceCase(nodes: number, dir: string, tfJson: string): Promise<CaseResult> {
  let t = process.hrtime.bigint();
  const app = await flow(nodes, handlerRoot(dir));
  const flowMs = elapsed(t);
  t = process.hrtime.bigint();
  const { App } = await import("../src/synth/cdktf");
  const { SluiceStack } = await import("../src/synth/sluice-stack");
  const loadMs = elapsed(t);
  const outdir = path.join(dir, "out");
  t = process.hrtime.bigint();
  const cdk = new App({ outdir });
  new SluiceStack(cdk, "bench", { app, bundleDir: BUNDLE_DIR });
  const constructMs = elapsed(t);
  t = process.hrtime.bigint();
  cdk.synth();
  const synthMs = elapsed(t);
  const maxRssKiB = process.resourceUsage().maxRSS;
  copyFileSync(path.join(outdir, "stacks", "bench", "cdk.tf.json"), tfJson);
  return { flowMs, loadMs, constructMs, synthMs, maxRssKiB, ...readStack(outdir, "bench") };
}

/** A provider binding class (`SqsQueue`, `DataAwsRegion`, …) as the baseline constructs it. */
type Binding = new (scope: Cdktf.TerraformStack, id: string, config: object) => Cdktf.TerraformElement;

/**
 * The provider binding of a Terraform type, from its module in @cdktf/provider-aws (the class whose
 * `tfResourceType` is the type: some names carry a suffix against collisions).
 */
function binding(type: string, data: boolean): Binding {
  const file = `${data ? "data-" : ""}${type.replace(/^aws_/, data ? "aws-" : "").replace(/_/g, "-")}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- one module per type, as a user's stack loads
  const exported = require(`@cdktf/provider-aws/lib/${file}`) as Record<string, unknown>;
  const found = Object.values(exported).find(
    (v) => typeof v === "function" && (v as { tfResourceType?: string }).tfResourceType === type,
  );
  if (!found) throw new Error(`no provider binding for ${type} in @cdktf/provider-aws/lib/${file}`);
  return found as Binding;
}

/**
 * The baseline: a plain TerraformStack with the same resources and data sources as Sluice's output
 * (`tfJson`, written by a Sluice run of the same size), each one built with its own provider binding
 * class and given its synthesized body as overrides: what cdktf itself costs for this output.
 */
async function baselineCase(tfJson: string, dir: string): Promise<CaseResult> {
  let t = process.hrtime.bigint();
  // require, not import(): Node's ESM resolution of a bare name ignores NODE_PATH (the child bundle
  // lives in a temp folder).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App, TerraformStack } = require("cdktf") as typeof Cdktf;
  const { AwsProvider } = require("@cdktf/provider-aws/lib/provider") as typeof ProviderModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const source = JSON.parse(readFileSync(tfJson, "utf8")) as {
    resource?: Record<string, Record<string, Record<string, unknown>>>;
    data?: Record<string, Record<string, Record<string, unknown>>>;
  };
  const blocks: [Binding, string, Record<string, unknown>][] = [];
  for (const [kind, data] of [
    [source.resource, false],
    [source.data, true],
  ] as const) {
    for (const [type, byId] of Object.entries(kind ?? {})) {
      const cls = binding(type, data);
      for (const [id, body] of Object.entries(byId)) blocks.push([cls, id, body]);
    }
  }
  const loadMs = elapsed(t);
  const outdir = path.join(dir, "out");
  t = process.hrtime.bigint();
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "bench");
  new AwsProvider(stack, "aws", { region: "us-east-1", allowedAccountIds: ["111122223333"] });
  for (const [cls, id, body] of blocks) {
    const element = new cls(stack, id, {});
    for (const [key, value] of Object.entries(body)) if (key !== "//") element.addOverride(key, value);
  }
  const constructMs = elapsed(t);
  t = process.hrtime.bigint();
  app.synth();
  const synthMs = elapsed(t);
  const maxRssKiB = process.resourceUsage().maxRSS;
  return { flowMs: 0, loadMs, constructMs, synthMs, maxRssKiB, ...readStack(outdir, "bench") };
}

async function child(side: string, n: number, tfJson: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-bench-synth-"));
  try {
    const result = side === "sluice" ? await sluiceCase(n, dir, tfJson) : await baselineCase(tfJson, dir);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- parent

interface Run extends CaseResult {
  /** Wall time of the whole child process (spawn to exit). */
  readonly processMs: number;
}

/**
 * The children run a bundle of this file built here (packages external, node20, CommonJS), checked to
 * hold only the project's own sources so that cdktf and the provider load from node_modules.
 */
function buildChild(dir: string): string {
  const outfile = path.join(dir, "synth-child.js");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildSync } = require("esbuild") as typeof Esbuild;
  const result = buildSync({
    entryPoints: [path.join(ROOT, "bench", "synth.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    packages: "external",
    logLevel: "warning",
    metafile: true,
    tsconfigRaw: { compilerOptions: { target: "ES2022", useDefineForClassFields: true } },
  });
  const inputs = Object.keys(result.metafile.inputs);
  if (inputs.some((i) => !i.startsWith("src/") && !i.startsWith("bench/")))
    throw new Error(`child bundle holds files outside src/ and bench/: ${inputs.join(", ")}`);
  return outfile;
}

let childBundle = "";

/** Where the Sluice run of each size leaves its cdk.tf.json for the baseline of that size. */
let tfJsonDir = "";

function run(side: "sluice" | "baseline", n: number): Run {
  const t = process.hrtime.bigint();
  const tfJson = path.join(tfJsonDir, `sluice-${n}.tf.json`);
  const r = spawnSync(process.execPath, [childBundle, side, String(n), tfJson], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_PATH: [path.join(ROOT, "node_modules"), process.env.NODE_PATH]
        .filter(Boolean)
        .join(path.delimiter),
    },
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  const processMs = elapsed(t);
  if (r.status !== 0) throw new Error(`${side} ${n} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return { ...(JSON.parse(last) as CaseResult), processMs };
}

interface Row {
  readonly nodes: number;
  readonly sluice: Run[];
  readonly baseline: Run[];
}

const med = (runs: readonly Run[], f: (r: Run) => number): number => median(runs.map(f));
const synthTime = (r: Run): number => r.constructMs + r.synthMs;

function report(rows: readonly Row[]): void {
  table(
    "1. synth time (stack construction + app.synth()) and peak RSS of the process, median of fresh processes",
    [
      "flow",
      "resources",
      "runs",
      "Sluice synth",
      "baseline",
      "ratio",
      "Sluice peak RSS",
      "baseline",
      "ratio",
    ],
    rows.map((r) => {
      const s = (f: (x: Run) => number): number => med(r.sluice, f);
      const b = (f: (x: Run) => number): number => med(r.baseline, f);
      return [
        `${int(r.nodes)} data nodes`,
        int((r.sluice[0] as Run).resources),
        `${r.sluice.length}+${r.baseline.length}`,
        sec(s(synthTime)),
        sec(b(synthTime)),
        ratio(s(synthTime) / b(synthTime)),
        mib(s((x) => x.maxRssKiB)),
        mib(b((x) => x.maxRssKiB)),
        ratio(s((x) => x.maxRssKiB) / b((x) => x.maxRssKiB)),
      ];
    }),
  );
  const [small, large] = rows;
  if (small && large) {
    const grow = (side: "sluice" | "baseline"): string => {
      const a = med(small[side], synthTime);
      const z = med(large[side], synthTime);
      return `${ratio(z / a)} (+${sec(z - a)})`;
    };
    const res = (r: Row): number => (r.sluice[0] as Run).resources;
    console.log(
      `   ${int(small.nodes)} → ${int(large.nodes)} data nodes: resources ${ratio(res(large) / res(small))}; ` +
        `synth time Sluice ${grow("sluice")}, baseline ${grow("baseline")}`,
    );
  }
  table(
    "   phases, median ms (DSL = building the flow, not synth; load = importing cdktf, the provider " +
      "bindings and Sluice's synth code; process = spawn to exit)",
    [
      "flow",
      "DSL",
      "load",
      "construct",
      "app.synth()",
      "process",
      "cdk.tf.json",
      "baseline: load",
      "construct",
      "app.synth()",
      "process",
    ],
    rows.map((r) => [
      `${int(r.nodes)} data nodes`,
      int(med(r.sluice, (x) => x.flowMs)),
      int(med(r.sluice, (x) => x.loadMs)),
      int(med(r.sluice, (x) => x.constructMs)),
      int(med(r.sluice, (x) => x.synthMs)),
      int(med(r.sluice, (x) => x.processMs)),
      `${int((r.sluice[0] as Run).jsonBytes / 1024)} KiB`,
      int(med(r.baseline, (x) => x.loadMs)),
      int(med(r.baseline, (x) => x.constructMs)),
      int(med(r.baseline, (x) => x.synthMs)),
      int(med(r.baseline, (x) => x.processMs)),
    ]),
  );
  for (const r of rows) {
    const first = r.sluice[0] as Run;
    const types = Object.entries(first.byType).sort((a, b) => b[1] - a[1]);
    console.log(
      `   ${int(r.nodes)} data nodes: ${types.length} resource types, most: ` +
        types
          .slice(0, 5)
          .map(([t, n]) => `${t} ${n}`)
          .join(", ") +
        `; largest: ${first.largest.map(([id, n]) => `${id.replace(/_[0-9A-F]{8}$/, "")} ${int(n / 1024)} KiB`).join(", ")}`,
    );
  }
  console.log(
    "   peak RSS is the synthesizing process's own (process.resourceUsage().maxRSS), child processes none: " +
      "Sluice writes router.zip in process; esbuild (user code) is its only helper process",
  );
}

/** Resource types the generated flow must produce (else the workload is not what it claims). */
const EXPECTED_TYPES = [
  "aws_glue_job",
  "aws_glue_catalog_table",
  "aws_athena_workgroup",
  "aws_cloudwatch_event_rule",
  "aws_cloudwatch_metric_alarm",
  "aws_cloudwatch_composite_alarm",
];

/** A run of `side` for the flow of `n` data nodes (the baseline rebuilds that flow's Sluice output). */
function checked(side: "sluice" | "baseline", n: number, resources?: number): Run {
  const r = run(side, n);
  if (side === "baseline" && r.resources !== resources)
    throw new Error(`baseline made ${r.resources} resources, not ${resources}`);
  const missing = side === "sluice" ? EXPECTED_TYPES.filter((t) => !r.byType[t]) : [];
  if (missing.length > 0) throw new Error(`the ${n}-node flow synthesized no ${missing.join(", ")}`);
  return r;
}

async function main(): Promise<void> {
  const [side, n, tfJson] = process.argv.slice(2);
  if (side !== undefined) return child(side, Number(n), tfJson as string);
  const started = Date.now();
  const load = (): string =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(" ");
  console.log(
    `synth: Sluice vs a plain cdktf stack of the same resources (its provider bindings, Sluice's bodies); node ${process.version}, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? "?"}; load average ${load()}; ` +
      `${REPEAT} fresh processes per side and size unless a run is slow`,
  );
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-bench-synth-"));
  childBundle = buildChild(dir);
  tfJsonDir = dir;
  const rows: Row[] = [];
  try {
    // Warm-up (file cache, first load of each side), not reported.
    checked("baseline", SIZES[0], checked("sluice", SIZES[0]).resources);
    for (const nodes of SIZES) {
      const row: Row = { nodes, sluice: [], baseline: [] };
      for (let k = 0; k < REPEAT; k++) {
        const s = checked("sluice", nodes);
        row.sluice.push(s);
        row.baseline.push(checked("baseline", nodes, s.resources));
        if (k === 0 && s.processMs > SLOW_RUN_MS) {
          console.log(`   ${int(nodes)} data nodes: one run took ${sec(s.processMs)}, so it runs once`);
          break;
        }
      }
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(rows);
  console.log(
    `\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s; load average ${load()} ` +
      "(times, not RSS, move with other processes' load)",
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
