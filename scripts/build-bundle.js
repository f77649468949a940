#!/usr/bin/env node
/**
 * Builds the prebuilt runtime bundle the router Lambda loads: the handler and everything it imports
 * (AWS SDK v3 clients included, pinned by the lockfile) in one minified file for Node 22, with a
 * source map, plus the Spark driver script. Synth packs this folder with the route table and user code.
 */
"use strict";
const { buildSync } = require("esbuild");
const { copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
// dist/runtime-bundle also holds tsc's output of src/runtime-bundle (LocalRuntime runs from it):
// replace only what this script writes.
const out = join(root, "dist", "runtime-bundle");
for (const f of ["index.js", "index.js.map", "index.js.LEGAL.txt", "meta.json", "spark"]) {
  rmSync(join(out, f), { recursive: true, force: true });
}
mkdirSync(join(out, "spark"), { recursive: true });

const result = buildSync({
  entryPoints: [join(root, "src", "runtime-bundle", "aws", "handler.ts")],
  outfile: join(out, "index.js"),
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  minify: true,
  sourcemap: true,
  legalComments: "external",
  metafile: true,
  logLevel: "warning",
});
copyFileSync(
  join(root, "src", "runtime-bundle", "spark", "sluice_driver.py"),
  join(out, "spark", "sluice_driver.py"),
);
writeFileSync(join(out, "meta.json"), JSON.stringify(result.metafile));
const size = statSync(join(out, "index.js")).size;
console.log(`runtime bundle: dist/runtime-bundle/index.js ${(size / 1024).toFixed(0)} KiB`);
