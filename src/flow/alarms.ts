/**
 * Alarms: CloudWatch metric alarms (single metric or metric math), composite alarms with rules built
 * from `anyOf/allOf/not` and `alarm.is(state)`, and external alarms of other applications/accounts.
 * Every alarm is also a signal (dimensions `state`, `time`) that data nodes can take as input.
 */
import type { BuildContext } from "./build-context";
import { reportLocation } from "./datasets";
import { IssueCollector, type Location } from "./errors";
import type { MetricRef } from "./metrics";
import { renderAlarmRule } from "./model/alarm-rule";
import { canonicalize } from "./model/canonical-json";
import type {
  AlarmComparison,
  AlarmMetricModel,
  AlarmNodeModel,
  AlarmRuleModel,
  AlarmState,
  CompositeAlarmNodeModel,
  DimensionModel,
  ExternalAlarmNodeModel,
  JsonValue,
  MetricStatModel,
  SignalModel,
} from "./model/flow-model";
import { InputSignal, Node } from "./node";

export const ALARM_STATES: readonly AlarmState[] = ["ALARM", "INSUFFICIENT_DATA", "OK"];

const ALARM_DIMENSIONS: readonly DimensionModel[] = [
  { name: "state", type: "STRING" },
  { name: "time", type: "DATETIME", format: "%Y-%m-%dT%H:%M", granularity: "MINUTE" },
];

/** A term of a composite alarm rule. */
export interface RuleTerm {
  /** @internal */
  ruleModel(): AlarmRuleModel;
  /** @internal the alarm nodes the term mentions */
  ruleAlarms(): Node[];
}

class RuleExpression implements RuleTerm {
  constructor(
    private readonly op: "and" | "or" | "not",
    private readonly terms: readonly RuleTerm[],
  ) {}

  ruleModel(): AlarmRuleModel {
    if (this.op === "not") return { op: "not", term: (this.terms[0] as RuleTerm).ruleModel() };
    return { op: this.op, terms: this.terms.map((t) => t.ruleModel()) };
  }

  ruleAlarms(): Node[] {
    return this.terms.flatMap((t) => t.ruleAlarms());
  }
}

export function anyOf(...terms: RuleTerm[]): RuleTerm {
  return new RuleExpression("or", terms);
}

export function allOf(...terms: RuleTerm[]): RuleTerm {
  return new RuleExpression("and", terms);
}

export function not(term: RuleTerm): RuleTerm {
  return new RuleExpression("not", [term]);
}

/** `alarm.is(state)`: a rule term, and an input that triggers on transitions into that state. */
export class AlarmCondition extends InputSignal implements RuleTerm {
  constructor(
    readonly alarm: AlarmNodeBase<AlarmNodeCommonProps>,
    readonly state: AlarmState,
  ) {
    super(alarm, [state]);
  }

  ruleModel(): AlarmRuleModel {
    return { op: "state", state: this.state, alarm: this.alarm.id };
  }

  ruleAlarms(): Node[] {
    return [this.alarm];
  }
}

interface AlarmNodeCommonProps {
  readonly metadata?: Readonly<Record<string, JsonValue>>;
}

export abstract class AlarmNodeBase<P extends AlarmNodeCommonProps> extends Node<P> {
  is(state: AlarmState): AlarmCondition {
    return new AlarmCondition(this, state);
  }

  /** The name or ARN a composite rule uses for this alarm. */
  abstract ruleReference(ctx: BuildContext): string;

  buildSignal(): SignalModel {
    return { kind: "alarm", dimensions: ALARM_DIMENSIONS, filter: {} };
  }
}

export function defaultAlarmName(application: string, id: string): string {
  return `${application}-${id}`;
}

// ------------------------------------------------------------------ metric alarms

/** A metric with the statistic and period the alarm evaluates it at. */
export interface MetricStat {
  readonly metric: MetricRef;
  /** @default "Sum" */
  readonly statistic?: string;
  /** @default 300 */
  readonly periodSeconds?: number;
}

export interface AlarmProps extends AlarmNodeCommonProps {
  /** Single-metric alarm: the metric. Exclusive with `metrics` + `expression`. */
  readonly metric?: MetricRef;
  /** @default "Sum" */
  readonly statistic?: string;
  /** @default 300 */
  readonly periodSeconds?: number;
  /** Metric-math alarm: metrics by id (lowercase-initial, as CloudWatch requires) … */
  readonly metrics?: Readonly<Record<string, MetricRef | MetricStat>>;
  /** … and the expression over those ids. */
  readonly expression?: string;
  readonly threshold: number;
  readonly comparison: AlarmComparison;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** @default "missing" */
  readonly treatMissingData?: AlarmNodeModel["treatMissingData"];
  /** @default "<application>-<id>" */
  readonly alarmName?: string;
  readonly description?: string;
}

const COMPARISONS: readonly AlarmComparison[] = [
  "GreaterThanOrEqualToThreshold",
  "GreaterThanThreshold",
  "LessThanThreshold",
  "LessThanOrEqualToThreshold",
];
const STATISTIC =
  /^(SampleCount|Average|Sum|Minimum|Maximum|IQM|p(\d{1,2}(\.\d+)?|100)|(tm|wm|tc|ts|pr)\(?[\d.:%]+\)?)$/;
const MATH_ID = /^[a-z][A-Za-z0-9_]*$/;
const ALARM_NAME = /^[^\s"][^"]{0,254}$/;

export class Alarm extends AlarmNodeBase<AlarmProps> {
  readonly kind = "alarm" as const;

  ruleReference(ctx: BuildContext): string {
    return this.props.alarmName ?? defaultAlarmName(ctx.app.name, this.id);
  }

  override dependencies(): Node[] {
    const refs = [this.props.metric, ...Object.values(this.props.metrics ?? {}).map(metricOf)];
    return refs.flatMap((r) => (r?.node ? [r.node] : []));
  }

  buildModel(ctx: BuildContext, signal: SignalModel): AlarmNodeModel {
    const p = this.props;
    const loc = { node: this.id };
    const metric = this.buildMetric(ctx, loc);
    if (!COMPARISONS.includes(p.comparison)) {
      ctx.issues.add(
        loc,
        "alarm.comparison",
        `comparison "${String(p.comparison)}" is not one of ${COMPARISONS.join(", ")}`,
      );
    }
    if (typeof p.threshold !== "number" || !Number.isFinite(p.threshold)) {
      ctx.issues.add(loc, "alarm.threshold", `threshold must be a finite number`);
    }
    const evaluationPeriods = p.evaluationPeriods ?? 1;
    const datapointsToAlarm = p.datapointsToAlarm ?? evaluationPeriods;
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
      ctx.issues.add(loc, "alarm.evaluation-periods", `evaluationPeriods must be a positive integer`);
    }
    if (
      !Number.isInteger(datapointsToAlarm) ||
      datapointsToAlarm < 1 ||
      datapointsToAlarm > evaluationPeriods
    ) {
      ctx.issues.add(
        loc,
        "alarm.datapoints",
        `datapointsToAlarm must be an integer from 1 to evaluationPeriods (${evaluationPeriods})`,
      );
    }
    const alarmName = this.ruleReference(ctx);
    checkAlarmName(ctx, loc, alarmName);
    return {
      id: this.id,
      kind: "alarm",
      signal,
      metadata: p.metadata ?? {},
      alarmName,
      metric,
      threshold: p.threshold,
      comparison: p.comparison,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: p.treatMissingData ?? "missing",
      ...(p.description === undefined ? {} : { description: p.description }),
    };
  }

  private buildMetric(ctx: BuildContext, loc: Location): AlarmMetricModel {
    const p = this.props;
    const period = p.periodSeconds ?? 300;
    if (p.metric !== undefined && (p.metrics !== undefined || p.expression !== undefined)) {
      ctx.issues.add(loc, "alarm.metric", `give either metric, or metrics and expression, not both`);
    }
    if (p.metric !== undefined) {
      return {
        kind: "single",
        stat: buildStat(ctx, loc, "metric", {
          metric: p.metric,
          statistic: p.statistic,
          periodSeconds: period,
        }),
      };
    }
    if (p.metrics === undefined || p.expression === undefined) {
      ctx.issues.add(loc, "alarm.metric", `an alarm needs a metric, or metrics and an expression`);
      return { kind: "math", expression: p.expression ?? "", metrics: {}, periodSeconds: period };
    }
    const metrics: Record<string, MetricStatModel> = {};
    for (const [id, m] of Object.entries(p.metrics)) {
      if (!MATH_ID.test(id)) {
        ctx.issues.add(
          { ...loc, field: `metric "${id}"` },
          "alarm.math-id",
          `metric id must start with a lowercase letter and contain only letters, digits and _`,
        );
      }
      const stat: MetricStat = m instanceof Object && "resolve" in m ? { metric: m } : (m as MetricStat);
      metrics[id] = buildStat(ctx, loc, `metric "${id}"`, {
        periodSeconds: period,
        statistic: p.statistic,
        ...stat,
      });
    }
    const used = new Set(
      (p.expression.match(/\b[a-z][A-Za-z0-9_]*\b/g) ?? []).filter((w) => !/^(e|pi)$/i.test(w)),
    );
    for (const id of used) {
      if (!(id in metrics)) {
        ctx.issues.add(
          { ...loc, field: "expression" },
          "alarm.math-unknown-id",
          `expression "${p.expression}" uses "${id}", which is not one of the metrics (${Object.keys(metrics).join(", ")})`,
        );
      }
    }
    if (used.size === 0) {
      ctx.issues.add(
        { ...loc, field: "expression" },
        "alarm.math-no-metric",
        `expression "${p.expression}" uses none of the metrics`,
      );
    }
    checkPeriod(ctx, loc, period);
    return { kind: "math", expression: p.expression, metrics: canonicalize(metrics), periodSeconds: period };
  }
}

function metricOf(m: MetricRef | MetricStat): MetricRef {
  return "resolve" in m ? m : m.metric;
}

function buildStat(
  ctx: BuildContext,
  loc: Location,
  what: string,
  s: { metric: MetricRef | undefined; statistic?: string | undefined; periodSeconds?: number | undefined },
): MetricStatModel {
  const statistic = s.statistic ?? "Sum";
  const periodSeconds = s.periodSeconds ?? 300;
  if (!STATISTIC.test(statistic)) {
    ctx.issues.add(
      loc,
      "alarm.statistic",
      `${what}: statistic "${statistic}" is not a CloudWatch statistic (Sum, Average, Minimum, Maximum, SampleCount, pNN…)`,
    );
  }
  checkPeriod(ctx, loc, periodSeconds);
  const ref = s.metric;
  if (ref === undefined || typeof ref.resolve !== "function") {
    ctx.issues.add(
      loc,
      "alarm.metric",
      `${what}: not a metric reference (use node.get("Name") or app.routeMetrics(node).get("Name"))`,
    );
    return { metric: { namespace: "", name: "", dimensions: {}, source: "" }, statistic, periodSeconds };
  }
  if (ref.error !== undefined) ctx.issues.add(loc, "alarm.metric", `${what}: ${ref.error}`);
  if (ref.node !== undefined && !ctx.owns(ref.node)) {
    ctx.issues.add(loc, "alarm.metric", `${what}: node "${ref.node.id}" is not declared in this application`);
  }
  return { metric: ref.resolve(ctx), statistic, periodSeconds };
}

function checkPeriod(ctx: BuildContext, loc: Location, period: number): void {
  if (!(period === 10 || period === 30 || (Number.isInteger(period) && period >= 60 && period % 60 === 0))) {
    ctx.issues.add(loc, "alarm.period", `period ${period}s must be 10, 30 or a multiple of 60`);
  }
}

function checkAlarmName(ctx: BuildContext, loc: Location, name: string): void {
  if (!ALARM_NAME.test(name)) {
    ctx.issues.add(loc, "alarm.name", `alarm name "${name}" must be 1-255 characters without double quotes`);
  }
}

// ------------------------------------------------------------------ composite alarms

export interface CompositeAlarmProps extends AlarmNodeCommonProps {
  readonly rule: RuleTerm;
  /** @default "<application>-<id>" */
  readonly alarmName?: string;
  readonly description?: string;
}

export class CompositeAlarm extends AlarmNodeBase<CompositeAlarmProps> {
  readonly kind = "compositeAlarm" as const;

  ruleReference(ctx: BuildContext): string {
    return this.props.alarmName ?? defaultAlarmName(ctx.app.name, this.id);
  }

  override dependencies(): Node[] {
    return typeof this.props.rule?.ruleAlarms === "function" ? this.props.rule.ruleAlarms() : [];
  }

  /** The rendered CloudWatch AlarmRule; throws FlowValidationError if the rule is invalid. */
  alarmRule(): string {
    const ctx = this.owner().createContext(new IssueCollector());
    const rendered = this.renderRule(ctx);
    ctx.issues.throwIfAny();
    return rendered;
  }

  buildModel(ctx: BuildContext, signal: SignalModel): CompositeAlarmNodeModel {
    const p = this.props;
    const alarmName = this.ruleReference(ctx);
    checkAlarmName(ctx, { node: this.id }, alarmName);
    const alarmRule = this.renderRule(ctx);
    return {
      id: this.id,
      kind: "compositeAlarm",
      signal,
      metadata: p.metadata ?? {},
      alarmName,
      rule: typeof p.rule?.ruleModel === "function" ? p.rule.ruleModel() : { op: "const", value: false },
      alarmRule,
      ...(p.description === undefined ? {} : { description: p.description }),
    };
  }

  private renderRule(ctx: BuildContext): string {
    const loc = { node: this.id, field: "rule" };
    const rule = this.props.rule;
    if (rule === undefined || typeof rule.ruleModel !== "function") {
      ctx.issues.add(loc, "composite.rule", `rule must be built from alarm.is(state), anyOf, allOf and not`);
      return "FALSE";
    }
    const byId = new Map<string, Node>();
    for (const n of rule.ruleAlarms()) {
      byId.set(n.id, n);
      if (!(n instanceof AlarmNodeBase)) {
        ctx.issues.add(loc, "composite.not-an-alarm", `"${n.id}" is a ${n.kind}, not an alarm`);
      } else if (!ctx.owns(n)) {
        ctx.issues.add(loc, "composite.unknown-alarm", `alarm "${n.id}" is not declared in this application`);
      } else if (n === this) {
        ctx.issues.add(loc, "composite.self", `a composite alarm cannot refer to itself`);
      }
    }
    const model = rule.ruleModel();
    checkRuleShape(ctx, loc, model);
    return renderAlarmRule(model, (id) => {
      const n = byId.get(id);
      return n instanceof AlarmNodeBase ? n.ruleReference(ctx) : id;
    });
  }
}

function checkRuleShape(ctx: BuildContext, loc: Location, rule: AlarmRuleModel): void {
  if (rule.op === "state" && !ALARM_STATES.includes(rule.state)) {
    ctx.issues.add(
      loc,
      "composite.state",
      `state "${String(rule.state)}" is not one of ${ALARM_STATES.join(", ")}`,
    );
  }
  if ((rule.op === "and" || rule.op === "or") && rule.terms.length === 0) {
    ctx.issues.add(
      loc,
      "composite.empty",
      `${rule.op === "and" ? "allOf" : "anyOf"}() needs at least one term`,
    );
  }
  if (rule.op === "and" || rule.op === "or") rule.terms.forEach((t) => checkRuleShape(ctx, loc, t));
  if (rule.op === "not") checkRuleShape(ctx, loc, rule.term);
}

// ------------------------------------------------------------------ external alarms

export interface ExternalAlarmProps extends AlarmNodeCommonProps {
  readonly alarmName: string;
  /** @default the application's account */
  readonly account?: string;
  /** @default the application's region */
  readonly region?: string;
}

export class ExternalAlarm extends AlarmNodeBase<ExternalAlarmProps> {
  readonly kind = "externalAlarm" as const;

  arn(ctx: BuildContext): string {
    const account = this.props.account ?? ctx.app.account;
    const region = this.props.region ?? ctx.app.region;
    return `arn:aws:cloudwatch:${region}:${account}:alarm:${this.props.alarmName}`;
  }

  /** Alarms of the application's own account and region go by name; others by ARN. */
  ruleReference(ctx: BuildContext): string {
    const local =
      (this.props.account ?? ctx.app.account) === ctx.app.account &&
      (this.props.region ?? ctx.app.region) === ctx.app.region;
    return local ? this.props.alarmName : this.arn(ctx);
  }

  buildModel(ctx: BuildContext, signal: SignalModel): ExternalAlarmNodeModel {
    const p = this.props;
    const account = p.account ?? ctx.app.account;
    const region = p.region ?? ctx.app.region;
    reportLocation(ctx, { node: this.id }, account, region);
    checkAlarmName(ctx, { node: this.id }, p.alarmName ?? "");
    return {
      id: this.id,
      kind: "externalAlarm",
      signal,
      metadata: p.metadata ?? {},
      account,
      region,
      alarmName: p.alarmName,
      arn: this.arn(ctx),
    };
  }
}
