/**
 * Where `sluice remote` points: the environment's account and region (from the flow, or the
 * application's own), the router function and routing table names synth gave them, and the client
 * overrides of the command line.
 */
import type { FlowModel } from "../../flow/model/flow-model";
import { resourceNames } from "../../flow/model/resource-names";
import { usageError } from "./errors";

export interface RemoteTarget {
  readonly application: string;
  /** "default" when no --env was given: the application's own account and region. */
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  readonly functionName: string;
  /**
   * The function as an ARN in the environment's account: every environment's router has the same name,
   * so credentials of another account get an error instead of another environment's router.
   */
  readonly functionArn: string;
  readonly tableName: string;
  /** CloudWatch namespace of the route metrics. */
  readonly metricsNamespace: string;
  readonly profile?: string;
  readonly endpoints: { readonly lambda?: string; readonly dynamodb?: string; readonly cloudwatch?: string };
}

export interface TargetOptions {
  readonly env?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointLambda?: string;
  readonly endpointDynamodb?: string;
  readonly endpointCloudwatch?: string;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function resolveTarget(model: FlowModel, options: TargetOptions): RemoteTarget {
  const app = model.application;
  let account = app.account;
  let region = app.region;
  const environment = options.env ?? "default";
  if (options.env !== undefined) {
    const env = model.environments[options.env];
    if (!env) {
      const declared = Object.keys(model.environments);
      throw usageError(
        `environment "${options.env}" is not declared in ${app.name} (declared: ${declared.length ? declared.join(", ") : "none"}); omit --env for the application's own account`,
      );
    }
    account = env.account;
    region = env.region;
  }
  if (options.region !== undefined) {
    if (!REGION.test(options.region)) throw usageError(`--region "${options.region}" is not an AWS region`);
    region = options.region;
  }
  for (const [name, url] of [
    ["--endpoint-lambda", options.endpointLambda],
    ["--endpoint-dynamodb", options.endpointDynamodb],
    ["--endpoint-cloudwatch", options.endpointCloudwatch],
  ] as const) {
    if (url !== undefined && !/^https?:\/\/[^/\s]+/.test(url))
      throw usageError(`${name} "${url}" is not an http(s) URL`);
  }
  const functionName = resourceNames.routerFunction(app.name);
  return {
    application: app.name,
    environment,
    account,
    region,
    functionName,
    functionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    tableName: resourceNames.routingTable(app.name),
    metricsNamespace: app.metricsNamespace,
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    endpoints: {
      ...(options.endpointLambda !== undefined ? { lambda: options.endpointLambda } : {}),
      ...(options.endpointDynamodb !== undefined ? { dynamodb: options.endpointDynamodb } : {}),
      ...(options.endpointCloudwatch !== undefined ? { cloudwatch: options.endpointCloudwatch } : {}),
    },
  };
}
