#!/usr/bin/env node
/**
 * Builds the prebuilt runtime bundle the router Lambda loads, minified for Node 22 (AWS SDK v3 clients
 * included, pinned by the lockfile), plus the Spark driver script. Synth packs it with the route table
 * and user code into the function's code package.
 *
 * - `index.js`: the handler and what the first event needs (DynamoDB, S3, SQS, the router).
 * - `engine-entries/<engine>.js`: each engine's SDK client and dispatcher (Glue, Athena, EMR, EMR
 *   Serverless), a self-contained file the handler `require`s on first use only, so a cold start never
 *   compiles them (handler.ts requires `./engine-entries/<engine>`, kept external in index.js: the same
 *   relative path from src/runtime-bundle/aws in tests, from the bundle's folder in the Lambda).
 * - `*.map`: external source maps, without a `sourceMappingURL` comment: synth keeps them out of the
 *   code package and writes them beside it, for debugging.
 *
 * `BUNDLE_OPTIONS` are the esbuild options every file shares; bench/bundle.ts builds its floor bundle
 * (DynamoDB and S3 clients only) with them.
 */
"use strict";
const { buildSync } = require("esbuild");
const { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
// dist/runtime-bundle also holds tsc's output of src/runtime-bundle (LocalRuntime runs from it):
// replace only what this script writes.
const out = join(root, "dist", "runtime-bundle");

/** The engines built as files of their own: `engine-entries/<name>.js` from aws/engine-entries/<name>.ts. */
const ENGINES = ["athena", "emr", "emr-serverless", "glue"];

/** esbuild options of every file of the runtime bundle (and of bench/bundle.ts's floor bundle). */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  minify: true,
  // The map is written, never referenced from the code (no sourceMappingURL comment).
  sourcemap: "external",
  legalComments: "external",
  logLevel: "warning",
};

function build() {
  for (const f of [
    "index.js",
    "index.js.map",
    "index.js.LEGAL.txt",
    "meta.json",
    "spark",
    "engine-entries",
    "bundle.zip",
  ]) {
    rmSync(join(out, f), { recursive: true, force: true });
  }
  mkdirSync(join(out, "spark"), { recursive: true });
  mkdirSync(join(out, "engine-entries"), { recursive: true });

  const main = buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: [join(root, "src", "runtime-bundle", "aws", "handler.ts")],
    outfile: join(out, "index.js"),
    metafile: true,
    // The handler's `require("./engine-entries/<engine>")` stays as written: engine-entries/<engine>.js.
    external: ["./engine-entries/*"],
  });
  const outputs = { ...main.metafile.outputs };
  const inputs = { ...main.metafile.inputs };
  for (const name of ENGINES) {
    const engine = buildSync({
      ...BUNDLE_OPTIONS,
      // One LEGAL file for the bundle: the engines' notices are the same packages' as index.js's.
      legalComments: "none",
      entryPoints: [join(root, "src", "runtime-bundle", "aws", "engine-entries", `${name}.ts`)],
      outfile: join(out, "engine-entries", `${name}.js`),
      metafile: true,
    });
    Object.assign(outputs, engine.metafile.outputs);
    Object.assign(inputs, engine.metafile.inputs);
  }
  copyFileSync(
    join(root, "src", "runtime-bundle", "spark", "sluice_driver.py"),
    join(out, "spark", "sluice_driver.py"),
  );
  writeFileSync(join(out, "meta.json"), JSON.stringify({ inputs, outputs }));
  // The files synth packs, deflated once here (src/synth/code-package.ts copies these entries into
  // every router.zip). Needs tsc's output: `npm run build` runs tsc first; without it, synth deflates.
  const codePackage = join(root, "dist", "synth", "code-package.js");
  if (existsSync(codePackage)) {
    const { BUNDLE_FILES, BUNDLE_ZIP, writeZip } = require(codePackage);
    const files = BUNDLE_FILES.filter((f) => existsSync(join(out, f))).map((name) => ({
      name,
      path: join(out, name),
    }));
    writeFileSync(join(out, BUNDLE_ZIP), writeZip(files, []));
  }
  const kib = (f) => `${(statSync(join(out, f)).size / 1024).toFixed(0)} KiB`;
  console.log(
    `runtime bundle: dist/runtime-bundle/index.js ${kib("index.js")}; engines loaded on first use: ` +
      ENGINES.map((e) => `${e} ${kib(join("engine-entries", `${e}.js`))}`).join(", "),
  );
}

module.exports = { BUNDLE_OPTIONS, ENGINES };

if (require.main === module) build();
