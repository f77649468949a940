/**
 * The IAM roles a planned module creates, with the policies AWS would attach to them: inline role
 * policies, customer managed policies of the module, and (by name only) AWS managed policies. Also
 * checks the IAM quotas that make `terraform apply` fail on a role.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
import type { PolicyDocument } from "./iam-evaluator";
import type { RenderedPlan, RenderedResource } from "./terraform-plan";

/** Inline policies of one role, all together, in characters without white space. */
export const INLINE_POLICIES_PER_ROLE_CHARS = 10_240;
/** One customer managed policy, in characters without white space. */
export const MANAGED_POLICY_CHARS = 6_144;
/** Managed policies attached to one role (the default quota). */
export const MANAGED_POLICIES_PER_ROLE = 10;
/** Role names. */
export const ROLE_NAME_MAX = 64;

export interface TwinRole {
  readonly name: string;
  readonly arn: string;
  readonly trust: PolicyDocument;
  /** Inline and customer managed policy documents, as AWS evaluates them together. */
  readonly policies: readonly PolicyDocument[];
  /** AWS managed policies attached by ARN (their content is AWS's; the twin knows them by name). */
  readonly awsManaged: readonly string[];
}

export class TwinRoles {
  private readonly byArn = new Map<string, TwinRole>();
  /** Quota violations, each naming the role and the number. */
  readonly violations: string[] = [];

  constructor(plan: RenderedPlan, account: string) {
    const managed = new Map<string, string>();
    for (const p of plan.all("aws_iam_policy")) {
      const arn = `arn:aws:iam::${account}:policy${str(p.values.path, "/")}${str(p.values.name)}`;
      managed.set(arn, str(p.values.policy));
      if (compactLength(str(p.values.policy)) > MANAGED_POLICY_CHARS) {
        this.violations.push(
          `managed policy ${str(p.values.name)}: ${compactLength(str(p.values.policy))} characters, IAM allows ${MANAGED_POLICY_CHARS}`,
        );
      }
    }
    for (const r of plan.all("aws_iam_role")) {
      const name = str(r.values.name);
      const arn = `arn:aws:iam::${account}:role${str(r.values.path, "/")}${name}`;
      const inline = plan
        .all("aws_iam_role_policy")
        .filter((p) => roleMatches(p, name))
        .map((p) => str(p.values.policy));
      const attached = plan
        .all("aws_iam_role_policy_attachment")
        .filter((p) => roleMatches(p, name))
        .map((p) => str(p.values.policy_arn));
      if (name.length > ROLE_NAME_MAX)
        this.violations.push(`role ${name}: name longer than ${ROLE_NAME_MAX}`);
      const inlineChars = inline.reduce((n, p) => n + compactLength(p), 0);
      if (inlineChars > INLINE_POLICIES_PER_ROLE_CHARS) {
        this.violations.push(
          `role ${name}: inline policies of ${inlineChars} characters, IAM allows ${INLINE_POLICIES_PER_ROLE_CHARS}`,
        );
      }
      if (attached.length > MANAGED_POLICIES_PER_ROLE) {
        this.violations.push(
          `role ${name}: ${attached.length} managed policies attached, IAM allows ${MANAGED_POLICIES_PER_ROLE}`,
        );
      }
      const documents = [
        ...inline,
        ...attached.flatMap((a) => (managed.has(a) ? [managed.get(a) as string] : [])),
      ].map((p) => JSON.parse(p) as PolicyDocument);
      this.byArn.set(arn, {
        name,
        arn,
        trust: JSON.parse(str(r.values.assume_role_policy)) as PolicyDocument,
        policies: documents,
        awsManaged: attached.filter((a) => a.startsWith("arn:aws:iam::aws:policy/")),
      });
    }
  }

  /** The role of an ARN, or a clear error (a module that names a role it does not create). */
  get(arn: string): TwinRole {
    const role = this.byArn.get(arn);
    if (!role)
      throw new Error(`the module creates no role ${arn} (roles: ${[...this.byArn.keys()].join(", ")})`);
    return role;
  }

  /** The role named `name`. */
  named(name: string): TwinRole {
    for (const r of this.byArn.values()) if (r.name === name) return r;
    throw new Error(`the module creates no role named ${name}`);
  }

  all(): TwinRole[] {
    return [...this.byArn.values()];
  }
}

/** A policy's size as IAM counts it: white space outside strings is not counted. */
export function compactLength(policy: string): number {
  try {
    return JSON.stringify(JSON.parse(policy)).length;
  } catch {
    return policy.replace(/\s+/g, "").length;
  }
}

function roleMatches(attachment: RenderedResource, roleName: string): boolean {
  const role = str(attachment.values.role);
  return role === roleName || role.endsWith(`/${roleName}`);
}

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}
