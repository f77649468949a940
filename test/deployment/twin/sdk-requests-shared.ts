/**
 * Types and input readers shared by the SDK-command → authorization-request mappers
 * (sdk-requests.ts and sdk-requests-emr.ts).
 */

/** One authorization request AWS evaluates for a call. */
export interface AuthorizationRequest {
  /** IAM action, e.g. `s3:GetObject`. */
  readonly action: string;
  /** Resource ARN, or `*` for actions without resource types. */
  readonly resource: string;
  /** Request context keys derivable from the input. */
  readonly context: Record<string, string | string[]>;
}

/** Where the call is made, and what a pure mapping cannot read from the input. */
export interface AuthorizationContext {
  /** The caller's account (resources named without an account belong to it). */
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /**
   * The workgroup a query ran in: Athena authorizes GetQueryExecution, StopQueryExecution and
   * GetQueryResults against it, and their input names only the query.
   */
  readonly queryWorkGroup?: (queryExecutionId: string) => string | undefined;
  /**
   * The role inside an EC2 instance profile (EMR's JobFlowRole names an instance profile; AWS evaluates
   * iam:PassRole on the profile's role). @default the role of the same name in the caller's account
   */
  readonly instanceProfileRole?: (instanceProfile: string) => string | undefined;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` in the context's account and region. */
export function arn(ctx: AuthorizationContext, service: string, resource: string): string {
  return `arn:${ctx.partition}:${service}:${ctx.region}:${ctx.account}:${resource}`;
}

/** A required string field. */
export function str(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== "string" || value === "") throw new Error(`twin IAM: input has no ${field}`);
  return value;
}

/** An optional string field. */
export function optStr(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  return typeof value === "string" ? value : undefined;
}

/** An optional number field. */
export function num(input: Record<string, unknown>, field: string): number | undefined {
  const value = input[field];
  return typeof value === "number" ? value : undefined;
}

/** A required object field. */
export function record(input: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = input[field];
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new Error(`twin IAM: input has no ${field}`);
  return value as Record<string, unknown>;
}

/** An array-of-objects field (absent: empty). */
export function list(input: Record<string, unknown>, field: string): Record<string, unknown>[] {
  const value = input[field];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`twin IAM: input ${field} is no list`);
  return value as Record<string, unknown>[];
}

/** Context keys for request tags: `<prefix>:RequestTag/<key>` for each prefix, and `aws:TagKeys`. */
export function requestTagContext(
  tags: Readonly<Record<string, string>>,
  prefixes: readonly string[],
): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  const keys = Object.keys(tags);
  if (keys.length === 0) return context;
  for (const [k, v] of Object.entries(tags)) for (const p of prefixes) context[`${p}:RequestTag/${k}`] = v;
  context["aws:TagKeys"] = keys;
  return context;
}

/** A role ARN for a role name or ARN. */
export function roleArn(ctx: AuthorizationContext, role: string): string {
  return role.startsWith("arn:") ? role : `arn:${ctx.partition}:iam::${ctx.account}:role/${role}`;
}
