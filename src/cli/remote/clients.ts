/**
 * The AWS clients of `sluice remote`, each created on first use: credentials from the default provider
 * chain (or --profile), the target's region, and the --endpoint-* overrides.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { RemoteTarget } from "./target";

export interface RemoteClients {
  readonly lambda: LambdaClient;
  readonly dynamodb: DynamoDBClient;
  readonly cloudwatch: CloudWatchClient;
  /** Releases the clients' sockets. */
  destroy(): void;
}

export type RemoteClientFactory = (target: RemoteTarget) => RemoteClients;

export const defaultClientFactory: RemoteClientFactory = (target) => {
  const config = (endpoint: string | undefined) => ({
    region: target.region,
    ...(target.profile !== undefined ? { profile: target.profile } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
  });
  let lambda: LambdaClient | undefined;
  let dynamodb: DynamoDBClient | undefined;
  let cloudwatch: CloudWatchClient | undefined;
  return {
    get lambda() {
      return (lambda ??= new LambdaClient(config(target.endpoints.lambda)));
    },
    get dynamodb() {
      return (dynamodb ??= new DynamoDBClient(config(target.endpoints.dynamodb)));
    },
    get cloudwatch() {
      return (cloudwatch ??= new CloudWatchClient(config(target.endpoints.cloudwatch)));
    },
    destroy() {
      lambda?.destroy();
      dynamodb?.destroy();
      cloudwatch?.destroy();
    },
  };
};

let factory: RemoteClientFactory = defaultClientFactory;

/** Test hook: replaces how the clients are made (undefined restores the default). */
export function setRemoteClientFactory(f: RemoteClientFactory | undefined): void {
  factory = f ?? defaultClientFactory;
}

export function remoteClients(target: RemoteTarget): RemoteClients {
  return factory(target);
}
