#!/usr/bin/env node
/**
 * `npm run bench [-- <name>…]`: runs every `bench/*.ts` (or the named ones), each in its own Node
 * process. A bench file is bundled with esbuild (a dependency already; packages stay external) into a
 * temp folder and run with `--expose-gc`, so nothing has to be built first and nothing is left behind.
 * Benchmarks are not tests: they print figures and ratios, and fail only when a bench throws.
 */
"use strict";
const { buildSync } = require("esbuild");
const { spawnSync } = require("node:child_process");
const { mkdtempSync, readdirSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { delimiter, join } = require("node:path");

const dir = __dirname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .filter((f) => wanted.length === 0 || wanted.includes(f) || wanted.includes(f.replace(/\.ts$/, "")))
  .sort();
if (files.length === 0) {
  console.error(`bench: no bench file matches ${wanted.join(", ")}`);
  process.exit(2);
}

const out = mkdtempSync(join(tmpdir(), "sluice-bench-"));
let failed = 0;
try {
  for (const file of files) {
    const outfile = join(out, file.replace(/\.ts$/, ".js"));
    buildSync({
      entryPoints: [join(dir, file)],
      outfile,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      packages: "external",
      sourcemap: "inline",
      logLevel: "warning",
    });
    console.log(`\n=== bench/${file}`);
    const started = Date.now();
    const r = spawnSync(process.execPath, ["--expose-gc", "--enable-source-maps", outfile], {
      stdio: "inherit",
      cwd: join(dir, ".."),
      // The bundle lives in a temp folder: external packages resolve from the repository's node_modules.
      env: {
        ...process.env,
        NODE_PATH: [join(dir, "..", "node_modules"), process.env.NODE_PATH].filter(Boolean).join(delimiter),
      },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (r.status !== 0) {
      failed++;
      console.error(`bench/${file} failed (exit ${r.status ?? r.signal}) after ${seconds} s`);
    } else console.log(`(bench/${file}: ${seconds} s)`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(failed === 0 ? 0 : 1);
