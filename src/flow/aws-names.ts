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
  const rule = bucketRule(bucket);
  return rule === undefined ? undefined : `bucket "${bucket}" is not a valid S3 bucket name: ${rule}`;
}

/** The S3 bucket naming rule a name breaks, or undefined. */
function bucketRule(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return `it has ${bucket.length} characters, not 3 to 63`;
  const bad = [...new Set(bucket.replace(/[a-z0-9.-]/g, ""))];
  if (bad.length > 0) {
    const upper = bad.some((c) => c !== c.toLowerCase());
    return `${bad.map((c) => `"${c}"`).join(", ")} ${bad.length === 1 ? "is" : "are"} not allowed (only lowercase letters, digits, "." and "-"${upper ? "; no uppercase" : ""})`;
  }
  if (!/^[a-z0-9]/.test(bucket)) return "it must start with a lowercase letter or digit";
  if (!/[a-z0-9]$/.test(bucket)) return "it must end with a lowercase letter or digit";
  if (bucket.includes("..")) return "it must not contain two adjacent periods";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return "it must not look like an IP address";
  if (!BUCKET_PATTERN.test(bucket)) return "it does not match the S3 naming rules";
  return undefined;
}

export function kmsKeyError(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  return KMS_KEY_PATTERN.test(key) ? undefined : `encryption key "${key}" is not a KMS key id, alias or ARN`;
}
