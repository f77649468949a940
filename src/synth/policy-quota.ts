/**
 * IAM's size quotas on a role's permissions, applied before Terraform: a role's inline policies may
 * hold 10,240 characters in all; past that, its statements are split into customer managed policies of
 * at most 6,144 characters each, at most 10 attached to a role. Sizes count no white space (IAM does
 * not), and a Terraform reference or expression (an ARN known only at plan time) is counted at
 * {@link REFERENCE_CHARS} characters, the longest an ARN of the resources Sluice references gets.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
import { policyDocument, type Statement } from "./policy";
import { SynthError } from "./synth-error";

/** Inline policies of one role, together. */
export const INLINE_POLICY_CHARS = 10_240;
/** One customer managed policy. */
export const MANAGED_POLICY_CHARS = 6_144;
/** Managed policies attached to one role (the default quota). */
export const MANAGED_POLICIES_PER_ROLE = 10;
/** What a `${…}` reference is counted as, when nothing tells its size better. */
export const REFERENCE_CHARS = 128;

/** References whose rendered size is bounded by what they are: an account id, a region, a bucket name. */
const BOUNDED_REFERENCES: readonly [RegExp, number][] = [
  [/(\.account|account_id)\}$/, 12],
  [/\.region\}$/, 16],
  [/\.bucket\}$/, 63],
];

/** The size IAM will count for a rendered policy document, each reference at its longest. */
export function policyChars(document: string): number {
  const compact = JSON.stringify(JSON.parse(document) as unknown);
  let chars = 0;
  for (const m of compact.matchAll(/\$\{[^{}]*\}/g)) {
    chars += BOUNDED_REFERENCES.find(([re]) => re.test(m[0]))?.[1] ?? REFERENCE_CHARS;
  }
  return chars + compact.replace(/\$\{[^{}]*\}/g, "").length;
}

/** How a role's statements are attached: one inline policy, or managed policies of bounded size. */
export type PolicyLayout =
  | { readonly kind: "inline"; readonly document: string }
  | { readonly kind: "managed"; readonly documents: readonly string[] };

/**
 * One inline policy when it fits, else the fewest managed policies (statements in order, each policy
 * filled up to the quota); a SynthError naming the role when even that cannot fit.
 */
export function layoutPolicies(
  role: string,
  statements: readonly Statement[],
  attachedAlready = 0,
): PolicyLayout {
  const whole = policyDocument(statements);
  if (policyChars(whole) <= INLINE_POLICY_CHARS) return { kind: "inline", document: whole };
  const documents: string[] = [];
  let current: Statement[] = [];
  for (const st of statements) {
    const alone = policyDocument([st]);
    if (policyChars(alone) > MANAGED_POLICY_CHARS) {
      throw new SynthError(
        `role ${role}: statement ${st.sid ?? "(no sid)"} alone takes ${policyChars(alone)} characters; ` +
          `an IAM managed policy holds ${MANAGED_POLICY_CHARS}`,
      );
    }
    if (current.length > 0 && policyChars(policyDocument([...current, st])) > MANAGED_POLICY_CHARS) {
      documents.push(policyDocument(current));
      current = [];
    }
    current.push(st);
  }
  if (current.length > 0) documents.push(policyDocument(current));
  if (documents.length + attachedAlready > MANAGED_POLICIES_PER_ROLE) {
    throw new SynthError(
      `role ${role}: its permissions need ${documents.length} managed policies of ${MANAGED_POLICY_CHARS} characters` +
        `${attachedAlready > 0 ? ` besides ${attachedAlready} attached already` : ""}; IAM attaches at most ` +
        `${MANAGED_POLICIES_PER_ROLE} to a role. Fewer datasets per engine, or prefixes shared by several datasets, reduce them.`,
    );
  }
  return { kind: "managed", documents };
}
