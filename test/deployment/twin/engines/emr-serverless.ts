/**
 * Amazon EMR Serverless as the router meets it: StartJobRun on the module's application with an
 * execution role the module created and that trusts EMR Serverless (clientToken idempotent),
 * GetJobRun and CancelJobRun; a run does the driver's S3 work as the execution role and ends in an
 * "EMR Serverless Job Run State Change" event.
 *
 * @see https://docs.aws.amazon.com/emr-serverless/latest/APIReference/API_StartJobRun.html
 */
import {
  hexId,
  serviceError,
  stateEvent,
  stringField,
  type EngineContext,
  type EngineTwin,
  type StartedJob,
} from "./engine-context";
import { trusts } from "./trust";
import { runDriver } from "./spark-job";

interface JobRun extends StartedJob {
  readonly applicationId: string;
  readonly token?: string;
  readonly entryPoint: string;
  readonly args: readonly string[];
  readonly createdAt: Date;
}

export class EmrServerlessTwin implements EngineTwin {
  readonly service = "EMR Serverless";
  readonly started: JobRun[] = [];

  constructor(
    private readonly ctx: EngineContext,
    /** Ids of the applications the module created, as the plan rendered them. */
    private readonly applications: readonly string[],
  ) {}

  handle = async (command: string, input: Record<string, unknown>): Promise<unknown> => {
    switch (command) {
      case "StartJobRunCommand":
        return this.start(input);
      case "GetJobRunCommand": {
        const run = this.run(stringField(input, "applicationId"), stringField(input, "jobRunId"));
        return {
          jobRun: {
            applicationId: run.applicationId,
            jobRunId: run.id,
            state: run.state,
            createdAt: run.createdAt,
            ...(run.error === undefined ? {} : { stateDetails: run.error }),
          },
        };
      }
      case "CancelJobRunCommand": {
        const run = this.run(stringField(input, "applicationId"), stringField(input, "jobRunId"));
        if (run.state === "RUNNING") run.state = "CANCELLED";
        return { applicationId: run.applicationId, jobRunId: run.id };
      }
      default:
        throw serviceError("ValidationException", `the EMR Serverless twin does not implement ${command}`);
    }
  };

  private start(input: Record<string, unknown>): { applicationId: string; jobRunId: string; arn: string } {
    const applicationId = stringField(input, "applicationId") ?? "";
    if (!this.applications.includes(applicationId)) {
      throw serviceError("ResourceNotFoundException", `Application ${applicationId} does not exist`, 404);
    }
    const roleArn = stringField(input, "executionRoleArn") ?? "";
    const role = this.ctx.roles.get(roleArn);
    if (!trusts(role.trust, "emr-serverless.amazonaws.com")) {
      throw serviceError(
        "ValidationException",
        `Role ${roleArn} does not trust emr-serverless.amazonaws.com`,
      );
    }
    const token = stringField(input, "clientToken");
    const again = token === undefined ? undefined : this.started.find((r) => r.token === token);
    const arnOf = (id: string) =>
      `arn:aws:emr-serverless:${this.ctx.region}:${this.ctx.account}:/applications/${applicationId}/jobruns/${id}`;
    if (again) return { applicationId, jobRunId: again.id, arn: arnOf(again.id) };
    const driver = (
      input.jobDriver as { sparkSubmit?: { entryPoint?: string; entryPointArguments?: string[] } }
    )?.sparkSubmit;
    if (!driver?.entryPoint)
      throw serviceError("ValidationException", "jobDriver.sparkSubmit.entryPoint is required");
    const id = hexId(`emrs/${this.started.length}/${token ?? ""}`, 16);
    this.started.push({
      engine: "emrServerless",
      id,
      applicationId,
      role: roleArn,
      state: "RUNNING",
      request: input,
      entryPoint: driver.entryPoint,
      args: driver.entryPointArguments ?? [],
      createdAt: new Date(this.ctx.now()),
      ...(token === undefined ? {} : { token }),
    });
    return { applicationId, jobRunId: id, arn: arnOf(id) };
  }

  async runPending(): Promise<unknown[]> {
    const events: unknown[] = [];
    for (const run of this.started.filter((r) => r.state === "RUNNING")) {
      const s3 = this.ctx.s3As(run.role);
      const error = await runDriver(s3, run.entryPoint, run.args);
      run.state = error === undefined ? "SUCCESS" : "FAILED";
      if (error !== undefined) run.error = error;
      events.push(
        stateEvent(this.ctx, "emr-serverless.job-run-state-change.running.awsdocs.json", {
          applicationId: run.applicationId,
          jobRunId: run.id,
          state: run.state,
          previousState: "RUNNING",
          ...(error === undefined ? {} : { stateDetails: error }),
        }),
      );
    }
    return events;
  }

  private run(applicationId: string | undefined, id: string | undefined): JobRun {
    const run = this.started.find((r) => r.id === id && r.applicationId === applicationId);
    if (!run) throw serviceError("ResourceNotFoundException", `Job run ${String(id)} does not exist`, 404);
    return run;
  }
}
