/** Shape checks of AWS identifiers a flow declares, so typos fail at build time, not at deploy. */

export const ACCOUNT_PATTERN = /^\d{12}$/;
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY_PATTERN = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+|alias\/.+|[0-9a-f-]{36})$/;

export function accountError(account: string | undefined): string | undefined {
  if (account === undefined) return "account is required";
  return ACCOUNT_PATTERN.test(account) ? undefined : `account "${account}" is not a 12-digit AWS account id`;
}

export function regionError(region: string | undefined): string | undefined {
  if (region === undefined) return "region is required";
  return REGION_PATTERN.test(region) ? undefined : `region "${region}" is not an AWS region name`;
}

export function bucketError(bucket: string | undefined): string | undefined {
  if (!bucket) return "bucket is required";
  if (!BUCKET_PATTERN.test(bucket) || bucket.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    return `bucket "${bucket}" is not a valid S3 bucket name`;
  }
  return undefined;
}

export function kmsKeyError(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  return KMS_KEY_PATTERN.test(key) ? undefined : `encryption key "${key}" is not a KMS key id, alias or ARN`;
}
