/**
 * Engines of LocalRuntime: inline code in process, Spark SQL and Presto SQL on DuckDB, PySpark
 * through a user-supplied local override (PySpark cannot run here).
 */
import { mkdir } from "node:fs/promises";
import type { CodeRefModel } from "../../flow/model/flow-model";
import type { InlineCompute } from "../../flow/model/inline-api";
import type { DispatchRequest, DispatchResult, Dispatcher } from "../core/dispatcher";
import { callInline } from "../core/inline-call";
import type { Storage } from "../core/storage";
import type { DuckDbDispatcher } from "./duckdb-dispatcher";

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- user code of any signature
export type CodeResolver = (ref: CodeRefModel) => Function;

/** Calls user code after creating the output folder, so it can write files there. */
export async function runInline(
  fn: InlineCompute,
  request: DispatchRequest,
  storage?: Storage,
): Promise<DispatchResult> {
  await mkdir(request.output.path, { recursive: true });
  return callInline(fn, request, storage);
}

/** Glue / EMR / Athena stand-in: SQL on DuckDB, PySpark through an override per node. */
export class LocalBatchDispatcher implements Dispatcher {
  constructor(
    private readonly duckdb: DuckDbDispatcher,
    private readonly overrides: Readonly<Record<string, InlineCompute>>,
    private readonly storage?: Storage,
  ) {}

  async start(request: DispatchRequest): Promise<DispatchResult> {
    if (request.target.kind !== "pySpark") return this.duckdb.start(request);
    const override = this.overrides[request.node.id];
    if (override === undefined) {
      return {
        status: "FAILED",
        transient: false,
        error:
          `pySpark target ${request.targetIndex + 1} of node "${request.node.id}" cannot run locally; ` +
          `give it a local override: LocalRuntime.start(app, { compute: { ${request.node.id}: async (inputs, output, ctx) => { … } } })`,
      };
    }
    return runInline(override, request, this.storage);
  }
}
