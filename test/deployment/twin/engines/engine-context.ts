/**
 * What every engine twin shares: the planned module, its roles, S3 as a given role (IAM enforced),
 * AWS-shaped errors, and the state-change events AWS would publish, built from the real samples of
 * test/fixtures/aws-events with only the run's own fields replaced.
 */
import { createHash, randomUUID } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import { readVector } from "../../../support/vectors";
import type { TwinRoles } from "../roles";
import type { RenderedPlan } from "../terraform-plan";

export interface EngineContext {
  readonly account: string;
  readonly region: string;
  readonly plan: RenderedPlan;
  readonly roles: TwinRoles;
  /** S3 acting as `roleArn`: every call evaluated against that role's rendered policies. */
  s3As(roleArn: string): S3Client;
  /** Evaluates one request of `roleArn` against its policies; resolves to the denial message, if any. */
  denied(
    roleArn: string,
    action: string,
    resource: string,
    context?: Record<string, string>,
  ): string | undefined;
  /** Where a Glue catalog table keeps its data: the module's tables, then the twin's external catalog. */
  tableLocation(database: string, table: string): string | undefined;
  now(): number;
}

/** One answer of an engine twin to an SDK command. */
export type CommandHandler = (command: string, input: Record<string, unknown>) => Promise<unknown>;

/** An engine twin: answers the router's SDK commands and runs what they started, on request. */
export interface EngineTwin {
  readonly service: string;
  handle: CommandHandler;
  /** Runs every started job to its end; returns the state-change events AWS would publish. */
  runPending(): Promise<unknown[]>;
  /** Jobs started so far, for assertions. */
  readonly started: readonly StartedJob[];
}

export interface StartedJob {
  readonly engine: string;
  readonly id: string;
  /** The role the job's code runs as. */
  readonly role: string;
  state: string;
  error?: string;
  readonly request: Record<string, unknown>;
}

/** An error as the SDK raises an AWS service error of a JSON protocol. */
export function serviceError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

/** A state-change event: the sample `file` with `detail` fields replaced and a fresh envelope. */
export function stateEvent(
  ctx: EngineContext,
  file: string,
  detail: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const sample = readVector(file) as Record<string, unknown>;
  return {
    ...sample,
    id: randomUUID(),
    account: ctx.account,
    region: ctx.region,
    time: new Date(ctx.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    ...extra,
    detail: { ...(sample.detail as Record<string, unknown>), ...detail },
  };
}

/** A deterministic id of `length` hex characters. */
export function hexId(seed: string, length = 32): string {
  let out = "";
  for (let i = 0; out.length < length; i++) out += createHash("sha256").update(`${seed}#${i}`).digest("hex");
  return out.slice(0, length);
}

export function stringField(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  return typeof v === "string" ? v : undefined;
}

/** The Terraform `values` of the planned resources of `type` whose `key` equals `value`. */
export function plannedWith(
  plan: RenderedPlan,
  type: string,
  key: string,
  value: string,
): Record<string, unknown> | undefined {
  return plan.all(type).find((r) => r.values[key] === value)?.values;
}
