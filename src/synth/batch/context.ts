/**
 * What the batch compute builders share: the bucket layout of the engines, the defaults of Spark
 * targets, the flow's data nodes by engine, and `BatchBuild`, the context every builder receives.
 *
 * Every builder creates its resources in `BatchBuild.scope`, the one BatchCompute construct, with
 * fixed construct ids: the ids are the resources' Terraform addresses.
 */
import type { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { ASSETS_PREFIX, INTERNAL_DATA_PREFIX, type RouterEnvKey } from "../../flow/model/deployment-contract";
import type { DataNodeModel, Engine, FlowModel } from "../../flow/model/flow-model";
import type { Construct } from "../cdktf";
import type { ExecutionRoles } from "../execution-roles";
import type { Naming } from "../naming";
import type { Storage } from "../storage";
import type { ReadGrants } from "./read-grants";

/** Glue version of a Spark target that names none (the Glue dispatcher's default). */
export const DEFAULT_GLUE_VERSION = "4.0";
/** EMR release of Spark targets that name none (the EMR dispatchers' default). */
export const DEFAULT_EMR_RELEASE_LABEL = "emr-7.1.0";

/**
 * Prefixes of the application's bucket used by batch compute: the deployment contract's data and
 * assets prefixes, and the engines' folders under the assets.
 */
export const PREFIXES = {
  internalData: INTERNAL_DATA_PREFIX,
  assets: ASSETS_PREFIX,
  glueTemp: `${ASSETS_PREFIX}glue-temp/`,
  athenaResults: `${ASSETS_PREFIX}athena-results/`,
  emrServerlessLogs: `${ASSETS_PREFIX}emr-serverless-logs/`,
  emrLogs: `${ASSETS_PREFIX}emr-logs/`,
} as const;

/** The router's environment variables about batch compute, as the builders add them. */
export type BatchRouterEnvironment = { [K in RouterEnvKey]?: string };

/** The context of every batch compute builder. */
export interface BatchBuild {
  /** The BatchCompute construct: the scope of every batch resource. */
  readonly scope: Construct;
  readonly model: FlowModel;
  readonly naming: Naming;
  readonly storage: Storage;
  readonly roles: ExecutionRoles;
  /** Read access of the compute roles (and of the router, for Athena) to the targets' inputs. */
  readonly reads: ReadGrants;
  /** s3:// URI of the Spark driver script. */
  readonly driverScriptUri: string;
  /** The driver script object; absent when no target runs on Spark. */
  readonly driverScript?: S3Object;
  /** The router's environment variables about batch compute: builders add theirs. */
  readonly env: BatchRouterEnvironment;
}

/** Data nodes of the flow, in id order. */
export function dataNodes(model: FlowModel): DataNodeModel[] {
  return Object.values(model.nodes).filter((n): n is DataNodeModel => n.kind === "data");
}

/** Engines that run at least one target of the flow. */
export function enginesOf(model: FlowModel): ReadonlySet<Engine> {
  const out = new Set<Engine>();
  for (const n of dataNodes(model)) for (const t of n.compute) out.add(t.engine);
  return out;
}

/** Data nodes with at least one target on `engine`. */
export function targetsOn(model: FlowModel, engine: Engine): DataNodeModel[] {
  return dataNodes(model).filter((n) => n.compute.some((t) => t.engine === engine));
}

/** `arn:aws:<service>:<region>:<account>:<resource>`, by default in the stack's account and region. */
export function arnOf(
  naming: Naming,
  service: string,
  resource: string,
  region = naming.region,
  account = naming.account,
): string {
  return `arn:aws:${service}:${region}:${account}:${resource}`;
}
