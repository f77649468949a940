/**
 * `sluice/synth`: the cdktf constructs, for stacks of your own. A separate entry point so that
 * `import … from "sluice"` never loads cdktf or the provider bindings.
 */
export { SluiceStack, type SluiceStackProps, type S3BackendProps, type FlowSource } from "./sluice-stack";
export { Storage, type StorageProps } from "./storage";
export { RoutingTable, type RoutingTableProps } from "./routing-table";
export { Processor, type ProcessorProps, type ProcessorSizing } from "./processor";
export { BatchCompute, type BatchComputeProps } from "./batch-compute";
export { Diagnostics, type DiagnosticsProps } from "./diagnostics";
export { ExecutionRoles, type ExecutionRolesProps, type RoleName } from "./execution-roles";
export { Naming } from "./naming";
export { SynthError } from "./synth-error";
export type { Statement } from "./policy";
