/**
 * Key schema of the routing table: created by synth, read and written by the router's DynamoDB
 * store. Both import it from here so the table and the store cannot drift apart.
 */
export const ROUTING_TABLE_SCHEMA = {
  partitionKey: "pk",
  sortKey: "sk",
  /** Epoch seconds; DynamoDB TTL deletes history, idempotency keys and handles after it. */
  ttlAttribute: "ttl",
  /** Both keys are strings. */
  keyType: "S",
} as const;
