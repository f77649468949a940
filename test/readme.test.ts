/** The README's flow is real: it loads through the CLI's loader and validates. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFlow, loadFlowModule } from "../src/cli/load-flow";

/** Temp folders of this file, removed after it. */
const temps: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "sluice-readme-"));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

test("the README example flow builds a valid FlowModel", () => {
  const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const file = join(tempDir(), "flow.ts");
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

test("the README's LocalRuntime snippet runs", async () => {
  const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const code = blocks.find((b) => b.includes("LocalRuntime.start"));
  expect(code).toBeDefined();
  // Top-level await is fine in a user's ESM script; this loader is CommonJS, so the body becomes a
  // function, called with a console that records what the snippet prints.
  const lines = (code as string).split("\n");
  const imports = lines.filter((l) => l.startsWith("import "));
  const body = lines.filter((l) => !l.startsWith("import ")).join("\n");
  const file = join(tempDir(), "local.ts");
  writeFileSync(
    file,
    `${imports.join("\n")}\nexport async function run(console: { log(...a: unknown[]): void }) {\n${body}\n}\n`,
  );
  const logged: unknown[][] = [];
  const run = loadFlowModule(file).run as (c: { log(...a: unknown[]): void }) => Promise<void>;
  await run({ log: (...args: unknown[]) => void logged.push(args) });
  expect(logged[0]?.[0]).toEqual([expect.stringMatching(/external\/events\/region=NA\/day=2024-05-07$/)]);
  expect(logged.at(-1)?.[0]).toEqual({
    path: expect.stringMatching(/internal_data\/counts\/NA\/2024-05-07$/),
  });
});
