/**
 * Helpers of the deployment-twin suites: synthesize a flow (an example or one built in the test) into
 * a module directory, start the twin on it, remove everything afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthModule } from "../../src/cli/synth-module";
import type { Application } from "../../src/flow/application";
import { terraformVersion } from "./twin/terraform-plan";
import { DeploymentTwin, type TwinOptions } from "./twin/twin";

export const ROOT = join(__dirname, "..", "..");
export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";

/** `describe`, or `describe.skip` with a printed reason where no terraform binary is on PATH. */
export const describeWithTerraform: jest.Describe = (() => {
  if (terraformVersion() !== undefined) return describe;
  console.warn("deployment twin: no terraform binary on PATH; the plan and everything after it are skipped");
  return describe.skip;
})();

/** An example's Application (its flow.ts, or another file of it), from a fresh module registry. */
export function example(name: string): Application {
  // "two-apps" is examples/two-apps/flow.ts; "two-apps/upstream" is examples/two-apps/upstream.ts.
  const file = name.includes("/") ? `${name}.ts` : join(name, "flow.ts");
  let app: Application | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- examples export their Application
    app = (require(join(ROOT, "examples", file)) as { default: Application }).default;
  });
  return app as Application;
}

/** A synthesized module in a temp folder; `dispose()` removes it. */
export interface ModuleDir {
  readonly dir: string;
  dispose(): void;
}

export function synthesize(app: Application, environment?: string): ModuleDir {
  const dir = mkdtempSync(join(tmpdir(), "sluice-twin-module-"));
  try {
    synthModule(app, { out: dir, ...(environment === undefined ? {} : { environment }) });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Synthesizes `app` and starts the twin on it; `stop()` stops the twin and removes the module. */
export async function twinOf(
  app: Application,
  options: Omit<TwinOptions, "moduleDir"> = {},
): Promise<DeploymentTwin & { dispose(): Promise<void> }> {
  const module = synthesize(app);
  try {
    const twin = await DeploymentTwin.start({
      moduleDir: module.dir,
      account: ACCOUNT,
      region: REGION,
      ...options,
    });
    return Object.assign(twin, {
      dispose: async () => {
        await twin.stop();
        module.dispose();
      },
    });
  } catch (e) {
    module.dispose();
    throw e;
  }
}

/** An S3 "Object Created" event on the default bus, built from the real sample. */
export function objectCreated(
  bucket: string,
  key: string,
  account = ACCOUNT,
  at = Date.UTC(2024, 4, 7, 6),
): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the vendored sample
  const sample = require("../fixtures/aws-events/s3-eventbridge.object-created.awsdocs.json") as Record<
    string,
    unknown
  >;
  const detail = sample.detail as Record<string, unknown>;
  return {
    ...sample,
    id: `${bucket}/${key}@${at}`,
    account,
    region: REGION,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      ...detail,
      bucket: { name: bucket },
      object: { ...(detail.object as object), key, size: 1, sequencer: `${at}` },
    },
  };
}
