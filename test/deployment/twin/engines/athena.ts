/**
 * Amazon Athena as the router meets it: StartQueryExecution in the module's workgroup (a
 * ClientRequestToken of 32–128 characters, idempotent as Athena makes it), GetQueryExecution and
 * StopQueryExecution; a query runs with the caller's (the router's) permissions: it reads the catalog
 * tables it names and writes its UNLOAD destination and the workgroup's result location, ending in an
 * "Athena Query State Change" event.
 *
 * @see https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html
 */
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
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
import { parseS3Uri } from "./spark-job";

interface Query extends StartedJob {
  readonly sql: string;
  readonly workgroup: string;
  readonly token?: string;
  readonly submitted: Date;
}

export class AthenaTwin implements EngineTwin {
  readonly service = "Athena";
  readonly started: Query[] = [];

  constructor(
    private readonly ctx: EngineContext,
    /** The role that calls Athena (the router's): queries run with its permissions. */
    private readonly caller: string,
  ) {}

  handle = async (command: string, input: Record<string, unknown>): Promise<unknown> => {
    switch (command) {
      case "StartQueryExecutionCommand":
        return this.start(input);
      case "GetQueryExecutionCommand":
        return { QueryExecution: this.view(this.query(stringField(input, "QueryExecutionId"))) };
      case "StopQueryExecutionCommand": {
        const q = this.query(stringField(input, "QueryExecutionId"));
        if (q.state === "RUNNING" || q.state === "QUEUED") q.state = "CANCELLED";
        return {};
      }
      default:
        throw serviceError("InvalidRequestException", `the Athena twin does not implement ${command}`);
    }
  };

  private start(input: Record<string, unknown>): { QueryExecutionId: string } {
    const workgroup = stringField(input, "WorkGroup") ?? "primary";
    if (!plannedWith(this.ctx.plan, "aws_athena_workgroup", "name", workgroup)) {
      throw serviceError("InvalidRequestException", `WorkGroup ${workgroup} is not found.`);
    }
    const token = stringField(input, "ClientRequestToken");
    if (token !== undefined && (token.length < 32 || token.length > 128)) {
      throw serviceError("InvalidRequestException", "ClientRequestToken must be 32 to 128 characters long");
    }
    const again = token === undefined ? undefined : this.started.find((q) => q.token === token);
    if (again) return { QueryExecutionId: again.id };
    const id = hexId(`athena/${this.started.length}/${String(input.QueryString)}`, 32).replace(
      /^(.{8})(.{4})(.{4})(.{4})(.{12})$/,
      "$1-$2-$3-$4-$5",
    );
    this.started.push({
      engine: "athena",
      id,
      role: this.caller,
      state: "RUNNING",
      request: input,
      sql: String(input.QueryString ?? ""),
      workgroup,
      submitted: new Date(this.ctx.now()),
      ...(token === undefined ? {} : { token }),
    });
    return { QueryExecutionId: id };
  }

  async runPending(): Promise<unknown[]> {
    const events: unknown[] = [];
    for (const q of this.started.filter((x) => x.state === "RUNNING")) {
      const error = await this.execute(q);
      q.state = error === undefined ? "SUCCEEDED" : "FAILED";
      if (error !== undefined) q.error = error;
      events.push(
        stateEvent(
          this.ctx,
          error === undefined
            ? "athena.query-state-change.succeeded.awsdocs.json"
            : "athena.query-state-change.failed.awsdocs.json",
          {
            queryExecutionId: q.id,
            currentState: q.state,
            previousState: "RUNNING",
            workgroupName: q.workgroup,
            ...(error === undefined
              ? {}
              : {
                  athenaError: { errorCategory: 2, errorType: 1306, errorMessage: error, retryable: false },
                }),
          },
        ),
      );
    }
    return events;
  }

  /** Reads every table the query names and writes its UNLOAD destination, as the caller. */
  private async execute(q: Query): Promise<string | undefined> {
    const s3 = this.ctx.s3As(this.caller);
    const arn = (what: string) => `arn:aws:glue:${this.ctx.region}:${this.ctx.account}:${what}`;
    try {
      for (const m of q.sql.matchAll(/FROM\s+"([^"]+)"\."([^"]+)"/gi)) {
        const [database, table] = [m[1] as string, m[2] as string];
        for (const resource of [
          arn("catalog"),
          arn(`database/${database}`),
          arn(`table/${database}/${table}`),
        ]) {
          const denied = this.ctx.denied(this.caller, "glue:GetTable", resource);
          if (denied) return `Insufficient permissions to execute the query. ${denied}`;
        }
        const location = this.ctx.tableLocation(database, table);
        if (location === undefined) return `TABLE_NOT_FOUND: Table ${database}.${table} does not exist`;
        const { bucket, key } = parseS3Uri(location);
        await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: key.endsWith("/") ? key : `${key}/`,
            MaxKeys: 10,
          }),
        );
      }
      const unload = /\)\s*TO\s+'([^']+)'/i.exec(q.sql);
      if (unload) {
        const { bucket, key } = parseS3Uri(unload[1] as string);
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `${key.replace(/\/$/, "")}/${q.id}_0.parquet`,
            Body: "twin",
          }),
        );
      }
      const wg = plannedWith(this.ctx.plan, "aws_athena_workgroup", "name", q.workgroup);
      const results = (
        wg?.configuration as { result_configuration?: { output_location?: string }[] }[] | undefined
      )?.[0]?.result_configuration?.[0]?.output_location;
      if (results) {
        const { bucket, key } = parseS3Uri(results);
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `${key.replace(/\/$/, "")}/${q.id}.metadata`,
            Body: "",
          }),
        );
      }
      return undefined;
    } catch (e) {
      const err = e as { name?: string; message?: string };
      return `${err.name ?? "Error"}: ${err.message ?? String(e)}`;
    }
  }

  private query(id: string | undefined): Query {
    const q = this.started.find((x) => x.id === id);
    if (!q) throw serviceError("InvalidRequestException", `QueryExecution ${String(id)} was not found`);
    return q;
  }

  private view(q: Query): Record<string, unknown> {
    return {
      QueryExecutionId: q.id,
      Query: q.sql,
      WorkGroup: q.workgroup,
      Status: {
        State: q.state,
        SubmissionDateTime: q.submitted,
        ...(q.error === undefined ? {} : { StateChangeReason: q.error }),
      },
    };
  }
}
