/**
 * jest globalSetup: every temp folder of the run goes under one folder of its own (TMPDIR, which
 * os.tmpdir() and child processes read), removed by global-teardown.js whatever a test left there.
 */
"use strict";
const { mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

module.exports = async () => {
  const root = mkdtempSync(join(tmpdir(), "sluice-jest-"));
  process.env.SLUICE_JEST_TMP = root;
  process.env.TMPDIR = root;
};
