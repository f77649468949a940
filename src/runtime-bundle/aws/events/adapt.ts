/**
 * adaptEvent: one raw Lambda delivery → the signals, engine state changes and ignored parts it holds.
 * Never throws: anything malformed or unknown is reported in `ignored` with a reason naming what was
 * seen, so the caller can send it to the dead-letter queue.
 */
import {
  adaptAlarmChange,
  fromClassic,
  fromEventBridge as alarmFromEventBridge,
  fromLambdaAction,
} from "./alarm";
import { unwrap, type Unwrapped } from "./envelopes";
import {
  adaptAthenaQueryState,
  adaptEmrServerlessJobRun,
  adaptEmrStep,
  adaptGlueJobState,
  isEngineEvent,
} from "./engine-state";
import { eventDetail, preview, text, thrownMessage, type JsonObject } from "./fields";
import { adaptGlueTableChange } from "./glue-catalog";
import { adaptS3EventBridge, adaptS3Record, adaptS3TestEvent } from "./s3";
import { adaptScheduledEvent } from "./schedule";
import type { SourceIndex } from "./source-index";
import { collectingSink, type AdaptedEvent, type Sink } from "./types";

export function adaptEvent(raw: unknown, index: SourceIndex): AdaptedEvent {
  const { sink, result } = collectingSink();
  let payloads: Unwrapped[] = [];
  try {
    payloads = unwrap(raw, sink);
  } catch (e) {
    sink.reject(`unreadable event: ${thrownMessage(e)}`);
  }
  for (const p of payloads) {
    try {
      adaptPayload(p, index, sink);
    } catch (e) {
      sink.reject(`failed to adapt ${p.payload.kind} payload: ${thrownMessage(e)}`, p.envelopeId);
    }
  }
  return result;
}

function adaptPayload({ payload, envelopeId }: Unwrapped, index: SourceIndex, sink: Sink): void {
  switch (payload.kind) {
    case "s3Record":
      adaptS3Record(payload.record, index, sink, envelopeId);
      return;
    case "s3TestEvent":
      adaptS3TestEvent(payload.event, sink, envelopeId);
      return;
    case "alarmAction":
      adaptAlarmChange(fromLambdaAction(payload.event), index, sink, envelopeId);
      return;
    case "classicAlarm":
      adaptAlarmChange(fromClassic(payload.message), index, sink, envelopeId);
      return;
    case "eventBridge":
      adaptEventBridge(payload.event, index, sink, envelopeId);
      return;
  }
}

/** EventBridge events by source and detail-type. */
function adaptEventBridge(event: JsonObject, index: SourceIndex, sink: Sink, envelopeId?: string): void {
  const source = text(event, "source") ?? "";
  const detailType = text(event, "detail-type") ?? "";
  const detail = eventDetail(event);
  const id = text(event, "id") ?? envelopeId;
  const engine = (adapted: ReturnType<typeof adaptGlueJobState>): void => {
    if (isEngineEvent(adapted)) sink.engine(adapted);
    else if (adapted.unprocessable) sink.reject(adapted.reason, adapted.eventId);
    else sink.ignore(adapted.reason, adapted.eventId);
  };
  switch (`${source}|${detailType}`) {
    case "aws.s3|Object Created":
    case "aws.s3|Object Deleted":
      adaptS3EventBridge(event, detail, index, sink, id);
      return;
    case "aws.events|Scheduled Event":
    case "aws.scheduler|Scheduled Event":
      adaptScheduledEvent(event, index, sink, id);
      return;
    case "aws.cloudwatch|CloudWatch Alarm State Change":
      adaptAlarmChange(alarmFromEventBridge(event, detail), index, sink, id);
      return;
    case "aws.cloudwatch|CloudWatch Alarm Configuration Change": {
      const name = detail && text(detail, "alarmName");
      sink.ignore(
        `CloudWatch Alarm Configuration Change${name === undefined ? "" : ` of ${preview(name)}`} (not a state change)`,
        id,
      );
      return;
    }
    case "aws.glue|Glue Data Catalog Table State Change":
      adaptGlueTableChange(event, detail, index, sink, id);
      return;
    case "aws.glue|Glue Job State Change":
      engine(adaptGlueJobState(event, detail, id));
      return;
    case "aws.athena|Athena Query State Change":
      engine(adaptAthenaQueryState(event, detail, id));
      return;
    case "aws.emr|EMR Step Status Change":
      engine(adaptEmrStep(event, detail, id));
      return;
    case "aws.emr-serverless|EMR Serverless Job Run State Change":
      engine(adaptEmrServerlessJobRun(event, detail, id));
      return;
    default:
      sink.ignore(
        `EventBridge ${preview(detailType)} from ${preview(source)} is not an event the router handles`,
        id,
      );
  }
}
