/**
 * Runs sparkSql / pySpark targets as EMR Serverless job runs of the application's Spark application:
 * the Sluice driver script is the entry point, the job spec its `--sluice_spec` argument.
 *
 * start → StartJobRun (handle = `<applicationId>/<jobRunId>`); poll → GetJobRun; kill → CancelJobRun.
 */
import {
  CancelJobRunCommand,
  GetJobRunCommand,
  StartJobRunCommand,
  type EMRServerlessClient,
  type JobRun,
  type StartJobRunCommandInput,
} from "@aws-sdk/client-emr-serverless";
import type { ComputeParamsModel } from "../../../flow/model/flow-model";
import { boundedName } from "../../../flow/model/resource-names";
import type { DispatchRequest, DispatchResult, Dispatcher } from "../../core/dispatcher";
import {
  chainToken,
  failed,
  isCapacityMessage,
  MAX_TOKEN_CHAIN,
  pollFailure,
  sdkFailure,
  startThroughTokenChain,
  targetLabel,
} from "./errors";
import {
  encodeSparkJobSpec,
  oversizeMessage,
  startableSpec,
  SPEC_ARGUMENT,
  sparkSubmitArgs,
  utf8Bytes,
} from "./spark-job-spec";

/**
 * Total size of entryPointArguments that Sluice allows. The current EMR Serverless API reference
 * gives no maximum length for an argument (older revisions said 10280 characters each); 250 KB is a
 * conservative assumption, not an AWS figure.
 */
export const EMR_SERVERLESS_ARGUMENTS_LIMIT_BYTES = 250 * 1024;
/** sparkSubmitParameters: at most 102400 characters (EMR Serverless API reference, SparkSubmit). */
export const EMR_SERVERLESS_SUBMIT_PARAMETERS_LIMIT = 102_400;

export interface EmrServerlessDispatcherProps {
  readonly client: EMRServerlessClient;
  readonly applicationId: string;
  /** Role the job runs with. */
  readonly executionRoleArn: string;
  /** s3:// URI of the Sluice driver script. */
  readonly entryPoint: string;
  /** @default EMR_SERVERLESS_ARGUMENTS_LIMIT_BYTES */
  readonly argumentsLimitBytes?: number;
  /** Clock of the start call, to recognise runs of earlier calls. @default Date.now */
  readonly now?: () => number;
}

/** clientToken: 1 to 64 characters. */
const TOKEN_MAX = 64;
const NAME_MAX = 256;

const RUNNING_STATES: ReadonlySet<string> = new Set([
  "SUBMITTED",
  "PENDING",
  "SCHEDULED",
  "RUNNING",
  "QUEUED",
  "CANCELLING",
]);
const FAILED_STATES: ReadonlySet<string> = new Set(["FAILED", "CANCELLED"]);

export class EmrServerlessDispatcher implements Dispatcher {
  constructor(private readonly props: EmrServerlessDispatcherProps) {}

  async start(request: DispatchRequest): Promise<DispatchResult> {
    const label = targetLabel(request);
    const spec = startableSpec(request);
    if (typeof spec === "string") return failed(`${label}: ${spec}`);
    const params = request.target.params;

    const entryPointArguments = [SPEC_ARGUMENT, encodeSparkJobSpec(spec)];
    const argsSize = entryPointArguments.reduce((n, a) => n + utf8Bytes(a), 0);
    const argsLimit = this.props.argumentsLimitBytes ?? EMR_SERVERLESS_ARGUMENTS_LIMIT_BYTES;
    const submitParameters = sparkSubmitParameters(params);
    const oversize =
      oversizeMessage("the EMR Serverless entryPointArguments", argsSize, argsLimit, "bytes") ??
      oversizeMessage(
        "the EMR Serverless sparkSubmitParameters",
        submitParameters.length,
        EMR_SERVERLESS_SUBMIT_PARAMETERS_LIMIT,
        "characters",
      );
    if (oversize !== undefined) return failed(`${label}: ${oversize}`);

    const base = `${request.executionId}-${request.targetIndex}-${request.attempt}`;
    const input = (clientToken: string): StartJobRunCommandInput => ({
      applicationId: this.props.applicationId,
      executionRoleArn: this.props.executionRoleArn,
      clientToken,
      name: boundedName([base], NAME_MAX),
      jobDriver: {
        sparkSubmit: {
          entryPoint: this.props.entryPoint,
          entryPointArguments,
          ...(submitParameters === "" ? {} : { sparkSubmitParameters: submitParameters }),
        },
      },
      ...(params.timeoutSeconds === undefined
        ? {}
        : { executionTimeoutMinutes: Math.ceil(params.timeoutSeconds / 60) }),
    });
    let runId: string | undefined;
    try {
      runId = await startThroughTokenChain(
        (k) => boundedName([chainToken(base, k)], TOKEN_MAX),
        {
          start: async (token) => {
            const out = await this.props.client.send(new StartJobRunCommand(input(token)));
            if (out.jobRunId === undefined || out.jobRunId === "") {
              throw Object.assign(new Error("StartJobRun returned no jobRunId"), {
                name: "InternalServerException",
              });
            }
            return out.jobRunId;
          },
          describe: async (id) => {
            const run = await this.jobRun(id);
            return { failed: FAILED_STATES.has(run?.state ?? ""), submittedAt: run?.createdAt?.getTime() };
          },
        },
        this.props.now,
      );
    } catch (e) {
      return sdkFailure(request, "EMR Serverless StartJobRun", e);
    }
    if (runId === undefined) {
      return failed(
        `${label}: ${MAX_TOKEN_CHAIN} EMR Serverless job runs of attempt ${request.attempt} failed transiently; giving up on this attempt`,
      );
    }
    return { status: "RUNNING", handle: `${this.props.applicationId}/${runId}` };
  }

  async poll(handle: string, request: DispatchRequest): Promise<DispatchResult> {
    const ids = parseHandle(handle);
    if (ids === undefined)
      return failed(`${targetLabel(request)}: malformed EMR Serverless handle "${handle}"`);
    let run: JobRun | undefined;
    try {
      run = await this.jobRun(ids.jobRunId, ids.applicationId);
    } catch (e) {
      return pollFailure(request, handle, "EMR Serverless GetJobRun", e);
    }
    const state = run?.state ?? "";
    if (RUNNING_STATES.has(state)) return { status: "RUNNING", handle };
    if (state === "SUCCESS") return { status: "SUCCEEDED" };
    const details = run?.stateDetails ?? "";
    return failed(
      `${targetLabel(request)}: EMR Serverless job run ${handle} ended ${state || "in an unknown state"}${
        details === "" ? "" : `: ${details}`
      }`,
      isCapacityMessage(details),
    );
  }

  async kill(handle: string, request: DispatchRequest): Promise<void> {
    const ids = parseHandle(handle);
    if (ids === undefined)
      throw new Error(`${targetLabel(request)}: malformed EMR Serverless handle "${handle}"`);
    try {
      await this.props.client.send(new CancelJobRunCommand(ids));
    } catch (e) {
      // A run that has already ended cannot be cancelled: nothing to do.
      const run = await this.jobRun(ids.jobRunId, ids.applicationId).catch(() => undefined);
      if (run?.state !== undefined && !RUNNING_STATES.has(run.state)) return;
      throw e;
    }
  }

  private async jobRun(
    jobRunId: string,
    applicationId = this.props.applicationId,
  ): Promise<JobRun | undefined> {
    return (await this.props.client.send(new GetJobRunCommand({ applicationId, jobRunId }))).jobRun;
  }
}

/**
 * spark-submit parameters: executor sizing, then `sparkArgs` verbatim (a later --conf of the same key
 * wins, so the user's settings override Sluice's). `workers` (or an EMR instanceCount, which counts
 * the driver like a cluster's master node) fixes the number of executors: the initial count and the
 * dynamic-allocation ceiling.
 */
export function sparkSubmitParameters(params: ComputeParamsModel): string {
  const parts: string[] = [];
  const count = params.emr?.instanceCount;
  const executors = params.workers ?? (count !== undefined && count > 1 ? count - 1 : undefined);
  if (executors !== undefined) {
    parts.push(
      `--conf spark.executor.instances=${executors}`,
      `--conf spark.dynamicAllocation.maxExecutors=${executors}`,
    );
  }
  parts.push(...sparkSubmitArgs(params.sparkArgs));
  return parts.join(" ");
}

function parseHandle(handle: string): { applicationId: string; jobRunId: string } | undefined {
  const at = handle.indexOf("/");
  if (at <= 0 || at === handle.length - 1) return undefined;
  return { applicationId: handle.slice(0, at), jobRunId: handle.slice(at + 1) };
}
