/**
 * Unknown props are located issues with a did-you-mean at every DSL entry point; KNOWN_PROPS is held
 * to the props interfaces at compile time (both ways), so a new prop cannot be forgotten there.
 */
import {
  Application,
  dim,
  inline,
  sparkSql,
  type AlarmProps,
  type ApplicationProps,
  type CompositeAlarmProps,
  type DataNodeProps,
  type EnvironmentProps,
  type ExternalAlarmProps,
  type ExternalMetricProps,
  type GlueTableProps,
  type MetricProps,
  type S3DatasetProps,
  type TimerProps,
  type UpstreamProps,
} from "../../src/flow";
import type { ComputeParams, PolicyStatement } from "../../src/flow/compute";
import type { KNOWN_PROPS } from "../../src/flow/known-props";
import type { EmrConfigModel } from "../../src/flow/model/flow-model";
import { closest, didYouMean } from "../../src/flow/suggest";

type Same<T, K extends keyof typeof KNOWN_PROPS> = [
  Exclude<keyof T, (typeof KNOWN_PROPS)[K][number]>,
  Exclude<(typeof KNOWN_PROPS)[K][number], keyof T>,
] extends [never, never]
  ? true
  : false;

test("KNOWN_PROPS lists exactly the keys of each props interface", () => {
  const checks: true[] = [
    true as Same<ApplicationProps, "application">,
    true as Same<EnvironmentProps, "environment">,
    true as Same<UpstreamProps, "upstream">,
    true as Same<S3DatasetProps, "s3Dataset">,
    true as Same<GlueTableProps, "glueTable">,
    true as Same<TimerProps, "timer">,
    true as Same<ExternalMetricProps, "externalMetric">,
    true as Same<MetricProps, "metric">,
    true as Same<ExternalAlarmProps, "externalAlarm">,
    true as Same<AlarmProps, "alarm">,
    true as Same<CompositeAlarmProps, "compositeAlarm">,
    true as Same<DataNodeProps, "data">,
    true as Same<ComputeParams, "computeParams">,
    true as Same<EmrConfigModel, "emr">,
    true as Same<PolicyStatement, "policyStatement">,
  ];
  expect(checks.every(Boolean)).toBe(true);
});

test("did-you-mean: typos, transpositions, case, prefixes; nothing when nothing is close", () => {
  expect(closest("retires", ["retries", "inputs"])).toBe("retries");
  expect(closest("pendingTTLSeconds", ["pendingTtlSeconds"])).toBe("pendingTtlSeconds");
  expect(closest("partition", ["partitions", "prefix"])).toBe("partitions");
  expect(closest("--outdir", ["--out", "--env"])).toBe("--out");
  expect(didYouMean("zzz", ["inputs", "compute"])).toBe("");
});

test("unknown props at every entry point are located issues with a did-you-mean", () => {
  const loose = <T>(x: unknown): T => x as T;
  const app = new Application(
    "typos",
    loose<ApplicationProps>({ account: "111122223333", region: "us-east-1", metricNamespace: "x" }),
  );
  app.environment(
    "prod",
    loose<EnvironmentProps>({ account: "111122223333", region: "us-east-1", dataset: {} }),
  );
  const ev = app.s3Dataset(
    "ev",
    loose<S3DatasetProps>({ bucket: "raw", dimensions: { day: dim.datetime() }, filters: {} }),
  );
  app.glueTable("gt", loose<GlueTableProps>({ database: "d", tabel: "t" }));
  const t = app.timer(
    "t",
    "rate(1 day)",
    loose<Omit<TimerProps, "schedule">>({ dimension: "day", timeZone: "UTC" }),
  );
  app.data(
    "d",
    loose<DataNodeProps>({
      inputs: [ev, t],
      compute: [sparkSql("SELECT 1", loose<ComputeParams>({ worker: 2 })), inline("h.ts#run")],
      hooks: { onSucess: "h.ts#ok", checkpoints: [{ afterSeconds: 60, handler: "h.ts#c", afterSecond: 1 }] },
      retires: 3,
    }),
  );
  const lines = app
    .validate()
    .map((i) => `${i.path} | ${i.code} | ${i.message.replace(/ \(\w+ accepts: .*\)$/, "")}`);
  expect(lines).toEqual(
    expect.arrayContaining([
      'application | props.unknown | application: unknown property "metricNamespace" (did you mean "metricsNamespace"?)',
      'environments.prod | props.unknown | environments.prod: unknown property "dataset" (did you mean "datasets"?)',
      'nodes.ev | props.unknown | node "ev": unknown property "filters" (did you mean "filter"?)',
      'nodes.gt | props.unknown | node "gt": unknown property "tabel" (did you mean "table"?)',
      'nodes.t | props.unknown | node "t": unknown property "timeZone" (did you mean "timezone"?)',
      'nodes.d | props.unknown | node "d": unknown property "retires" (did you mean "retries"?)',
      'nodes.d.compute.1 | props.unknown | node "d", compute 1: unknown compute parameter "worker" (did you mean "workers"?)',
      expect.stringMatching(
        /^nodes\.d\.hook\.onSucess \| hook\.unknown \| .*unknown hook \(did you mean "onSuccess"\?\)/,
      ),
      'nodes.d.checkpoint.1 | props.unknown | node "d", checkpoint 1: unknown property "afterSecond" (did you mean "afterSeconds"?)',
    ]),
  );
});
