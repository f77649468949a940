/** AWS event adapters: raw Lambda deliveries → signals and engine state changes for the router. */
export { adaptEvent } from "./adapt";
export { SourceIndex, INTERNAL_DATA_PREFIX, type SourceIndexProps } from "./source-index";
export type { AdaptedEvent, EngineEvent, EventEngine, Ignored } from "./types";
export { decodeS3Key, s3EventId } from "./s3";
export { alarmEventId } from "./alarm";
export { isTransientMessage } from "./engine-state";
export { partitionValues } from "./glue-catalog";
