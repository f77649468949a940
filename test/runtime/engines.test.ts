/**
 * AWS engine dispatchers (Glue, Athena, EMR Serverless, EMR on EC2) against mocked SDK clients: the
 * exact requests they send, how engine states map to dispatch results, which errors are transient,
 * kills, and the job spec's size limits. Requests are built from a DSL flow the way the router does.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  EMRClient,
  ListClustersCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
} from "@aws-sdk/client-emr";
import {
  CancelJobRunCommand,
  EMRServerlessClient,
  GetJobRunCommand as GetServerlessJobRunCommand,
  StartJobRunCommand as StartServerlessJobRunCommand,
} from "@aws-sdk/client-emr-serverless";
import {
  BatchStopJobRunCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  StartJobRunCommand,
  type JobRun,
} from "@aws-sdk/client-glue";
import { mockClient } from "aws-sdk-client-mock";
import {
  Application,
  dim,
  link,
  map,
  prestoSql,
  pySpark,
  range,
  sparkSql,
  type ComputeParams,
  type DataNodeModel,
  type FlowModel,
  type NodeModel,
} from "sluice";
import type { DispatchInput, DispatchRequest } from "../../src/runtime-bundle/core/dispatcher";
import {
  outputDimensions,
  partitionsOf,
  selectInputs,
  type Selection,
} from "../../src/runtime-bundle/core/materialize";
import { upstreamBucket } from "../../src/flow/model/resource-names";
import { partitionSegments } from "../../src/runtime-bundle/core/partition-layout";
import { RouteTable } from "../../src/runtime-bundle/core/route-table";
import type { Dimensions } from "../../src/runtime-bundle/core/signal";
import {
  AthenaDispatcher,
  athenaQuery,
  athenaToken,
  quoteIdent,
  quoteLiteral,
} from "../../src/runtime-bundle/aws/engines/athena-dispatcher";
import { EMR_STEP_LIMIT_CHARS, EmrDispatcher } from "../../src/runtime-bundle/aws/engines/emr-dispatcher";
import {
  EmrServerlessDispatcher,
  sparkSubmitParameters,
} from "../../src/runtime-bundle/aws/engines/emr-serverless-dispatcher";
import { isCapacityMessage, isTransientError } from "../../src/runtime-bundle/aws/engines/errors";
import {
  GLUE_ARGUMENTS_LIMIT_BYTES,
  GlueDispatcher,
} from "../../src/runtime-bundle/aws/engines/glue-dispatcher";
import {
  decodeSparkJobSpec,
  encodeSparkJobSpec,
  SPEC_ARGUMENT,
  sparkJobSpec,
  type SparkJobSpec,
} from "../../src/runtime-bundle/aws/engines/spark-job-spec";

// ---------------------------------------------------------------- the flow

const APP = "adpd-pipeline";
const EXECUTION = "joined-0b6c9d3e-2f41-4c8e-9d1a-7e5f3a2b1c0d";

/** One flow, one node per engine, compute params varied per test. */
function flow(
  params: { joined?: ComputeParams; report?: string; serverless?: ComputeParams; emr?: ComputeParams } = {},
) {
  const app = new Application(APP, { account: "111122223333", region: "us-east-1" });
  const events = app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
    filter: { region: ["NA", "EU", "JP"] },
    format: "parquet",
    completion: "_SUCCESS",
  });
  const customers = app.glueTable("customers", {
    database: "crm",
    table: "customers",
    dimensions: { region_id: dim.long() },
  });
  const fx = app.s3Dataset("fx", {
    bucket: "ref-data",
    prefix: "fx",
    partitions: ["currency={}"],
    dimensions: { currency: dim.string() },
    filter: { currency: ["EUR", "USD"] },
    format: "csv",
  });
  const sites = app.s3Dataset("sites", {
    bucket: "raw",
    prefix: "sites",
    partitions: ["{}"],
    dimensions: { site: dim.string() },
  });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  const joined = app.data("joined", {
    inputs: [daily, events, customers.ref()],
    links: [link(customers.dim("region_id"), map({ NA: 1, EU: 2, JP: 3 }), events.dim("region"))],
    output: { region: dim.string(), day: dim.datetime() },
    compute: sparkSql("SELECT e.* FROM events e JOIN customers c ON e.cid = c.cid", params.joined ?? {}),
  });
  app.data("report", {
    inputs: { last3: joined.at("*", range(-3)), cust: customers.ref(), fx: fx.ref() },
    compute: prestoSql(
      params.report ?? "SELECT l.region, count(*) AS n FROM last3 l JOIN fx ON l.ccy = fx.ccy GROUP BY 1",
    ),
  });
  app.data("by_site", { inputs: { sites }, compute: prestoSql("SELECT * FROM sites") });
  app.data("weekly", {
    inputs: { last3: joined.at("*", range(-3)) },
    compute: pySpark("output = last3.groupBy('cid').count()", {
      engine: "emrServerless",
      ...params.serverless,
    }),
  });
  app.data("emr_daily", {
    inputs: { joined },
    compute: sparkSql("SELECT * FROM joined", { engine: "emr", ...params.emr }),
  });
  return app.toModel();
}

function root(node: NodeModel): string {
  switch (node.kind) {
    case "s3Dataset":
      return `s3://${node.bucket}/${node.prefix}`;
    case "glueTable":
      return `s3://crm-data/${node.table}`;
    case "data":
      return `s3://adpd-store/${node.path}`;
    case "upstreamData":
      return `s3://${upstreamBucket(node.upstream)}/${node.path}`;
    default:
      throw new Error(`${node.id} has no data`);
  }
}

function partitionPath(node: NodeModel, dims: Dimensions): string {
  return [root(node), ...partitionSegments(node, dims)].join("/");
}

function tip(sel: Selection): Dimensions {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(sel)) if (v !== "*" && v.length >= 1) out[k] = v[0] as string | number;
  return out;
}

/** The DispatchRequest the router would build for `node` once the events `received` (by alias) completed a group. */
function requestFor(
  model: FlowModel,
  node: string,
  received: Record<string, Dimensions>,
  extra: Partial<Pick<DispatchRequest, "executionId" | "attempt" | "targetIndex">> = {},
): DispatchRequest {
  const route = new RouteTable(model).route(node);
  if (!route) throw new Error(`no route ${node}`);
  const sel = selectInputs(route, received);
  const inputs: Record<string, DispatchInput> = {};
  for (const input of route.inputs) {
    const s = sel[input.alias] ?? {};
    const hasData = ["s3Dataset", "glueTable", "data", "upstreamData"].includes(input.source.kind);
    inputs[input.alias] = {
      node: input.source.id,
      kind: input.source.signal.kind,
      dimensions: tip(s),
      paths: hasData ? partitionsOf(input, s).map((p) => partitionPath(input.source, p)) : [],
      ...(input.source.kind === "s3Dataset" ||
      input.source.kind === "data" ||
      input.source.kind === "upstreamData"
        ? { format: input.source.format }
        : {}),
      reference: !input.trigger,
    };
  }
  const output = outputDimensions(route, sel);
  const targetIndex = extra.targetIndex ?? 0;
  return {
    executionId: extra.executionId ?? EXECUTION,
    node: route.node,
    target: route.node.compute[targetIndex] as DataNodeModel["compute"][number],
    targetIndex,
    attempt: extra.attempt ?? 1,
    inputs,
    output: { dimensions: output, path: partitionPath(route.node, output), format: route.node.format },
    env: "prod",
    config: { threshold: 10 },
  };
}

const JOINED_EVENTS = { daily: { day: "2024-05-07" }, events: { region: "NA", day: "2024-05-07" } };
const JOINED_OUT = { region: "NA", day: "2024-05-07" };

function sdkError(name: string, message = `${name} happened`): Error {
  return Object.assign(new Error(message), { name });
}

const TRANSIENT_NAMES = [
  "ConcurrentRunsExceededException",
  "ThrottlingException",
  "ResourceNumberLimitExceededException",
  "InternalServiceException",
  "OperationTimeoutException",
];

// ---------------------------------------------------------------- Glue

describe("GlueDispatcher", () => {
  const client = new GlueClient({ region: "us-east-1" });
  const glue = mockClient(client);
  const dispatcher = new GlueDispatcher({ client, appName: APP });
  beforeEach(() => glue.reset());

  const joinedRequest = (params: ComputeParams = {}, extra = {}) =>
    requestFor(flow({ joined: params }), "joined", JOINED_EVENTS, extra);

  test("StartJobRun: job per language and version, the spec in --sluice_spec, workers, timeout in minutes", async () => {
    glue.on(StartJobRunCommand).resolves({ JobRunId: "jr_0123" });
    const request = joinedRequest({
      workers: 10,
      workerType: "G.2X",
      timeoutSeconds: 3601,
      sparkArgs: { "--conf": "spark.sql.shuffle.partitions=64", "--enable-metrics": "true" },
    });
    expect(await dispatcher.start(request)).toEqual({ status: "RUNNING", handle: "jr_0123" });

    const calls = glue.commandCalls(StartJobRunCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    const encoded = input?.Arguments?.[SPEC_ARGUMENT] as string;
    expect(input).toEqual({
      JobName: "adpd-pipeline-glue-sql-4-0",
      Arguments: {
        "--sluice_spec": encoded,
        "--enable-glue-datacatalog": "true",
        "--conf": "spark.sql.shuffle.partitions=64",
        "--enable-metrics": "true",
      },
      WorkerType: "G.2X",
      NumberOfWorkers: 10,
      Timeout: 61,
    });
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodeSparkJobSpec(encoded)).toEqual<SparkJobSpec>({
      version: 1,
      executionId: EXECUTION,
      node: "joined",
      kind: "sparkSql",
      code: "SELECT e.* FROM events e JOIN customers c ON e.cid = c.cid",
      inputs: {
        daily: {
          node: "daily",
          paths: [],
          format: null,
          dimensions: { day: "2024-05-07" },
          reference: false,
        },
        events: {
          node: "events",
          paths: ["s3://raw/events/region=NA/2024-05-07"],
          format: "parquet",
          dimensions: { region: "NA", day: "2024-05-07" },
          reference: false,
        },
        customers: {
          node: "customers",
          paths: ["s3://crm-data/customers/region_id=1"],
          format: null,
          dimensions: { region_id: 1 },
          reference: true,
        },
      },
      output: {
        path: "s3://adpd-store/internal_data/joined/NA/2024-05-07",
        format: "parquet",
        dimensions: JOINED_OUT,
      },
      dimensions: JOINED_OUT,
      env: "prod",
      config: { threshold: 10 },
      targetIndex: 0,
      attempt: 1,
    });
  });

  test("pySpark runs on the python job of its Glue version; nothing unset is sent", async () => {
    glue.on(StartJobRunCommand).resolves({ JobRunId: "jr_1" });
    const model = flow();
    const base = requestFor(model, "joined", JOINED_EVENTS, { attempt: 3 });
    const request: DispatchRequest = {
      ...base,
      target: { ...base.target, kind: "pySpark", code: "output = events", params: { glueVersion: "5.0" } },
    };
    await dispatcher.start(request);
    const input = glue.commandCalls(StartJobRunCommand)[0]?.args[0].input;
    expect(input?.JobName).toBe("adpd-pipeline-glue-python-5-0");
    expect(Object.keys(input ?? {}).sort()).toEqual(["Arguments", "JobName"]);
    expect(Object.keys(input?.Arguments ?? {})).toEqual(["--sluice_spec", "--enable-glue-datacatalog"]);
    const spec = decodeSparkJobSpec(input?.Arguments?.["--sluice_spec"] as string);
    expect(spec).toMatchObject({ kind: "pySpark", code: "output = events", attempt: 3 });
  });

  test("sparkArgs may override Glue's own arguments but not --sluice_spec", async () => {
    glue.on(StartJobRunCommand).resolves({ JobRunId: "jr_1" });
    await dispatcher.start(joinedRequest({ sparkArgs: { "--enable-glue-datacatalog": "false" } }));
    expect(
      glue.commandCalls(StartJobRunCommand)[0]?.args[0].input.Arguments?.["--enable-glue-datacatalog"],
    ).toBe("false");
    const r = await dispatcher.start(joinedRequest({ sparkArgs: { "--sluice_spec": "x" } }));
    expect(r).toEqual({
      status: "FAILED",
      transient: false,
      error:
        'sparkSql target 1 of node "joined": sparkArgs must not set --sluice_spec: Sluice passes the job spec in it',
    });
  });

  test("a prestoSql target is refused without calling Glue", async () => {
    const base = joinedRequest();
    const r = await dispatcher.start({ ...base, target: { ...base.target, kind: "prestoSql" } });
    expect(r).toMatchObject({ status: "FAILED", transient: false });
    expect(r.status === "FAILED" && r.error).toContain(
      "only sparkSql and pySpark targets run on Spark engines",
    );
    expect(glue.calls()).toHaveLength(0);
  });

  test("a spec over the arguments limit fails clearly and starts nothing", async () => {
    const base = joinedRequest();
    const code = `SELECT '${"x".repeat(GLUE_ARGUMENTS_LIMIT_BYTES)}'`;
    const r = await dispatcher.start({ ...base, target: { ...base.target, code } });
    expect(r.status).toBe("FAILED");
    if (r.status !== "FAILED") return;
    expect(r.transient).toBe(false);
    expect(r.error).toMatch(
      /^sparkSql target 1 of node "joined": the job spec does not fit: the Glue job run arguments take \d+ bytes with the base64-encoded --sluice_spec, over the limit of 256000 bytes/,
    );
    expect(glue.calls()).toHaveLength(0);
  });

  test.each(TRANSIENT_NAMES)("StartJobRun throwing %s is transient", async (name) => {
    glue.on(StartJobRunCommand).rejects(sdkError(name, "slow down"));
    expect(await dispatcher.start(joinedRequest())).toEqual({
      status: "FAILED",
      transient: true,
      error: `sparkSql target 1 of node "joined": Glue StartJobRun failed: ${name}: slow down`,
    });
  });

  test.each(["EntityNotFoundException", "InvalidInputException", "AccessDeniedException"])(
    "StartJobRun throwing %s is a user error",
    async (name) => {
      glue.on(StartJobRunCommand).rejects(sdkError(name));
      expect(await dispatcher.start(joinedRequest())).toMatchObject({ status: "FAILED", transient: false });
    },
  );

  test.each([
    ["STARTING", { status: "RUNNING", handle: "jr_1" }],
    ["RUNNING", { status: "RUNNING", handle: "jr_1" }],
    ["WAITING", { status: "RUNNING", handle: "jr_1" }],
    ["STOPPING", { status: "RUNNING", handle: "jr_1" }],
    ["SUCCEEDED", { status: "SUCCEEDED" }],
  ])("GetJobRun %s", async (state, expected) => {
    glue.on(GetJobRunCommand).resolves({ JobRun: { JobRunState: state as "RUNNING" } });
    expect(await dispatcher.poll("jr_1", joinedRequest())).toEqual(expected);
    expect(glue.commandCalls(GetJobRunCommand)[0]?.args[0].input).toEqual({
      JobName: "adpd-pipeline-glue-sql-4-0",
      RunId: "jr_1",
      PredecessorsIncluded: false,
    });
  });

  test.each([
    ["FAILED", "AnalysisException: Table or view not found: evnts", false],
    ["ERROR", "Rate exceeded", true],
    ["FAILED", "Resource unavailable", true],
    ["FAILED", "Failed to provision workers for the job run", true],
    ["FAILED", "Exceeded maximum concurrent compute capacity for your account", true],
    ["TIMEOUT", "Job run timed out", false],
    ["STOPPED", "", false],
    ["EXPIRED", "", true],
  ])("GetJobRun %s %j → FAILED, transient %s", async (state, message, transient) => {
    glue.on(GetJobRunCommand).resolves({
      JobRun: { JobRunState: state as "FAILED", ...(message === "" ? {} : { ErrorMessage: message }) },
    });
    expect(await dispatcher.poll("jr_1", joinedRequest())).toEqual({
      status: "FAILED",
      transient,
      error: `sparkSql target 1 of node "joined": Glue job run jr_1 ended ${state}${message === "" ? "" : `: ${message}`}`,
    });
  });

  test("a throttled GetJobRun keeps polling; a missing run fails", async () => {
    glue
      .on(GetJobRunCommand)
      .rejectsOnce(sdkError("ThrottlingException"))
      .rejectsOnce(sdkError("EntityNotFoundException", "no run"));
    expect(await dispatcher.poll("jr_1", joinedRequest())).toEqual({ status: "RUNNING", handle: "jr_1" });
    expect(await dispatcher.poll("jr_1", joinedRequest())).toEqual({
      status: "FAILED",
      transient: false,
      error:
        'sparkSql target 1 of node "joined": Glue GetJobRun of jr_1 failed: EntityNotFoundException: no run',
    });
  });

  test("kill stops the run; a run that already ended is fine; one still running is an error", async () => {
    glue.on(BatchStopJobRunCommand).resolves({ SuccessfulSubmissions: [{ JobName: "x", JobRunId: "jr_1" }] });
    await dispatcher.kill("jr_1", joinedRequest());
    expect(glue.commandCalls(BatchStopJobRunCommand)[0]?.args[0].input).toEqual({
      JobName: "adpd-pipeline-glue-sql-4-0",
      JobRunIds: ["jr_1"],
    });

    glue.reset();
    const refused = {
      Errors: [
        { JobRunId: "jr_1", ErrorDetail: { ErrorCode: "InvalidInputException", ErrorMessage: "done" } },
      ],
    };
    glue.on(BatchStopJobRunCommand).resolves(refused);
    glue
      .on(GetJobRunCommand)
      .resolvesOnce({ JobRun: { JobRunState: "SUCCEEDED" } })
      .resolves({ JobRun: { JobRunState: "RUNNING" } });
    await expect(dispatcher.kill("jr_1", joinedRequest())).resolves.toBeUndefined();
    await expect(dispatcher.kill("jr_1", joinedRequest())).rejects.toThrow(
      'sparkSql target 1 of node "joined": Glue BatchStopJobRun of jr_1 failed: InvalidInputException: done',
    );
  });

  // ---------------------------------------------------------------- Glue crash recovery

  /** The spec a start of `request` sends, changed by `change`. */
  const specOf = (request: DispatchRequest, change: Partial<SparkJobSpec> = {}): SparkJobSpec => ({
    ...(sparkJobSpec(request) as SparkJobSpec),
    ...change,
  });
  /** A run as GetJobRuns lists it, with `spec` in its arguments. */
  const runOf = (
    id: string,
    spec: object | undefined,
    state = "RUNNING",
    extra: Partial<JobRun> = {},
  ): JobRun => ({
    Id: id,
    JobName: "adpd-pipeline-glue-sql-4-0",
    JobRunState: state as "RUNNING",
    Arguments: {
      ...(spec === undefined ? {} : { [SPEC_ARGUMENT]: encodeSparkJobSpec(spec as SparkJobSpec) }),
      "--enable-glue-datacatalog": "true",
    },
    ...extra,
  });

  test("recover: the newest run of the request's execution, target and attempt; other runs are ignored", async () => {
    const request = joinedRequest({}, { attempt: 2 });
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [
        runOf("jr_other_execution", specOf(request, { executionId: "joined-someone-else" })),
        runOf("jr_attempt_1", specOf(request, { attempt: 1 }), "FAILED"),
        runOf("jr_attempt_3", specOf(request, { attempt: 3 })),
        runOf("jr_other_target", specOf(request, { targetIndex: 1 })),
        runOf("jr_not_sluice", undefined),
        { ...runOf("jr_garbage", undefined), Arguments: { [SPEC_ARGUMENT]: "bm90IGpzb24=" } },
        runOf("jr_mine", specOf(request)),
        runOf("jr_mine_older", specOf(request), "FAILED"),
      ],
    });
    expect(await dispatcher.recover(request)).toEqual({ status: "RUNNING", handle: "jr_mine" });
    expect(glue.commandCalls(GetJobRunsCommand).map((c) => c.args[0].input)).toEqual([
      { JobName: "adpd-pipeline-glue-sql-4-0", MaxResults: 200 },
    ]);
    expect(glue.commandCalls(StartJobRunCommand)).toHaveLength(0);
  });

  test("recover: the run that start created is found by the spec start sent", async () => {
    glue.on(StartJobRunCommand).resolves({ JobRunId: "jr_started" });
    const request = joinedRequest({ workers: 4 });
    await dispatcher.start(request);
    const sent = glue.commandCalls(StartJobRunCommand)[0]?.args[0].input;
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [
        { Id: "jr_started", JobName: sent?.JobName, JobRunState: "STARTING", Arguments: sent?.Arguments },
      ],
    });
    expect(await dispatcher.recover(request)).toEqual({ status: "RUNNING", handle: "jr_started" });
  });

  test.each([
    ["WAITING", { status: "RUNNING", handle: "jr_mine" }],
    ["SUCCEEDED", { status: "SUCCEEDED" }],
    [
      "FAILED",
      {
        status: "FAILED",
        transient: false,
        error:
          'sparkSql target 1 of node "joined": Glue job run jr_mine ended FAILED: AnalysisException: no table',
      },
    ],
  ])("recover: a run found %s is reported as poll would", async (state, expected) => {
    const request = joinedRequest();
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [runOf("jr_mine", specOf(request), state, { ErrorMessage: "AnalysisException: no table" })],
    });
    expect(await dispatcher.recover(request)).toEqual(expected);
  });

  test("recover: undefined when no run of the attempt exists; pages through NextToken", async () => {
    const request = joinedRequest();
    glue
      .on(GetJobRunsCommand)
      .resolvesOnce({ JobRuns: [runOf("jr_1", specOf(request, { attempt: 2 }))], NextToken: "page-2" })
      .resolvesOnce({ JobRuns: [runOf("jr_2", specOf(request, { executionId: "x" }))], NextToken: "page-3" })
      .resolvesOnce({ JobRuns: [] });
    expect(await dispatcher.recover(request)).toBeUndefined();
    expect(glue.commandCalls(GetJobRunsCommand).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      "page-2",
      "page-3",
    ]);

    glue.reset();
    glue
      .on(GetJobRunsCommand)
      .resolvesOnce({ JobRuns: [runOf("jr_1", specOf(request, { attempt: 2 }))], NextToken: "page-2" })
      .resolvesOnce({ JobRuns: [runOf("jr_mine", specOf(request))], NextToken: "page-3" });
    expect(await dispatcher.recover(request)).toEqual({ status: "RUNNING", handle: "jr_mine" });
    expect(glue.commandCalls(GetJobRunsCommand)).toHaveLength(2);
  });

  test("recover reads at most recoverPages pages (10 by default)", async () => {
    const request = joinedRequest();
    glue
      .on(GetJobRunsCommand)
      .resolves({ JobRuns: [runOf("jr_1", specOf(request, { attempt: 9 }))], NextToken: "more" });
    expect(await dispatcher.recover(request)).toBeUndefined();
    expect(glue.commandCalls(GetJobRunsCommand)).toHaveLength(10);
    glue.resetHistory();
    expect(
      await new GlueDispatcher({ client, appName: APP, recoverPages: 2 }).recover(request),
    ).toBeUndefined();
    expect(glue.commandCalls(GetJobRunsCommand)).toHaveLength(2);
  });

  test("recover: a spec written before targetIndex was sent matches by the target's kind and code", async () => {
    const request = joinedRequest();
    const { targetIndex: _omitted, ...legacy } = specOf(request);
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [runOf("jr_other_code", { ...legacy, code: "SELECT 2" }), runOf("jr_legacy", legacy)],
    });
    expect(await dispatcher.recover(request)).toEqual({ status: "RUNNING", handle: "jr_legacy" });
  });

  test("recover: an SDK error propagates (the router retries the recovery as a transient failure)", async () => {
    glue.on(GetJobRunsCommand).rejects(sdkError("ThrottlingException"));
    await expect(dispatcher.recover(joinedRequest())).rejects.toThrow("ThrottlingException happened");
  });
});

// ---------------------------------------------------------------- Athena

describe("AthenaDispatcher", () => {
  const client = new AthenaClient({ region: "us-east-1" });
  const athena = mockClient(client);
  const NOW = Date.parse("2024-05-08T03:00:00Z");
  const make = (model: FlowModel) =>
    new AthenaDispatcher({ client, appName: APP, nodes: model.nodes, now: () => NOW });
  beforeEach(() => {
    athena.reset();
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: "QUEUED", SubmissionDateTime: new Date(NOW + 100) } },
    });
  });

  const REPORT_EVENTS = { last3: { region: "NA", day: "2024-05-07" } };
  const reportRequest = (sql?: string, extra = {}) => {
    const model = flow({ ...(sql === undefined ? {} : { report: sql }) });
    return {
      model,
      request: requestFor(model, "report", REPORT_EVENTS, { executionId: "report-5e1f", ...extra }),
    };
  };

  test("UNLOAD with one CTE per input: ranges as IN lists, references narrowed by their paths, output path", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
    const { model, request } = reportRequest(undefined, {
      executionId: "report-0b6c9d3e-2f41-4c8e-9d1a-7e5f3a2b1c0d",
      attempt: 2,
    });
    expect(request.inputs.fx).toMatchObject({ dimensions: { currency: "EUR" } }); // only the first of the filter's values
    expect(await make(model).start(request)).toEqual({ status: "RUNNING", handle: "q-1" });
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(input).toEqual({
      QueryString: [
        "UNLOAD (",
        `WITH "last3" AS (SELECT * FROM "adpd_pipeline_sluice"."joined" WHERE "region" = 'NA' AND "day" IN ('2024-05-07', '2024-05-06', '2024-05-05')),`,
        `"cust" AS (SELECT * FROM "crm"."customers"),`,
        `"fx" AS (SELECT * FROM "adpd_pipeline_sluice"."fx" WHERE "currency" IN ('EUR', 'USD'))`,
        "SELECT l.region, count(*) AS n FROM last3 l JOIN fx ON l.ccy = fx.ccy GROUP BY 1",
        ") TO 's3://adpd-store/internal_data/report/NA/2024-05-07/' WITH (format = 'PARQUET')",
      ].join("\n"),
      WorkGroup: "adpd-pipeline-athena",
      QueryExecutionContext: { Database: "adpd_pipeline_sluice" },
      ClientRequestToken: "report-0b6c9d3e-2f41-4c8e-9d1a-7e5f3a2b1c0d-0-2",
    });
  });

  test("a glueTable input reads its own table; LONG values compare as numbers; database and workgroup props", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
    const model = flow();
    const base = requestFor(model, "joined", JOINED_EVENTS);
    const request: DispatchRequest = {
      ...base,
      target: { ...base.target, kind: "prestoSql", engine: "athena" },
    };
    const d = new AthenaDispatcher({
      client,
      appName: APP,
      nodes: model.nodes,
      database: "db2",
      workgroup: "wg2",
    });
    await d.start(request);
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(input?.QueryString).toBe(
      [
        "UNLOAD (",
        `WITH "events" AS (SELECT * FROM "db2"."events" WHERE "region" = 'NA' AND "day" = '2024-05-07'),`,
        `"customers" AS (SELECT * FROM "crm"."customers" WHERE "region_id" = 1)`,
        "SELECT e.* FROM events e JOIN customers c ON e.cid = c.cid",
        ") TO 's3://adpd-store/internal_data/joined/NA/2024-05-07/' WITH (format = 'PARQUET')",
      ].join("\n"),
    );
    expect(input).toMatchObject({ WorkGroup: "wg2", QueryExecutionContext: { Database: "db2" } });
  });

  test("an imported upstream data node reads the table synth registers under its local id", () => {
    const up = new Application("orders", { account: "444455556666", region: "us-east-1" });
    up.authorizeDownstream(APP, { account: "111122223333", region: "us-east-1" });
    const raw = up.s3Dataset("raw", {
      bucket: "raw-orders",
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
    });
    up.data("daily_orders", { inputs: [raw], compute: prestoSql("SELECT * FROM raw") });
    const app = new Application(APP, { account: "111122223333", region: "us-east-1" });
    const orders = app.importUpstream("orders", {
      account: "444455556666",
      region: "us-east-1",
      manifest: up.toModel(),
    });
    app.data("report", {
      inputs: { week: orders.node("daily_orders", "orders_daily").at("*", range(-2)) },
      compute: prestoSql("SELECT region, count(*) AS n FROM week GROUP BY 1"),
    });
    const model = app.toModel();
    const request = requestFor(model, "report", { week: { region: "NA", day: "2024-05-07" } });
    expect(request.inputs.week?.paths).toEqual([
      "s3://orders-444455556666-us-east-1/internal_data/daily_orders/NA/2024-05-07",
      "s3://orders-444455556666-us-east-1/internal_data/daily_orders/NA/2024-05-06",
    ]);
    expect(athenaQuery(request, model.nodes, "adpd_pipeline_sluice").split("\n").slice(0, 3)).toEqual([
      "UNLOAD (",
      `WITH "week" AS (SELECT * FROM "adpd_pipeline_sluice"."orders_daily" WHERE "region" = 'NA' AND "day" IN ('2024-05-07', '2024-05-06'))`,
      "SELECT region, count(*) AS n FROM week GROUP BY 1",
    ]);
  });

  test("the query's own WITH clause is merged; comments and semicolons around it are dropped", () => {
    const sql = [
      "-- weekly numbers",
      "/* recursive? no */ WITH RECURSIVE t(n) AS (SELECT 1), totals AS (SELECT region, count(*) AS n FROM last3 GROUP BY 1)",
      "SELECT * FROM totals WHERE region <> 'a;b' -- trailing ) comment",
      "; ",
    ].join("\n");
    const { model, request } = reportRequest(sql);
    const q = athenaQuery(request, model.nodes, "adpd_pipeline_sluice");
    expect(q.split("\n").slice(0, 6)).toEqual([
      "UNLOAD (",
      `WITH RECURSIVE "last3" AS (SELECT * FROM "adpd_pipeline_sluice"."joined" WHERE "region" = 'NA' AND "day" IN ('2024-05-07', '2024-05-06', '2024-05-05')),`,
      `"cust" AS (SELECT * FROM "crm"."customers"),`,
      `"fx" AS (SELECT * FROM "adpd_pipeline_sluice"."fx" WHERE "currency" IN ('EUR', 'USD')),`,
      "t(n) AS (SELECT 1), totals AS (SELECT region, count(*) AS n FROM last3 GROUP BY 1)",
      "SELECT * FROM totals WHERE region <> 'a;b'",
    ]);
    expect(q.split("\n").slice(6)).toEqual([
      ") TO 's3://adpd-store/internal_data/report/NA/2024-05-07/' WITH (format = 'PARQUET')",
    ]);
  });

  test("quotes in values, identifiers and the output path are escaped", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
    const model = flow();
    const request = requestFor(model, "by_site", { sites: { site: 'O\'Hare "T1"' } });
    await make(model).start(request);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.QueryString).toBe(
      [
        "UNLOAD (",
        `WITH "sites" AS (SELECT * FROM "adpd_pipeline_sluice"."sites" WHERE "site" = 'O''Hare "T1"')`,
        "SELECT * FROM sites",
        `) TO 's3://adpd-store/internal_data/by_site/O''Hare "T1"/' WITH (format = 'PARQUET')`,
      ].join("\n"),
    );
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });

  test("output formats map to UNLOAD formats", () => {
    const { model, request } = reportRequest();
    const q = (format: "csv" | "json" | "orc") =>
      athenaQuery({ ...request, output: { ...request.output, format } }, model.nodes, "d")
        .split("\n")
        .pop();
    expect(q("csv")).toMatch(/WITH \(format = 'TEXTFILE', field_delimiter = ','\)$/);
    expect(q("json")).toMatch(/WITH \(format = 'JSON'\)$/);
    expect(q("orc")).toMatch(/WITH \(format = 'ORC'\)$/);
  });

  test.each([
    ["SELECT 1; SELECT 2", "the SQL must be a single query (it contains several statements)"],
    ["SELECT 'open", "the SQL has an unterminated string literal"],
    ["SELECT 1 /* open", "the SQL has an unterminated /* comment"],
    ["  -- only a comment\n ;", "the prestoSql target has no SQL code"],
  ])("%j is refused without calling Athena", async (sql, message) => {
    const { model, request } = reportRequest(sql);
    expect(await make(model).start(request)).toEqual({
      status: "FAILED",
      transient: false,
      error: `prestoSql target 1 of node "report": ${message}`,
    });
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  test("ClientRequestToken: padded to 32, cut to 128, next in the chain when the token's query already failed", async () => {
    expect(athenaToken("r-1-0-1")).toBe("r-1-0-1-000000000000000000000000");
    expect(athenaToken("r-1-0-1")).toHaveLength(32);
    const long = athenaToken("x".repeat(200));
    expect(long).toHaveLength(128);
    expect(long).not.toBe(athenaToken(`${"x".repeat(199)}y`));

    athena.on(StartQueryExecutionCommand).callsFake((input: { ClientRequestToken: string }) => ({
      QueryExecutionId: input.ClientRequestToken.endsWith("-t2") ? "q-new" : "q-old",
    }));
    athena.on(GetQueryExecutionCommand, { QueryExecutionId: "q-old" }).resolves({
      QueryExecution: { Status: { State: "FAILED", SubmissionDateTime: new Date(NOW - 10 * 60_000) } },
    });
    const { model, request } = reportRequest(undefined, {
      executionId: "report-0b6c9d3e-2f41-4c8e-9d1a-7e5f3a2b1c0d",
    });
    expect(await make(model).start(request)).toEqual({ status: "RUNNING", handle: "q-new" });
    expect(
      athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ClientRequestToken),
    ).toEqual([
      "report-0b6c9d3e-2f41-4c8e-9d1a-7e5f3a2b1c0d-0-1",
      "report-0b6c9d3e-2f41-4c8e-9d1a-7e5f3a2b1c0d-0-1-t2",
    ]);
  });

  test("a query that failed right after this start is kept (polling reports it)", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: "FAILED", SubmissionDateTime: new Date(NOW + 50) } },
    });
    const { model, request } = reportRequest();
    expect(await make(model).start(request)).toEqual({ status: "RUNNING", handle: "q-1" });
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  test.each([
    ["TooManyRequestsException", true],
    ["InternalServerException", true],
    ["InvalidRequestException", false],
  ])("StartQueryExecution throwing %s: transient %s", async (name, transient) => {
    athena.on(StartQueryExecutionCommand).rejects(sdkError(name, "nope"));
    const { model, request } = reportRequest();
    expect(await make(model).start(request)).toEqual({
      status: "FAILED",
      transient,
      error: `prestoSql target 1 of node "report": Athena StartQueryExecution failed: ${name}: nope`,
    });
  });

  test.each([
    ["QUEUED", {}, { status: "RUNNING", handle: "q-1" }],
    ["RUNNING", {}, { status: "RUNNING", handle: "q-1" }],
    ["SUCCEEDED", {}, { status: "SUCCEEDED" }],
    [
      "FAILED",
      {
        StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved",
        AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false },
      },
      {
        status: "FAILED",
        transient: false,
        error: `prestoSql target 1 of node "report": Athena query q-1 ended FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved`,
      },
    ],
    [
      "FAILED",
      { StateChangeReason: "Query exhausted resources", AthenaError: { ErrorCategory: 2, Retryable: true } },
      {
        status: "FAILED",
        transient: true,
        error: `prestoSql target 1 of node "report": Athena query q-1 ended FAILED: Query exhausted resources`,
      },
    ],
    [
      "FAILED",
      { StateChangeReason: "Internal error", AthenaError: { ErrorCategory: 1 } },
      {
        status: "FAILED",
        transient: true,
        error: `prestoSql target 1 of node "report": Athena query q-1 ended FAILED: Internal error`,
      },
    ],
    [
      "FAILED",
      {
        StateChangeReason: "S3 Slow Down: Please reduce your request rate",
        AthenaError: { ErrorCategory: 3 },
      },
      {
        status: "FAILED",
        transient: true,
        error: `prestoSql target 1 of node "report": Athena query q-1 ended FAILED: S3 Slow Down: Please reduce your request rate`,
      },
    ],
    [
      "CANCELLED",
      { StateChangeReason: "Query cancelled by user" },
      {
        status: "FAILED",
        transient: false,
        error: `prestoSql target 1 of node "report": Athena query q-1 ended CANCELLED: Query cancelled by user`,
      },
    ],
  ])("GetQueryExecution %s %j", async (state, status, expected) => {
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: state as "FAILED", ...status } } });
    const { model, request } = reportRequest();
    expect(await make(model).poll("q-1", request)).toEqual(expected);
    expect(athena.commandCalls(GetQueryExecutionCommand)[0]?.args[0].input).toEqual({
      QueryExecutionId: "q-1",
    });
  });

  test("a throttled GetQueryExecution keeps polling", async () => {
    athena.on(GetQueryExecutionCommand).rejects(sdkError("TooManyRequestsException"));
    const { model, request } = reportRequest();
    expect(await make(model).poll("q-1", request)).toEqual({ status: "RUNNING", handle: "q-1" });
  });

  test("kill stops the query", async () => {
    athena.on(StopQueryExecutionCommand).resolves({});
    const { model } = reportRequest();
    await make(model).kill("q-1");
    expect(athena.commandCalls(StopQueryExecutionCommand)[0]?.args[0].input).toEqual({
      QueryExecutionId: "q-1",
    });
  });
});

// ---------------------------------------------------------------- EMR Serverless

describe("EmrServerlessDispatcher", () => {
  const client = new EMRServerlessClient({ region: "us-east-1" });
  const emr = mockClient(client);
  const dispatcher = new EmrServerlessDispatcher({
    client,
    applicationId: "00f1abc2def3",
    executionRoleArn: "arn:aws:iam::111122223333:role/adpd-pipeline-spark",
    entryPoint: "s3://adpd-store/sluice/driver.py",
  });
  beforeEach(() => {
    emr.reset();
    emr.on(GetServerlessJobRunCommand).resolves({
      jobRun: { state: "SUBMITTED", createdAt: new Date() } as never,
    });
  });
  const weeklyRequest = (params: ComputeParams = {}) =>
    requestFor(
      flow({ serverless: params }),
      "weekly",
      { last3: { region: "EU", day: "2024-05-07" } },
      {
        executionId: "weekly-7f0e2a1c-55aa-4b1e-8c33-0d9e8f7a6b5c",
      },
    );

  test("StartJobRun: driver entry point, spec argument, executor sizing then sparkArgs, token, name, timeout", async () => {
    emr
      .on(StartServerlessJobRunCommand)
      .resolves({ applicationId: "00f1abc2def3", jobRunId: "jr-9", arn: "arn" });
    const request = weeklyRequest({
      workers: 4,
      timeoutSeconds: 600,
      sparkArgs: { "--conf": "spark.sql.adaptive.enabled=true" },
    });
    expect(await dispatcher.start(request)).toEqual({ status: "RUNNING", handle: "00f1abc2def3/jr-9" });
    const input = emr.commandCalls(StartServerlessJobRunCommand)[0]?.args[0].input;
    const encoded = input?.jobDriver?.sparkSubmit?.entryPointArguments?.[1] as string;
    expect(input).toEqual({
      applicationId: "00f1abc2def3",
      executionRoleArn: "arn:aws:iam::111122223333:role/adpd-pipeline-spark",
      clientToken: "weekly-7f0e2a1c-55aa-4b1e-8c33-0d9e8f7a6b5c-0-1",
      name: "weekly-7f0e2a1c-55aa-4b1e-8c33-0d9e8f7a6b5c-0-1",
      jobDriver: {
        sparkSubmit: {
          entryPoint: "s3://adpd-store/sluice/driver.py",
          entryPointArguments: ["--sluice_spec", encoded],
          sparkSubmitParameters:
            "--conf spark.executor.instances=4 --conf spark.dynamicAllocation.maxExecutors=4 --conf spark.sql.adaptive.enabled=true",
        },
      },
      executionTimeoutMinutes: 10,
    });
    expect(decodeSparkJobSpec(encoded)).toMatchObject({
      node: "weekly",
      kind: "pySpark",
      inputs: {
        last3: {
          node: "joined",
          paths: [
            "s3://adpd-store/internal_data/joined/EU/2024-05-07",
            "s3://adpd-store/internal_data/joined/EU/2024-05-06",
            "s3://adpd-store/internal_data/joined/EU/2024-05-05",
          ],
          format: "parquet",
          dimensions: { region: "EU", day: "2024-05-07" },
        },
      },
      output: { path: "s3://adpd-store/internal_data/weekly/EU/2024-05-07" },
    });
  });

  test("no sizing, no sparkArgs: no sparkSubmitParameters; instanceCount counts the driver", async () => {
    emr
      .on(StartServerlessJobRunCommand)
      .resolves({ applicationId: "00f1abc2def3", jobRunId: "jr-9", arn: "arn" });
    await dispatcher.start(weeklyRequest());
    const input = emr.commandCalls(StartServerlessJobRunCommand)[0]?.args[0].input;
    expect(input?.jobDriver?.sparkSubmit).not.toHaveProperty("sparkSubmitParameters");
    expect(input).not.toHaveProperty("executionTimeoutMinutes");
    expect(sparkSubmitParameters({ emr: { serverless: true, instanceCount: 5 } })).toBe(
      "--conf spark.executor.instances=4 --conf spark.dynamicAllocation.maxExecutors=4",
    );
    expect(sparkSubmitParameters({ sparkArgs: { "--verbose": "", "--conf": "a=b" } })).toBe(
      "--verbose --conf a=b",
    );
  });

  test.each([
    ["ServiceQuotaExceededException", true],
    ["InternalServerException", true],
    ["ValidationException", false],
    ["ResourceNotFoundException", false],
  ])("StartJobRun throwing %s: transient %s", async (name, transient) => {
    emr.on(StartServerlessJobRunCommand).rejects(sdkError(name, "no"));
    expect(await dispatcher.start(weeklyRequest())).toEqual({
      status: "FAILED",
      transient,
      error: `pySpark target 1 of node "weekly": EMR Serverless StartJobRun failed: ${name}: no`,
    });
  });

  test.each([
    ["SUBMITTED", "", { status: "RUNNING", handle: "00f1abc2def3/jr-9" }],
    ["PENDING", "", { status: "RUNNING", handle: "00f1abc2def3/jr-9" }],
    ["SCHEDULED", "", { status: "RUNNING", handle: "00f1abc2def3/jr-9" }],
    ["RUNNING", "", { status: "RUNNING", handle: "00f1abc2def3/jr-9" }],
    ["QUEUED", "", { status: "RUNNING", handle: "00f1abc2def3/jr-9" }],
    ["SUCCESS", "", { status: "SUCCEEDED" }],
    [
      "FAILED",
      "Job failed, please check complete logs in configured logging destination. ExitCode: 1. Last few exceptions: NameError: name 'last4' is not defined",
      {
        status: "FAILED",
        transient: false,
        error:
          "pySpark target 1 of node \"weekly\": EMR Serverless job run 00f1abc2def3/jr-9 ended FAILED: Job failed, please check complete logs in configured logging destination. ExitCode: 1. Last few exceptions: NameError: name 'last4' is not defined",
      },
    ],
    [
      "FAILED",
      "Application 00f1abc2def3 has reached its maximum capacity",
      {
        status: "FAILED",
        transient: true,
        error:
          'pySpark target 1 of node "weekly": EMR Serverless job run 00f1abc2def3/jr-9 ended FAILED: Application 00f1abc2def3 has reached its maximum capacity',
      },
    ],
    [
      "CANCELLED",
      "Job run cancelled by user",
      {
        status: "FAILED",
        transient: false,
        error:
          'pySpark target 1 of node "weekly": EMR Serverless job run 00f1abc2def3/jr-9 ended CANCELLED: Job run cancelled by user',
      },
    ],
  ])("GetJobRun %s", async (state, details, expected) => {
    emr.on(GetServerlessJobRunCommand).resolves({ jobRun: { state, stateDetails: details } as never });
    expect(await dispatcher.poll("00f1abc2def3/jr-9", weeklyRequest())).toEqual(expected);
    expect(emr.commandCalls(GetServerlessJobRunCommand)[0]?.args[0].input).toEqual({
      applicationId: "00f1abc2def3",
      jobRunId: "jr-9",
    });
  });

  test("kill cancels the run; a run that already ended is fine", async () => {
    emr.on(CancelJobRunCommand).resolves({ applicationId: "00f1abc2def3", jobRunId: "jr-9" });
    await dispatcher.kill("00f1abc2def3/jr-9", weeklyRequest());
    expect(emr.commandCalls(CancelJobRunCommand)[0]?.args[0].input).toEqual({
      applicationId: "00f1abc2def3",
      jobRunId: "jr-9",
    });
    emr.on(CancelJobRunCommand).rejects(sdkError("ValidationException", "already SUCCESS"));
    emr.on(GetServerlessJobRunCommand).resolves({ jobRun: { state: "SUCCESS" } as never });
    await expect(dispatcher.kill("00f1abc2def3/jr-9", weeklyRequest())).resolves.toBeUndefined();
    emr.on(GetServerlessJobRunCommand).resolves({ jobRun: { state: "RUNNING" } as never });
    await expect(dispatcher.kill("00f1abc2def3/jr-9", weeklyRequest())).rejects.toThrow("already SUCCESS");
  });
});

// ---------------------------------------------------------------- EMR on EC2

describe("EmrDispatcher", () => {
  const client = new EMRClient({ region: "us-east-1" });
  const emr = mockClient(client);
  const dispatcher = new EmrDispatcher({
    client,
    serviceRole: "adpd-pipeline-emr-service",
    jobFlowRole: "adpd-pipeline-emr-ec2",
    logUri: "s3://adpd-store/emr-logs/",
    driverScript: "s3://adpd-store/sluice/driver.py",
    sleep: async () => undefined,
  });
  beforeEach(() => emr.reset());
  const STEP_NAME = "sluice-emr_daily-1c2d3e4f-0-1";
  const emrRequest = (params: ComputeParams = {}) =>
    requestFor(
      flow({ emr: params }),
      "emr_daily",
      { joined: JOINED_OUT },
      { executionId: "emr_daily-1c2d3e4f" },
    );

  function stepOf(encodedArgs: readonly string[] | undefined, sparkArgs: string[] = []) {
    return {
      Name: STEP_NAME,
      HadoopJarStep: {
        Jar: "command-runner.jar",
        Args: [
          "spark-submit",
          "--deploy-mode",
          "cluster",
          ...sparkArgs,
          "s3://adpd-store/sluice/driver.py",
          "--sluice_spec",
          encodedArgs?.[encodedArgs.length - 1],
        ],
      },
    };
  }

  test("an existing cluster gets a step: spark-submit of the driver with the spec", async () => {
    emr.on(AddJobFlowStepsCommand).resolves({ StepIds: ["s-ABC"] });
    const request = emrRequest({
      emr: { clusterId: "j-LONGRUNNING" },
      sparkArgs: { "--executor-memory": "8g" },
    });
    expect(await dispatcher.start(request)).toEqual({ status: "RUNNING", handle: "j-LONGRUNNING/s-ABC" });
    const input = emr.commandCalls(AddJobFlowStepsCommand)[0]?.args[0].input;
    const args = input?.Steps?.[0]?.HadoopJarStep?.Args;
    expect(input).toEqual({
      JobFlowId: "j-LONGRUNNING",
      Steps: [{ ...stepOf(args, ["--executor-memory", "8g"]), ActionOnFailure: "CONTINUE" }],
    });
    expect(decodeSparkJobSpec(args?.[args.length - 1] as string)).toMatchObject({
      node: "emr_daily",
      kind: "sparkSql",
      code: "SELECT * FROM joined",
      inputs: { joined: { paths: ["s3://adpd-store/internal_data/joined/NA/2024-05-07"] } },
    });
    expect(emr.commandCalls(RunJobFlowCommand)).toHaveLength(0);
  });

  test("without a cluster: a transient cluster with the step, its id from ListSteps", async () => {
    emr.on(RunJobFlowCommand).resolves({ JobFlowId: "j-NEW" });
    emr.on(ListStepsCommand).resolves({
      Steps: [
        { Id: "s-OTHER", Name: "other" },
        { Id: "s-1", Name: STEP_NAME },
      ],
    });
    const request = emrRequest({
      workers: 5,
      emr: { instanceType: "r5.2xlarge", releaseLabel: "emr-7.2.0" },
    });
    expect(await dispatcher.start(request)).toEqual({ status: "RUNNING", handle: "j-NEW/s-1" });
    const input = emr.commandCalls(RunJobFlowCommand)[0]?.args[0].input;
    const args = input?.Steps?.[0]?.HadoopJarStep?.Args;
    expect(input).toEqual({
      Name: STEP_NAME,
      ReleaseLabel: "emr-7.2.0",
      Applications: [{ Name: "Spark" }],
      ServiceRole: "adpd-pipeline-emr-service",
      JobFlowRole: "adpd-pipeline-emr-ec2",
      LogUri: "s3://adpd-store/emr-logs/",
      Instances: {
        MasterInstanceType: "r5.2xlarge",
        SlaveInstanceType: "r5.2xlarge",
        InstanceCount: 6,
        KeepJobFlowAliveWhenNoSteps: false,
        TerminationProtected: false,
      },
      Steps: [{ ...stepOf(args), ActionOnFailure: "TERMINATE_CLUSTER" }],
      VisibleToAllUsers: true,
      // AmazonEMRServicePolicy_v2 starts only clusters that carry this tag.
      Tags: [{ Key: "for-use-with-amazon-emr-managed-policies", Value: "true" }],
    });
    expect(emr.commandCalls(ListStepsCommand)[0]?.args[0].input).toEqual({ ClusterId: "j-NEW" });
  });

  test("transient cluster defaults: emr-7.1.0, m5.xlarge, 1 master + 2 core", async () => {
    emr.on(RunJobFlowCommand).resolves({ JobFlowId: "j-NEW" });
    emr.on(ListStepsCommand).resolves({ Steps: [{ Id: "s-1", Name: STEP_NAME }] });
    await dispatcher.start(emrRequest({ emr: { masterInstanceType: "m5.large" } }));
    const input = emr.commandCalls(RunJobFlowCommand)[0]?.args[0].input;
    expect(input?.ReleaseLabel).toBe("emr-7.1.0");
    expect(input?.Instances).toEqual({
      MasterInstanceType: "m5.large",
      SlaveInstanceType: "m5.xlarge",
      InstanceCount: 3,
      KeepJobFlowAliveWhenNoSteps: false,
      TerminationProtected: false,
    });
  });

  test("a step id not listed yet: the handle waits for it and poll finds it by name", async () => {
    emr.on(RunJobFlowCommand).resolves({ JobFlowId: "j-NEW" });
    emr.on(ListStepsCommand).rejectsOnce(sdkError("ThrottlingException")).resolves({ Steps: [] });
    const request = emrRequest();
    expect(await dispatcher.start(request)).toEqual({ status: "RUNNING", handle: "j-NEW/" });
    expect(emr.commandCalls(ListStepsCommand)).toHaveLength(3);

    emr
      .on(DescribeClusterCommand)
      .resolves({ Cluster: { Id: "j-NEW", Status: { State: "STARTING" } } as never });
    expect(await dispatcher.poll("j-NEW/", request)).toEqual({ status: "RUNNING", handle: "j-NEW/" });

    emr.on(ListStepsCommand).resolves({ Steps: [{ Id: "s-1", Name: STEP_NAME }] });
    emr.on(DescribeStepCommand).resolves({ Step: { Id: "s-1", Status: { State: "COMPLETED" } } });
    expect(await dispatcher.poll("j-NEW/", request)).toEqual({ status: "SUCCEEDED" });
    expect(emr.commandCalls(DescribeStepCommand)[0]?.args[0].input).toEqual({
      ClusterId: "j-NEW",
      StepId: "s-1",
    });
  });

  test.each([
    ["PENDING", { status: "RUNNING", handle: "j-1/s-1" }],
    ["RUNNING", { status: "RUNNING", handle: "j-1/s-1" }],
    ["CANCEL_PENDING", { status: "RUNNING", handle: "j-1/s-1" }],
    ["COMPLETED", { status: "SUCCEEDED" }],
  ])("DescribeStep %s", async (state, expected) => {
    emr.on(DescribeStepCommand).resolves({ Step: { Status: { State: state as "RUNNING" } } });
    expect(await dispatcher.poll("j-1/s-1", emrRequest({ emr: { clusterId: "j-1" } }))).toEqual(expected);
  });

  test("a failed step reports its failure details, a user error", async () => {
    emr.on(DescribeStepCommand).resolves({
      Step: {
        Status: {
          State: "FAILED",
          FailureDetails: {
            Reason: "Unknown Error",
            Message: "org.apache.spark.sql.AnalysisException: Table or view not found: joind",
            LogFile: "s3://adpd-store/emr-logs/j-1/steps/s-1/stderr.gz",
          },
        },
      },
    });
    expect(await dispatcher.poll("j-1/s-1", emrRequest({ emr: { clusterId: "j-1" } }))).toEqual({
      status: "FAILED",
      transient: false,
      error:
        'sparkSql target 1 of node "emr_daily": EMR step s-1 on cluster j-1 ended FAILED: Unknown Error: org.apache.spark.sql.AnalysisException: Table or view not found: joind (log s3://adpd-store/emr-logs/j-1/steps/s-1/stderr.gz)',
    });
    expect(emr.commandCalls(DescribeClusterCommand)).toHaveLength(0);
  });

  test("a cancelled step on a cluster lost to an AWS-side error is transient; capacity messages too", async () => {
    emr.on(DescribeStepCommand).resolves({ Step: { Status: { State: "CANCELLED" } } });
    emr.on(DescribeClusterCommand).resolves({
      Cluster: {
        Id: "j-1",
        Status: {
          State: "TERMINATED_WITH_ERRORS",
          StateChangeReason: {
            Code: "INTERNAL_ERROR",
            Message: "Failed to start the job flow due to an internal error",
          },
        },
      } as never,
    });
    expect(await dispatcher.poll("j-1/s-1", emrRequest())).toEqual({
      status: "FAILED",
      transient: true,
      error:
        'sparkSql target 1 of node "emr_daily": EMR step s-1 on cluster j-1 ended CANCELLED; cluster j-1 TERMINATED_WITH_ERRORS: INTERNAL_ERROR: Failed to start the job flow due to an internal error',
    });

    emr.on(DescribeClusterCommand).resolves({
      Cluster: {
        Id: "j-1",
        Status: {
          State: "TERMINATED_WITH_ERRORS",
          StateChangeReason: {
            Code: "VALIDATION_ERROR",
            Message: "The requested instance type r5.2xlarge is not available: InsufficientInstanceCapacity",
          },
        },
      } as never,
    });
    expect(await dispatcher.poll("j-1/s-1", emrRequest())).toMatchObject({
      status: "FAILED",
      transient: true,
    });

    emr.on(DescribeClusterCommand).resolves({
      Cluster: {
        Id: "j-1",
        Status: {
          State: "TERMINATED_WITH_ERRORS",
          StateChangeReason: { Code: "BOOTSTRAP_FAILURE", Message: "bootstrap action 1 failed" },
        },
      } as never,
    });
    expect(await dispatcher.poll("j-1/s-1", emrRequest())).toMatchObject({
      status: "FAILED",
      transient: false,
    });
  });

  test.each([
    ["InternalServerError", true],
    ["InternalServerException", true],
    ["ThrottlingException", true],
    ["InvalidRequestException", false],
    ["ValidationException", false],
  ])("RunJobFlow / AddJobFlowSteps throwing %s: transient %s", async (name, transient) => {
    emr.on(RunJobFlowCommand).rejects(sdkError(name, "no"));
    emr.on(AddJobFlowStepsCommand).rejects(sdkError(name, "no"));
    expect(await dispatcher.start(emrRequest())).toEqual({
      status: "FAILED",
      transient,
      error: `sparkSql target 1 of node "emr_daily": EMR RunJobFlow failed: ${name}: no`,
    });
    expect(await dispatcher.start(emrRequest({ emr: { clusterId: "j-1" } }))).toEqual({
      status: "FAILED",
      transient,
      error: `sparkSql target 1 of node "emr_daily": EMR AddJobFlowSteps failed: ${name}: no`,
    });
  });

  test("kill cancels the step; a transient cluster is terminated as well", async () => {
    emr.on(CancelStepsCommand).resolves({ CancelStepsInfoList: [{ StepId: "s-1", Status: "SUBMITTED" }] });
    emr.on(TerminateJobFlowsCommand).resolves({});
    await dispatcher.kill("j-1/s-1", emrRequest({ emr: { clusterId: "j-1" } }));
    expect(emr.commandCalls(CancelStepsCommand)[0]?.args[0].input).toEqual({
      ClusterId: "j-1",
      StepIds: ["s-1"],
      StepCancellationOption: "SEND_INTERRUPT",
    });
    expect(emr.commandCalls(TerminateJobFlowsCommand)).toHaveLength(0);

    emr.resetHistory();
    await dispatcher.kill("j-NEW/s-1", emrRequest());
    expect(emr.commandCalls(CancelStepsCommand)).toHaveLength(1);
    expect(emr.commandCalls(TerminateJobFlowsCommand)[0]?.args[0].input).toEqual({ JobFlowIds: ["j-NEW"] });
  });

  test("kill of a step that already ended is fine; one still running that cannot be cancelled is an error", async () => {
    emr.on(CancelStepsCommand).resolves({
      CancelStepsInfoList: [{ StepId: "s-1", Status: "FAILED", Reason: "step is not cancellable" }],
    });
    emr
      .on(DescribeStepCommand)
      .resolvesOnce({ Step: { Status: { State: "COMPLETED" } } })
      .resolves({
        Step: { Status: { State: "RUNNING" } },
      });
    const request = emrRequest({ emr: { clusterId: "j-1" } });
    await expect(dispatcher.kill("j-1/s-1", request)).resolves.toBeUndefined();
    await expect(dispatcher.kill("j-1/s-1", request)).rejects.toThrow(
      'sparkSql target 1 of node "emr_daily": EMR CancelSteps of s-1 on j-1 failed: step is not cancellable',
    );
  });

  test("the step's strings are limited to 10240 characters", async () => {
    const base = emrRequest({ emr: { clusterId: "j-1" } });
    const code = `SELECT '${"x".repeat(EMR_STEP_LIMIT_CHARS)}'`;
    const r = await dispatcher.start({ ...base, target: { ...base.target, code } });
    expect(r).toMatchObject({ status: "FAILED", transient: false });
    expect(r.status === "FAILED" && r.error).toMatch(
      /the job spec does not fit: the EMR step's HadoopJarStep strings take \d+ characters with the base64-encoded --sluice_spec, over the limit of 10240 characters/,
    );
    expect(emr.calls()).toHaveLength(0);
  });

  // ---------------------------------------------------------------- EMR crash recovery

  test("recover on a cluster: the step named after the execution, target and attempt", async () => {
    emr.on(ListStepsCommand).resolves({
      Steps: [
        { Id: "s-ATTEMPT2", Name: "sluice-emr_daily-1c2d3e4f-0-2" },
        { Id: "s-TARGET2", Name: "sluice-emr_daily-1c2d3e4f-1-1" },
        { Id: "s-OTHER", Name: "sluice-emr_daily-99999999-0-1" },
        { Id: "s-MINE", Name: STEP_NAME, Status: { State: "RUNNING" } },
        { Id: "s-MINE-OLDER", Name: STEP_NAME },
      ],
    });
    const request = emrRequest({ emr: { clusterId: "j-LONGRUNNING" } });
    expect(dispatcher.stepName(request)).toBe(STEP_NAME);
    expect(await dispatcher.recover(request)).toEqual({ status: "RUNNING", handle: "j-LONGRUNNING/s-MINE" });
    expect(emr.commandCalls(ListStepsCommand).map((c) => c.args[0].input)).toEqual([
      { ClusterId: "j-LONGRUNNING" },
    ]);
    expect(emr.commandCalls(ListClustersCommand)).toHaveLength(0);
    expect(emr.commandCalls(AddJobFlowStepsCommand)).toHaveLength(0);
  });

  test("recover on a cluster: pages through Marker; undefined when no step of the attempt; at most recoverPages", async () => {
    const request = emrRequest({ emr: { clusterId: "j-1" } });
    emr
      .on(ListStepsCommand)
      .resolvesOnce({ Steps: [{ Id: "s-1", Name: "sluice-emr_daily-1c2d3e4f-0-2" }], Marker: "m2" })
      .resolvesOnce({ Steps: [{ Id: "s-0", Name: "other" }] });
    expect(await dispatcher.recover(request)).toBeUndefined();
    expect(emr.commandCalls(ListStepsCommand).map((c) => c.args[0].input)).toEqual([
      { ClusterId: "j-1" },
      { ClusterId: "j-1", Marker: "m2" },
    ]);

    emr.reset();
    emr
      .on(ListStepsCommand)
      .resolvesOnce({ Steps: [{ Id: "s-2", Name: "other" }], Marker: "m2" })
      .resolvesOnce({ Steps: [{ Id: "s-MINE", Name: STEP_NAME }], Marker: "m3" });
    expect(await dispatcher.recover(request)).toEqual({ status: "RUNNING", handle: "j-1/s-MINE" });

    emr.reset();
    emr.on(ListStepsCommand).resolves({ Steps: [{ Id: "s-2", Name: "other" }], Marker: "more" });
    const bounded = new EmrDispatcher({
      client,
      serviceRole: "r",
      jobFlowRole: "p",
      driverScript: "s3://d/driver.py",
      recoverPages: 3,
    });
    expect(await bounded.recover(request)).toBeUndefined();
    expect(emr.commandCalls(ListStepsCommand)).toHaveLength(3);
  });

  test("recover without a cluster: the transient cluster of that name among the active ones, then its step", async () => {
    emr
      .on(ListClustersCommand)
      .resolvesOnce({
        Clusters: [
          { Id: "j-OTHER", Name: "sluice-emr_daily-1c2d3e4f-0-2" },
          { Id: "j-ELSE", Name: "someone-elses-cluster" },
        ],
        Marker: "c2",
      })
      .resolvesOnce({ Clusters: [{ Id: "j-MINE", Name: STEP_NAME, Status: { State: "BOOTSTRAPPING" } }] });
    emr.on(ListStepsCommand).resolves({ Steps: [{ Id: "s-1", Name: STEP_NAME }] });
    expect(await dispatcher.recover(emrRequest())).toEqual({ status: "RUNNING", handle: "j-MINE/s-1" });
    const states = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"];
    expect(emr.commandCalls(ListClustersCommand).map((c) => c.args[0].input)).toEqual([
      { ClusterStates: states },
      { ClusterStates: states, Marker: "c2" },
    ]);
    expect(emr.commandCalls(ListStepsCommand)[0]?.args[0].input).toEqual({ ClusterId: "j-MINE" });
    expect(emr.commandCalls(RunJobFlowCommand)).toHaveLength(0);
  });

  test("recover without a cluster: a cluster whose step is not listed (or not listable) yet is still the attempt's", async () => {
    emr.on(ListClustersCommand).resolves({ Clusters: [{ Id: "j-MINE", Name: STEP_NAME }] });
    emr.on(ListStepsCommand).resolvesOnce({ Steps: [] }).rejectsOnce(sdkError("ThrottlingException"));
    expect(await dispatcher.recover(emrRequest())).toEqual({ status: "RUNNING", handle: "j-MINE/" });
    expect(await dispatcher.recover(emrRequest())).toEqual({ status: "RUNNING", handle: "j-MINE/" });
  });

  test("recover without a cluster: undefined when no active cluster has the name; SDK errors propagate", async () => {
    emr
      .on(ListClustersCommand)
      .resolves({ Clusters: [{ Id: "j-ELSE", Name: "sluice-emr_daily-1c2d3e4f-0-2" }] });
    expect(await dispatcher.recover(emrRequest())).toBeUndefined();
    expect(emr.commandCalls(ListStepsCommand)).toHaveLength(0);
    emr.on(ListClustersCommand).rejects(sdkError("ThrottlingException"));
    await expect(dispatcher.recover(emrRequest())).rejects.toThrow("ThrottlingException happened");
  });
});

// ---------------------------------------------------------------- classification helpers

describe("error classification", () => {
  test("SDK metadata and network errors", () => {
    expect(isTransientError(Object.assign(new Error("x"), { name: "SomethingNew", $fault: "server" }))).toBe(
      true,
    );
    expect(isTransientError(Object.assign(new Error("x"), { name: "SomethingNew", $retryable: {} }))).toBe(
      true,
    );
    expect(isTransientError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
    expect(
      isTransientError(Object.assign(new Error("x"), { name: "AccessDeniedException", $fault: "client" })),
    ).toBe(false);
    expect(isTransientError("a string")).toBe(false);
  });

  test("capacity messages", () => {
    for (const m of [
      "Rate exceeded",
      "Resource unavailable",
      "Failed to provision",
      "InsufficientInstanceCapacity",
    ]) {
      expect(isCapacityMessage(m)).toBe(true);
    }
    expect(isCapacityMessage("NameError: name 'x' is not defined")).toBe(false);
    expect(isCapacityMessage(undefined)).toBe(false);
  });
});
