/**
 * Batch compute: what the router's engine dispatchers start, created only for the engines the flow
 * actually uses. This construct composes the builders of src/synth/batch/, each of which creates its
 * resources in this construct under fixed ids (the Terraform addresses):
 *
 * - the Sluice Spark driver as an S3 object (`DRIVER_SCRIPT_KEY`, KMS-encrypted), the entry point of
 *   every Glue / EMR run (batch/spark-driver.ts);
 * - the application's Glue database (always: it is where the Athena tables live);
 * - Glue: one job per (language, Glue version) used by Glue targets, with a security configuration
 *   and the permissions of the Glue role (batch/glue-jobs.ts);
 * - Athena: the workgroup and one partition-projected Glue table per node a prestoSql target reads
 *   (batch/athena.ts, batch/glue-tables.ts, batch/partition-projection.ts);
 * - EMR Serverless: the Spark application (batch/emr-serverless.ts); EMR on EC2: a service role and an
 *   instance profile for transient clusters (batch/emr.ts);
 * - read access of each role to the inputs of the targets it runs, imported nodes (in the upstream's
 *   bucket) included (batch/read-grants.ts);
 * - the router's permissions to start, poll and stop exactly these jobs, queries and runs, and the
 *   environment variables that tell it where they are (`routerEnvironment`).
 */
import type { AthenaWorkgroup } from "@cdktf/provider-aws/lib/athena-workgroup";
import type { EmrserverlessApplication } from "@cdktf/provider-aws/lib/emrserverless-application";
import { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import type { GlueCatalogTable } from "@cdktf/provider-aws/lib/glue-catalog-table";
import type { GlueJob } from "@cdktf/provider-aws/lib/glue-job";
import type { GlueSecurityConfiguration } from "@cdktf/provider-aws/lib/glue-security-configuration";
import type { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import type { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { ROUTER_ENV } from "../flow/model/deployment-contract";
import type { Engine, FlowModel } from "../flow/model/flow-model";
import { resourceNames } from "../flow/model/resource-names";
import { buildAthena } from "./batch/athena";
import { enginesOf, type BatchBuild, type BatchRouterEnvironment } from "./batch/context";
import { buildEmr } from "./batch/emr";
import { buildEmrServerless } from "./batch/emr-serverless";
import { buildGlueJobs } from "./batch/glue-jobs";
import { ReadGrants } from "./batch/read-grants";
import { driverScriptUri, sparkDriverScript } from "./batch/spark-driver";
import { Construct } from "./cdktf";
import type { GlueTableLocations } from "./table-locations";
import type { ExecutionRoles } from "./execution-roles";
import type { Naming } from "./naming";
import type { Storage } from "./storage";

export { DRIVER_SCRIPT_KEY } from "../flow/model/deployment-contract";
export { defaultBundleDir } from "./bundle-dir";
export { DEFAULT_EMR_RELEASE_LABEL, DEFAULT_GLUE_VERSION, enginesOf, PREFIXES } from "./batch/context";
export { EMR_SERVICE_POLICY_ARN } from "./batch/emr";
export { glueJobSpecs, type GlueJobSpec } from "./batch/glue-jobs";
export {
  DATE_PROJECTION_RANGE,
  INTEGER_PROJECTION_RANGE,
  javaDateFormat,
  projectionOf,
} from "./batch/partition-projection";
export { WILDCARD_STATEMENTS } from "./batch/wildcard-statements";

export interface BatchComputeProps {
  readonly model: FlowModel;
  readonly naming: Naming;
  readonly storage: Storage;
  readonly roles: ExecutionRoles;
  /** Where the flow's Glue tables keep their data: the roles that read a table read there too. */
  readonly tables?: GlueTableLocations;
  /** Folder of the prebuilt runtime bundle (holds `spark/sluice_driver.py`). @default defaultBundleDir() */
  readonly bundleDir?: string;
  /** Concurrent runs allowed per Glue job (one job serves every target of its language and version). @default 100 */
  readonly glueMaxConcurrentRuns?: number;
  /** Minutes an idle EMR Serverless application waits before it stops. @default 15 */
  readonly emrServerlessIdleMinutes?: number;
}

/** Batch compute of a SluiceStack: the resources of the engines the flow uses (see the file's doc). */
export class BatchCompute extends Construct {
  /** Glue jobs by job name. */
  readonly glueJobs: Readonly<Record<string, GlueJob>>;
  readonly glueSecurityConfiguration?: GlueSecurityConfiguration;
  /** Key of Glue's CloudWatch logs and job bookmarks (its policy lets CloudWatch Logs use it). */
  readonly glueKey?: KmsKey;
  readonly database: GlueCatalogDatabase;
  /** Glue tables of Athena inputs, by node id. */
  readonly tables: Readonly<Record<string, GlueCatalogTable>>;
  readonly workgroup?: AthenaWorkgroup;
  readonly emrServerless?: EmrserverlessApplication;
  /** EMR on EC2: the service role and the instance profile of transient clusters. */
  readonly emrServiceRole?: IamRole;
  readonly emrInstanceRole?: IamRole;
  readonly emrInstanceProfile?: IamInstanceProfile;
  /** The driver script object; absent when no target runs on Spark. */
  readonly driverScript?: S3Object;
  readonly driverScriptUri: string;
  /** Environment variables of the router Lambda about batch compute (keys of the deployment contract). */
  readonly routerEnvironment: Readonly<BatchRouterEnvironment>;
  /**
   * S3 roots of Glue tables by node id (the bindings object's `tableLocations`): the catalog's, read
   * at plan time (table-locations.ts).
   */
  readonly tableLocations: Readonly<Record<string, string>>;
  /** Engines the flow uses. */
  readonly engines: ReadonlySet<Engine>;

  constructor(scope: Construct, id: string, props: BatchComputeProps) {
    super(scope, id);
    const { model, naming, storage, roles } = props;
    this.engines = enginesOf(model);
    const app = naming.app;
    const env: BatchRouterEnvironment = {};
    this.routerEnvironment = env;
    this.tableLocations = props.tables?.locations ?? {};
    this.driverScriptUri = driverScriptUri(storage);

    const uses = (e: Engine): boolean => this.engines.has(e);
    const spark = uses("glue") || uses("emr") || uses("emrServerless");

    // The order of the builders is the order of the resources and of the roles' statements.
    if (spark) this.driverScript = sparkDriverScript(this, naming, storage, props.bundleDir);

    this.database = new GlueCatalogDatabase(this, "database", {
      name: resourceNames.glueDatabase(app),
      description: `Sluice ${app}: tables of the flow's datasets and data nodes`,
      tags: naming.tags(),
    });

    const build: BatchBuild = {
      scope: this,
      model,
      naming,
      storage,
      roles,
      reads: new ReadGrants(model, naming, storage, props.tables),
      driverScriptUri: this.driverScriptUri,
      ...(this.driverScript ? { driverScript: this.driverScript } : {}),
      env,
    };

    this.glueJobs = {};
    if (uses("glue")) {
      const glue = buildGlueJobs(build, { maxConcurrentRuns: props.glueMaxConcurrentRuns });
      this.glueJobs = glue.jobs;
      this.glueKey = glue.key;
      this.glueSecurityConfiguration = glue.securityConfiguration;
    }

    this.tables = {};
    if (uses("athena")) {
      const athena = buildAthena(build, this.database);
      this.tables = athena.tables;
      this.workgroup = athena.workgroup;
    }

    if (uses("emrServerless")) {
      this.emrServerless = buildEmrServerless(build, { idleMinutes: props.emrServerlessIdleMinutes });
    }

    if (uses("emr")) {
      const emr = buildEmr(build);
      this.emrServiceRole = emr.serviceRole;
      this.emrInstanceRole = emr.instanceRole;
      this.emrInstanceProfile = emr.instanceProfile;
    }

    if (uses("emr") || uses("emrServerless")) env[ROUTER_ENV.SLUICE_DRIVER_SCRIPT] = this.driverScriptUri;
  }
}
