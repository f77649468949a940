/**
 * The deployment contract: every name that synth (which writes a deployment) and the router (which
 * runs in it) must spell alike. The router's environment variables, the files of its code package,
 * the layout of the application's storage bucket and the Spark driver's protocol are typed here once,
 * so that the two sides cannot drift.
 *
 * Plain data only: both src/synth and src/runtime-bundle import this file, so it imports nothing of
 * either, nor of the AWS SDK. The Spark driver (Python, runtime-bundle/spark/sluice_driver.py) cannot
 * import it; test/deployment-contract.test.ts checks that its constants agree.
 */

// ---------------------------------------------------------------- router environment

/**
 * The environment variables of the router Lambda, by name (each key is its own value). Synth sets
 * them on the function; the handler reads them (`RouterEnvironment`). Only `SLUICE_TABLE` and
 * `SLUICE_BUCKET` are required (`REQUIRED_ROUTER_ENV`).
 */
export const ROUTER_ENV = {
  /** Name of the routing table (DynamoDB): executions, partitions, leases. Required. */
  SLUICE_TABLE: "SLUICE_TABLE",
  /** Name of the application's storage bucket (data nodes' partitions, assets). Required. */
  SLUICE_BUCKET: "SLUICE_BUCKET",
  /** Name of the environment the router runs for (a key of the FlowModel's environments). @default "default" */
  SLUICE_ENV: "SLUICE_ENV",
  /** URL of the dead-letter queue of unprocessable events. Without it dead letters are only logged. */
  SLUICE_DLQ_URL: "SLUICE_DLQ_URL",
  /** URL of the internal queue the router schedules its own follow-up work on. */
  SLUICE_INTERNAL_QUEUE_URL: "SLUICE_INTERNAL_QUEUE_URL",
  /**
   * JSON: the environment's dataset bindings `{ id: { bucket, prefix, format, encryptionKey, account,
   * region } | { database, table, account, region } }`, applied over the flow's declarations.
   */
  SLUICE_DATASETS: "SLUICE_DATASETS",
  /** JSON: Glue table locations `{ id: "s3://…" }`. */
  SLUICE_TABLE_LOCATIONS: "SLUICE_TABLE_LOCATIONS",
  /**
   * s3:// URI of the environment's bindings object (`BINDINGS_KEY`, a `RouterBindings` JSON): dataset
   * bindings and Glue table locations, which would not fit Lambda's 4 KB of environment variables.
   * Read once per container, at cold start; it wins over SLUICE_DATASETS and SLUICE_TABLE_LOCATIONS.
   */
  SLUICE_BINDINGS: "SLUICE_BINDINGS",
  /** SHA-256 of the bindings object: a change of bindings changes the function's configuration. */
  SLUICE_BINDINGS_SHA256: "SLUICE_BINDINGS_SHA256",
  /** Id of the EMR Serverless application that runs emrServerless targets. */
  SLUICE_EMR_SERVERLESS_APP_ID: "SLUICE_EMR_SERVERLESS_APP_ID",
  /** ARN of the execution role of EMR Serverless job runs. */
  SLUICE_EMR_EXECUTION_ROLE: "SLUICE_EMR_EXECUTION_ROLE",
  /** Name of the service role of transient EMR (on EC2) clusters. */
  SLUICE_EMR_SERVICE_ROLE: "SLUICE_EMR_SERVICE_ROLE",
  /** Name of the instance profile (job flow role) of transient EMR (on EC2) clusters. */
  SLUICE_EMR_JOB_FLOW_ROLE: "SLUICE_EMR_JOB_FLOW_ROLE",
  /**
   * Subnet of transient EMR (on EC2) clusters. AmazonEMRServicePolicy_v2 (the service role's policy)
   * launches only into a subnet tagged `EMR_MANAGED_POLICY_TAG=true`.
   */
  SLUICE_EMR_SUBNET_ID: "SLUICE_EMR_SUBNET_ID",
  /** s3:// URI of the log folder of transient EMR (on EC2) clusters. */
  SLUICE_EMR_LOG_URI: "SLUICE_EMR_LOG_URI",
  /** s3:// URI of the Spark driver script (`DRIVER_SCRIPT_KEY` in the storage bucket), for EMR. */
  SLUICE_DRIVER_SCRIPT: "SLUICE_DRIVER_SCRIPT",
  /**
   * Folder of `MODEL_FILE` and `USER_CODE_FILE`. Never set by synth (tests and local runs set it).
   * @default the handler's own folder
   */
  SLUICE_ASSETS_DIR: "SLUICE_ASSETS_DIR",
} as const;

/** Environment variables the `sluice` command reads on the user's machine (not the router's). */
export const CLI_ENV = {
  /** Set to anything to compile flows afresh instead of reusing node_modules/.cache/sluice. */
  SLUICE_NO_CACHE: "SLUICE_NO_CACHE",
} as const;

/** Name of one of the router's environment variables. */
export type RouterEnvKey = keyof typeof ROUTER_ENV;

/** The variables without which the router does not start. */
export const REQUIRED_ROUTER_ENV = [ROUTER_ENV.SLUICE_TABLE, ROUTER_ENV.SLUICE_BUCKET] as const;

type RequiredRouterEnvKey = (typeof REQUIRED_ROUTER_ENV)[number];
/** Every variable as a string (a homomorphic mapping: each keeps the JSDoc of `ROUTER_ENV`). */
type RouterEnvValues = { readonly [K in RouterEnvKey]: string };

/** The router's environment variables (synth sets them on the function); see `ROUTER_ENV`. */
export type RouterEnvironment = Pick<RouterEnvValues, RequiredRouterEnvKey> &
  Partial<Pick<RouterEnvValues, Exclude<RouterEnvKey, RequiredRouterEnvKey>>>;

// ---------------------------------------------------------------- code package

/**
 * Module name of the router's handler in the prebuilt runtime bundle and in the code package
 * (`index.js`).
 */
export const HANDLER_MODULE = "index";
/** File of the router's handler (the esbuild bundle of runtime-bundle/aws/handler.ts). */
export const HANDLER_FILE = `${HANDLER_MODULE}.js`;
/** The function the handler module exports for Lambda. */
export const HANDLER_EXPORT = "handler";
/** The Lambda function's `handler` setting: `<module>.<export>`. */
export const LAMBDA_HANDLER = `${HANDLER_MODULE}.${HANDLER_EXPORT}`;
/** The route table in the code package: the canonical FlowModel JSON. */
export const MODEL_FILE = "flow-model.json";
/** The user-code bundle in the code package: it exports `refs`, keyed `"<module>#<export>"`. */
export const USER_CODE_FILE = "user-code.js";
/** Name of the router's code package beside a synthesized module's main.tf.json. */
export const ROUTER_PACKAGE = "router.zip";

// ---------------------------------------------------------------- Spark driver

/** Folder of the Spark driver in the prebuilt runtime bundle. */
export const SPARK_DRIVER_DIR = "spark";
/** File name of the Spark driver (runtime-bundle/spark/sluice_driver.py). */
export const SPARK_DRIVER_FILE = "sluice_driver.py";
/** The one argument that carries the base64-encoded Spark job spec to the driver (`SPEC_ARG` there). */
export const SPEC_ARGUMENT = "--sluice_spec";
/** Version of the Spark job spec the router writes and the driver reads (`SPEC_VERSION` there). */
export const SPARK_JOB_SPEC_VERSION = 1;

/**
 * The tag AmazonEMRServicePolicy_v2 requires, with the value "true", on a cluster (the router sets it
 * at RunJobFlow) and on its subnet and security groups (the network's owner sets it).
 *
 * @see https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-managed-iam-policies.html
 */
export const EMR_MANAGED_POLICY_TAG = "for-use-with-amazon-emr-managed-policies";

// ---------------------------------------------------------------- storage layout

/** Prefix of the data nodes' partitions in the storage bucket (and of an upstream's, for imports). */
export const INTERNAL_DATA_PREFIX = "internal_data/";
/** Prefix of what synth and the engines put in the storage bucket beside the data (driver, logs, results). */
export const ASSETS_PREFIX = "assets/";
/**
 * Prefix of the events the router dead-letters that are too large for an SQS message (256 KiB): each
 * kept whole at `dead_letters/<YYYY-MM-DD>/<time>-<uuid>.json`, the letter in the DLQ naming it.
 */
export const DEAD_LETTERS_PREFIX = "dead_letters/";
/** The file that completes a data node's partition (the router writes it; S3 events and range checks read it). */
export const COMPLETION_MARKER = "_SUCCESS";
/** Key of the Spark driver script in the storage bucket. */
export const DRIVER_SCRIPT_KEY = `${ASSETS_PREFIX}${SPARK_DRIVER_DIR}/${SPARK_DRIVER_FILE}`;
/** Key of the environment's bindings object in the storage bucket (`SLUICE_BINDINGS`). */
export const BINDINGS_KEY = "sluice/bindings.json";

/** The bindings object: where the environment's datasets and Glue tables are. */
export interface RouterBindings {
  /** By dataset id, the fields the environment binds (as SLUICE_DATASETS). */
  readonly datasets: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** By glueTable id, the table's S3 location as the catalog says it. */
  readonly tableLocations: Readonly<Record<string, string>>;
}

/** Key of the FlowModel manifest an application publishes in its storage bucket for downstreams. */
export const MANIFEST_KEY = "sluice/manifest.json";

/** Prefix of a data node's partitions in the storage bucket (its `path`, no trailing slash). */
export function dataNodePath(id: string): string {
  return `${INTERNAL_DATA_PREFIX}${id}`;
}
