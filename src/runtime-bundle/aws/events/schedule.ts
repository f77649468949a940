/**
 * Scheduled events → timer signals. Both the classic EventBridge rule ("Scheduled Event" from
 * aws.events, resources = [rule ARN]) and EventBridge Scheduler (aws.scheduler, detail a JSON string,
 * resources = [schedule ARN]) name the rule/schedule whose last path segment is the timer's
 * `resourceNames.timerRule(application, timerId)`. The value is the event time truncated to the
 * timer's granularity, in its format.
 */
import type { DimensionValue, TimerNodeModel } from "../../../flow/model/flow-model";
import { msToDatetime } from "../../../flow/model/dimension-value";
import { inFilter } from "../../core/partition-layout";
import type { Signal } from "../../core/signal";
import { arnResourceName, list, parseAwsTime, preview, text, thrownMessage, type JsonObject } from "./fields";
import type { SourceIndex } from "./source-index";
import { emitAll, type Sink } from "./types";

export function adaptScheduledEvent(
  event: JsonObject,
  index: SourceIndex,
  sink: Sink,
  envelopeId?: string,
): void {
  const id = text(event, "id") ?? envelopeId;
  const names = (list(event, "resources") ?? [])
    .filter((r): r is string => typeof r === "string" && r.length > 0)
    .map(arnResourceName);
  if (names.length === 0) {
    sink.reject(`scheduled event names no rule or schedule in its resources`, id);
    return;
  }
  const timers = names.map((n) => index.timerForRule(n)).filter((t): t is TimerNodeModel => t !== undefined);
  if (timers.length === 0) {
    if (names.includes(index.sweeperRule)) {
      sink.ignore(
        `scheduled event of the router's sweeper schedule ${preview(index.sweeperRule)}, not a timer`,
        id,
      );
    } else {
      const expected = index.timerRules.map((r) => preview(r)).join(", ");
      sink.ignore(
        `no timer fires on rule/schedule ${names.map((n) => preview(n)).join(", ")} (timer rules: ${expected || "none"})`,
        id,
      );
    }
    return;
  }
  const rawTime = text(event, "time");
  const ms = parseAwsTime(rawTime);
  if (ms === undefined) {
    sink.reject(
      `scheduled event for timer "${timers[0].id}" has no valid time (${preview(rawTime ?? "")})`,
      id,
    );
    return;
  }
  const signals: Signal[] = [];
  for (const timer of timers) {
    const dimensions: Record<string, DimensionValue> = {};
    let problem: string | undefined;
    for (const spec of timer.signal.dimensions) {
      if (spec.type !== "DATETIME") {
        problem = `dimension "${spec.name}" is a ${spec.type}, not a DATETIME`;
        break;
      }
      try {
        dimensions[spec.name] = msToDatetime(spec, ms);
      } catch (e) {
        problem = `time ${preview(rawTime ?? "")} cannot be formatted: ${thrownMessage(e)}`;
        break;
      }
    }
    if (problem === undefined && !inFilter(timer.signal, dimensions))
      problem = "value outside the timer's filter";
    if (problem !== undefined) {
      sink.ignore(`scheduled event for timer "${timer.id}": ${problem}`, id);
      continue;
    }
    signals.push({
      node: timer.id,
      dimensions,
      eventId: id ?? `timer:${timer.id}@${rawTime ?? ""}`,
    });
  }
  emitAll(sink, signals);
}
