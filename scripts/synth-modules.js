#!/usr/bin/env node
/**
 * Regenerates modules/<example> from every examples/<example>/flow.ts with `sluice synth`.
 * main.tf.json and README.md are checked in (a test fails when they are stale); the code packages
 * written beside them are build artifacts (git-ignored).
 */
"use strict";
const { readdirSync, existsSync } = require("node:fs");
const { join } = require("node:path");
const { main } = require("../dist/cli/main.js");

const root = join(__dirname, "..");
(async () => {
  let failed = 0;
  for (const name of readdirSync(join(root, "examples")).sort()) {
    const flow = join(root, "examples", name, "flow.ts");
    if (!existsSync(flow)) continue;
    const code = await main(["synth", flow, "--out", join(root, "modules", name)]);
    if (code !== 0) failed++;
  }
  process.exitCode = failed === 0 ? 0 : 1;
})();
