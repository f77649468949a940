/**
 * The FlowModel JSON Schema: ajv strict mode accepts it, every model the DSL produces validates, hand-broken
 * models are rejected at the right place, and the schema mirrors the TS types property by property
 * (checked at compile time by `npm run typecheck`, see the "drift" section at the end).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import {
  Application,
  allOf,
  anyOf,
  combine,
  concat,
  custom,
  dim,
  inline,
  link,
  literal,
  not,
  prestoSql,
  range,
  shift,
  sparkSql,
  split,
  truncate,
  type FlowModel,
} from "sluice";
import { FLOW_MODEL_SCHEMA_ID, flowModelSchema } from "../../src/flow/model/schema";
import { FLOW_MODEL_SCHEMA_VERSION, HOOK_NAMES } from "../../src/flow/model/flow-model";
import type {
  AlarmComparison,
  AlarmMetricModel,
  AlarmNodeModel,
  AlarmRuleModel,
  AlarmState,
  CheckpointModel,
  CodeRefModel,
  CompositeAlarmNodeModel,
  ComputeKind,
  ComputeParamsModel,
  ComputeTargetModel,
  DataFormat,
  DataNodeModel,
  DownstreamModel,
  UpstreamDataNodeModel,
  UpstreamRefModel,
  DatasetBindingModel,
  DatetimeDimensionModel,
  DimensionRefModel,
  DimensionType,
  EmrConfigModel,
  Engine,
  EnvironmentModel,
  ExternalAlarmNodeModel,
  ExternalMetricNodeModel,
  GlueTableNodeModel,
  HookName,
  HooksModel,
  InputModel,
  LinkModel,
  LongDimensionModel,
  MapperKind,
  MapperModel,
  MetricNodeModel,
  MetricRefModel,
  MetricStatModel,
  NodeKind,
  OutputLinkModel,
  PolicyStatementModel,
  RangeModel,
  S3DatasetNodeModel,
  SignalKind,
  SignalModel,
  StringDimensionModel,
  TimerNodeModel,
} from "../../src/flow/model/flow-model";
import { GRANULARITIES, type Granularity } from "../../src/flow/model/granularity";
import { briefApp } from "../support/brief-app";

// ---------------------------------------------------------------- helper

interface FlowModelValidation {
  readonly valid: boolean;
  readonly errors: readonly ErrorObject[];
}

let compiled: ValidateFunction | undefined;

/** Validates against the schema, compiled once with ajv in strict mode. */
function validateFlowModel(model: unknown): FlowModelValidation {
  compiled ??= new Ajv({ allErrors: true, strict: true }).compile(flowModelSchema);
  const valid = compiled(model);
  return { valid, errors: valid ? [] : [...(compiled.errors ?? [])] };
}

function describeErrors(errors: readonly ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || "/"} ${e.keyword}: ${e.message ?? ""}`).join("\n");
}

/** Asserts validity, printing ajv's errors when the model is rejected. */
function expectValid(model: unknown): void {
  const { valid, errors } = validateFlowModel(model);
  if (!valid) throw new Error(`model rejected by the FlowModel schema:\n${describeErrors(errors)}`);
}

type JsonObject = Record<string, unknown>;

/** The value at a dotted path ("nodes.joined.links.0"), for mutating a copy of a model. */
function at(root: unknown, path: string): JsonObject & unknown[] {
  let value = root;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") throw new Error(`no "${key}" in ${path}`);
    value = (value as JsonObject)[key];
  }
  if (value === null || typeof value !== "object") throw new Error(`${path} is not an object or array`);
  return value as JsonObject & unknown[];
}

function brokenCopy(model: FlowModel, mutate: (m: JsonObject) => void): unknown {
  const copy = structuredClone(model) as unknown as JsonObject;
  mutate(copy);
  return copy;
}

// ---------------------------------------------------------------- the schema itself

test("ajv compiles the schema in strict mode, as draft-07 with the published $id", () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  expect(() => ajv.compile(flowModelSchema)).not.toThrow();
  expect(ajv.getSchema(FLOW_MODEL_SCHEMA_ID)).toBeDefined();
  expect(flowModelSchema.$id).toBe(FLOW_MODEL_SCHEMA_ID);
  expect(flowModelSchema.$schema).toBe("http://json-schema.org/draft-07/schema#");
});

test("the schema is plain JSON data", () => {
  expect(JSON.parse(JSON.stringify(flowModelSchema))).toEqual(flowModelSchema);
});

test("enums the runtime also lists agree with it", () => {
  const defs = flowModelSchema.definitions;
  expect(flowModelSchema.properties.schemaVersion.const).toBe(FLOW_MODEL_SCHEMA_VERSION);
  expect(defs.HookName.enum).toEqual(HOOK_NAMES);
  expect(defs.Granularity.enum).toEqual(GRANULARITIES);
});

// ---------------------------------------------------------------- models the DSL produces

test("the brief's flow validates", () => {
  const model = briefApp().toModel();
  expectValid(model);
  // What the CLI writes (canonical JSON) validates too.
  expectValid(JSON.parse(briefApp().toJson()));
});

/** A flow touching every node kind, mapper, code reference form and optional field the DSL can emit. */
function everyShapeApp(): Application {
  const app = new Application("every-shape", { account: "111122223333", region: "us-east-1" });
  app.environment("staging", {
    account: "222233334444",
    region: "eu-west-1",
    datasets: {
      hourly: { bucket: "stg-hourly", prefix: "h", format: "json", encryptionKey: "alias/stg" },
      codes: { account: "222233334444", region: "eu-west-1", database: "stg", table: "codes" },
    },
    config: { nested: { list: [1, "a", true, null], ratio: 0.5 } },
    compute: {
      rollup: {
        workers: 4,
        sparkArgs: { "--conf": "spark.sql.shuffle.partitions=8" },
        timeoutSeconds: 600,
        emr: { releaseLabel: "emr-7.1.0", clusterId: "j-123", serverless: false },
        extra: { tag: ["x"] },
      },
    },
  });
  const hourly = app.s3Dataset("hourly", {
    bucket: "raw-hourly",
    prefix: "h",
    dimensions: {
      shard: dim.long({ digits: 3 }),
      hour: dim.datetime({ format: "%Y-%m-%dT%H", granularity: "HOUR", timezone: "Europe/Berlin" }),
    },
    format: "orc",
    completion: null,
    encryptionKey: "alias/raw",
    metadata: { owner: "team-a", tags: ["raw", 1, false, null], nested: { deep: { x: 1 } } },
  });
  const codes = app.glueTable("codes", {
    database: "ref",
    table: "codes",
    dimensions: { code: dim.string() },
  });
  const tick = app.timer("tick", "rate(1 hour)", { timezone: "UTC" });
  const lag = app.metric("lag", { metricNames: ["Lag"], subDimensions: { Stage: "load" } });
  const lambda = app.externalMetric("lambda", {
    namespace: "AWS/Lambda",
    account: "333344445555",
    region: "us-west-2",
    subDimensions: { FunctionName: "ingest" },
  });
  const lagAlarm = app.alarm("lag_alarm", {
    metric: lag.get("Lag"),
    statistic: "p99",
    periodSeconds: 60,
    threshold: 10.5,
    comparison: "GreaterThanThreshold",
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: "breaching",
    description: "lag is high",
  });
  const ratio = app.alarm("error_ratio", {
    metrics: {
      errors: lambda.get("Errors"),
      calls: { metric: lambda.get("Invocations"), statistic: "SampleCount", periodSeconds: 60 },
    },
    expression: "errors / calls",
    periodSeconds: 60,
    threshold: 0.1,
    comparison: "LessThanOrEqualToThreshold",
  });
  const throttles = app.alarm("throttles", {
    metric: app.platformMetrics("system").get("DispatchErrors"),
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
    alarmName: "every-shape-store-throttles",
  });
  const local = app.externalAlarm("local_ext", { alarmName: "same-account-alarm" });
  const combo = app.compositeAlarm("combo", {
    rule: allOf(
      lagAlarm.is("ALARM"),
      not(anyOf(ratio.is("OK"), throttles.is("INSUFFICIENT_DATA"), local.is("ALARM"))),
    ),
    alarmName: "every-shape-combo",
    description: "lag without errors",
  });
  const rollup = app.data("rollup", {
    inputs: { h: hourly.at([1, 2], range(-3)), tick, t: codes.ref() },
    links: [
      link(tick.dim("time"), shift(1, "HOUR"), hourly.dim("hour")),
      link(
        codes.dim("code"),
        custom("mappers/code.ts#toCode", { inverse: "mappers/code.ts#fromCode" }),
        "h.shard",
      ),
      link("day", truncate("DAY"), hourly.dim("hour")),
      link("label", literal("fixed")),
    ],
    output: { day: dim.datetime(), shard: dim.long(), code: dim.string(), label: dim.string() },
    compute: [
      sparkSql("SELECT * FROM h", {
        emr: {
          releaseLabel: "emr-7.1.0",
          instanceType: "m5.xlarge",
          masterInstanceType: "m5.large",
          instanceCount: 3,
        },
        workers: 3,
        sparkArgs: { "--executor-memory": "4g" },
        timeoutSeconds: 3600,
        extra: { StepConcurrency: 2 },
        permissions: [
          { actions: ["s3:GetObject"], resources: ["arn:aws:s3:::raw-hourly/*"] },
          { effect: "Deny", actions: ["s3:DeleteObject"], resources: ["*"] },
        ],
      }),
      inline(() => undefined),
    ],
    hooks: {
      onFailure: "hooks/page.ts#page",
      onSuccess: () => undefined,
      checkpoints: [
        { afterSeconds: 1800, handler: "hooks/slow.ts#slow" },
        { afterSeconds: 600, handler: () => undefined },
      ],
    },
    retries: 3,
    pendingTtlSeconds: 3600,
    format: "csv",
    metadata: { sla: "1h" },
  });
  app.data("parts", {
    inputs: { r: rollup },
    autoLink: false,
    output: {
      prefix: dim.string(),
      stamp: dim.datetime({ format: "%Y-%m-%dT%H", granularity: "HOUR" }),
      key: dim.string(),
    },
    outputFilter: { prefix: ["a", "b"] },
    outputLinks: [
      link("prefix", split("-", 0), "r.code"),
      link("stamp", combine(), "r.day", "r.shard"),
      link("key", concat("/"), "r.code", "r.label"),
    ],
    compute: prestoSql("SELECT 1"),
    format: "text",
  });
  app.data("on_combo", { inputs: [combo.is("ALARM")], compute: inline("handlers/page.ts#page") });
  return app;
}

test("a flow using every node kind, mapper and optional field validates", () => {
  const app = everyShapeApp();
  expect(app.validate()).toEqual([]);
  const model = app.toModel();
  expect(new Set(Object.values(model.nodes).map((n) => n.kind))).toEqual(
    new Set<NodeKind>([
      "s3Dataset",
      "glueTable",
      "timer",
      "externalMetric",
      "metric",
      "externalAlarm",
      "alarm",
      "compositeAlarm",
      "data",
    ]),
  );
  const data = Object.values(model.nodes).filter((n): n is DataNodeModel => n.kind === "data");
  const mappers = data.flatMap((n) => [...n.links, ...n.outputLinks].map((l) => l.mapper.kind));
  expect(new Set(mappers)).toEqual(
    new Set<MapperKind>(["eq", "shift", "truncate", "concat", "split", "combine", "literal", "custom"]),
  );
  const handlers = data.flatMap((n) => [
    ...n.compute.flatMap((c) => (c.handler ? [c.handler] : [])),
    ...Object.values(n.hooks.handlers),
    ...n.hooks.checkpoints.map((c) => c.handler),
  ]);
  expect(handlers.some((h) => "function" in h)).toBe(true);
  expect(handlers.some((h) => "module" in h)).toBe(true);
  expectValid(model);
  expectValid(JSON.parse(app.toJson()));
});

const EXAMPLES = join(__dirname, "..", "..", "examples");

/** examples/<name>/flow.ts, listed at test time: the examples are written alongside this test. */
function exampleFlows(): string[] {
  if (!existsSync(EXAMPLES)) return [];
  return readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(EXAMPLES, d.name, "flow.ts")))
    .map((d) => `examples/${d.name}/flow.ts`)
    .sort();
}

describe("examples/*/flow.ts", () => {
  const flows = exampleFlows();
  if (flows.length === 0) {
    test.todo("no examples yet");
    return;
  }
  test.each(flows)("%s validates", (flow) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- examples are found at test time
    const app = (require(join(EXAMPLES, "..", flow)) as { default: unknown }).default;
    expect(app).toBeInstanceOf(Application);
    expectValid((app as Application).toModel());
  });
});

// ---------------------------------------------------------------- hand-broken models

interface BrokenCase {
  readonly name: string;
  readonly mutate: (m: JsonObject) => void;
  /** An error with this instancePath and keyword must be reported … */
  readonly at: string;
  readonly keyword: string;
  readonly params?: Record<string, unknown>;
  /** … and every error must lie inside this part of the model (oneOf reports each branch). @default at */
  readonly within?: string;
}

const brokenCases: readonly BrokenCase[] = [
  {
    name: "unknown property on a node",
    mutate: (m) => (at(m, "nodes.events").bucketName = "raw"),
    at: "/nodes/events",
    keyword: "additionalProperties",
    params: { additionalProperty: "bucketName" },
  },
  {
    name: "unknown node kind",
    mutate: (m) => (at(m, "nodes.events").kind = "s3"),
    at: "/nodes/events/kind",
    keyword: "const",
    within: "/nodes/events",
  },
  {
    name: "node kind of another node's shape",
    mutate: (m) => (at(m, "nodes.customers").kind = "s3Dataset"),
    at: "/nodes/customers",
    keyword: "required",
    params: { missingProperty: "bucket" },
  },
  {
    name: "missing required field of a data node",
    mutate: (m) => delete at(m, "nodes.joined").retries,
    at: "/nodes/joined",
    keyword: "required",
    params: { missingProperty: "retries" },
  },
  {
    name: "missing required field of the application",
    mutate: (m) => delete at(m, "application").metricsNamespace,
    at: "/application",
    keyword: "required",
    params: { missingProperty: "metricsNamespace" },
  },
  {
    name: "bad granularity",
    mutate: (m) => (at(m, "nodes.daily.signal.dimensions.0").granularity = "SECOND"),
    at: "/nodes/daily/signal/dimensions/0/granularity",
    keyword: "enum",
    within: "/nodes/daily",
  },
  {
    name: "mapper with an unknown kind",
    mutate: (m) => (at(m, "nodes.joined.links.0.mapper").kind = "lookup"),
    at: "/nodes/joined/links/0/mapper/kind",
    keyword: "const",
    within: "/nodes/joined",
  },
  {
    name: "mapper with another mapper's kind",
    mutate: (m) => (at(m, "nodes.joined.links.1.mapper").kind = "map"),
    at: "/nodes/joined/links/1/mapper",
    keyword: "required",
    params: { missingProperty: "entries" },
    within: "/nodes/joined",
  },
  {
    name: "map entry that is not a pair",
    mutate: (m) => at(m, "nodes.joined.links.0.mapper.entries.0").push(7),
    at: "/nodes/joined/links/0/mapper/entries/0",
    keyword: "additionalItems",
    within: "/nodes/joined",
  },
  {
    name: "schemaVersion 2",
    mutate: (m) => (m.schemaVersion = 2),
    at: "/schemaVersion",
    keyword: "const",
  },
  {
    name: "unknown top-level property",
    mutate: (m) => (m.generatedAt = "2024-01-01"),
    at: "",
    keyword: "additionalProperties",
    params: { additionalProperty: "generatedAt" },
  },
  {
    name: "code reference that is both module and function",
    mutate: (m) => (at(m, "nodes.on_alarm.compute.0.handler").function = "on_alarm/compute/1"),
    at: "/nodes/on_alarm/compute/0/handler",
    keyword: "oneOf",
    within: "/nodes/on_alarm",
  },
  {
    name: "unknown hook",
    mutate: (m) => (at(m, "nodes.weekly.hooks.handlers").onBegin = { function: "weekly/hooks/onBegin" }),
    at: "/nodes/weekly/hooks/handlers",
    keyword: "enum",
    within: "/nodes/weekly",
  },
  {
    name: "bad alarm state deep in a composite rule",
    mutate: (m) => (at(m, "nodes.monitor.rule.terms.1").state = "FIRING"),
    at: "/nodes/monitor/rule/terms/1/state",
    keyword: "enum",
    within: "/nodes/monitor",
  },
  {
    name: "alarm rule with an unknown op",
    mutate: (m) => (at(m, "nodes.monitor.rule").op = "xor"),
    at: "/nodes/monitor/rule/op",
    keyword: "enum",
    within: "/nodes/monitor",
  },
  {
    name: "alarm metric with an unknown kind",
    mutate: (m) => (at(m, "nodes.weekly_failures.metric").kind = "expression"),
    at: "/nodes/weekly_failures/metric/kind",
    keyword: "const",
    within: "/nodes/weekly_failures",
  },
  {
    name: "bad comparison",
    mutate: (m) => (at(m, "nodes.weekly_failures").comparison = ">="),
    at: "/nodes/weekly_failures/comparison",
    keyword: "enum",
    within: "/nodes/weekly_failures",
  },
  {
    name: "bad treatMissingData",
    mutate: (m) => (at(m, "nodes.weekly_failures").treatMissingData = "zero"),
    at: "/nodes/weekly_failures/treatMissingData",
    keyword: "enum",
    within: "/nodes/weekly_failures",
  },
  {
    name: "bad engine",
    mutate: (m) => (at(m, "nodes.weekly.compute.0").engine = "databricks"),
    at: "/nodes/weekly/compute/0/engine",
    keyword: "enum",
    within: "/nodes/weekly",
  },
  {
    name: "bad data format",
    mutate: (m) => (at(m, "nodes.events").format = "xlsx"),
    at: "/nodes/events/format",
    keyword: "enum",
    within: "/nodes/events",
  },
  {
    name: "filter that is neither * nor a list",
    mutate: (m) => (at(m, "nodes.events.signal.filter").region = "NA"),
    at: "/nodes/events/signal/filter/region",
    keyword: "oneOf",
    within: "/nodes/events",
  },
  {
    name: "completion absent instead of null",
    mutate: (m) => delete at(m, "nodes.events").completion,
    at: "/nodes/events",
    keyword: "required",
    params: { missingProperty: "completion" },
  },
  {
    name: "unknown property in an environment's dataset binding",
    mutate: (m) => (at(m, "environments.prod.datasets.events").path = "x"),
    at: "/environments/prod/datasets/events",
    keyword: "additionalProperties",
    params: { additionalProperty: "path" },
  },
  {
    name: "NaN threshold",
    mutate: (m) => (at(m, "nodes.weekly_failures").threshold = NaN),
    at: "/nodes/weekly_failures/threshold",
    keyword: "type",
    within: "/nodes/weekly_failures",
  },
  {
    name: "metadata value that is not JSON",
    mutate: (m) => (at(m, "nodes.daily.metadata").when = undefined),
    at: "/nodes/daily/metadata/when",
    keyword: "type",
    within: "/nodes/daily",
  },
];

describe("hand-broken copies of the brief's model are rejected", () => {
  const model = briefApp().toModel();

  test("the unbroken copy is valid", () => expectValid(structuredClone(model)));

  test.each(brokenCases)("$name", (c) => {
    const { valid, errors } = validateFlowModel(brokenCopy(model, c.mutate));
    expect(valid).toBe(false);
    const params = Object.entries(c.params ?? {});
    const hit = errors.find(
      (e) =>
        e.instancePath === c.at &&
        e.keyword === c.keyword &&
        params.every(([k, v]) => (e.params as Record<string, unknown>)[k] === v),
    );
    if (hit === undefined) {
      const what = `${c.keyword} error${params.length > 0 ? ` ${JSON.stringify(c.params)}` : ""}`;
      throw new Error(`no ${what} at "${c.at}"; ajv reported:\n${describeErrors(errors)}`);
    }
    const within = c.within ?? c.at;
    for (const e of errors) {
      expect(e.instancePath === within || e.instancePath.startsWith(`${within}/`)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------- drift between the TS types and the schema

/*
 * Compile-time checks (run by `npm run typecheck`): every object definition lists exactly the keys of its TS
 * type, requires exactly the non-optional ones, and pins const/enum/primitive property types to the TS
 * property types; every enum equals its TS union. A mismatch fails type-checking with the name of the
 * drifted definition in the message.
 */

type Defs = typeof flowModelSchema.definitions;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type PropertyKeys<S> = S extends { readonly properties: infer P } ? keyof P : never;
type RequiredList<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;
type RequiredKeys<T> = { [K in keyof T]-?: Partial<Pick<T, K>> extends Pick<T, K> ? never : K }[keyof T];
/** The TS type a property schema pins down, or unknown when it does not pin one ($ref, oneOf, array…). */
type Pinned<P> = P extends { readonly const: infer C }
  ? C
  : P extends { readonly enum: readonly (infer E)[] }
    ? E
    : P extends { readonly type: "string" }
      ? string
      : P extends { readonly type: "number" }
        ? number
        : P extends { readonly type: "boolean" }
          ? boolean
          : unknown;
type PropertyTypesMatch<S, T> = S extends { readonly properties: infer P }
  ? {
      [K in keyof P & keyof T]: unknown extends Pinned<P[K]>
        ? true
        : Same<Pinned<P[K]>, Exclude<T[K], undefined>>;
    }[keyof P & keyof T]
  : true;
type Mirrors<S, T> =
  Same<PropertyKeys<S>, keyof T> extends true
    ? Same<RequiredList<S>, RequiredKeys<T>> extends true
      ? false extends PropertyTypesMatch<S, T>
        ? false
        : true
      : false
    : false;
type EnumOf<S> = S extends { readonly enum: readonly (infer E)[] } ? E : never;

/** Object definitions and the TS types they describe. */
interface ObjectDefinitionTypes {
  StringDimension: StringDimensionModel;
  LongDimension: LongDimensionModel;
  DatetimeDimension: DatetimeDimensionModel;
  Range: RangeModel;
  Signal: SignalModel;
  EqMapper: Extract<MapperModel, { kind: "eq" }>;
  MapMapper: Extract<MapperModel, { kind: "map" }>;
  ShiftMapper: Extract<MapperModel, { kind: "shift" }>;
  TruncateMapper: Extract<MapperModel, { kind: "truncate" }>;
  ConcatMapper: Extract<MapperModel, { kind: "concat" }>;
  SplitMapper: Extract<MapperModel, { kind: "split" }>;
  CombineMapper: Extract<MapperModel, { kind: "combine" }>;
  LiteralMapper: Extract<MapperModel, { kind: "literal" }>;
  CustomMapper: Extract<MapperModel, { kind: "custom" }>;
  DimensionRef: DimensionRefModel;
  Link: LinkModel;
  OutputLink: OutputLinkModel;
  Input: InputModel;
  ModuleCodeRef: Extract<CodeRefModel, { module: string }>;
  FunctionCodeRef: Extract<CodeRefModel, { function: string }>;
  EmrConfig: EmrConfigModel;
  PolicyStatement: PolicyStatementModel;
  ComputeParams: ComputeParamsModel;
  ComputeTarget: ComputeTargetModel;
  Checkpoint: CheckpointModel;
  Hooks: HooksModel;
  MetricRef: MetricRefModel;
  MetricStat: MetricStatModel;
  SingleAlarmMetric: Extract<AlarmMetricModel, { kind: "single" }>;
  MathAlarmMetric: Extract<AlarmMetricModel, { kind: "math" }>;
  StateAlarmRule: Extract<AlarmRuleModel, { op: "state" }>;
  JunctionAlarmRule: Extract<AlarmRuleModel, { op: "and" | "or" }>;
  NotAlarmRule: Extract<AlarmRuleModel, { op: "not" }>;
  ConstAlarmRule: Extract<AlarmRuleModel, { op: "const" }>;
  S3DatasetNode: S3DatasetNodeModel;
  GlueTableNode: GlueTableNodeModel;
  TimerNode: TimerNodeModel;
  ExternalMetricNode: ExternalMetricNodeModel;
  MetricNode: MetricNodeModel;
  ExternalAlarmNode: ExternalAlarmNodeModel;
  AlarmNode: AlarmNodeModel;
  CompositeAlarmNode: CompositeAlarmNodeModel;
  DataNode: DataNodeModel;
  UpstreamDataNode: UpstreamDataNodeModel;
  UpstreamRef: UpstreamRefModel;
  Downstream: DownstreamModel;
  DatasetBinding: DatasetBindingModel;
  Environment: EnvironmentModel;
}

/** Enum definitions and the TS unions they list. */
interface EnumDefinitionTypes {
  DimensionType: DimensionType;
  Granularity: Granularity;
  SignalKind: SignalKind;
  Engine: Engine;
  ComputeKind: ComputeKind;
  HookName: HookName;
  AlarmState: AlarmState;
  AlarmComparison: AlarmComparison;
  TreatMissingData: AlarmNodeModel["treatMissingData"];
  DataFormat: DataFormat;
}

type DriftedObjects = {
  [K in keyof ObjectDefinitionTypes]: Mirrors<Defs[K], ObjectDefinitionTypes[K]> extends true ? never : K;
}[keyof ObjectDefinitionTypes];
type DriftedEnums = {
  [K in keyof EnumDefinitionTypes]: Same<EnumOf<Defs[K]>, EnumDefinitionTypes[K]> extends true ? never : K;
}[keyof EnumDefinitionTypes];
type DriftedRoot =
  | (Mirrors<typeof flowModelSchema, FlowModel> extends true ? never : "FlowModel")
  | (Mirrors<typeof flowModelSchema.properties.application, FlowModel["application"]> extends true
      ? never
      : "application");
type RefsOf<S> = S extends { readonly oneOf: readonly (infer R)[] }
  ? R extends { readonly $ref: `#/definitions/${infer N}` }
    ? N
    : never
  : never;
type NodeDefinition = Exclude<Extract<keyof Defs, `${string}Node`>, "Node">;
type MapperDefinition = Exclude<Extract<keyof Defs, `${string}Mapper`>, "Mapper">;
type AlarmRuleDefinition = Exclude<Extract<keyof Defs, `${string}AlarmRule`>, "AlarmRule">;
type AlarmMetricDefinition = "SingleAlarmMetric" | "MathAlarmMetric";
type DimensionDefinition = "StringDimension" | "LongDimension" | "DatetimeDimension";
/** Each oneOf lists exactly its branch definitions, and the branches' discriminators cover the TS union. */
type DriftedUnions =
  | (Same<RefsOf<Defs["Node"]>, NodeDefinition> extends true ? never : "Node.oneOf")
  | (Same<Pinned<Defs[NodeDefinition]["properties"]["kind"]>, NodeKind> extends true ? never : "Node.kind")
  | (Same<RefsOf<Defs["Mapper"]>, MapperDefinition> extends true ? never : "Mapper.oneOf")
  | (Same<Pinned<Defs[MapperDefinition]["properties"]["kind"]>, MapperKind> extends true
      ? never
      : "Mapper.kind")
  | (Same<RefsOf<Defs["AlarmRule"]>, AlarmRuleDefinition> extends true ? never : "AlarmRule.oneOf")
  | (Same<Pinned<Defs[AlarmRuleDefinition]["properties"]["op"]>, AlarmRuleModel["op"]> extends true
      ? never
      : "AlarmRule.op")
  | (Same<RefsOf<Defs["AlarmMetric"]>, AlarmMetricDefinition> extends true ? never : "AlarmMetric.oneOf")
  | (Same<Pinned<Defs[AlarmMetricDefinition]["properties"]["kind"]>, AlarmMetricModel["kind"]> extends true
      ? never
      : "AlarmMetric.kind")
  | (Same<RefsOf<Defs["Dimension"]>, DimensionDefinition> extends true ? never : "Dimension.oneOf")
  | (Same<Pinned<Defs[DimensionDefinition]["properties"]["type"]>, DimensionType> extends true
      ? never
      : "Dimension.type")
  | (Same<RefsOf<Defs["CodeRef"]>, "ModuleCodeRef" | "FunctionCodeRef"> extends true
      ? never
      : "CodeRef.oneOf");

type Drifted = DriftedObjects | DriftedEnums | DriftedRoot | DriftedUnions;

test("the schema mirrors the TS types (checked by tsc)", () => {
  // Fails to compile, naming the drifted definitions, when they disagree with flow-model.ts.
  const drifted: [Drifted] extends [never] ? "none" : Drifted = "none";
  expect(drifted).toBe("none");
});
