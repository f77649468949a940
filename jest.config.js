/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // isolatedModules: ts-jest transpiles file by file; `npm run typecheck` type-checks separately.
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  moduleNameMapper: {
    "^sluice$": "<rootDir>/src/index.ts",
    "^sluice/synth$": "<rootDir>/src/synth/index.ts",
  },
  moduleFileExtensions: ["ts", "js", "json"],
  reporters: ["default", "<rootDir>/test/support/results-reporter.js"],
  // One temp folder per run, removed at the end: no test leaves anything in the OS temp folder.
  globalSetup: "<rootDir>/test/support/global-setup.js",
  globalTeardown: "<rootDir>/test/support/global-teardown.js",
};
