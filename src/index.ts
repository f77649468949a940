/**
 * Sluice: declare partition-aware AWS data pipelines in TypeScript, synthesize them to Terraform,
 * and run them with the same router locally and on Lambda.
 */
export * from "./flow";
