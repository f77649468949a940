/** Whether a role's trust policy lets a service principal assume it (sts:AssumeRole, Allow). */
import type { PolicyDocument } from "../iam-evaluator";

export function trusts(trust: PolicyDocument, service: string): boolean {
  const statements = Array.isArray(trust.Statement) ? trust.Statement : [trust.Statement];
  return statements.some((s) => {
    if (s === undefined || s.Effect !== "Allow") return false;
    const actions = ([] as unknown[]).concat(s.Action ?? []);
    if (!actions.some((a) => a === "sts:AssumeRole" || a === "sts:*" || a === "*")) return false;
    const principal = s.Principal as { Service?: string | string[] } | undefined;
    return ([] as unknown[]).concat(principal?.Service ?? []).includes(service);
  });
}
