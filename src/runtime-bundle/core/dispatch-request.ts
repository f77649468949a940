/**
 * Building a target's DispatchRequest from its execution record. Everything that depends only on
 * the model (the flow's datasets as `ctx.dataset` sees them) is computed once per builder, so a
 * dispatch costs the same at 1 route and at 1,000.
 */
import type {
  ComputeParamsModel,
  DataNodeModel,
  DimensionValue,
  FlowModel,
  NodeKind,
  NodeModel,
} from "../../flow/model/flow-model";
import type { InlineDataset } from "../../flow/model/inline-api";
import type { CustomMapperResolver } from "../../flow/model/mapper";
import type { DispatchInput, DispatchRequest } from "./dispatcher";
import type { ExecutionRecord } from "./execution-record";
import type { RuntimeEnvironment } from "./hooks";
import { partitionsOf, selectInputs, type Selection } from "./materialize";
import type { Route } from "./route-table";
import type { Dimensions } from "./signal";
import type { Storage } from "./storage";

const DATA_KINDS = new Set<NodeKind>(["s3Dataset", "glueTable", "data", "upstreamData"]);

export class RequestBuilder {
  private datasets: Readonly<Record<string, InlineDataset>> | undefined;

  constructor(
    private readonly model: FlowModel,
    private readonly storage: Storage,
    private readonly environment: RuntimeEnvironment,
    private readonly custom?: CustomMapperResolver,
  ) {}

  /** The request for target `i`, rebuilt from the record so any invocation can continue an execution. */
  request(route: Route, record: ExecutionRecord, i: number): DispatchRequest {
    const sel = selectInputs(route, record.inputs, this.custom);
    const inputs: Record<string, DispatchInput> = {};
    for (const input of route.inputs) {
      const s = sel[input.alias] ?? {};
      const kind = input.source.kind;
      const parts = partitionsOf(input, s);
      inputs[input.alias] = {
        node: input.source.id,
        kind: input.source.signal.kind,
        dimensions: tipDimensions(s),
        paths: DATA_KINDS.has(kind) ? parts.map((p) => this.storage.partitionPath(input.source, p)) : [],
        ...(kind === "s3Dataset" || kind === "data" || kind === "upstreamData"
          ? { format: input.source.format }
          : {}),
        reference: !input.trigger,
      };
    }
    const target = route.node.compute[i] as DataNodeModel["compute"][number];
    const sizing = this.environment.compute?.[route.id];
    return {
      executionId: record.id,
      node: route.node,
      target:
        sizing === undefined ? target : { ...target, params: mergeComputeParams(target.params, sizing) },
      targetIndex: i,
      attempt: record.attempts,
      inputs,
      output: { dimensions: record.dimensions, path: record.path, format: route.node.format },
      env: this.environment.name,
      config: this.environment.config,
      datasets: this.datasetsOf(inputs),
    };
  }

  /**
   * ctx.dataset(name): the flow's datasets by id (where the storage knows them), then the inputs by
   * alias. The flow's datasets are built once and are the prototype of every request's record (its
   * own entries are the aliases): copying them per request made each execution O(nodes of the flow).
   */
  private datasetsOf(inputs: Readonly<Record<string, DispatchInput>>): Record<string, InlineDataset> {
    const base = (this.datasets ??= this.modelDatasets());
    const out = Object.create(base) as Record<string, InlineDataset>;
    for (const [alias, input] of Object.entries(inputs)) {
      const known = base[input.node];
      out[alias] = {
        node: input.node,
        kind: known?.kind ?? (this.model.nodes[input.node]?.kind as NodeKind),
        ...(known?.location === undefined ? {} : { location: known.location }),
        paths: input.paths,
        dimensions: input.dimensions,
        ...(input.format === undefined ? {} : { format: input.format }),
      };
    }
    return out;
  }

  private modelDatasets(): Record<string, InlineDataset> {
    const out = Object.create(null) as Record<string, InlineDataset>;
    for (const node of Object.values(this.model.nodes) as NodeModel[]) {
      if (!DATA_KINDS.has(node.kind)) continue;
      const location = this.storage.datasetRoot?.(node);
      out[node.id] = {
        node: node.id,
        kind: node.kind,
        ...(location === undefined ? {} : { location }),
        ...(node.kind === "glueTable" || !("format" in node) ? {} : { format: node.format }),
      };
    }
    return out;
  }
}

/** The tip values of a selection: single values as they are, ranges and "*" left out. */
function tipDimensions(sel: Selection): Dimensions {
  const out: Record<string, DimensionValue> = {};
  for (const [k, v] of Object.entries(sel)) if (v !== "*" && v.length >= 1) out[k] = v[0] as DimensionValue;
  return out;
}

/**
 * A target's params with an environment's sizing merged over them: scalars replace, `emr`, `sparkArgs`
 * and `extra` merge key by key.
 */
export function mergeComputeParams(own: ComputeParamsModel, sizing: ComputeParamsModel): ComputeParamsModel {
  const merged: Record<string, unknown> = { ...own };
  for (const [key, value] of Object.entries(sizing) as [keyof ComputeParamsModel, unknown][]) {
    if (value === undefined) continue;
    if ((key === "emr" || key === "sparkArgs" || key === "extra") && typeof value === "object") {
      merged[key] = { ...(own[key] ?? {}), ...value };
    } else {
      merged[key] = value;
    }
  }
  return merged as ComputeParamsModel;
}
