#!/usr/bin/env node
"use strict";
require("../dist/cli/main.js")
  .main(process.argv.slice(2))
  .then((code) => (process.exitCode = code))
  .catch((e) => {
    console.error(`sluice: ${e instanceof Error ? e.stack : String(e)}`);
    process.exitCode = 1;
  });
