/**
 * Lambda entry of the router. Everything it needs comes from its environment (set by synth) and the
 * files packed beside it: the FlowModel (the route table) and the bundle of user code.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type * as GlueSdk from "@aws-sdk/client-glue";
import type * as AthenaSdk from "@aws-sdk/client-athena";
import type * as EmrServerlessSdk from "@aws-sdk/client-emr-serverless";
import type * as EmrSdk from "@aws-sdk/client-emr";
import type * as GlueEntry from "./engine-entries/glue";
import type * as AthenaEntry from "./engine-entries/athena";
import type * as EmrServerlessEntry from "./engine-entries/emr-serverless";
import type * as EmrEntry from "./engine-entries/emr";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bindDatasets } from "../../flow/model/dataset-bindings";
import {
  MODEL_FILE,
  REQUIRED_ROUTER_ENV,
  USER_CODE_FILE,
  type RouterBindings,
  type RouterEnvironment,
} from "../../flow/model/deployment-contract";
import type { CodeRefModel, Engine, FlowModel, JsonValue } from "../../flow/model/flow-model";
import { FLOW_MODEL_SCHEMA_VERSION } from "../../flow/model/flow-model";
import type { HookFunction, InlineCompute } from "../../flow/model/inline-api";
import { resourceNames } from "../../flow/model/resource-names";
import { systemClock, type Clock } from "../core/clock";
import type { Dispatcher } from "../core/dispatcher";
import type { RetryPolicy } from "../core/hooks";
import { callInline, InlineDispatcher } from "../core/inline-call";
import { RouteTable } from "../core/route-table";
import { Router } from "../core/router";
import type { Storage } from "../core/storage";
import type { Store } from "../core/store";
import { DeadLetters } from "./dead-letters";
import { DynamoDbStore } from "./dynamodb-store";
import { EmfMetrics } from "./emf-metrics";
import { SourceIndex } from "./events/source-index";
import { LazyDispatcher } from "./lazy-dispatcher";
import { parseS3Uri, S3Storage } from "./s3-storage";
import { RouterService, type HandleResult } from "./service";
import { s3Sdk, sqsSdk } from "./sdk";
import { SqsScheduler } from "./sqs-scheduler";

/** The router's environment (the deployment contract's; re-exported for the handler's callers). */
export type { RouterEnvironment } from "../../flow/model/deployment-contract";
/** What synth packs beside the handler (the deployment contract's). */
export { MODEL_FILE, USER_CODE_FILE } from "../../flow/model/deployment-contract";

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
  /** @default read from MODEL_FILE (flow-model.json) in the assets folder */
  readonly model?: FlowModel;
  /** @default USER_CODE_FILE (user-code.js) in the assets folder */
  readonly code?: UserCodeBundle;
  /** @default a client for the function's region */
  readonly dynamodb?: DynamoDBClient;
  /** @default a client for the function's region, created on first use */
  readonly s3?: S3Client;
  /** @default a client for the function's region, created when the first message is sent */
  readonly sqs?: SQSClient;
  /** The bindings object's content, already read (`startService` reads it from SLUICE_BINDINGS). */
  readonly bindings?: RouterBindings;
  /** The engines' SDK clients. @default clients for the function's region, created on first use */
  readonly clients?: EngineClients;
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
    overrides.bindings?.datasets ??
      parseJsonEnv<Record<string, Record<string, unknown>>>(env.SLUICE_DATASETS) ??
      {},
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
  const dispatchers = engineDispatchers(env, model, app, overrides.clients ?? {});

  const store = new DynamoDbStore({
    client: overrides.dynamodb ?? new DynamoDBClient({}),
    tableName: env.SLUICE_TABLE,
    clock,
  });
  const storage = new S3Storage({
    bucket: env.SLUICE_BUCKET,
    tableLocations:
      overrides.bindings?.tableLocations ??
      parseJsonEnv<Record<string, string>>(env.SLUICE_TABLE_LOCATIONS) ??
      {},
    ...(overrides.s3 ? { client: overrides.s3 } : {}),
  });
  // User code reads and writes through the router's storage (S3 with the router's role).
  dispatchers.lambda = new InlineDispatcher((ref) => resolve(ref) as InlineCompute, callInline, storage);
  Object.assign(dispatchers, overrides.dispatchers);
  const routerStorage = overrides.wrapStorage ? overrides.wrapStorage(storage) : storage;
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
    storage: routerStorage,
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
    // Letters too large for SQS keep their event in the storage bucket (dead_letters/…).
    deadLetters: new DeadLetters(env.SLUICE_DLQ_URL ? sqs : undefined, env.SLUICE_DLQ_URL, {
      bucket: env.SLUICE_BUCKET,
      put: async (key, body) => {
        if (!routerStorage.writeFile) throw new Error("the router's storage cannot write objects");
        await routerStorage.writeFile(`s3://${env.SLUICE_BUCKET}/${key}`, body);
      },
    }),
    ...(scheduler ? { scheduler } : {}),
    metrics,
    sweeperRule: resourceNames.sweeperRule(app),
  });
}

/*
 * Engine modules load on first use (cold start). Each `require("./engine-entries/<engine>")` below is,
 * in the runtime bundle, a file of its own (`engines/<engine>.js` beside index.js, holding the engine's
 * SDK client and dispatcher): scripts/build-bundle.js builds them as separate entry points and keeps
 * these requires as they are, so the handler's file holds only what the first event needs.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- deferred loading is the point */
function engineDispatchers(
  env: RouterEnvironment,
  model: FlowModel,
  app: string,
  clients: EngineClients,
): Partial<Record<Engine, Dispatcher>> {
  const dispatchers: Partial<Record<Engine, Dispatcher>> = {
    glue: new LazyDispatcher(() =>
      (require("./engine-entries/glue") as typeof GlueEntry).createDispatcher({
        ...(clients.glue ? { client: clients.glue } : {}),
        appName: app,
      }),
    ),
    athena: new LazyDispatcher(() =>
      (require("./engine-entries/athena") as typeof AthenaEntry).createDispatcher({
        ...(clients.athena ? { client: clients.athena } : {}),
        appName: app,
        nodes: model.nodes,
      }),
    ),
  };
  const {
    SLUICE_EMR_SERVERLESS_APP_ID: appId,
    SLUICE_EMR_EXECUTION_ROLE: execRole,
    SLUICE_DRIVER_SCRIPT: driver,
  } = env;
  if (appId && execRole && driver) {
    dispatchers.emrServerless = new LazyDispatcher(() =>
      (require("./engine-entries/emr-serverless") as typeof EmrServerlessEntry).createDispatcher({
        ...(clients.emrServerless ? { client: clients.emrServerless } : {}),
        applicationId: appId,
        executionRoleArn: execRole,
        entryPoint: driver,
      }),
    );
  }
  const {
    SLUICE_EMR_SERVICE_ROLE: serviceRole,
    SLUICE_EMR_JOB_FLOW_ROLE: jobFlowRole,
    SLUICE_EMR_LOG_URI: logUri,
  } = env;
  if (serviceRole && jobFlowRole && driver) {
    dispatchers.emr = new LazyDispatcher(() =>
      (require("./engine-entries/emr") as typeof EmrEntry).createDispatcher({
        ...(clients.emr ? { client: clients.emr } : {}),
        serviceRole,
        jobFlowRole,
        driverScript: driver,
        ...(logUri ? { logUri } : {}),
        ...(env.SLUICE_EMR_SUBNET_ID ? { subnetId: env.SLUICE_EMR_SUBNET_ID } : {}),
      }),
    );
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

/** The engines' SDK clients, where a caller provides its own (the deployment twin, tests). */
export interface EngineClients {
  readonly glue?: GlueSdk.GlueClient;
  readonly athena?: AthenaSdk.AthenaClient;
  readonly emr?: EmrSdk.EMRClient;
  readonly emrServerless?: EmrServerlessSdk.EMRServerlessClient;
}

/**
 * `createService` after reading the environment's bindings object (SLUICE_BINDINGS), as the Lambda
 * does at cold start. A bindings object that cannot be read fails the start: the router must not run
 * with the flow's default locations in an environment that binds others.
 */
export async function startService(
  env: RouterEnvironment,
  dir: string,
  overrides: ServiceOverrides = {},
): Promise<RouterService> {
  if (env.SLUICE_BINDINGS === undefined || env.SLUICE_BINDINGS === "" || overrides.bindings) {
    return createService(env, dir, overrides);
  }
  const { bucket, key } = parseS3Uri(env.SLUICE_BINDINGS);
  const s3 = overrides.s3 ?? new (s3Sdk().S3Client)({});
  let text: string;
  try {
    const got = await s3.send(new (s3Sdk().GetObjectCommand)({ Bucket: bucket, Key: key }));
    text = (await got.Body?.transformToString()) ?? "";
  } catch (e) {
    throw new Error(`router misconfigured: cannot read its bindings ${env.SLUICE_BINDINGS}`, { cause: e });
  }
  const bindings = JSON.parse(text) as RouterBindings;
  return createService(env, dir, { ...overrides, s3, bindings });
}

let service: Promise<RouterService> | undefined;

/** The Lambda handler: one service per container (cold start), reused across invocations. */
export async function handler(event: unknown): Promise<HandleResult> {
  if (!service) {
    const env = process.env as unknown as RouterEnvironment;
    if (REQUIRED_ROUTER_ENV.some((key) => !env[key]))
      throw new Error(`router misconfigured: ${REQUIRED_ROUTER_ENV.join(" and ")} must be set`);
    service = startService(env, env.SLUICE_ASSETS_DIR ?? __dirname);
    // A failed start is retried by the next invocation, not cached.
    service.catch(() => (service = undefined));
  }
  return (await service).handle(event);
}
