/**
 * IAM policy statements, collected per role while the components are built and rendered once at
 * the end: components grant what they need, no component edits another's role.
 */

export interface Statement {
  readonly sid?: string;
  readonly effect?: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export function policyDocument(statements: readonly Statement[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      ...(s.sid ? { Sid: s.sid } : {}),
      Effect: s.effect ?? "Allow",
      Action: s.actions.length === 1 ? s.actions[0] : [...s.actions],
      Resource: s.resources.length === 1 ? s.resources[0] : [...s.resources],
      ...(s.conditions ? { Condition: s.conditions } : {}),
    })),
  });
}

/** Trust policy letting an AWS service assume a role. */
export function assumeRolePolicy(...services: string[]): string {
  return trustPolicy(services);
}

/**
 * A role's trust policy for `services`; with `sourceAccount`, only on behalf of that account
 * (`aws:SourceAccount`, against the confused deputy). EC2 sets no source account: never pass one for it.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */
export function trustPolicy(services: readonly string[], sourceAccount?: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: services.length === 1 ? services[0] : services },
        Action: "sts:AssumeRole",
        ...(sourceAccount === undefined
          ? {}
          : { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } }),
      },
    ],
  });
}

/**
 * A KMS key policy: the account administers the key (IAM policies then decide who uses it), plus the
 * service statements a key needs before a service can encrypt with it on its own.
 */
export function keyPolicy(
  account: string,
  serviceStatements: readonly Record<string, unknown>[] = [],
): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      ...serviceStatements,
    ],
  });
}

/** Lets CloudWatch Logs encrypt the log groups matching `logGroup` (a name, or a pattern ending in *). */
export function logsKeyStatement(
  sid: string,
  account: string,
  region: string,
  logGroup: string,
): Record<string, unknown> {
  const arn = `arn:aws:logs:${region}:${account}:log-group:${logGroup}`;
  return {
    Sid: sid,
    Effect: "Allow",
    Principal: { Service: `logs.${region}.amazonaws.com` },
    Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
    Resource: "*",
    Condition: {
      [logGroup.endsWith("*") ? "ArnLike" : "ArnEquals"]: { "kms:EncryptionContext:aws:logs:arn": arn },
    },
  };
}

/**
 * kms:Decrypt for reading external datasets in a module, where each environment binds its own key
 * (or none): granted only for calls S3 makes on this account's behalf, for objects of the bound
 * buckets and prefixes (the SSE-KMS encryption context is the object's ARN, or the bucket's with S3
 * Bucket Keys). The key's own policy must still admit this account.
 */
/** Locations per decrypt-through-S3 statement: a role of many inputs can then be split into managed policies. */
const DECRYPT_LOCATIONS_PER_STATEMENT = 4;

/**
 * `decryptViaS3` over any number of locations, a few per statement (sids `<sid>`, `<sid>2`, …), so that
 * no single statement outgrows an IAM managed policy (policy-quota.ts).
 */
export function decryptViaS3Statements(
  sid: string,
  locations: Parameters<typeof decryptViaS3>[1],
  account: string,
): Statement[] {
  const out: Statement[] = [];
  for (let i = 0; i < locations.length; i += DECRYPT_LOCATIONS_PER_STATEMENT) {
    const n = i / DECRYPT_LOCATIONS_PER_STATEMENT;
    out.push(
      decryptViaS3(
        `${sid}${n === 0 ? "" : n + 1}`,
        locations.slice(i, i + DECRYPT_LOCATIONS_PER_STATEMENT),
        account,
      ),
    );
  }
  return out;
}

export function decryptViaS3(
  sid: string,
  locations: readonly {
    bucket: string;
    keyPrefix?: string;
    prefix: string;
    region: string;
    account?: string;
  }[],
  account: string,
): Statement {
  const arns = locations.flatMap((l) => [
    `arn:aws:s3:::${l.bucket}`,
    `arn:aws:s3:::${l.bucket}/${l.keyPrefix ?? (l.prefix === "" ? "" : `${l.prefix}/`)}*`,
  ]);
  // The keys of the data's own account and region only (where a location says its account).
  const keys = locations.every((l) => l.account !== undefined)
    ? [...new Set(locations.map((l) => `arn:aws:kms:${l.region}:${l.account as string}:key/*`))]
    : ["*"];
  return {
    sid,
    actions: ["kms:Decrypt"],
    resources: keys,
    conditions: {
      StringEquals: {
        "kms:ViaService": [...new Set(locations.map((l) => `s3.${l.region}.amazonaws.com`))],
        "kms:CallerAccount": account,
      },
      StringLike: { "kms:EncryptionContext:aws:s3:arn": [...new Set(arns)] },
    },
  };
}
