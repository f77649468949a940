/**
 * Synthesizes a SluiceStack to its Terraform JSON through App.synth() into a temp dir (cdktf's
 * Testing.synth is superlinear on large stacks) and gives typed access to its resources.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../src/synth/cdktf";
import { SluiceStack, type SluiceStackProps } from "../../src/synth/sluice-stack";

export interface TerraformJson {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
  readonly provider?: Record<string, unknown[]>;
  readonly terraform?: Record<string, unknown>;
}

export interface Synthesized {
  readonly json: TerraformJson;
  readonly stack: SluiceStack;
  /** All resources of a type, by logical id. */
  resources(type: string): Record<string, Record<string, unknown>>;
  /** The only resource of a type (fails when there are 0 or several). */
  only(type: string): Record<string, unknown>;
}

export function synth(props: SluiceStackProps, id = "stack"): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "sluice-synth-"));
  const app = new App({ outdir });
  const stack = new SluiceStack(app, id, props);
  app.synth();
  const json = JSON.parse(readFileSync(join(outdir, "stacks", id, "cdk.tf.json"), "utf8")) as TerraformJson;
  const resources = (type: string): Record<string, Record<string, unknown>> => json.resource[type] ?? {};
  return {
    json,
    stack,
    resources,
    only(type) {
      const all = Object.values(resources(type));
      if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
      return all[0] as Record<string, unknown>;
    },
  };
}

/** Parses an IAM policy document rendered into the JSON (a string). */
export function policy(doc: unknown): {
  Statement: { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[] }[];
} {
  return JSON.parse(String(doc)) as {
    Statement: { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[] }[];
  };
}

/**
 * An account-wide name as synth gives it (Naming.accountWideName): `<app>-<what>-<6 hex>`, the digits
 * those of the SHA-1 of `<region>/<environment>`.
 */
export function accountWide(
  app: string,
  what: string,
  region = "us-east-1",
  environment = "default",
): string {
  return `${app}-${what}-${createHash("sha1").update(`${region}/${environment}`).digest("hex").slice(0, 6)}`;
}
