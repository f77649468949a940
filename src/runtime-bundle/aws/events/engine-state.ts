/**
 * Engine state changes → EngineEvents for the executions waiting on them: Glue Job State Change,
 * Athena Query State Change, EMR Step Status Change and EMR Serverless Job Run State Change. The handle
 * is what the dispatcher returned at start (jobRunId, queryExecutionId, `cluster/step`,
 * `application/jobRun`). Failures are transient when the engine says the condition was throttling
 * or capacity, which the router retries without counting against the node's `retries`.
 */
import type { DispatchResult } from "../../core/dispatcher";
import { field, object, preview, text, type JsonObject } from "./fields";
import type { EngineEvent, EventEngine, Ignored } from "./types";

/** Failure messages that name throttling or a capacity/concurrency limit rather than the user's job. */
export const TRANSIENT_MESSAGE =
  /throttl|capacity|concurrent ?runs? ?exceeded|rate exceeded|resource ?number ?limit ?exceeded|too ?many ?requests/i;

export function isTransientMessage(message: string | undefined): boolean {
  return message !== undefined && TRANSIENT_MESSAGE.test(message);
}

/** Athena error types that are service-side (100: internal service error). */
const ATHENA_TRANSIENT_ERROR_TYPES: ReadonlySet<number> = new Set([100]);

type Adapted = EngineEvent | Ignored;

export function adaptGlueJobState(
  event: JsonObject,
  detail: JsonObject | undefined,
  envelopeId?: string,
): Adapted {
  const handle = detail && text(detail, "jobRunId");
  const state = (detail && text(detail, "state")) ?? "";
  const message = detail && text(detail, "message");
  const what = `Glue job run ${handle ?? "?"} ${state}`;
  if (handle === undefined) return malformed(event, "Glue Job State Change without jobRunId", envelopeId);
  switch (state) {
    case "SUCCEEDED":
      return engineEvent("glue", handle, { status: "SUCCEEDED" }, event, envelopeId);
    case "FAILED":
    case "TIMEOUT":
    case "STOPPED":
    case "ERROR":
      return engineEvent(
        "glue",
        handle,
        failed(message ?? what, isTransientMessage(message)),
        event,
        envelopeId,
      );
    case "STARTING":
    case "RUNNING":
    case "STOPPING":
    case "WAITING":
      return engineEvent("glue", handle, { status: "RUNNING", handle }, event, envelopeId);
    default:
      return ignored(event, `${what}: unknown Glue job run state ${preview(state)}`, envelopeId);
  }
}

export function adaptAthenaQueryState(
  event: JsonObject,
  detail: JsonObject | undefined,
  envelopeId?: string,
): Adapted {
  const handle = detail && text(detail, "queryExecutionId");
  const state = (detail && text(detail, "currentState")) ?? "";
  if (handle === undefined)
    return malformed(event, "Athena Query State Change without queryExecutionId", envelopeId);
  const what = `Athena query ${handle} ${state}`;
  switch (state) {
    case "SUCCEEDED":
      return engineEvent("athena", handle, { status: "SUCCEEDED" }, event, envelopeId);
    case "QUEUED":
    case "RUNNING":
      return engineEvent("athena", handle, { status: "RUNNING", handle }, event, envelopeId);
    case "CANCELLED":
      return engineEvent("athena", handle, failed(`${what}`, false), event, envelopeId);
    case "FAILED": {
      const error = detail && object(detail, "athenaError");
      const message = (error && text(error, "errorMessage")) ?? (detail && text(detail, "stateChangeReason"));
      const errorType = error && field(error, "errorType");
      const transient =
        (error !== undefined && field(error, "retryable") === true) ||
        (typeof errorType === "number" && ATHENA_TRANSIENT_ERROR_TYPES.has(errorType)) ||
        (typeof errorType === "string" && isTransientMessage(errorType)) ||
        isTransientMessage(message);
      return engineEvent("athena", handle, failed(message ?? what, transient), event, envelopeId);
    }
    default:
      return ignored(event, `${what}: unknown Athena query state ${preview(state)}`, envelopeId);
  }
}

export function adaptEmrStep(
  event: JsonObject,
  detail: JsonObject | undefined,
  envelopeId?: string,
): Adapted {
  const cluster = detail && text(detail, "clusterId");
  const step = detail && text(detail, "stepId");
  const state = (detail && text(detail, "state")) ?? "";
  const message = detail && text(detail, "message");
  if (cluster === undefined || step === undefined) {
    return malformed(event, "EMR Step Status Change without clusterId and stepId", envelopeId);
  }
  const handle = `${cluster}/${step}`;
  const what = `EMR step ${handle} ${state}`;
  switch (state) {
    case "COMPLETED":
      return engineEvent("emr", handle, { status: "SUCCEEDED" }, event, envelopeId);
    case "FAILED":
    case "CANCELLED":
    case "INTERRUPTED":
      return engineEvent(
        "emr",
        handle,
        failed(message ?? what, isTransientMessage(message)),
        event,
        envelopeId,
      );
    case "PENDING":
    case "RUNNING":
    case "CANCEL_PENDING":
      return engineEvent("emr", handle, { status: "RUNNING", handle }, event, envelopeId);
    default:
      return ignored(event, `${what}: unknown EMR step state ${preview(state)}`, envelopeId);
  }
}

export function adaptEmrServerlessJobRun(
  event: JsonObject,
  detail: JsonObject | undefined,
  envelopeId?: string,
): Adapted {
  const application = detail && text(detail, "applicationId");
  const run = detail && text(detail, "jobRunId");
  const state = (detail && text(detail, "state")) ?? "";
  if (application === undefined || run === undefined) {
    return malformed(
      event,
      "EMR Serverless Job Run State Change without applicationId and jobRunId",
      envelopeId,
    );
  }
  const handle = `${application}/${run}`;
  const what = `EMR Serverless job run ${handle} ${state}`;
  const message = (detail && text(detail, "stateDetails")) ?? (detail && text(detail, "message"));
  switch (state) {
    case "SUCCESS":
      return engineEvent("emrServerless", handle, { status: "SUCCEEDED" }, event, envelopeId);
    case "FAILED":
    case "CANCELLED":
      return engineEvent(
        "emrServerless",
        handle,
        failed(message ?? what, isTransientMessage(message)),
        event,
        envelopeId,
      );
    case "":
      return malformed(event, "EMR Serverless Job Run State Change without state", envelopeId);
    default:
      return engineEvent("emrServerless", handle, { status: "RUNNING", handle }, event, envelopeId);
  }
}

export function isEngineEvent(a: Adapted): a is EngineEvent {
  return "engine" in a;
}

function failed(error: string, transient: boolean): DispatchResult {
  return { status: "FAILED", error, transient };
}

function engineEvent(
  engine: EventEngine,
  handle: string,
  result: DispatchResult,
  event: JsonObject,
  envelopeId: string | undefined,
): EngineEvent {
  const eventId =
    text(event, "id") ?? envelopeId ?? `${engine}:${handle}:${result.status}@${text(event, "time") ?? ""}`;
  return { engine, handle, result, eventId };
}

function ignored(event: JsonObject, reason: string, envelopeId: string | undefined): Ignored {
  const eventId = text(event, "id") ?? envelopeId;
  return eventId === undefined ? { reason } : { reason, eventId };
}

/** An event missing the fields that identify the run: unprocessable. */
function malformed(event: JsonObject, reason: string, envelopeId: string | undefined): Ignored {
  return { ...ignored(event, reason, envelopeId), unprocessable: true };
}
