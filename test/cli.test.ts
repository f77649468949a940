import { main, type Output } from "../src/cli/main";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

test("model prints the example's canonical FlowModel", async () => {
  const r = await run(["model", "examples/daily-aggregation/flow.ts"]);
  expect(r.code).toBe(0);
  const model = JSON.parse(r.out);
  expect(model.schemaVersion).toBe(1);
  expect(Object.keys(model.nodes)).toEqual(["daily", "orders", "store_revenue_7d", "stores"]);
});

test("validate lists every problem with its location and exits 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
  const file = join(dir, "flow.ts");
  writeFileSync(
    file,
    `import { Application, dim, sparkSql } from "sluice";
     const app = new Application("bad-flow", { account: "111122223333", region: "us-east-1" });
     const ev = app.s3Dataset("ev", { bucket: "raw", dimensions: { region: dim.string() }, filter: { region: ["NA"] } });
     app.data("out", { inputs: [ev.at("EU")], compute: sparkSql("SELECT 1"), retries: -1 });
     export default app;`,
  );
  const r = await run(["validate", file]);
  expect(r.code).toBe(1);
  expect(r.out).toContain(
    'nodes.out.inputs.ev.dimensions.region: node "out", input "ev", dimension "region": value "EU" is not in the filter',
  );
  expect(r.out).toContain("nodes.out.retries:");
  const j = await run(["validate", file, "--json"]);
  expect(JSON.parse(j.out)).toMatchObject({ valid: false });
  expect(JSON.parse(j.out).issues).toHaveLength(2);
});

test("usage errors exit 2", async () => {
  expect((await run([])).code).toBe(2);
  expect((await run(["frobnicate", "x.ts"])).code).toBe(2);
  expect((await run(["model", "does/not/exist.ts"])).code).toBe(2);
});
