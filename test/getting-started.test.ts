/**
 * docs/getting-started.md is checked like the README: its flow validates with the output shown, and
 * `sluice synth` prints the summary the page shows (resource counts per component, files), with the
 * variables and outputs the page names.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, type Output } from "../src/cli/main";

const page = readFileSync(join(__dirname, "..", "docs", "getting-started.md"), "utf8");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sluice-getting-started-"));
  const flow = /```ts\n([\s\S]*?)```/.exec(page)?.[1];
  if (!flow) throw new Error("getting-started.md has no flow");
  writeFileSync(join(dir, "flow.ts"), flow);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const sink = (f: (s: string) => void): Output => ({ write: (s: string) => f(s) });
  const code = await main(
    args,
    sink((s) => (out += s)),
    sink((s) => (err += s)),
  );
  return { code, out, err };
}

/** The output lines the page shows after `$ npx sluice <command>`. */
function shown(command: string): string {
  const at = page.indexOf(`$ npx sluice ${command}\n`);
  if (at < 0) throw new Error(`getting-started.md does not show "npx sluice ${command}"`);
  const rest = page.slice(at).split("\n").slice(1);
  return `${rest
    .slice(
      0,
      rest.findIndex((l) => l.startsWith("```") || l.startsWith("$ ")),
    )
    .join("\n")}\n`;
}

test("validate prints what the page shows", async () => {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const r = await run(["validate", "flow.ts"]);
    expect(r).toEqual({ code: 0, out: shown("validate flow.ts"), err: "" });
  } finally {
    process.chdir(cwd);
  }
});

test("synth prints the summary the page shows; the module has the variables and outputs it names", async () => {
  const out = join(dir, "modules", "shop-metrics");
  const r = await run(["synth", join(dir, "flow.ts"), "--out", out]);
  expect(r.code).toBe(0);
  expect(r.out.replace(out, "modules/shop-metrics")).toBe(shown("synth flow.ts --out modules/shop-metrics"));
  const module = JSON.parse(readFileSync(join(out, "main.tf.json"), "utf8")) as {
    variable: Record<string, unknown>;
    output: Record<string, unknown>;
  };
  expect(Object.keys(module.variable).sort()).toEqual(["datasets", "environment"]);
  expect(page).toContain("The module has two variables: `environment`");
  const outputs = /The module's outputs are ([^.]*)\./.exec(page.replace(/\n/g, " "))?.[1] ?? "";
  expect([...outputs.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort()).toEqual(
    Object.keys(module.output).sort(),
  );
});
