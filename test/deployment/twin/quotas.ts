/**
 * AWS limits that make `terraform apply` (or the first invocation) fail, checked on the rendered
 * values of a plan. IAM's policy-size quotas are checked with the roles (roles.ts).
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
 */
import type { RenderedPlan } from "./terraform-plan";

/** Lambda: all environment variables of a function, keys and values, in bytes. */
export const LAMBDA_ENVIRONMENT_BYTES = 4096;
/** EventBridge: event pattern size (the default quota; 4096 after an increase). */
export const EVENT_PATTERN_CHARS = 2048;

interface NameRule {
  readonly type: string;
  readonly attribute: string;
  readonly pattern: RegExp;
  readonly what: string;
}

const NAMES: readonly NameRule[] = [
  {
    type: "aws_s3_bucket",
    attribute: "bucket",
    pattern: /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    what: "3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
  },
  {
    type: "aws_lambda_function",
    attribute: "function_name",
    pattern: /^[A-Za-z0-9_-]{1,64}$/,
    what: "1–64 letters, digits, hyphens and underscores",
  },
  {
    type: "aws_sqs_queue",
    attribute: "name",
    pattern: /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/,
    what: "1–80 letters, digits, hyphens and underscores",
  },
  {
    type: "aws_cloudwatch_event_rule",
    attribute: "name",
    pattern: /^[.\-_A-Za-z0-9]{1,64}$/,
    what: "1–64 letters, digits, dots, hyphens and underscores",
  },
  {
    type: "aws_iam_role",
    attribute: "name",
    pattern: /^[\w+=,.@-]{1,64}$/,
    what: "1–64 characters of [\\w+=,.@-]",
  },
  {
    type: "aws_iam_policy",
    attribute: "name",
    pattern: /^[\w+=,.@-]{1,128}$/,
    what: "1–128 characters of [\\w+=,.@-]",
  },
  {
    type: "aws_dynamodb_table",
    attribute: "name",
    pattern: /^[A-Za-z0-9_.-]{3,255}$/,
    what: "3–255 of [A-Za-z0-9_.-]",
  },
  {
    type: "aws_athena_workgroup",
    attribute: "name",
    pattern: /^[A-Za-z0-9._-]{1,128}$/,
    what: "1–128 of [A-Za-z0-9._-]",
  },
  { type: "aws_glue_job", attribute: "name", pattern: /^.{1,255}$/, what: "1–255 characters" },
  {
    type: "aws_sns_topic",
    attribute: "name",
    pattern: /^[A-Za-z0-9_-]{1,256}$/,
    what: "1–256 letters, digits, hyphens and underscores",
  },
];

/** Every violation of a quota in the rendered plan, each naming the resource and the limit. */
export function renderedQuotaViolations(plan: RenderedPlan): string[] {
  const out: string[] = [];
  for (const rule of NAMES) {
    for (const r of plan.all(rule.type)) {
      const value = r.values[rule.attribute];
      if (typeof value === "string" && !rule.pattern.test(value)) {
        out.push(
          `${r.address}: ${rule.attribute} "${value}" (${value.length} characters) is not ${rule.what}`,
        );
      }
    }
  }
  const seen = new Map<string, string>();
  for (const rule of NAMES) {
    for (const r of plan.all(rule.type)) {
      const key = `${rule.type}:${String(r.values[rule.attribute])}`;
      const other = seen.get(key);
      if (other !== undefined) out.push(`${r.address} and ${other} have the same ${rule.attribute}`);
      seen.set(key, r.address);
    }
  }
  for (const f of plan.all("aws_lambda_function")) {
    const env = environmentOf(f.values.environment);
    const bytes = Object.entries(env).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    if (bytes > LAMBDA_ENVIRONMENT_BYTES) {
      out.push(
        `${f.address}: environment variables of ${bytes} bytes, Lambda allows ${LAMBDA_ENVIRONMENT_BYTES}`,
      );
    }
  }
  for (const r of plan.all("aws_cloudwatch_event_rule")) {
    const pattern = r.values.event_pattern;
    if (typeof pattern === "string" && pattern.length > EVENT_PATTERN_CHARS) {
      out.push(
        `${r.address}: event pattern of ${pattern.length} characters, EventBridge allows ${EVENT_PATTERN_CHARS}`,
      );
    }
  }
  return out;
}

export function environmentOf(block: unknown): Record<string, string> {
  const env = Array.isArray(block) ? (block[0] as unknown) : block;
  return (env as { variables?: Record<string, string> } | undefined)?.variables ?? {};
}
