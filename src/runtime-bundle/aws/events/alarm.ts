/**
 * CloudWatch alarm state changes → alarm signals (dimensions `state` and `time`), from the three
 * shapes they arrive in: EventBridge "CloudWatch Alarm State Change" (detail.*), the Lambda alarm
 * action (alarmData.*, accountId) and the classic SNS notification (AlarmName, NewStateValue,
 * StateChangeTime). Alarm and compositeAlarm nodes match by alarm name; externalAlarm nodes by name
 * and, when the event carries a real account id, by account.
 */
import type { AlarmState, DimensionValue } from "../../../flow/model/flow-model";
import { msToDatetime } from "../../../flow/model/dimension-value";
import { inFilter } from "../../core/partition-layout";
import type { Signal } from "../../core/signal";
import {
  accountId,
  arnAccount,
  object,
  parseAwsTime,
  preview,
  text,
  thrownMessage,
  type JsonObject,
} from "./fields";
import type { SourceIndex } from "./source-index";
import { emitAll, type Sink } from "./types";

export const ALARM_STATES: readonly AlarmState[] = ["ALARM", "OK", "INSUFFICIENT_DATA"];

/** One alarm state transition, whatever shape it came in. */
export interface AlarmStateChange {
  readonly alarmName: string;
  readonly state: string;
  /** Transition time as sent (state timestamp, else the event time). */
  readonly time?: string;
  /** 12-digit account of the alarm, when the event carries one. */
  readonly account?: string;
  /** Which shape it came in, for reasons. */
  readonly shape: string;
}

/** EventBridge "CloudWatch Alarm State Change". */
export function fromEventBridge(
  event: JsonObject,
  detail: JsonObject | undefined,
): AlarmStateChange | string {
  const state = detail && object(detail, "state");
  const alarmName = detail && text(detail, "alarmName");
  const value = state && text(state, "value");
  if (alarmName === undefined || value === undefined)
    return "CloudWatch Alarm State Change without alarmName and state";
  return compact({
    alarmName,
    state: value,
    time: (state && text(state, "timestamp")) ?? text(event, "time"),
    account: accountId(text(event, "account")),
    shape: "EventBridge",
  });
}

/** A CloudWatch alarm action invoking Lambda directly. */
export function fromLambdaAction(event: JsonObject): AlarmStateChange | string {
  const data = object(event, "alarmData");
  const state = data && object(data, "state");
  const alarmName = data && text(data, "alarmName");
  const value = state && text(state, "value");
  if (alarmName === undefined || value === undefined)
    return "CloudWatch alarm action without alarmName and state";
  return compact({
    alarmName,
    state: value,
    time: (state && text(state, "timestamp")) ?? text(event, "time"),
    account: accountId(text(event, "accountId")) ?? arnAccount(text(event, "alarmArn")),
    shape: "Lambda alarm action",
  });
}

/** The classic alarm notification an SNS topic delivers. */
export function fromClassic(message: JsonObject): AlarmStateChange | string {
  const alarmName = text(message, "AlarmName");
  const value = text(message, "NewStateValue");
  if (alarmName === undefined || value === undefined)
    return "SNS alarm notification without AlarmName and NewStateValue";
  return compact({
    alarmName,
    state: value,
    time: text(message, "StateChangeTime"),
    account: accountId(text(message, "AWSAccountId")) ?? arnAccount(text(message, "AlarmArn")),
    shape: "SNS alarm notification",
  });
}

/**
 * The idempotency id of a transition: the same for every shape (an alarm with both an EventBridge rule
 * and an SNS action triggers once).
 */
export function alarmEventId(alarmName: string, state: string, ms: number): string {
  return `alarm:${alarmName}:${state}@${new Date(ms).toISOString()}`;
}

export function adaptAlarmChange(
  change: AlarmStateChange | string,
  index: SourceIndex,
  sink: Sink,
  envelopeId?: string,
): void {
  if (typeof change === "string") {
    sink.reject(change, envelopeId);
    return;
  }
  const { alarmName, state, time, account, shape } = change;
  const ms = parseAwsTime(time);
  const eventId = ms === undefined ? envelopeId : alarmEventId(alarmName, state, ms);
  const label = `${shape} of alarm ${preview(alarmName)}`;
  if (!(ALARM_STATES as readonly string[]).includes(state)) {
    sink.ignore(`${label}: state ${preview(state)} is not one of ${ALARM_STATES.join(", ")}`, eventId);
    return;
  }
  const nodes = index.alarmsNamed(alarmName, account);
  if (nodes.length === 0) {
    const why = index.hasAlarmNamed(alarmName) ? ` in account ${account ?? "?"}` : "";
    sink.ignore(`${label}: no alarm node is named so${why}`, eventId);
    return;
  }
  if (ms === undefined) {
    sink.reject(`${label}: no valid state change time (${preview(time ?? "")})`, envelopeId);
    return;
  }
  const signals: Signal[] = [];
  for (const node of nodes) {
    const dimensions: Record<string, DimensionValue> = {};
    let problem: string | undefined;
    for (const spec of node.signal.dimensions) {
      if (spec.type === "DATETIME") {
        try {
          dimensions[spec.name] = msToDatetime(spec, ms);
        } catch (e) {
          problem = `time ${preview(time ?? "")} cannot be formatted: ${thrownMessage(e)}`;
        }
      } else if (spec.name === "state") {
        dimensions[spec.name] = state;
      } else {
        problem = `alarm signals have no value for dimension "${spec.name}"`;
      }
    }
    if (problem === undefined && !inFilter(node.signal, dimensions))
      problem = "state outside the node's filter";
    if (problem !== undefined) {
      sink.ignore(`${label} (node "${node.id}"): ${problem}`, eventId);
      continue;
    }
    signals.push({ node: node.id, dimensions, ...(eventId === undefined ? {} : { eventId }) });
  }
  emitAll(sink, signals);
}

function compact(c: {
  alarmName: string;
  state: string;
  time: string | undefined;
  account: string | undefined;
  shape: string;
}): AlarmStateChange {
  return {
    alarmName: c.alarmName,
    state: c.state,
    shape: c.shape,
    ...(c.time === undefined ? {} : { time: c.time }),
    ...(c.account === undefined ? {} : { account: c.account }),
  };
}
