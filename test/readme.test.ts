/** The README's flow is real: it loads through the CLI's loader and validates. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFlow } from "../src/cli/load-flow";

test("the README example flow builds a valid FlowModel", () => {
  const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const file = join(mkdtempSync(join(tmpdir(), "sluice-readme-")), "flow.ts");
  writeFileSync(file, code as string);
  const app = loadFlow(file);
  expect(app.validate()).toEqual([]);
  expect(Object.keys(app.toModel().nodes).sort()).toEqual([
    "customers",
    "daily",
    "events",
    "joined",
    "monitor",
    "on_alarm",
    "weekly",
    "weekly_failures",
  ]);
});
