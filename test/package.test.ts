/**
 * The package as a user installs it: `npm pack` (what `files` lets in), unpacked into a new project's
 * node_modules, then `npx sluice --version`, `validate`, `synth` and a LocalRuntime script there.
 *
 * Not `npm install <tarball> --offline`: npm asks the registry for the dependencies' metadata, which
 * the offline cache does not hold (ENOTCACHED). The dependencies resolve from this repository's
 * node_modules through NODE_PATH instead, so the test proves the tarball's contents and entry points,
 * not npm's resolution of its dependency list. Needs a build (dist/); `npm test` builds when stale.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const ROOT = join(__dirname, "..");
jest.setTimeout(120_000);

let tmp: string;
let project: string;
let env: NodeJS.ProcessEnv;
let files: string[];

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist", "cli", "main.js"))) throw new Error("dist/ is not built: npm run build");
  tmp = mkdtempSync(join(tmpdir(), "sluice-package-"));
  const listing = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const packed = (JSON.parse(listing) as { filename: string; files: { path: string }[] }[])[0];
  if (!packed) throw new Error("npm pack printed nothing");
  files = packed.files.map((f) => f.path);
  project = join(tmp, "project");
  const modules = join(project, "node_modules");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  execFileSync("tar", ["-xzf", join(tmp, packed.filename), "-C", modules]);
  execFileSync("mv", [join(modules, "package"), join(modules, "sluice")]);
  symlinkSync("../sluice/bin/sluice.js", join(modules, ".bin", "sluice"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "shop", private: true }));
  env = {
    ...process.env,
    NODE_PATH: [join(ROOT, "node_modules"), process.env.NODE_PATH].filter(Boolean).join(delimiter),
    npm_config_offline: "true",
    npm_config_update_notifier: "false",
  };
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sluice = (...args: string[]): string =>
  execFileSync("npx", ["--no-install", "sluice", ...args], { cwd: project, env, encoding: "utf8" });

test("the tarball holds bin/, dist/ with the runtime bundle, and no sources, tests or stamps", () => {
  expect(files).toContain("bin/sluice.js");
  expect(files).toContain("dist/cli/main.js");
  expect(files).toContain("dist/index.d.ts");
  expect(files).toContain("dist/runtime-bundle/index.js");
  expect(files.filter((f) => !/^(bin|dist)\/|^(package\.json|README\.md|LICENSE)$/.test(f))).toEqual([]);
  expect(files).not.toContain("dist/.build-stamp");
});

test("npx sluice --version, validate and synth in a project that installed the tarball", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  expect(sluice("--version")).toBe(`${pkg.version}\n`);
  writeFileSync(
    join(project, "flow.ts"),
    `import { Application, dim, sparkSql } from "sluice";
const app = new Application("shop", { account: "111122223333", region: "us-east-1" });
const orders = app.s3Dataset("orders", { bucket: "shop-raw", dimensions: { day: dim.datetime() } });
app.data("daily", { inputs: [orders], compute: sparkSql("SELECT count(*) FROM orders") });
export default app;
`,
  );
  expect(sluice("validate", "flow.ts")).toBe("flow.ts: valid (2 nodes)\n");
  const synth = sluice("synth", "flow.ts", "--out", "out");
  expect(synth).toMatch(/^shop: \d+ resources → out\n/);
  expect(readdirSync(join(project, "out"))).toEqual(expect.arrayContaining(["main.tf.json", "README.md"]));
});

test("a LocalRuntime script runs against the installed package", () => {
  writeFileSync(
    join(project, "run.js"),
    `const { Application, dim, inline, LocalRuntime } = require("sluice");
const app = new Application("shop", { account: "111122223333", region: "us-east-1" });
const orders = app.s3Dataset("orders", { bucket: "shop-raw", dimensions: { day: dim.datetime() } });
const daily = app.data("daily", { inputs: [orders], compute: inline(async () => undefined) });
(async () => {
  const rt = await LocalRuntime.start(app);
  try {
    await rt.process(orders.at("2024-05-07"));
    const [r] = await rt.executions(daily);
    console.log(r.status, r.dimensions.day);
  } finally {
    await rt.stop();
  }
})();
`,
  );
  expect(execFileSync(process.execPath, ["run.js"], { cwd: project, env, encoding: "utf8" })).toBe(
    "SUCCEEDED 2024-05-07\n",
  );
});
