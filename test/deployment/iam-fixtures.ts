/**
 * Shared fixtures of the twin's IAM tests: the account, role and key, an evaluator, and policy builders.
 */
import { PolicyEvaluator, type PolicyDocument, type PolicyStatement } from "./twin/iam-evaluator";
import type { AuthorizationContext } from "./twin/sdk-requests";

export const ACCOUNT = "111122223333";
export const OTHER = "444455556666";
export const REGION = "us-east-1";
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/sluice-router`;
export const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const CTX: AuthorizationContext = { account: ACCOUNT, region: REGION, partition: "aws" };
export const evaluator = new PolicyEvaluator({ account: ACCOUNT, region: REGION });

/** A policy document of these statements. */
export const policy = (...Statement: PolicyStatement[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement,
});

/** An Allow statement. */
export const allow = (
  Action: string | string[],
  Resource: string | string[] = "*",
  extra: Partial<PolicyStatement> = {},
): PolicyStatement => ({ Effect: "Allow", Action, Resource, ...extra });

/** A Deny statement. */
export const deny = (
  Action: string | string[],
  Resource: string | string[] = "*",
  extra: Partial<PolicyStatement> = {},
): PolicyStatement => ({ Effect: "Deny", Action, Resource, ...extra });
