/**
 * How events reach the router in the module: the default bus's rules (pattern or schedule), their
 * targets, and the Lambda permissions that let EventBridge invoke the function; the event source
 * mapping of the internal queue. A rule that matches but cannot invoke the function is a defect the
 * twin reports, not a silent drop.
 */
import { randomUUID } from "node:crypto";
import { readVector } from "../../support/vectors";
import { matchesPattern } from "./event-pattern";
import type { RenderedPlan, RenderedResource } from "./terraform-plan";

/** One rule's delivery of an event to the router. */
export interface Delivery {
  readonly rule: string;
  result?: unknown;
}

export class EventRouting {
  private readonly functionName: string;

  constructor(
    private readonly plan: RenderedPlan,
    private readonly account: string,
    private readonly region: string,
  ) {
    this.functionName = String(plan.resource("aws_lambda_function").values.function_name);
  }

  /** The rules whose pattern matches `event` and that invoke the router. */
  route(event: unknown): Delivery[] {
    const e = event as { source?: string; "detail-type"?: string; detail?: { bucket?: { name?: string } } };
    if (e.source === "aws.s3" && !this.eventBridgeEnabled(e.detail?.bucket?.name)) return [];
    const out: Delivery[] = [];
    // A schedule's event goes to the one rule it names in `resources`, and only from this account.
    const scheduled = event as {
      source?: string;
      "detail-type"?: string;
      account?: string;
      resources?: unknown;
    };
    if (scheduled.source === "aws.events" && scheduled["detail-type"] === "Scheduled Event") {
      if (scheduled.account !== this.account || !Array.isArray(scheduled.resources)) return [];
      for (const rule of this.plan.all("aws_cloudwatch_event_rule")) {
        const name = String(rule.values.name);
        if (typeof rule.values.schedule_expression !== "string" || rule.values.state === "DISABLED") continue;
        if (scheduled.resources.includes(this.ruleArn(name)) && this.invokesRouter(name))
          out.push({ rule: name });
      }
      return out;
    }
    for (const rule of this.plan.all("aws_cloudwatch_event_rule")) {
      const pattern = rule.values.event_pattern;
      if (typeof pattern !== "string" || rule.values.state === "DISABLED") continue;
      if (!matchesPattern(pattern, event)) continue;
      const name = String(rule.values.name);
      if (this.invokesRouter(name)) out.push({ rule: name });
    }
    return out;
  }

  /** A "Scheduled Event" of the rule named `rule`, as EventBridge sends it when the schedule fires. */
  scheduledEvent(rule: string, now: number): unknown {
    const r = this.plan.all("aws_cloudwatch_event_rule").find((x) => x.values.name === rule);
    if (!r || typeof r.values.schedule_expression !== "string")
      throw new Error(`the module has no scheduled rule ${rule}`);
    if (!this.invokesRouter(rule)) throw new Error(`the scheduled rule ${rule} does not invoke the router`);
    const sample = readVector("eventbridge.scheduled-event.awsdocs.json") as Record<string, unknown>;
    return {
      version: "0",
      ...sample,
      id: randomUUID(),
      account: this.account,
      region: this.region,
      time: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"),
      resources: [this.ruleArn(rule)],
    };
  }

  /** Throws unless the module maps `queueUrl`'s queue to the router. */
  requireQueueMapping(queueUrl: string): void {
    const name = queueUrl.slice(queueUrl.lastIndexOf("/") + 1);
    const found = this.plan
      .all("aws_lambda_event_source_mapping")
      .some(
        (m) =>
          String(m.values.event_source_arn).endsWith(`:${name}`) &&
          this.isRouter(String(m.values.function_name)),
      );
    if (!found) throw new Error(`no event source mapping delivers the queue ${name} to the router`);
  }

  ruleArn(rule: string): string {
    return `arn:aws:events:${this.region}:${this.account}:rule/${rule}`;
  }

  /** The ARN the plan gives a KMS key (its placeholder). */
  keyArn(key: RenderedResource): string | undefined {
    const arn = key.attributes?.arn;
    return typeof arn === "string" ? arn : undefined;
  }

  private invokesRouter(rule: string): boolean {
    const target = this.plan
      .all("aws_cloudwatch_event_target")
      .some((t) => t.values.rule === rule && this.isRouter(String(t.values.arn)));
    if (!target) return false;
    const permitted = this.plan
      .all("aws_lambda_permission")
      .some(
        (p) =>
          this.isRouter(String(p.values.function_name)) &&
          p.values.principal === "events.amazonaws.com" &&
          p.values.action === "lambda:InvokeFunction" &&
          (p.values.source_arn === undefined || String(p.values.source_arn).endsWith(`:rule/${rule}`)),
      );
    if (!permitted)
      throw new Error(`rule ${rule} targets the router, but no Lambda permission lets EventBridge invoke it`);
    return true;
  }

  private isRouter(nameOrArn: string): boolean {
    return nameOrArn === this.functionName || nameOrArn.endsWith(`:function:${this.functionName}`);
  }

  /** S3 sends "Object Created" to EventBridge only from buckets that turn it on (external: the owner's part). */
  private eventBridgeEnabled(bucket: string | undefined): boolean {
    const own = this.plan.all("aws_s3_bucket").some((b) => b.values.bucket === bucket);
    if (!own) return true;
    return this.plan
      .all("aws_s3_bucket_notification")
      .some((n) => n.values.bucket === bucket && n.values.eventbridge === true);
  }
}
