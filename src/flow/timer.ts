/**
 * Timers: EventBridge schedules as signals with one datetime dimension.
 */
import type { BuildContext } from "./build-context";
import type { Granularity } from "./model/granularity";
import type { JsonValue, SignalModel, TimerNodeModel } from "./model/flow-model";
import { parseSchedule, scheduleGranularity } from "./model/schedule";
import { Node } from "./node";
import { buildDatetime, NAME_PATTERN } from "./signal-spec";

export interface TimerProps {
  /** EventBridge `rate(...)` or `cron(...)` expression. */
  readonly schedule: string;
  /** Name of the timer's datetime dimension. @default "time" */
  readonly dimension?: string;
  /** strftime format of the dimension. @default by granularity: "%Y-%m-%d" for DAY, "%Y-%m-%dT%H" for HOUR… */
  readonly format?: string;
  /** @default the schedule's natural period (rate(1 hour) → HOUR, a daily cron → DAY) */
  readonly granularity?: Granularity;
  readonly timezone?: string;
  readonly metadata?: Readonly<Record<string, JsonValue>>;
}

const FORMAT_OF: Readonly<Record<Granularity, string>> = {
  MINUTE: "%Y-%m-%dT%H:%M",
  HOUR: "%Y-%m-%dT%H",
  DAY: "%Y-%m-%d",
  WEEK: "%Y-%m-%d",
  MONTH: "%Y-%m",
  YEAR: "%Y",
};

export class Timer extends Node<TimerProps> {
  readonly kind = "timer" as const;

  buildSignal(ctx: BuildContext): SignalModel {
    const p = this.props;
    const loc = { node: this.id };
    const parsed = parseSchedule(p.schedule ?? "");
    if (parsed.schedule === undefined) {
      for (const e of parsed.errors) ctx.issues.add(loc, "timer.schedule", `schedule "${p.schedule}": ${e}`);
    }
    const natural = parsed.schedule ? scheduleGranularity(parsed.schedule) : "DAY";
    const granularity = p.granularity ?? natural;
    const name = p.dimension ?? "time";
    if (!NAME_PATTERN.test(name))
      ctx.issues.add(loc, "dimension.name", `"${name}" is not a valid dimension name`);
    const dimension = buildDatetime(
      name,
      p.format ?? FORMAT_OF[granularity] ?? FORMAT_OF.DAY,
      granularity,
      p.timezone,
      { ...loc, dimension: name },
      ctx.issues,
    );
    return { kind: "timer", dimensions: [dimension], filter: {} };
  }

  buildModel(_ctx: BuildContext, signal: SignalModel): TimerNodeModel {
    return {
      id: this.id,
      kind: "timer",
      signal,
      metadata: this.props.metadata ?? {},
      schedule: this.props.schedule,
    };
  }
}
