/**
 * Runs sparkSql / pySpark targets as Glue job runs. Synth creates one Glue job per (language, Glue
 * version) whose script is the Sluice driver; a run passes the job spec in `--sluice_spec`.
 *
 * start → StartJobRun (handle = JobRunId); poll → GetJobRun; kill → BatchStopJobRun; recover →
 * GetJobRuns, the run whose spec names the request's execution, target and attempt.
 */
import {
  BatchStopJobRunCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  StartJobRunCommand,
  type GlueClient,
  type JobRun,
  type StartJobRunCommandInput,
  type WorkerType,
} from "@aws-sdk/client-glue";
import { resourceNames } from "../../../flow/model/resource-names";
import type { DispatchRequest, DispatchResult, Dispatcher } from "../../core/dispatcher";
import { failed, isCapacityMessage, pollFailure, sdkFailure, targetLabel } from "./errors";
import {
  decodeSparkJobSpec,
  encodeSparkJobSpec,
  oversizeMessage,
  startableSpec,
  SPEC_ARGUMENT,
  utf8Bytes,
  type SparkJobSpec,
} from "./spark-job-spec";

/**
 * Total size of a Glue job run's Arguments (keys and values, UTF-8) that Sluice allows. No limit of
 * StartJobRun Arguments was found in the AWS documentation; 250 KB is a conservative assumption, not
 * an AWS figure (override it with `argumentsLimitBytes`).
 */
export const GLUE_ARGUMENTS_LIMIT_BYTES = 250 * 1024;

export const DEFAULT_GLUE_VERSION = "4.0";

/** Runs per GetJobRuns page (the API's maximum). */
export const GLUE_JOB_RUNS_PAGE = 200;
export const DEFAULT_GLUE_RECOVER_PAGES = 10;

export interface GlueDispatcherProps {
  readonly client: GlueClient;
  /** Application name: the Glue jobs are `resourceNames.glueJob(appName, …)`. */
  readonly appName: string;
  /** Limit of the run's Arguments in bytes. @default GLUE_ARGUMENTS_LIMIT_BYTES */
  readonly argumentsLimitBytes?: number;
  /**
   * GetJobRuns pages (of GLUE_JOB_RUNS_PAGE runs, newest first) that `recover` looks through before it
   * concludes that the attempt never started. @default DEFAULT_GLUE_RECOVER_PAGES
   */
  readonly recoverPages?: number;
}

const RUNNING_STATES: ReadonlySet<string> = new Set(["STARTING", "RUNNING", "WAITING", "STOPPING"]);

export class GlueDispatcher implements Dispatcher {
  constructor(private readonly props: GlueDispatcherProps) {}

  /** The Glue job that runs a target: one per language and Glue version. */
  jobName(request: DispatchRequest): string {
    const language = request.target.kind === "sparkSql" ? "sql" : "python";
    return resourceNames.glueJob(
      this.props.appName,
      language,
      request.target.params.glueVersion ?? DEFAULT_GLUE_VERSION,
    );
  }

  async start(request: DispatchRequest): Promise<DispatchResult> {
    const label = targetLabel(request);
    const spec = startableSpec(request);
    if (typeof spec === "string") return failed(`${label}: ${spec}`);
    const params = request.target.params;

    const args: Record<string, string> = {
      [SPEC_ARGUMENT]: encodeSparkJobSpec(spec),
      "--enable-glue-datacatalog": "true",
      ...params.sparkArgs,
    };
    const size = Object.entries(args).reduce((n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v), 0);
    const limit = this.props.argumentsLimitBytes ?? GLUE_ARGUMENTS_LIMIT_BYTES;
    const oversize = oversizeMessage("the Glue job run arguments", size, limit, "bytes");
    if (oversize !== undefined) return failed(`${label}: ${oversize}`);

    const input: StartJobRunCommandInput = {
      JobName: this.jobName(request),
      Arguments: args,
      ...(params.workerType === undefined ? {} : { WorkerType: params.workerType as WorkerType }),
      ...(params.workers === undefined ? {} : { NumberOfWorkers: params.workers }),
      ...(params.timeoutSeconds === undefined ? {} : { Timeout: Math.ceil(params.timeoutSeconds / 60) }),
    };
    let runId: string | undefined;
    try {
      runId = (await this.props.client.send(new StartJobRunCommand(input))).JobRunId;
    } catch (e) {
      return sdkFailure(request, "Glue StartJobRun", e);
    }
    if (runId === undefined || runId === "") {
      return failed(`${label}: Glue StartJobRun returned no JobRunId`, true);
    }
    return { status: "RUNNING", handle: runId };
  }

  async poll(handle: string, request: DispatchRequest): Promise<DispatchResult> {
    let run;
    try {
      run = (
        await this.props.client.send(
          new GetJobRunCommand({
            JobName: this.jobName(request),
            RunId: handle,
            PredecessorsIncluded: false,
          }),
        )
      ).JobRun;
    } catch (e) {
      return pollFailure(request, handle, "Glue GetJobRun", e);
    }
    return runResult(run, handle, request);
  }

  /**
   * The run that a start of this request (same execution, target and attempt) created before its
   * invocation died: the job's runs are read newest first (GetJobRuns, at most `recoverPages` pages)
   * and the first whose `--sluice_spec` names the request's execution, target and attempt is the one.
   * Its state as poll reports it (RUNNING with its run id while it runs), or undefined when no run of
   * that attempt is among them. SDK errors propagate.
   */
  async recover(request: DispatchRequest): Promise<DispatchResult | undefined> {
    const jobName = this.jobName(request);
    const pages = Math.max(1, this.props.recoverPages ?? DEFAULT_GLUE_RECOVER_PAGES);
    let token: string | undefined;
    for (let page = 0; page < pages; page++) {
      const out = await this.props.client.send(
        new GetJobRunsCommand({
          JobName: jobName,
          MaxResults: GLUE_JOB_RUNS_PAGE,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      const run = out.JobRuns?.find((r) => r.Id !== undefined && r.Id !== "" && isRunOf(r, request));
      if (run !== undefined) return runResult(run, run.Id as string, request);
      token = out.NextToken;
      if (token === undefined || token === "") return undefined;
    }
    return undefined;
  }

  async kill(handle: string, request: DispatchRequest): Promise<void> {
    const jobName = this.jobName(request);
    const out = await this.props.client.send(
      new BatchStopJobRunCommand({ JobName: jobName, JobRunIds: [handle] }),
    );
    const problem = out.Errors?.find((e) => e.JobRunId === handle || e.JobRunId === undefined);
    if (problem === undefined) return;
    // A run that has already ended cannot be stopped: nothing to do.
    const run = (await this.props.client.send(new GetJobRunCommand({ JobName: jobName, RunId: handle })))
      .JobRun;
    if (run?.JobRunState !== undefined && !RUNNING_STATES.has(run.JobRunState)) return;
    throw new Error(
      `${targetLabel(request)}: Glue BatchStopJobRun of ${handle} failed: ${problem.ErrorDetail?.ErrorCode ?? "error"}: ${
        problem.ErrorDetail?.ErrorMessage ?? "no message"
      }`,
    );
  }
}

/** A Glue job run's state as a dispatch result. */
function runResult(run: JobRun | undefined, handle: string, request: DispatchRequest): DispatchResult {
  const state = run?.JobRunState ?? "";
  if (RUNNING_STATES.has(state)) return { status: "RUNNING", handle };
  if (state === "SUCCEEDED") return { status: "SUCCEEDED" };
  const detail = run?.ErrorMessage ?? "";
  const error = `${targetLabel(request)}: Glue job run ${handle} ended ${state || "in an unknown state"}${
    detail === "" ? "" : `: ${detail}`
  }`;
  // EXPIRED: the run waited in Glue's queue past its time to live, a capacity condition.
  // STOPPED (killed) and TIMEOUT (the target's own timeoutSeconds) are not worth retrying as transient.
  const transient =
    state === "EXPIRED" || ((state === "FAILED" || state === "ERROR") && isCapacityMessage(detail));
  return failed(error, transient);
}

/** True when a run's `--sluice_spec` is that of the request's execution, target and attempt. */
function isRunOf(run: JobRun, request: DispatchRequest): boolean {
  const encoded = run.Arguments?.[SPEC_ARGUMENT];
  if (encoded === undefined) return false;
  let spec: Partial<SparkJobSpec>;
  try {
    spec = decodeSparkJobSpec(encoded);
  } catch {
    return false; // not a run Sluice started
  }
  if (spec.executionId !== request.executionId || spec.attempt !== request.attempt) return false;
  // A spec written before it carried targetIndex: the target by its kind and code.
  if (spec.targetIndex === undefined) {
    return spec.kind === request.target.kind && spec.code === request.target.code;
  }
  return spec.targetIndex === request.targetIndex;
}
