/**
 * Why an input was refused, as a short code: the `Reason` dimension of the `EventsRejected` metric
 * and the `reasonCode` of a dead letter. The reasons' texts say what was seen; the codes group them
 * into a few kinds an alarm or a dashboard can tell apart (docs/operating.md lists them).
 */
export const REJECT_REASONS = {
  "not-json": "a body or message that is not JSON",
  truncated: "JSON cut short (a payload truncated on the way)",
  "unknown-source": "JSON that is not an AWS event the router reads (unknown source or shape)",
  "missing-field": "an AWS event without a field the router needs (bucket, key, time, state…)",
  "bad-encoding": "an S3 key that is not valid URL encoding",
  "bad-dimension": "a partition value of the wrong type for its dimension (abc for LONG, 2024-02-30)",
  "outside-filter": "a partition outside the node's filter (counted, not dead-lettered)",
  oversized: "a key or value past what AWS allows (an S3 key over 1,024 bytes)",
  "store-limit": "state that cannot fit a DynamoDB item (400 KB) even with bounded keys",
  "failed-retries": "an internal-queue message that failed on every receive",
  unreadable: "anything else the adapters could not read",
} as const;

export type RejectReason = keyof typeof REJECT_REASONS;

/** The code of a reason text (the adapters' reasons name what they saw; see events/*.ts). */
export function reasonCode(reason: string): RejectReason {
  if (/^failed \d+ times:/.test(reason)) return "failed-retries";
  if (/StoreItemTooLarge|DynamoDB's item limit|DynamoDB store's limit/.test(reason)) return "store-limit";
  if (/is truncated JSON/.test(reason)) return "truncated";
  if (/is not JSON/.test(reason)) return "not-json";
  if (/not valid URL encoding/.test(reason)) return "bad-encoding";
  if (/is not a valid value of dimension/.test(reason)) return "bad-dimension";
  if (/outside the filter/.test(reason)) return "outside-filter";
  if (/exceeds S3's|exceeds .* limit|too large/.test(reason)) return "oversized";
  if (
    /not a known AWS event|is not an SQS, SNS or S3 record|not an event|empty array|nested more than/.test(
      reason,
    )
  )
    return "unknown-source";
  if (/names no|has no|lists no|no valid|without|missing|is nothing|, not text|, not a list/.test(reason))
    return "missing-field";
  return "unreadable";
}
