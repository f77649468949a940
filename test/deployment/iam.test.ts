/**
 * The twin's policy evaluator (iam-simulate underneath): identity and resource policies, same- and
 * cross-account, conditions, KMS key policies and iam:PassRole. Every case is asked both ways, the
 * validated `explain` and the synchronous `evaluate`, which must agree.
 */
import { PolicyEvaluator, type EvaluationRequest, type PolicyDocument } from "./twin/iam-evaluator";
import { ACCOUNT, KEY, OTHER, REGION, ROLE, allow, deny, evaluator, policy } from "./iam-fixtures";

describe("PolicyEvaluator", () => {
  const ask = async (action: string, resource: string, identity: PolicyDocument[], more: object = {}) => {
    const req: EvaluationRequest = { principal: ROLE, action, resource, identityPolicies: identity, ...more };
    const validated = await evaluator.explain(req);
    const quick = evaluator.evaluate(req);
    const summary = (r: typeof quick) => ({
      decision: r.decision,
      deniedBy: r.deniedBy,
      same: r.sameAccount,
    });
    expect({ action, ...summary(quick) }).toEqual({ action, ...summary(validated) });
    return validated;
  };

  it("allows what an identity policy allows and implicitly denies the rest", async () => {
    const p = [policy(allow("s3:GetObject", "arn:aws:s3:::data/*"))];
    await expect(ask("s3:GetObject", "arn:aws:s3:::data/a.csv", p)).resolves.toMatchObject({
      decision: "Allowed",
    });
    await expect(ask("s3:PutObject", "arn:aws:s3:::data/a.csv", p)).resolves.toMatchObject({
      decision: "ImplicitlyDenied",
      deniedBy: "identity",
    });
  });

  it("lets an explicit deny win over any allow", async () => {
    const p = [
      policy(allow("s3:*")),
      policy({ ...deny("s3:GetObject", "arn:aws:s3:::data/secret/*"), Sid: "NoSecrets" }),
    ];
    const result = await ask("s3:GetObject", "arn:aws:s3:::data/secret/k", p);
    expect(result).toMatchObject({ decision: "ExplicitlyDenied", deniedBy: "identity" });
    expect(result.reason).toContain("NoSecrets");
  });

  it("evaluates NotAction", async () => {
    const p = [policy({ Effect: "Allow", NotAction: ["s3:DeleteObject", "s3:DeleteBucket"], Resource: "*" })];
    await expect(ask("s3:GetObject", "arn:aws:s3:::data/k", p)).resolves.toMatchObject({
      decision: "Allowed",
    });
    await expect(ask("s3:DeleteObject", "arn:aws:s3:::data/k", p)).resolves.toMatchObject({
      decision: "ImplicitlyDenied",
    });
  });

  it("evaluates StringLike and StringEquals on s3:prefix (absent prefix matches neither)", async () => {
    const like = [
      policy(
        allow("s3:ListBucket", "arn:aws:s3:::data", { Condition: { StringLike: { "s3:prefix": "in/*" } } }),
      ),
    ];
    const list = (p: PolicyDocument[], context: Record<string, string>) =>
      ask("s3:ListBucket", "arn:aws:s3:::data", p, { context }).then((r) => r.decision);
    expect(await list(like, { "s3:prefix": "in/2024/" })).toBe("Allowed");
    expect(await list(like, { "s3:prefix": "out/" })).toBe("ImplicitlyDenied");
    expect(await list(like, {})).toBe("ImplicitlyDenied");
    const equals = [
      policy(
        allow("s3:ListBucket", "arn:aws:s3:::data", {
          Condition: { StringEquals: { "s3:prefix": ["", "in/"] } },
        }),
      ),
    ];
    expect(await list(equals, { "s3:prefix": "in/" })).toBe("Allowed");
    expect(await list(equals, { "s3:prefix": "in/x" })).toBe("ImplicitlyDenied");
  });

  it("needs identity and bucket policy across accounts, either one within the account", async () => {
    const identity = [policy(allow("s3:GetObject", "arn:aws:s3:::shared/*"))];
    const bucketPolicy = policy(
      allow("s3:GetObject", "arn:aws:s3:::shared/*", { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }),
    );
    const cross = { resourceAccount: OTHER };
    await expect(ask("s3:GetObject", "arn:aws:s3:::shared/k", identity, cross)).resolves.toMatchObject({
      decision: "ImplicitlyDenied",
      deniedBy: "resource",
      sameAccount: false,
    });
    await expect(
      ask("s3:GetObject", "arn:aws:s3:::shared/k", [], { ...cross, resourcePolicy: bucketPolicy }),
    ).resolves.toMatchObject({
      decision: "ImplicitlyDenied",
      deniedBy: "identity",
    });
    await expect(
      ask("s3:GetObject", "arn:aws:s3:::shared/k", identity, { ...cross, resourcePolicy: bucketPolicy }),
    ).resolves.toMatchObject({ decision: "Allowed" });
    const toRole = policy(allow("s3:GetObject", "arn:aws:s3:::shared/*", { Principal: { AWS: ROLE } }));
    await expect(
      ask("s3:GetObject", "arn:aws:s3:::shared/k", [], { resourcePolicy: toRole }),
    ).resolves.toMatchObject({
      decision: "Allowed",
      sameAccount: true,
    });
  });

  it("requires the KMS key policy to allow, directly or by delegating to the account root", async () => {
    const iam = [policy(allow(["kms:Decrypt", "kms:GenerateDataKey"]))];
    const rootDelegation = policy(
      allow("kms:*", "*", { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }),
    );
    const otherRoleOnly = policy(
      allow("kms:*", "*", { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` } }),
    );
    const toRole = policy(allow("kms:Decrypt", "*", { Principal: { AWS: ROLE } }));
    await expect(ask("kms:Decrypt", KEY, iam, { resourcePolicy: rootDelegation })).resolves.toMatchObject({
      decision: "Allowed",
    });
    await expect(ask("kms:Decrypt", KEY, iam, { resourcePolicy: otherRoleOnly })).resolves.toMatchObject({
      decision: "ImplicitlyDenied",
      deniedBy: "resource",
    });
    await expect(ask("kms:Decrypt", KEY, iam)).resolves.toMatchObject({ decision: "ImplicitlyDenied" });
    await expect(ask("kms:Decrypt", KEY, [], { resourcePolicy: toRole })).resolves.toMatchObject({
      decision: "Allowed",
    });
    await expect(ask("kms:Decrypt", KEY, [], { resourcePolicy: rootDelegation })).resolves.toMatchObject({
      decision: "ImplicitlyDenied",
    });
  });

  it("evaluates kms:EncryptionContext:<key> conditions (which iam-simulate's validated path drops)", async () => {
    const keyPolicy = policy(
      allow("kms:Decrypt", "*", {
        Principal: { AWS: ROLE },
        Condition: { StringLike: { "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::data/*" } },
      }),
    );
    const decrypt = (object: string) =>
      ask("kms:Decrypt", KEY, [], {
        resourcePolicy: keyPolicy,
        context: { "kms:EncryptionContext:aws:s3:arn": object },
      });
    const inside = await decrypt("arn:aws:s3:::data/k");
    expect(inside).toMatchObject({ decision: "Allowed", ignoredContextKeys: [] });
    expect(inside.reason).toContain("kms:EncryptionContext:aws:s3:arn");
    await expect(decrypt("arn:aws:s3:::other/k")).resolves.toMatchObject({
      decision: "ImplicitlyDenied",
      deniedBy: "resource",
    });
  });

  it("evaluates iam:PassRole with iam:PassedToService", async () => {
    const p = [
      policy(
        allow("iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/emr-job`, {
          Condition: { StringEquals: { "iam:PassedToService": "emr-serverless.amazonaws.com" } },
        }),
      ),
    ];
    const pass = (service: string) =>
      ask("iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/emr-job`, p, {
        context: { "iam:PassedToService": service },
      });
    await expect(pass("emr-serverless.amazonaws.com")).resolves.toMatchObject({ decision: "Allowed" });
    await expect(pass("glue.amazonaws.com")).resolves.toMatchObject({ decision: "ImplicitlyDenied" });
  });

  it("refuses requests AWS would not recognise, and reports context keys that do not apply", async () => {
    await expect(ask("s3:GetObjekt", "arn:aws:s3:::data/k", [])).rejects.toThrow(/invalid.action/);
    await expect(ask("s3:GetObject", "arn:aws:s3:::data", [])).rejects.toThrow(/no.resource.types/);
    const r = await ask("s3:GetObject", "arn:aws:s3:::data/k", [policy(allow("s3:GetObject"))], {
      context: { "s3:prefix": "x" },
    });
    expect(r.ignoredContextKeys).toEqual(["s3:prefix"]);
  });

  it("reports what its synchronous decisions could not validate", async () => {
    const own = new PolicyEvaluator({ account: ACCOUNT, region: REGION });
    const decision = own.evaluate({
      principal: ROLE,
      action: "s3:GetObjekt",
      resource: "arn:aws:s3:::data/k",
      identityPolicies: [policy(allow("s3:*"))],
    });
    // s3:* matches even a misspelt action: only the background validation catches it
    expect(decision.decision).toBe("Allowed");
    expect(await own.verifyPending()).toEqual([
      expect.stringMatching(/rejected s3:GetObjekt .*invalid.action/),
    ]);
    expect(await evaluator.verifyPending()).toEqual([]);
  });
});
