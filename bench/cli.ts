/**
 * CLI start-up benchmark (issue 13, "lazy CLI"): wall time of `sluice <command>` against `node -e 0`
 * measured in the same run, and which heavy packages each command loads. DuckDB, cdktf, the AWS
 * clients and esbuild must load only in the commands that use them; goal: `sluice validate` of an
 * unchanged flow within 2x `node -e 0`. Run with `npm run bench -- cli`.
 *
 * The CLI is transpiled from src/ file by file (as tsc lays out dist/, without type checking) into a
 * temp folder with bin/ and package.json, so the figures are those of the current sources and the
 * shared dist/ is left alone. A compiled flow is cached in node_modules/.cache/sluice (see
 * src/cli/load-flow.ts): "validate (cold)" runs with SLUICE_NO_CACHE=1, "validate" with the cache.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { median, ratio, table } from "./support/report";

const ROOT = resolve(__dirname.endsWith("bench") ? join(__dirname, "..") : process.cwd());
const RUNS = 9;
const FLOW = join(ROOT, "examples/daily-aggregation/flow.ts");
const HEAVY = ["@duckdb/node-api", "cdktf", "@cdktf/provider-aws", "@aws-sdk", "esbuild", "handlebars"];

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

function time(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env, stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(" ")} exited ${r.status}`);
  return ms;
}

/** The heavy packages a command loads: main() in process, then require.cache. */
function loaded(cli: string, argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const script = `
    const main = require(${JSON.stringify(join(cli, "dist/cli/main.js"))});
    const sink = { write() {} };
    main.main(${JSON.stringify(argv)}, sink, sink).then(() => {
      const keys = Object.keys(require.cache);
      const heavy = ${JSON.stringify(HEAVY)}.filter((p) => keys.some((k) => k.includes("/node_modules/" + p + "/")));
      process.stdout.write(JSON.stringify(heavy));
    });`;
  const r = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, env, encoding: "utf8" });
  return JSON.parse(r.stdout || "[]") as string[];
}

const cli = mkdtempSync(join(tmpdir(), "sluice-bench-cli-"));
try {
  buildSync({
    entryPoints: sources(join(ROOT, "src")),
    outdir: join(cli, "dist"),
    outbase: join(ROOT, "src"),
    format: "cjs",
    platform: "node",
    target: "node20",
    logLevel: "warning",
  });
  mkdirSync(join(cli, "bin"));
  copyFileSync(join(ROOT, "bin/sluice.js"), join(cli, "bin/sluice.js"));
  copyFileSync(join(ROOT, "package.json"), join(cli, "package.json"));
  const env = { ...process.env, NODE_PATH: join(ROOT, "node_modules") };
  const noCache = { ...env, SLUICE_NO_CACHE: "1" };
  const bin = join(cli, "bin/sluice.js");
  const out = join(cli, "graph.mmd");

  const cases: [string, readonly string[], NodeJS.ProcessEnv, readonly string[] | undefined][] = [
    ["node -e 0", ["-e", "0"], env, undefined],
    ["sluice --version", [bin, "--version"], env, ["--version"]],
    ["sluice --help", [bin, "--help"], env, ["--help"]],
    ["sluice validate (cold)", [bin, "validate", FLOW], noCache, ["validate", FLOW]],
    ["sluice validate", [bin, "validate", FLOW], env, ["validate", FLOW]],
    ["sluice model", [bin, "model", FLOW], env, ["model", FLOW]],
    ["sluice graph", [bin, "graph", FLOW, "--out", out], env, ["graph", FLOW, "--out", out]],
  ];
  time([bin, "validate", FLOW], env); // fills the compile cache
  const results = cases.map(([name, args, e, argv]) => {
    time(args, e); // warm the file system cache
    const runs = Array.from({ length: RUNS }, () => time(args, e));
    return { name, ms: median(runs), heavy: argv ? loaded(cli, argv, e) : [] };
  });
  const base = results[0]?.ms ?? 1;
  table(
    `CLI start-up, median of ${RUNS} runs (ratio to node -e 0, measured in this run)`,
    ["command", "ms", "ratio", "heavy packages loaded"],
    results.map((r) => [r.name, r.ms.toFixed(0), ratio(r.ms / base), r.heavy.join(", ") || "-"]),
  );
  const validate = results.find((r) => r.name === "sluice validate");
  if (validate) {
    const ok = validate.ms <= 2 * base;
    console.log(
      `\ngoal: sluice validate <= 2x node -e 0: ${ratio(validate.ms / base)} ${ok ? "(met)" : "(NOT met)"}`,
    );
  }
} finally {
  rmSync(cli, { recursive: true, force: true });
}
