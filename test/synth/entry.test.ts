/** The synth constructs are exported for reuse from "sluice/synth", and the root entry stays free of cdktf. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import * as synth from "sluice/synth";

test("sluice/synth exports the stack and every component construct", () => {
  for (const name of [
    "SluiceStack",
    "Storage",
    "RoutingTable",
    "Processor",
    "BatchCompute",
    "Diagnostics",
    "ExecutionRoles",
    "Naming",
    "SynthError",
  ]) {
    expect(typeof (synth as Record<string, unknown>)[name]).toBe("function");
  }
});

test("importing the root entry does not load cdktf or the AWS provider", () => {
  const root = join(__dirname, "..", "..");
  const loaded = execFileSync(
    process.execPath,
    [
      "-e",
      `require(${JSON.stringify(join(root, "dist", "index.js"))}); console.log(JSON.stringify(Object.keys(require.cache)))`,
    ],
    { encoding: "utf8" },
  );
  const modules = JSON.parse(loaded) as string[];
  expect(modules.some((m) => m.includes("/node_modules/cdktf/"))).toBe(false);
  expect(modules.some((m) => m.includes("@cdktf/provider-aws"))).toBe(false);
});
