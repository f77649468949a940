/**
 * IAM's quotas at synth, at their exact boundaries: one inline policy up to 10,240 characters (white
 * space not counted), managed policies of at most 6,144 past it, at most 10 per role, and a SynthError
 * naming the role when the permissions cannot fit.
 */
import { policyDocument, type Statement } from "../../src/synth/policy";
import {
  INLINE_POLICY_CHARS,
  layoutPolicies,
  MANAGED_POLICIES_PER_ROLE,
  MANAGED_POLICY_CHARS,
  policyChars,
  REFERENCE_CHARS,
} from "../../src/synth/policy-quota";

/** A statement whose document, alone, is exactly `chars` characters. */
function sized(sid: string, chars: number): Statement {
  const base: Statement = { sid, actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/"] };
  const pad = chars - policyChars(policyDocument([base]));
  if (pad < 0) throw new Error(`${chars} is below a statement's minimum`);
  return { ...base, resources: [`arn:aws:s3:::b/${"x".repeat(pad)}`] };
}

/** Statements that together make a document of exactly `chars` characters. */
function filling(chars: number, n: number): Statement[] {
  const statements = Array.from({ length: n - 1 }, (_, i) => sized(`S${i}`, 200));
  const size = policyChars(policyDocument([...statements, sized(`S${n - 1}`, 200)]));
  statements.push(sized(`S${n - 1}`, 200 + chars - size));
  expect(policyChars(policyDocument(statements))).toBe(chars);
  return statements;
}

test("counts no white space, and a reference at its longest (an account id and a region are shorter)", () => {
  const doc = JSON.stringify({ Version: "2012-10-17", Statement: [] }, null, 2);
  expect(policyChars(doc)).toBe(JSON.stringify({ Version: "2012-10-17", Statement: [] }).length);
  const withRef = policyDocument([{ actions: ["s3:GetObject"], resources: ["${aws_s3_bucket.b.arn}/*"] }]);
  const plain = policyDocument([{ actions: ["s3:GetObject"], resources: ["/*"] }]);
  expect(policyChars(withRef)).toBe(policyChars(plain) + REFERENCE_CHARS);
  const account = policyDocument([
    { actions: ["s3:GetObject"], resources: ["${local.datasets.x.account}/*"] },
  ]);
  expect(policyChars(account)).toBe(policyChars(plain) + 12);
});

test("exactly 10,240 characters: one inline policy; one more: managed policies", () => {
  const at = filling(INLINE_POLICY_CHARS, 60);
  expect(layoutPolicies("glue", at).kind).toBe("inline");
  const over = filling(INLINE_POLICY_CHARS + 1, 60);
  const layout = layoutPolicies("glue", over);
  expect(layout.kind).toBe("managed");
  if (layout.kind !== "managed") return;
  expect(layout.documents.length).toBeGreaterThanOrEqual(2);
  for (const d of layout.documents) expect(policyChars(d)).toBeLessThanOrEqual(MANAGED_POLICY_CHARS);
  // Every statement is kept, in order.
  const sids = layout.documents.flatMap((d) =>
    (JSON.parse(d) as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid),
  );
  expect(sids).toEqual(over.map((s) => s.sid));
});

test("a statement of exactly 6,144 characters fits a managed policy; one more is a SynthError naming it", () => {
  const big = [sized("Big", MANAGED_POLICY_CHARS), ...filling(INLINE_POLICY_CHARS - 1000, 30)];
  expect(layoutPolicies("router", big).kind).toBe("managed");
  expect(() =>
    layoutPolicies("router", [
      sized("TooBig", MANAGED_POLICY_CHARS + 1),
      ...filling(INLINE_POLICY_CHARS, 40),
    ]),
  ).toThrow(
    `role router: statement TooBig alone takes ${MANAGED_POLICY_CHARS + 1} characters; an IAM managed policy holds ${MANAGED_POLICY_CHARS}`,
  );
});

test("10 managed policies fit; 11 are a SynthError naming the role and what to do", () => {
  const ten = Array.from({ length: MANAGED_POLICIES_PER_ROLE }, (_, i) =>
    sized(`P${i}`, MANAGED_POLICY_CHARS),
  );
  const layout = layoutPolicies("emr", ten);
  expect(layout.kind === "managed" && layout.documents.length).toBe(MANAGED_POLICIES_PER_ROLE);
  const eleven = [...ten, sized("P10", MANAGED_POLICY_CHARS)];
  expect(() => layoutPolicies("emr", eleven)).toThrow(
    /role emr: its permissions need 11 managed policies .* at most 10 to a role/,
  );
  // Policies attached already (an AWS managed policy) count against the 10.
  expect(() => layoutPolicies("emr", ten, 1)).toThrow(/besides 1 attached already/);
});
