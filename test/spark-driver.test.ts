/**
 * Runs the Python unit tests of the Spark driver (src/runtime-bundle/spark/sluice_driver.py) from jest:
 * `python3 -m unittest discover -s test/spark`. They use a fake Spark session, so PySpark is not needed;
 * only python3 is. Without python3 the test is skipped (with a message), never silently passed.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const MIN_TESTS = 15;

function hasPython3(): boolean {
  const probe = spawnSync("python3", ["--version"], { encoding: "utf8" });
  return probe.error === undefined && probe.status === 0;
}

const python = hasPython3();
if (!python) {
  console.warn("spark-driver.test.ts: python3 is not on PATH; skipping the Spark driver's Python unit tests");
}
const maybe = python ? test : test.skip;

maybe(`the Spark driver's Python unit tests pass (at least ${MIN_TESTS} tests)`, () => {
  const run = spawnSync(
    "python3",
    ["-B", "-m", "unittest", "discover", "-s", "test/spark", "-p", "test_*.py", "-v"],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    },
  );
  // unittest reports on stderr: one line per test, then "Ran N tests in Xs" and "OK" / "FAILED (...)".
  const report = `${run.stdout ?? ""}${run.stderr ?? ""}`;
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`python3 -m unittest exited with ${String(run.status ?? run.error)}:\n${report}`);
  }
  const ran = /^Ran (\d+) tests? in /m.exec(report);
  expect(ran).not.toBeNull();
  expect(Number(ran![1])).toBeGreaterThanOrEqual(MIN_TESTS);
  expect(report).toMatch(/^OK\b/m);
});
