/**
 * AWS Glue as the router meets it: StartJobRun on a job the module created (worker types and counts
 * checked as Glue checks them), GetJobRun/GetJobRuns/BatchStopJobRun, and a run that reads its script
 * and does the driver's S3 work as the job's role, ending in a "Glue Job State Change" event.
 *
 * @see https://docs.aws.amazon.com/glue/latest/webapi/API_StartJobRun.html
 */
import {
  hexId,
  plannedWith,
  serviceError,
  stateEvent,
  stringField,
  type EngineContext,
  type EngineTwin,
  type StartedJob,
} from "./engine-context";
import { runDriver } from "./spark-job";

const WORKER_TYPES = new Set([
  "Standard",
  "G.025X",
  "G.1X",
  "G.2X",
  "G.4X",
  "G.8X",
  "G.12X",
  "G.16X",
  "Z.2X",
]);

interface GlueRun extends StartedJob {
  readonly jobName: string;
  readonly arguments: Record<string, string>;
  readonly startedOn: Date;
}

export class GlueTwin implements EngineTwin {
  readonly service = "Glue";
  readonly started: GlueRun[] = [];

  constructor(private readonly ctx: EngineContext) {}

  handle = async (command: string, input: Record<string, unknown>): Promise<unknown> => {
    switch (command) {
      case "StartJobRunCommand":
        return this.start(input);
      case "GetJobRunCommand": {
        const run = this.run(stringField(input, "JobName"), stringField(input, "RunId"));
        return { JobRun: this.view(run) };
      }
      case "GetJobRunsCommand": {
        const job = stringField(input, "JobName");
        this.job(job);
        return { JobRuns: this.started.filter((r) => r.jobName === job).map((r) => this.view(r)) };
      }
      case "BatchStopJobRunCommand": {
        const ids = (input.JobRunIds as string[] | undefined) ?? [];
        for (const id of ids) {
          const run = this.run(stringField(input, "JobName"), id);
          if (run.state === "RUNNING") run.state = "STOPPED";
        }
        return {
          SuccessfulSubmissions: ids.map((id) => ({ JobName: input.JobName, JobRunId: id })),
          Errors: [],
        };
      }
      default:
        throw serviceError("InvalidInputException", `the Glue twin does not implement ${command}`);
    }
  };

  private start(input: Record<string, unknown>): { JobRunId: string } {
    const job = this.job(stringField(input, "JobName"));
    const workerType = stringField(input, "WorkerType") ?? (job.worker_type as string | undefined);
    if (workerType !== undefined && !WORKER_TYPES.has(workerType)) {
      throw serviceError("InvalidInputException", `Worker type ${workerType} is not supported`);
    }
    const workers = input.NumberOfWorkers ?? job.number_of_workers;
    if (workers !== undefined && (!Number.isInteger(workers) || (workers as number) < 1)) {
      throw serviceError(
        "InvalidInputException",
        `NumberOfWorkers must be a positive integer, got ${String(workers)}`,
      );
    }
    const args = {
      ...((job.default_arguments as Record<string, string> | undefined) ?? {}),
      ...((input.Arguments as Record<string, string> | undefined) ?? {}),
    };
    const id = `jr_${hexId(`${String(input.JobName)}/${this.started.length}/${JSON.stringify(args)}`, 64)}`;
    this.started.push({
      engine: "glue",
      id,
      jobName: String(input.JobName),
      role: String(job.role_arn),
      state: "RUNNING",
      request: input,
      arguments: args,
      startedOn: new Date(this.ctx.now()),
    });
    return { JobRunId: id };
  }

  async runPending(): Promise<unknown[]> {
    const events: unknown[] = [];
    for (const run of this.started.filter((r) => r.state === "RUNNING")) {
      const job = this.job(run.jobName);
      const s3 = this.ctx.s3As(run.role);
      const script = (job.command as { script_location?: string }[] | undefined)?.[0]?.script_location;
      const error = await runDriver(s3, script, run.arguments);
      run.state = error === undefined ? "SUCCEEDED" : "FAILED";
      if (error !== undefined) run.error = error;
      events.push(
        stateEvent(
          this.ctx,
          error === undefined
            ? "glue.job-state-change.succeeded.awsdocs.json"
            : "glue.job-state-change.failed.awsdocs.json",
          {
            jobName: run.jobName,
            jobRunId: run.id,
            state: run.state,
            message: error ?? "Job run succeeded",
          },
        ),
      );
    }
    return events;
  }

  private job(name: string | undefined): Record<string, unknown> {
    const job = name === undefined ? undefined : plannedWith(this.ctx.plan, "aws_glue_job", "name", name);
    if (!job) throw serviceError("EntityNotFoundException", `Job with name ${String(name)} not found`);
    return job;
  }

  private run(jobName: string | undefined, id: string | undefined): GlueRun {
    const run = this.started.find((r) => r.id === id && r.jobName === jobName);
    if (!run)
      throw serviceError("EntityNotFoundException", `Job run ${String(id)} of ${String(jobName)} not found`);
    return run;
  }

  private view(run: GlueRun): Record<string, unknown> {
    return {
      Id: run.id,
      JobName: run.jobName,
      JobRunState: run.state,
      Arguments: run.arguments,
      StartedOn: run.startedOn,
      ...(run.error === undefined ? {} : { ErrorMessage: run.error }),
    };
  }
}
