/**
 * Deployment-twin benchmark (issue 17): the wall time of running every example's module in the twin:
 * synth, the provider-free Terraform plan (init, validate, plan, show), deploying onto dynalite and
 * s3rver, loading the router from the code package and one sweep through its rule. Baseline, measured
 * in the same run: the same Terraform steps on a one-resource module, the fixed cost of any check that
 * plans with Terraform. Run with `npm run bench -- twin` (the runtime bundle must be built).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { synthModule } from "../src/cli/synth-module";
import { loadFlow } from "../src/cli/load-flow";
import { planModule, terraformVersion } from "../test/deployment/twin/terraform-plan";
import { DeploymentTwin } from "../test/deployment/twin/twin";
import { int, median, ratio, table } from "./support/report";

const ROOT = process.cwd();
const EXAMPLES = ["alarm-reactor", "daily-aggregation", "two-apps", "two-region-join"] as const;
const REPEAT = 3;
const CATALOG = {
  "reference.stores": "s3://acme-reference/stores",
  "finance.billing_daily": "s3://acme-finance-eu/billing_daily/",
};

interface Sample {
  synth: number;
  plan: number;
  deploy: number;
  sweep: number;
  total: number;
}

async function baseline(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-bench-twin-"));
  try {
    writeFileSync(
      path.join(dir, "main.tf.json"),
      JSON.stringify({ resource: { aws_sqs_queue: { q: { name: "bench-queue" } } } }),
    );
    const t0 = performance.now();
    await planModule({ moduleDir: dir, account: "111122223333", region: "us-east-1" });
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function once(name: string): Promise<Sample> {
  const app = loadFlow(path.join(ROOT, "examples", name, "flow.ts"));
  const out = mkdtempSync(path.join(tmpdir(), "sluice-bench-twin-"));
  try {
    const t0 = performance.now();
    synthModule(app, { out, bundleDir: path.join(ROOT, "dist", "runtime-bundle") });
    const t1 = performance.now();
    const twin = await DeploymentTwin.start({
      moduleDir: out,
      catalog: CATALOG,
      externalBuckets: ["acme-raw-orders", "acme-reference", "acme-finance-eu"],
    });
    const t2 = performance.now();
    try {
      const sweeper = twin.plan
        .all("aws_cloudwatch_event_rule")
        .find((r) => String(r.values.name).endsWith("-sweeper"));
      await twin.publish(twin.scheduledEvent(String(sweeper?.values.name)));
      const t3 = performance.now();
      return {
        synth: t1 - t0,
        plan: twin.plan.timings.total,
        deploy: t2 - t1 - twin.plan.timings.total,
        sweep: t3 - t2,
        total: t3 - t0,
      };
    } finally {
      await twin.stop();
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const version = terraformVersion();
  if (version === undefined) {
    console.log("bench/twin: no terraform binary on PATH; the twin cannot plan, nothing to measure");
    return;
  }
  console.log(`terraform ${version}; ${REPEAT} runs per module, medians`);
  const base: number[] = [];
  const samples = new Map<string, Sample[]>();
  // Interleaved: baseline, then each module, REPEAT times (after one unreported warm-up).
  await baseline();
  for (let i = 0; i < REPEAT; i++) {
    base.push(await baseline());
    for (const name of EXAMPLES) samples.set(name, [...(samples.get(name) ?? []), await once(name)]);
  }
  const b = median(base);
  const m = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]));
  table(
    "Deployment twin per module (ms; ratio: total against a one-resource Terraform plan)",
    ["module", "synth", "plan", "deploy+load", "sweep", "total", "vs baseline"],
    [
      ["baseline: plan of one resource", "", int(b), "", "", int(b), ratio(1)],
      ...EXAMPLES.map((name) => {
        const xs = samples.get(name) ?? [];
        return [
          name,
          int(m(xs, "synth")),
          int(m(xs, "plan")),
          int(m(xs, "deploy")),
          int(m(xs, "sweep")),
          int(m(xs, "total")),
          ratio(m(xs, "total") / b),
        ];
      }),
    ],
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
