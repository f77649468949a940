/**
 * Lambda entry of the router. Everything it needs comes from its environment (set by synth) and the
 * files packed beside it: the FlowModel (the route table) and the bundle of user code.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type * as GlueSdk from "@aws-sdk/client-glue";
import type * as GlueEngine from "./engines/glue-dispatcher";
import type * as AthenaSdk from "@aws-sdk/client-athena";
import type * as AthenaEngine from "./engines/athena-dispatcher";
import type * as EmrServerlessSdk from "@aws-sdk/client-emr-serverless";
import type * as EmrServerlessEngine from "./engines/emr-serverless-dispatcher";
import type * as EmrSdk from "@aws-sdk/client-emr";
import type * as EmrEngine from "./engines/emr-dispatcher";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bindDatasets } from "../../flow/model/dataset-bindings";
import type { CodeRefModel, Engine, FlowModel, JsonValue } from "../../flow/model/flow-model";
import { FLOW_MODEL_SCHEMA_VERSION } from "../../flow/model/flow-model";
import type { HookFunction, InlineCompute } from "../../flow/model/inline-api";
import { resourceNames } from "../../flow/model/resource-names";
import { systemClock, type Clock } from "../core/clock";
import type { Dispatcher } from "../core/dispatcher";
import type { RetryPolicy } from "../core/hooks";
import { InlineDispatcher } from "../core/inline-call";
import { RouteTable } from "../core/route-table";
import { Router } from "../core/router";
import type { Storage } from "../core/storage";
import type { Store } from "../core/store";
import { DeadLetters } from "./dead-letters";
import { DynamoDbStore } from "./dynamodb-store";
import { EmfMetrics } from "./emf-metrics";
import { SourceIndex } from "./events/source-index";
import { LazyDispatcher } from "./lazy-dispatcher";
import { S3Storage } from "./s3-storage";
import { RouterService, type HandleResult } from "./service";
import { sqsSdk } from "./sdk";
import { SqsScheduler } from "./sqs-scheduler";

/** The router's environment variables (synth sets them on the function). */
export interface RouterEnvironment {
  readonly SLUICE_TABLE: string;
  readonly SLUICE_BUCKET: string;
  readonly SLUICE_ENV?: string;
  readonly SLUICE_DLQ_URL?: string;
  readonly SLUICE_INTERNAL_QUEUE_URL?: string;
  /**
   * JSON: the environment's dataset bindings { id: { bucket, prefix, format, encryptionKey, account,
   * region } | { database, table, account, region } }, applied over the flow's declarations.
   */
  readonly SLUICE_DATASETS?: string;
  /** JSON: Glue table locations { id: "s3://…" }. */
  readonly SLUICE_TABLE_LOCATIONS?: string;
  readonly SLUICE_EMR_SERVERLESS_APP_ID?: string;
  readonly SLUICE_EMR_EXECUTION_ROLE?: string;
  readonly SLUICE_EMR_SERVICE_ROLE?: string;
  readonly SLUICE_EMR_JOB_FLOW_ROLE?: string;
  readonly SLUICE_EMR_LOG_URI?: string;
  /** s3:// URI of the Spark driver script, for EMR. */
  readonly SLUICE_DRIVER_SCRIPT?: string;
  /** Folder of flow-model.json and user-code.js. @default the handler's own folder */
  readonly SLUICE_ASSETS_DIR?: string;
}

/** What synth packs beside the handler. */
export const MODEL_FILE = "flow-model.json";
export const USER_CODE_FILE = "user-code.js";

/** The user-code bundle exports every referenced function under its "module#export" key. */
export interface UserCodeBundle {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- user code of any signature
  readonly refs: Readonly<Record<string, Function>>;
}

export function loadModel(dir: string): FlowModel {
  const model = JSON.parse(readFileSync(join(dir, MODEL_FILE), "utf8")) as FlowModel;
  if (model.schemaVersion !== FLOW_MODEL_SCHEMA_VERSION) {
    throw new Error(
      `route table has schemaVersion ${String(model.schemaVersion)}; this router reads ${FLOW_MODEL_SCHEMA_VERSION}`,
    );
  }
  return model;
}

export function loadUserCode(dir: string): UserCodeBundle {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle is a sibling file chosen at deploy time
    return require(join(dir, USER_CODE_FILE)) as UserCodeBundle;
  } catch (e) {
    if ((e as { code?: string }).code === "MODULE_NOT_FOUND") return { refs: {} };
    throw e;
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- user code of any signature
function resolver(code: UserCodeBundle): (ref: CodeRefModel) => Function {
  return (ref) => {
    if ("function" in ref)
      throw new Error(
        `inline function "${ref.function}" exists only in LocalRuntime; reference a module instead`,
      );
    const fn = code.refs[`${ref.module}#${ref.export}`];
    if (typeof fn !== "function")
      throw new Error(`user code "${ref.module}#${ref.export}" is not in the deployed bundle`);
    return fn;
  };
}

/**
 * What `createService` builds from its environment, given instead (tests, local runs against
 * emulators): everything defaults to what the Lambda uses.
 */
export interface ServiceOverrides {
  /** @default read from flow-model.json in the assets folder */
  readonly model?: FlowModel;
  /** @default user-code.js in the assets folder */
  readonly code?: UserCodeBundle;
  /** @default a client for the function's region */
  readonly dynamodb?: DynamoDBClient;
  /** @default a client for the function's region, created on first use */
  readonly s3?: S3Client;
  /** @default a client for the function's region, created when the first message is sent */
  readonly sqs?: SQSClient;
  /** Replace or add engines' dispatchers. */
  readonly dispatchers?: Readonly<Partial<Record<Engine, Dispatcher>>>;
  /** Wraps the store the service builds (fault injection, request counting). */
  readonly wrapStore?: (store: Store) => Store;
  /** Wraps the storage the service builds. */
  readonly wrapStorage?: (storage: Storage) => Storage;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /** @default EMF log lines on stdout */
  readonly metrics?: EmfMetrics;
}

export function createService(
  env: RouterEnvironment,
  dir: string,
  overrides: ServiceOverrides = {},
): RouterService {
  // The environment's dataset locations are bound into the model once: every reader sees them.
  const model = bindDatasets(
    overrides.model ?? loadModel(dir),
    parseJsonEnv<Record<string, Record<string, unknown>>>(env.SLUICE_DATASETS) ?? {},
  );
  const code = overrides.code ?? loadUserCode(dir);
  const resolve = resolver(code);
  const app = model.application.name;
  const envName = env.SLUICE_ENV ?? "default";
  const declared = Object.hasOwn(model.environments, envName) ? model.environments[envName] : undefined;
  const config: Readonly<Record<string, JsonValue>> = declared?.config ?? {};
  const clock = overrides.clock ?? systemClock;
  const sqs = overrides.sqs ?? lazySqsClient();
  const scheduler = env.SLUICE_INTERNAL_QUEUE_URL
    ? new SqsScheduler(sqs, env.SLUICE_INTERNAL_QUEUE_URL, () => clock.now())
    : undefined;
  const metrics =
    overrides.metrics ?? new EmfMetrics({ namespace: model.application.metricsNamespace, application: app });
  const dispatchers = engineDispatchers(env, model, app);
  dispatchers.lambda = new InlineDispatcher((ref) => resolve(ref) as InlineCompute);
  Object.assign(dispatchers, overrides.dispatchers);
  const store = new DynamoDbStore({
    client: overrides.dynamodb ?? new DynamoDBClient({}),
    tableName: env.SLUICE_TABLE,
    clock,
  });
  const storage = new S3Storage({
    bucket: env.SLUICE_BUCKET,
    tableLocations: parseJsonEnv<Record<string, string>>(env.SLUICE_TABLE_LOCATIONS) ?? {},
    ...(overrides.s3 ? { client: overrides.s3 } : {}),
  });
  const router = new Router({
    table: new RouteTable(
      model,
      (ref) =>
        resolve({
          module: ref.slice(0, ref.lastIndexOf("#")),
          export: ref.slice(ref.lastIndexOf("#") + 1),
        }) as (v: readonly (string | number)[]) => unknown,
    ),
    store: overrides.wrapStore ? overrides.wrapStore(store) : store,
    storage: overrides.wrapStorage ? overrides.wrapStorage(storage) : storage,
    dispatchers,
    clock,
    scheduler: scheduler ?? { schedule: () => undefined },
    environment: { name: envName, config, compute: declared?.compute ?? {} },
    hooks: async (ref, event, ctx) => {
      await (resolve(ref) as HookFunction)(event, ctx);
    },
    metrics,
    ...(overrides.retry ? { retry: overrides.retry } : {}),
  });
  return new RouterService({
    router,
    index: new SourceIndex({ model, storageBucket: env.SLUICE_BUCKET }),
    clock,
    deadLetters: new DeadLetters(env.SLUICE_DLQ_URL ? sqs : undefined, env.SLUICE_DLQ_URL),
    ...(scheduler ? { scheduler } : {}),
    metrics,
    sweeperRule: resourceNames.sweeperRule(app),
  });
}

/* eslint-disable @typescript-eslint/no-require-imports -- engine modules load on first use (cold start) */
function engineDispatchers(
  env: RouterEnvironment,
  model: FlowModel,
  app: string,
): Partial<Record<Engine, Dispatcher>> {
  const dispatchers: Partial<Record<Engine, Dispatcher>> = {
    glue: new LazyDispatcher(() => {
      const { GlueClient } = require("@aws-sdk/client-glue") as typeof GlueSdk;
      const { GlueDispatcher } = require("./engines/glue-dispatcher") as typeof GlueEngine;
      return new GlueDispatcher({ client: new GlueClient({}), appName: app });
    }),
    athena: new LazyDispatcher(() => {
      const { AthenaClient } = require("@aws-sdk/client-athena") as typeof AthenaSdk;
      const { AthenaDispatcher } = require("./engines/athena-dispatcher") as typeof AthenaEngine;
      return new AthenaDispatcher({ client: new AthenaClient({}), appName: app, nodes: model.nodes });
    }),
  };
  const {
    SLUICE_EMR_SERVERLESS_APP_ID: appId,
    SLUICE_EMR_EXECUTION_ROLE: execRole,
    SLUICE_DRIVER_SCRIPT: driver,
  } = env;
  if (appId && execRole && driver) {
    dispatchers.emrServerless = new LazyDispatcher(() => {
      const { EMRServerlessClient } = require("@aws-sdk/client-emr-serverless") as typeof EmrServerlessSdk;
      const { EmrServerlessDispatcher } =
        require("./engines/emr-serverless-dispatcher") as typeof EmrServerlessEngine;
      return new EmrServerlessDispatcher({
        client: new EMRServerlessClient({}),
        applicationId: appId,
        executionRoleArn: execRole,
        entryPoint: driver,
      });
    });
  }
  const {
    SLUICE_EMR_SERVICE_ROLE: serviceRole,
    SLUICE_EMR_JOB_FLOW_ROLE: jobFlowRole,
    SLUICE_EMR_LOG_URI: logUri,
  } = env;
  if (serviceRole && jobFlowRole && driver) {
    dispatchers.emr = new LazyDispatcher(() => {
      const { EMRClient } = require("@aws-sdk/client-emr") as typeof EmrSdk;
      const { EmrDispatcher } = require("./engines/emr-dispatcher") as typeof EmrEngine;
      return new EmrDispatcher({
        client: new EMRClient({}),
        serviceRole,
        jobFlowRole,
        driverScript: driver,
        ...(logUri ? { logUri } : {}),
      });
    });
  }
  return dispatchers;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** One SQS client, created when the first message is sent (not every invocation sends one). */
function lazySqsClient(): SQSClient {
  let client: SQSClient | undefined;
  return {
    send: (command: never) => (client ??= new (sqsSdk().SQSClient)({})).send(command),
  } as unknown as SQSClient;
}

function parseJsonEnv<T>(text: string | undefined): T | undefined {
  return text ? (JSON.parse(text) as T) : undefined;
}

let service: RouterService | undefined;

/** The Lambda handler: one service per container (cold start), reused across invocations. */
export async function handler(event: unknown): Promise<HandleResult> {
  if (!service) {
    const env = process.env as unknown as RouterEnvironment;
    if (!env.SLUICE_TABLE || !env.SLUICE_BUCKET)
      throw new Error("router misconfigured: SLUICE_TABLE and SLUICE_BUCKET must be set");
    service = createService(env, env.SLUICE_ASSETS_DIR ?? __dirname);
  }
  return service.handle(event);
}
