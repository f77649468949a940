import { spawnSync } from "node:child_process";
import { main, type Output } from "../src/cli/main";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

describe("a strict command line", () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const header = `import { Application, dim, inline, sparkSql } from "sluice";
const app = new Application("strict", { account: "111122223333", region: "us-east-1" });
`;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sluice-cli-strict-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("an unknown option is an error with a did-you-mean, and nothing is written", async () => {
    const out = join(dir, "X");
    const r = await run(["synth", "examples/daily-aggregation/flow.ts", "--outdir", out]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "sluice synth: unknown option --outdir (did you mean --out?); options of synth: --json, --help, --debug, --env, --out, --format, --cdktf\n",
    );
    expect(existsSync(out)).toBe(false);
    const typo = await run(["validate", "examples/daily-aggregation/flow.ts", "--jsno"]);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/^sluice validate: unknown option --jsno \(did you mean --json\?\);/);
    expect((await run(["synth", "examples/daily-aggregation/flow.ts", "--out"])).err).toBe(
      "sluice synth: --out needs a value\n",
    );
    expect((await run(["validate", "examples/daily-aggregation/flow.ts", "--json=yes"])).err).toBe(
      "sluice validate: --json takes no value\n",
    );
  });

  test("--version, help per command, unknown commands", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(await run(["--version"])).toEqual({ code: 0, out: `${pkg.version}\n`, err: "" });
    const help = await run(["validate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: sluice validate <flow.ts>/);
    expect(help.out).toContain("exit codes: 0 ok, 1 invalid flow, 2 usage or flow load error");
    expect((await run(["help", "synth"])).out).toContain("--out VALUE");
    expect(await run(["valdate", "x.ts"])).toEqual({
      code: 2,
      out: "",
      err: 'sluice: unknown command "valdate" (did you mean "validate"?) (commands: model, validate, synth, remote, local, graph, init)\n',
    });
    expect((await run(["validate"])).err).toBe(
      "sluice validate: missing <flow.ts> (usage: sluice validate <flow.ts>)\n",
    );
  });

  test("an exception in the flow is reported at the user's line, exit 2", async () => {
    const file = write(
      "throws.ts",
      `${header}const region = process.env.NO_SUCH_VARIABLE;
if (region === undefined) throw new Error("set NO_SUCH_VARIABLE");
export default app;
`,
    );
    const r = await run(["validate", file]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `sluice validate: ${file} threw while loading: set NO_SUCH_VARIABLE (at ${file}:4:33)\n`,
    );
    const syntax = await run(["validate", write("syntax.ts", `${header}const x = ;\nexport default app;\n`)]);
    expect(syntax.code).toBe(2);
    expect(syntax.err).toMatch(/^sluice validate: cannot compile .*syntax\.ts: .*Unexpected ";"/);
  });

  test("the documented exit codes", async () => {
    const ok = write("ok.ts", `${header}export default app;\n`);
    expect((await run(["validate", ok])).code).toBe(0);
    const invalid = write(
      "invalid.ts",
      `${header}app.data("d", { inputs: [], compute: sparkSql("SELECT 1"), retries: -1 });\nexport default app;\n`,
    );
    expect((await run(["validate", invalid])).code).toBe(1);
    expect((await run(["validate", join(dir, "missing.ts")])).code).toBe(2);
    const fn = write(
      "fn.ts",
      `${header}const t = app.timer("t", "rate(1 day)", { dimension: "day" });
app.data("d", { inputs: [t], compute: inline(async () => undefined) });
export default app;
`,
    );
    const synth = await run(["synth", fn, "--out", join(dir, "out")]);
    expect(synth.code).toBe(3);
    expect(synth.err).toMatch(/^sluice synth: a function is not deployable: /);
  });

  test("issue messages do not repeat their location", async () => {
    const file = write(
      "name.ts",
      `import { Application } from "sluice";
export default new Application("Bad_Name", { account: "111122223333", region: "us-east-1" });
`,
    );
    const r = await run(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      'application: name "Bad_Name" must be 2-40 lowercase letters, digits and -, starting with a letter (it prefixes AWS resource names)\n',
    );
  });

  test("validate: unknown props with a did-you-mean, located, and module references that do not resolve", async () => {
    write("h.ts", `export async function run(): Promise<void> {}\nexport const other = 1;\n`);
    const file = write(
      "typos.ts",
      `import { Application, dim, inline, sparkSql } from "sluice";
const app = new Application("typos", { account: "111122223333", region: "us-east-1", root: __dirname });
// @ts-expect-error a typo
const ev = app.s3Dataset("ev", { bucket: "raw", partition: ["{}"], dimensions: { day: dim.datetime() } });
// @ts-expect-error a typo
app.data("a", { inputs: [ev], compute: sparkSql("SELECT 1"), retires: 3 });
// @ts-expect-error a typo
app.data("b", { inputs: [ev], compute: sparkSql("SELECT 1"), pendingTTLSeconds: 60 });
export default app;
`,
    );
    const r = await run(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.out.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(
        /^nodes\.ev: node "ev": unknown property "partition" \(did you mean "partitions"\?\) \(s3Dataset accepts: /,
      ),
      expect.stringMatching(/^nodes\.a: node "a": unknown property "retires" \(did you mean "retries"\?\)/),
      expect.stringMatching(
        /^nodes\.b: node "b": unknown property "pendingTTLSeconds" \(did you mean "pendingTtlSeconds"\?\)/,
      ),
    ]);
    const json = JSON.parse((await run(["validate", file, "--json"])).out);
    expect(json.issues.map((i: { code: string }) => i.code)).toEqual([
      "props.unknown",
      "props.unknown",
      "props.unknown",
    ]);

    const refs = write(
      "refs.ts",
      `import { Application, dim, inline } from "sluice";
const app = new Application("refs", { account: "111122223333", region: "us-east-1", root: __dirname });
const t = app.timer("t", "rate(1 day)", { dimension: "day" });
app.data("a", { inputs: [t], compute: inline("nope.ts#run") });
app.data("b", { inputs: [t], compute: inline("h.ts#rnu"), hooks: { onSuccess: "h.ts#run" } });
export default app;
`,
    );
    const u = await run(["validate", refs]);
    expect(u.code).toBe(1);
    expect(u.out).toBe(
      `nodes.a.compute.0.handler: node "a", compute.0.handler: module "nope.ts" does not exist (looked for ${join(dir, "nope.ts")})\n` +
        `nodes.b.compute.0.handler: node "b", compute.0.handler: module "h.ts" has no export "rnu" (did you mean "run"?) (exports: other, run)\n`,
    );
  });

  test("a bucket name says which rule it breaks", async () => {
    const file = write(
      "bucket.ts",
      `${header}app.s3Dataset("raw", { bucket: "Acme_Raw" });\nexport default app;\n`,
    );
    const r = await run(["validate", file]);
    expect(r.out).toBe(
      'nodes.raw: node "raw": bucket "Acme_Raw" is not a valid S3 bucket name: "A", "_", "R" are not allowed (only lowercase letters, digits, "." and "-"; no uppercase)\n',
    );
  });
});

describe("sluice init", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sluice-init-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("scaffolds a project whose flow validates and whose test passes; never overwrites", async () => {
    const project = join(dir, "shop-metrics");
    const r = await run(["init", project]);
    expect(r).toEqual({
      code: 0,
      out: `${project}: flow.ts, test/flow.test.ts, sluice.config.json, jest.config.js, tsconfig.json, README.md\n`,
      err: "",
    });
    expect(readFileSync(join(project, "flow.ts"), "utf8")).toContain('new Application("shop-metrics"');
    const cwd = process.cwd();
    process.chdir(project);
    try {
      expect(await run(["validate"])).toEqual({
        code: 0,
        out: `${join(project, "flow.ts")}: valid (2 nodes)\n`,
        err: "",
      });
    } finally {
      process.chdir(cwd);
    }
    // The scaffolded test, run by jest with "sluice" mapped to this checkout.
    const config = {
      rootDir: project,
      testEnvironment: "node",
      transform: {
        "^.+\\.ts$": [
          join(cwd, "node_modules", "ts-jest"),
          { tsconfig: join(cwd, "tsconfig.json"), diagnostics: false },
        ],
      },
      moduleNameMapper: { "^sluice$": join(cwd, "src", "index.ts") },
    };
    const jest = spawnSync(
      process.execPath,
      [join(cwd, "node_modules", "jest", "bin", "jest.js"), "--config", JSON.stringify(config), "--ci"],
      { cwd: project, encoding: "utf8" },
    );
    expect({ status: jest.status, out: jest.stderr }).toEqual({
      status: 0,
      out: expect.stringContaining("✓ revenue per region for a day of orders"),
    });

    const again = await run(["init", project]);
    expect(again.code).toBe(2);
    expect(again.err).toBe(
      `sluice init: ${project} already has flow.ts, test/flow.test.ts, sluice.config.json, jest.config.js, tsconfig.json, README.md; init never overwrites a file\n`,
    );
  }, 60_000);
});
