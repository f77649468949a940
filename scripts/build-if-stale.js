#!/usr/bin/env node
/**
 * Builds (`npm run build`) when dist/ is missing or older than what it is built from, so that
 * `npm test` and `npm run example` work right after `npm ci` (the package builds on `prepack`, not on
 * every install) without rebuilding an up-to-date checkout. `--stamp` only records a build just made.
 */
"use strict";
const { execSync } = require("node:child_process");
const { existsSync, readdirSync, statSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const stamp = join(root, "dist", ".build-stamp");

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

if (process.argv.includes("--stamp")) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.exit(0);
}

const inputs = ["src", "scripts/build-bundle.js", "package.json", "tsconfig.json", "tsconfig.build.json"];
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const stale =
  built === 0 ||
  !existsSync(join(root, "dist", "cli", "main.js")) ||
  !existsSync(join(root, "dist", "runtime-bundle", "index.js")) ||
  inputs.some((i) => existsSync(join(root, i)) && newest(join(root, i)) > built);
if (stale) {
  console.error("sluice: dist/ is missing or older than its sources: npm run build");
  execSync("npm run build", { cwd: root, stdio: "inherit" });
}
