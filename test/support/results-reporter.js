/**
 * Jest reporter that writes the run's totals to `.jest-results.json`, so `.ci/run` can print its
 * closing "N passed, N failed" line from jest's own numbers.
 */
"use strict";
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");

class ResultsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const summary = {
      numPassedTests: results.numPassedTests,
      numFailedTests: results.numFailedTests,
      numPendingTests: results.numPendingTests,
      numTotalTests: results.numTotalTests,
      numFailedTestSuites: results.numFailedTestSuites,
      numRuntimeErrorTestSuites: results.numRuntimeErrorTestSuites,
      success: results.success,
    };
    writeFileSync(join(this.rootDir, ".jest-results.json"), `${JSON.stringify(summary, null, 2)}\n`);
  }
}

module.exports = ResultsReporter;
