/**
 * The checked-in modules are what `sluice synth` writes for the examples today (a stale module fails
 * here: run `npm run modules`), they are modules (no provider, no backend), and the terraform/ roots
 * that instantiate them are formatted.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthModule } from "../../src/cli/synth-module";
import type { Application } from "../../src/flow/application";

const ROOT = join(__dirname, "..", "..");
const EXAMPLES = readdirSync(join(ROOT, "examples")).filter((d) =>
  existsSync(join(ROOT, "examples", d, "flow.ts")),
);

function load(name: string): Application {
  let app: Application | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module registry per example
    app = (require(join(ROOT, "examples", name, "flow.ts")) as { default: Application }).default;
  });
  return app as Application;
}

describe.each(EXAMPLES)("modules/%s", (name) => {
  const out = mkdtempSync(join(tmpdir(), `sluice-module-${name}-`));
  let summary: ReturnType<typeof synthModule>;
  beforeAll(() => {
    summary = synthModule(load(name), { out });
  }, 60_000);

  test("is up to date with the example (npm run modules regenerates it)", () => {
    for (const file of ["main.tf.json", "README.md"]) {
      const checkedIn = readFileSync(join(ROOT, "modules", name, file), "utf8");
      expect(readFileSync(join(out, file), "utf8")).toBe(checkedIn);
    }
  });

  test("is a module: no provider configuration, no backend, the provider pinned, an environment variable", () => {
    const json = JSON.parse(readFileSync(join(out, "main.tf.json"), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    expect(json.provider).toBeUndefined();
    expect(json.terraform?.backend).toBeUndefined();
    expect(json.terraform?.required_providers).toEqual({
      aws: { source: "hashicorp/aws", version: "6.25.0" },
    });
    // `datasets` (where the external datasets are) when the flow reads any.
    expect(Object.keys(json.variable ?? {}).filter((v) => v !== "datasets")).toEqual(["environment"]);
    expect(Object.keys(json.output ?? {}).sort()).toEqual(
      ["bucket", "dead_letter_queue", "manifest", "queue", "router_function", "table", "topic"].sort(),
    );
    // Account and region come from the caller's provider, never from the flow.
    expect(JSON.stringify(json)).toContain("data.aws_caller_identity");
    expect(summary.files).toContain("router.zip");
  });

  test("references its code package beside it, hashed by Terraform", () => {
    const fn = Object.values(
      (
        JSON.parse(readFileSync(join(out, "main.tf.json"), "utf8")) as {
          resource: Record<string, Record<string, Record<string, unknown>>>;
        }
      ).resource.aws_lambda_function ?? {},
    )[0];
    expect(fn?.filename).toBe("${path.module}/router.zip");
    expect(fn?.source_code_hash).toBe('${filebase64sha256("${path.module}/router.zip")}');
    expect(existsSync(join(out, "router.zip"))).toBe(true);
  });
});

const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" });
const hasTerraform = terraform.status === 0;
(hasTerraform ? test : test.skip)("terraform fmt -check -recursive passes on terraform/", () => {
  execFileSync("terraform", ["fmt", "-check", "-recursive", join(ROOT, "terraform")], { stdio: "pipe" });
});
if (!hasTerraform) {
  // Said plainly rather than failing: the binary is optional on a developer machine.
  console.warn("terraform is not installed: the fmt check of terraform/ was skipped");
}

test("terraform/ instantiates the daily-aggregation module for two accounts through provider aliases", () => {
  const main = readFileSync(join(ROOT, "terraform", "main.tf"), "utf8");
  expect(main.match(/source\s+=\s+"\.\.\/modules\/daily-aggregation"/g)).toHaveLength(2);
  expect(main).toContain("aws = aws.dev");
  expect(main).toContain("aws = aws.prod");
  // prod passes the location its environment declares in the flow.
  expect(main).toMatch(/orders\s*=\s*\{\s*bucket\s*=\s*"acme-prod-orders"\s*\}/);
  const providers = readFileSync(join(ROOT, "terraform", "providers.tf"), "utf8");
  expect(providers.match(/assume_role\s*\{/g)).toHaveLength(2);
  expect(readFileSync(join(ROOT, "terraform", "versions.tf"), "utf8")).toMatch(/backend "s3"/);
});
