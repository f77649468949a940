/** jest globalTeardown: removes the run's temp folder (see global-setup.js) and what is left in it. */
"use strict";
const { readdirSync, rmSync } = require("node:fs");

module.exports = async () => {
  const root = process.env.SLUICE_JEST_TMP;
  if (!root) return;
  const left = readdirSync(root);
  if (left.length > 0 && process.env.SLUICE_JEST_LEFTOVERS) {
    console.log(
      `\njest: ${left.length} temp entries left by tests, removed: ${left.slice(0, 20).join(", ")}`,
    );
  }
  rmSync(root, { recursive: true, force: true });
};
