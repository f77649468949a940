/**
 * Batch compute: what the router's engine dispatchers start, created only for the engines the flow
 * actually uses.
 *
 * - the Sluice Spark driver as an S3 object (`assets/spark/sluice_driver.py`, KMS-encrypted), the
 *   entry point of every Glue / EMR run;
 * - Glue: one job per (language, Glue version) used by Glue targets, with a security configuration
 *   (S3, CloudWatch and job-bookmark encryption) and the permissions of the Glue role;
 * - Athena: the workgroup (encrypted results, enforced configuration) and one Glue table per
 *   s3Dataset / data node / imported node a prestoSql target reads, with partition projection so that
 *   no crawler or partition registration is needed;
 * - the application's Glue database (always: it is where those tables live);
 * - EMR Serverless: the Spark application; EMR on EC2: a service role and an instance profile for
 *   transient clusters;
 * - read access of each role to the inputs of the targets it runs, imported nodes (in the upstream's
 *   bucket) included;
 * - the router's permissions to start, poll and stop exactly these jobs, queries and runs, and the
 *   environment variables that tell it where they are.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AthenaWorkgroup } from "@cdktf/provider-aws/lib/athena-workgroup";
import { EmrserverlessApplication } from "@cdktf/provider-aws/lib/emrserverless-application";
import { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import {
  GlueCatalogTable,
  type GlueCatalogTableStorageDescriptor,
} from "@cdktf/provider-aws/lib/glue-catalog-table";
import { GlueJob } from "@cdktf/provider-aws/lib/glue-job";
import { GlueSecurityConfiguration } from "@cdktf/provider-aws/lib/glue-security-configuration";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import type {
  DataFormat,
  DataNodeModel,
  DatasetBindingModel,
  DimensionModel,
  Engine,
  FlowModel,
  GlueTableNodeModel,
  NodeModel,
  S3DatasetNodeModel,
  UpstreamDataNodeModel,
} from "../flow/model/flow-model";
import type { Granularity } from "../flow/model/granularity";
import { renderDimensionValue } from "../flow/model/dimension-value";
import { resourceNames, upstreamBucket } from "../flow/model/resource-names";
import { defaultBundleDir } from "./bundle-dir";
import { AssetType, Construct, TerraformAsset, TerraformStack } from "./cdktf";
import { upstreamReadStatements } from "./collaboration";
import type { ExecutionRoles, RoleName } from "./execution-roles";
import { datasetRef, type Naming } from "./naming";
import {
  assumeRolePolicy,
  decryptViaS3,
  keyPolicy,
  logsKeyStatement,
  policyDocument,
  type Statement,
} from "./policy";
import type { Storage } from "./storage";
import { SynthError } from "./synth-error";
import { terraformLiteral } from "./terraform-literal";

/** Glue version of a Spark target that names none (the Glue dispatcher's default). */
export const DEFAULT_GLUE_VERSION = "4.0";
/** EMR release of Spark targets that name none (the EMR dispatchers' default). */
export const DEFAULT_EMR_RELEASE_LABEL = "emr-7.1.0";
/** Key of the driver script in the application's bucket. */
export const DRIVER_SCRIPT_KEY = "assets/spark/sluice_driver.py";

/** Prefixes of the application's bucket used by batch compute. */
export const PREFIXES = {
  internalData: "internal_data/",
  assets: "assets/",
  glueTemp: "assets/glue-temp/",
  athenaResults: "assets/athena-results/",
  emrServerlessLogs: "assets/emr-serverless-logs/",
  emrLogs: "assets/emr-logs/",
} as const;

/** Module local: each data format's storage descriptor, for tables whose format a variable binds. */
const TABLE_FORMATS_LOCAL = "table_formats";

const DECRYPT_VIA_S3 =
  "kms:Decrypt of a module's external datasets: each environment binds its own key, or none " +
  "(scoped by condition to S3 in the dataset's region, this account as caller, the bound bucket and prefix as encryption context)";
const UPSTREAM_DECRYPT =
  "kms:Decrypt of imported nodes: the upstream bucket's key is another account's and not known to this one " +
  "(scoped by condition to S3 in the upstream's region, this account as caller, the upstream bucket as encryption context)";

/**
 * Statements of IAM policies that have `Resource: "*"` because AWS offers no resource-level
 * permission for their actions, or the resource is not knowable here (listed so that tests and
 * reviews can check nothing else does).
 */
export const WILDCARD_STATEMENTS: Readonly<Record<string, string>> = {
  BatchGlueMetrics: "cloudwatch:PutMetricData has no resource-level permission (scoped by namespace)",
  // decryptViaS3: a module's external datasets, whose keys the environments bind.
  ReadDatasetsDecryptViaS3: DECRYPT_VIA_S3,
  BatchGlueInputsDecryptViaS3: DECRYPT_VIA_S3,
  BatchEmrServerlessInputsDecryptViaS3: DECRYPT_VIA_S3,
  BatchEmrInputsDecryptViaS3: DECRYPT_VIA_S3,
  BatchAthenaInputsDecryptViaS3: DECRYPT_VIA_S3,
  BatchEmrRunJobFlow: "elasticmapreduce:RunJobFlow has no resource-level permission",
  BatchEmrListClusters:
    "elasticmapreduce:ListClusters has no resource-level permission (crash recovery finds a transient cluster by name)",
  // upstreamReadStatements (collaboration.ts), on the router and on the Spark roles.
  UpstreamDecrypt: UPSTREAM_DECRYPT,
  BatchGlueUpstreamDecrypt: UPSTREAM_DECRYPT,
  BatchEmrServerlessUpstreamDecrypt: UPSTREAM_DECRYPT,
  BatchEmrUpstreamDecrypt: UPSTREAM_DECRYPT,
};

/** The AWS managed policy of the EMR service role (EMR on EC2). */
export const EMR_SERVICE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2";

export interface BatchComputeProps {
  readonly model: FlowModel;
  readonly naming: Naming;
  readonly storage: Storage;
  readonly roles: ExecutionRoles;
  /** Folder of the prebuilt runtime bundle (holds `spark/sluice_driver.py`). @default defaultBundleDir() */
  readonly bundleDir?: string;
  /** Concurrent runs allowed per Glue job (one job serves every target of its language and version). @default 100 */
  readonly glueMaxConcurrentRuns?: number;
  /** Minutes an idle EMR Serverless application waits before it stops. @default 15 */
  readonly emrServerlessIdleMinutes?: number;
}

/** One Glue job: a language and a Glue version. */
export interface GlueJobSpec {
  readonly language: "sql" | "python";
  readonly glueVersion: string;
  readonly name: string;
}

export { defaultBundleDir } from "./bundle-dir";

/** Data nodes of the flow, in id order. */
function dataNodes(model: FlowModel): DataNodeModel[] {
  return Object.values(model.nodes).filter((n): n is DataNodeModel => n.kind === "data");
}

/** Engines that run at least one target of the flow. */
export function enginesOf(model: FlowModel): ReadonlySet<Engine> {
  const out = new Set<Engine>();
  for (const n of dataNodes(model)) for (const t of n.compute) out.add(t.engine);
  return out;
}

/**
 * The Glue jobs a flow needs: one per (language, Glue version) of its Glue targets, sorted by name.
 * An environment's compute override of `glueVersion` adds the job of that version too, so that the
 * router finds a job whichever of the two it resolves.
 */
export function glueJobSpecs(model: FlowModel, environment = "default"): GlueJobSpec[] {
  const overrides = model.environments[environment]?.compute ?? {};
  const specs = new Map<string, GlueJobSpec>();
  for (const n of dataNodes(model)) {
    for (const t of n.compute) {
      if (t.engine !== "glue") continue;
      const language = t.kind === "sparkSql" ? "sql" : "python";
      const versions = [t.params.glueVersion ?? DEFAULT_GLUE_VERSION];
      const override = overrides[n.id]?.glueVersion;
      if (override !== undefined) versions.push(override);
      for (const glueVersion of versions) {
        const name = resourceNames.glueJob(model.application.name, language, glueVersion);
        specs.set(name, { language, glueVersion, name });
      }
    }
  }
  return [...specs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A strftime format (Sluice's subset) as a Java DateTimeFormatter pattern (Athena's date projection),
 * or undefined when it has no equivalent (%U, week of year starting on Sunday).
 */
export function javaDateFormat(strftime: string): string | undefined {
  const FIELDS: Readonly<Record<string, string>> = {
    Y: "yyyy",
    m: "MM",
    d: "dd",
    j: "DDD",
    H: "HH",
    M: "mm",
    S: "ss",
  };
  let out = "";
  let literal = "";
  const flush = (): void => {
    if (literal === "") return;
    // Letters and DateTimeFormatter's reserved characters are quoted; a quote is written twice.
    out += /[A-Za-z[\]{}#']/.test(literal) ? `'${literal.replace(/'/g, "''")}'` : literal;
    literal = "";
  };
  for (let i = 0; i < strftime.length; i++) {
    const c = strftime[i] as string;
    if (c !== "%") {
      literal += c;
      continue;
    }
    const d = strftime[i + 1];
    i++;
    if (d === "%") {
      literal += "%";
      continue;
    }
    const field = d === undefined ? undefined : FIELDS[d];
    if (field === undefined) return undefined;
    flush();
    out += field;
  }
  flush();
  return out;
}

/** Granularity of the finest field a strftime format shows. */
function finestField(strftime: string): Granularity | "SECOND" {
  if (strftime.includes("%S")) return "SECOND";
  if (strftime.includes("%M")) return "MINUTE";
  if (strftime.includes("%H")) return "HOUR";
  if (strftime.includes("%d") || strftime.includes("%j")) return "DAY";
  if (strftime.includes("%U")) return "WEEK";
  if (strftime.includes("%m")) return "MONTH";
  return "YEAR";
}

const INTERVAL_UNIT: Readonly<Record<Granularity, string>> = {
  MINUTE: "MINUTES",
  HOUR: "HOURS",
  DAY: "DAYS",
  WEEK: "WEEKS",
  MONTH: "MONTHS",
  YEAR: "YEARS",
};

/** Range of dates a date projection covers; queries always narrow it with partition predicates. */
export const DATE_PROJECTION_RANGE = "NOW-20YEARS,NOW+1DAYS";
/** Range of an unfiltered LONG dimension without a digit count. */
export const INTEGER_PROJECTION_RANGE = "-2147483648,2147483647";

/**
 * Athena partition projection parameters of one dimension (column `column`):
 * - a dimension with a filter list → `enum` of its values;
 * - LONG → `integer` (with `digits` when values are zero-padded);
 * - DATETIME whose format converts to a Java pattern and shows nothing finer than its granularity,
 *   at DAY/HOUR/MINUTE/MONTH/YEAR granularity → `date` stepping one granularity unit;
 * - anything else → `injected` (the query supplies the values, which the dispatcher always does).
 */
export function projectionOf(
  spec: DimensionModel,
  column: string,
  filter: readonly (string | number)[] | "*" | undefined,
): Record<string, string> {
  const p = `projection.${column}`;
  if (filter !== undefined && filter !== "*" && filter.length > 0) {
    const values = filter.map((v) => renderDimensionValue(spec, v));
    if (values.every((v) => !v.includes(",")))
      return { [`${p}.type`]: "enum", [`${p}.values`]: values.join(",") };
  }
  if (spec.type === "LONG") {
    if (spec.digits !== undefined) {
      return {
        [`${p}.type`]: "integer",
        [`${p}.range`]: `0,${"9".repeat(spec.digits)}`,
        [`${p}.digits`]: String(spec.digits),
      };
    }
    return { [`${p}.type`]: "integer", [`${p}.range`]: INTEGER_PROJECTION_RANGE };
  }
  if (spec.type === "DATETIME") {
    const format = javaDateFormat(spec.format);
    const finest = finestField(spec.format);
    // Projected dates step from the range's start, so the format must show exactly the granularity.
    if (format !== undefined && finest === spec.granularity && spec.granularity !== "WEEK") {
      return {
        [`${p}.type`]: "date",
        [`${p}.format`]: format,
        [`${p}.range`]: DATE_PROJECTION_RANGE,
        [`${p}.interval`]: "1",
        [`${p}.interval.unit`]: INTERVAL_UNIT[spec.granularity],
      };
    }
  }
  return { [`${p}.type`]: "injected" };
}

interface Format {
  readonly inputFormat: string;
  readonly outputFormat: string;
  readonly serde: string;
  readonly serdeParameters?: Record<string, string>;
  readonly classification: string;
  readonly tableParameters?: Record<string, string>;
}

const TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat";
const TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

/** Storage descriptor of each data format (how Athena reads the files). */
const FORMATS: Readonly<Record<DataFormat, Format>> = {
  parquet: {
    inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    serde: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    classification: "parquet",
  },
  orc: {
    inputFormat: "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
    outputFormat: "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
    serde: "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    classification: "orc",
  },
  avro: {
    inputFormat: "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
    outputFormat: "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
    serde: "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
    classification: "avro",
  },
  csv: {
    inputFormat: TEXT_INPUT,
    outputFormat: TEXT_OUTPUT,
    serde: "org.apache.hadoop.hive.serde2.OpenCSVSerde",
    serdeParameters: { separatorChar: ",", quoteChar: '"', escapeChar: "\\" },
    classification: "csv",
    // The Spark driver writes CSV with a header line.
    tableParameters: { "skip.header.line.count": "1" },
  },
  json: {
    inputFormat: TEXT_INPUT,
    outputFormat: TEXT_OUTPUT,
    serde: "org.openx.data.jsonserde.JsonSerDe",
    classification: "json",
  },
  text: {
    inputFormat: TEXT_INPUT,
    outputFormat: TEXT_OUTPUT,
    serde: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
    classification: "text",
  },
};

/**
 * Data columns of a table, from the node's `metadata.columns`: a list of `{ name, type }` (Hive
 * types, in file order) or, for formats that resolve columns by name (not csv/text), an object
 * `{ name: type }`. The text format has its single `value` column. Without `columns` a table has
 * the partition columns only, so declare them on nodes that prestoSql targets read.
 */
function columnsOf(node: NodeModel, format: DataFormat): { name: string; type: string }[] {
  const declared = node.metadata["columns"];
  const bad = (what: string): never => {
    throw new SynthError(`node "${node.id}": metadata.columns ${what}`);
  };
  if (declared === undefined || declared === null) {
    return format === "text" ? [{ name: "value", type: "string" }] : [];
  }
  if (Array.isArray(declared)) {
    return declared.map((c, i) => {
      if (c === null || typeof c !== "object" || Array.isArray(c))
        return bad(`[${i}] must be { name, type }`);
      const { name, type } = c;
      if (typeof name !== "string" || typeof type !== "string")
        return bad(`[${i}] must be { name, type } strings`);
      return { name: name.toLowerCase(), type };
    });
  }
  if (typeof declared !== "object")
    return bad("must be a list of { name, type } or an object { name: type }");
  if (format === "csv" || format === "text") {
    return bad(
      `of a ${format} dataset must be a list of { name, type }: its columns are positional, and an object's keys are sorted`,
    );
  }
  return Object.entries(declared).map(([name, type]) => {
    if (typeof type !== "string") return bad(`.${name} must be a Hive type name (a string)`);
    return { name: name.toLowerCase(), type };
  });
}

/**
 * s3:GetBucketLocation on an input bucket (Athena and Spark's S3 clients call it), in a statement of
 * its own: the s3:prefix condition of the list grant is absent from that request and would deny it.
 */
function bucketLocation(sidPrefix: string, k: number, bucket: string): Statement {
  return {
    sid: `${sidPrefix}InputsLocation${k}`,
    actions: ["s3:GetBucketLocation"],
    resources: [`arn:aws:s3:::${bucket}`],
  };
}

/** An external S3 dataset with the environment's binding applied. */
interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
  /** Module mode: `<prefix>/` or "" (a Terraform expression), as the prefix is the caller's. */
  readonly keyPrefix?: string;
  readonly account: string;
  readonly region: string;
  readonly encryptionKey?: string;
  readonly format: DataFormat;
}

/** A node Athena reads through a Glue table of the application's database. */
type TableNode = S3DatasetNodeModel | DataNodeModel | UpstreamDataNodeModel;

/** What a node's Glue table holds, for its description. */
function tableSubject(node: TableNode): string {
  if (node.kind === "data") return `data node ${node.id}`;
  if (node.kind === "s3Dataset") return `dataset ${node.id}`;
  const imported = node.node === node.id ? "" : ` (imported as ${node.id})`;
  return `data node ${node.node} of upstream application ${node.upstream.application}${imported}`;
}

/** Read access of one compute role (or of the router for Athena). */
interface InputSet {
  readonly s3: S3Location[];
  readonly glueTables: GlueTableNodeModel[];
  readonly data: DataNodeModel[];
  /** Imported nodes: their partitions are in the upstream's bucket. */
  readonly upstream: UpstreamDataNodeModel[];
}

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
  /** Environment variables of the router Lambda about batch compute. */
  readonly routerEnvironment: Readonly<Record<string, string>>;
  /**
   * S3 roots of Glue tables by node id (SLUICE_TABLE_LOCATIONS). A glueTable's location is the
   * catalog's to know, not the flow's: empty at synth.
   */
  readonly tableLocations: Readonly<Record<string, string>>;
  /** Engines the flow uses. */
  readonly engines: ReadonlySet<Engine>;

  private readonly naming: Naming;
  private readonly storage: Storage;
  private readonly model: FlowModel;
  private readonly bindings: Readonly<Record<string, DatasetBindingModel>>;
  private tableFormatsWritten = false;

  constructor(scope: Construct, id: string, props: BatchComputeProps) {
    super(scope, id);
    const { model, naming, storage, roles } = props;
    this.model = model;
    this.naming = naming;
    this.storage = storage;
    // A module reads every binding from its `datasets` variable (local.datasets), never a literal.
    this.bindings = naming.datasetsFromVariable
      ? {}
      : (model.environments[naming.environmentName]?.datasets ?? {});
    this.engines = enginesOf(model);
    const app = naming.app;
    const tags = naming.tags();
    const env: Record<string, string> = {};
    this.routerEnvironment = env;
    this.tableLocations = {};
    this.driverScriptUri = `s3://${storage.bucketName}/${DRIVER_SCRIPT_KEY}`;

    const uses = (e: Engine): boolean => this.engines.has(e);
    const spark = uses("glue") || uses("emr") || uses("emrServerless");

    // ---------------------------------------------------------------- the driver script
    if (spark) {
      const source = join(props.bundleDir ?? defaultBundleDir(), "spark", "sluice_driver.py");
      if (!existsSync(source)) {
        throw new SynthError(
          `the Spark driver ${source} does not exist: the runtime bundle is not built. Run \`npm run build\` ` +
            `(or pass bundleDir: the folder of a built runtime bundle)`,
        );
      }
      const asset = new TerraformAsset(this, "driver-asset", { path: source, type: AssetType.FILE });
      this.driverScript = new S3Object(this, "driver", {
        bucket: storage.bucket.id,
        key: DRIVER_SCRIPT_KEY,
        source: asset.path,
        sourceHash: createHash("sha256").update(readFileSync(source)).digest("hex"),
        contentType: "text/x-python",
        serverSideEncryption: "aws:kms",
        kmsKeyId: storage.key.arn, // CKV_AWS_186
        bucketKeyEnabled: true,
        tags,
      });
    }

    // ---------------------------------------------------------------- Glue catalog database
    this.database = new GlueCatalogDatabase(this, "database", {
      name: resourceNames.glueDatabase(app),
      description: `Sluice ${app}: tables of the flow's datasets and data nodes`,
      tags,
    });

    // ---------------------------------------------------------------- Glue
    const glueJobs: Record<string, GlueJob> = {};
    this.glueJobs = glueJobs;
    if (uses("glue")) {
      const specs = glueJobSpecs(model, naming.environmentName);
      for (const s of specs) {
        if (Number(s.glueVersion) < 1) {
          throw new SynthError(
            `Glue ${s.glueVersion} runs Python 2; the Sluice driver needs Python 3 (Glue 1.0 or later)`,
          );
        }
      }
      this.glueKey = new KmsKey(this, "glue-key", {
        description: `Sluice ${app} (${naming.environment}): Glue job logs and bookmarks`,
        enableKeyRotation: true, // CKV_AWS_7
        deletionWindowInDays: 30,
        policy: this.glueKeyPolicy(),
        tags,
      });
      this.glueSecurityConfiguration = new GlueSecurityConfiguration(this, "glue-security", {
        name: naming.name("glue-security", 255),
        encryptionConfiguration: {
          // CKV_AWS_99: every part encrypted
          s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: storage.key.arn },
          cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: this.glueKey.arn },
          jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: this.glueKey.arn },
        },
      });
      const glueRole = roles.role("glue");
      for (const s of specs) {
        glueJobs[s.name] = new GlueJob(this, `glue-${s.language}-${s.glueVersion.replace(/\./g, "-")}`, {
          name: s.name,
          description: `Sluice ${app}: ${s.language === "sql" ? "sparkSql" : "pySpark"} targets on Glue ${s.glueVersion}`,
          roleArn: glueRole.arn,
          glueVersion: s.glueVersion,
          command: { name: "glueetl", scriptLocation: this.driverScriptUri, pythonVersion: "3" },
          defaultArguments: {
            "--job-language": "python",
            "--enable-glue-datacatalog": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-metrics": "true",
            "--job-bookmark-option": "job-bookmark-disable",
            "--TempDir": `s3://${storage.bucketName}/${PREFIXES.glueTemp}`,
          },
          executionProperty: { maxConcurrentRuns: props.glueMaxConcurrentRuns ?? 100 },
          // Targets size their runs (workers, workerType); these are the defaults of a run that does not.
          workerType: "G.1X",
          numberOfWorkers: 2,
          // The router retries targets itself.
          maxRetries: 0,
          securityConfiguration: this.glueSecurityConfiguration.name, // CKV_AWS_195
          tags,
          ...(this.driverScript ? { dependsOn: [this.driverScript] } : {}),
        });
      }
      this.grantCompute(roles, "glue", "BatchGlue", this.targetsOn("glue"));
      const glueLogs = this.arn("logs", "log-group:/aws-glue/*");
      // Runs enable the Glue Data Catalog as Spark's metastore, which looks up the default database.
      roles.grant("glue", {
        sid: "BatchGlueCatalog",
        actions: ["glue:GetDatabase"],
        resources: [
          this.arn("glue", "catalog"),
          this.arn("glue", "database/default"),
          this.arn("glue", `database/${resourceNames.glueDatabase(app)}`),
        ],
      });
      roles.grant("glue", {
        sid: "BatchGlueTemp",
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        resources: [storage.objects(PREFIXES.glueTemp)],
      });
      roles.grant("glue", {
        sid: "BatchGlueLogs",
        actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
        resources: [glueLogs],
      });
      roles.grant("glue", {
        sid: "BatchGlueKey",
        actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
        resources: [this.glueKey.arn],
      });
      roles.grant("glue", {
        sid: "BatchGlueMetrics",
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        conditions: { StringEquals: { "cloudwatch:namespace": "Glue" } },
      });
      roles.grant("router", {
        sid: "BatchGlueJobRuns",
        actions: ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
        resources: Object.values(glueJobs).map((j) => j.arn),
      });
    }

    // ---------------------------------------------------------------- Athena
    const tables: Record<string, GlueCatalogTable> = {};
    this.tables = tables;
    if (uses("athena")) {
      const nodes = this.targetsOn("athena");
      const inputs = this.inputsOf(nodes);
      const tableNames = new Map<string, string>();
      const tableNodes: TableNode[] = [];
      for (const n of nodes) {
        for (const i of n.inputs) {
          const source = model.nodes[i.node];
          if (source?.kind !== "s3Dataset" && source?.kind !== "data" && source?.kind !== "upstreamData")
            continue;
          if (tableNodes.includes(source)) continue;
          const name = source.id.toLowerCase();
          const clash = tableNames.get(name);
          if (clash !== undefined) {
            throw new SynthError(
              `nodes "${clash}" and "${source.id}" both become Glue table "${name}" (the catalog lowercases names)`,
            );
          }
          tableNames.set(name, source.id);
          tableNodes.push(source);
        }
      }
      for (const source of tableNodes.sort((a, b) => (a.id < b.id ? -1 : 1))) {
        tables[source.id] = this.table(source);
      }

      this.workgroup = new AthenaWorkgroup(this, "workgroup", {
        name: resourceNames.athenaWorkgroup(app),
        description: `Sluice ${app}: prestoSql targets`,
        state: "ENABLED",
        forceDestroy: true,
        configuration: {
          enforceWorkgroupConfiguration: true, // CKV_AWS_82
          publishCloudwatchMetricsEnabled: true,
          resultConfiguration: {
            outputLocation: `s3://${storage.bucketName}/${PREFIXES.athenaResults}`,
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: storage.key.arn }, // CKV_AWS_159
          },
        },
        tags,
      });

      roles.grant("router", {
        sid: "BatchAthenaQueries",
        actions: ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"],
        resources: [this.workgroup.arn],
      });
      const database = resourceNames.glueDatabase(app);
      const catalog = [
        this.arn("glue", "catalog"),
        this.arn("glue", `database/${database}`),
        ...Object.keys(tables).map((id) => this.arn("glue", `table/${database}/${id.toLowerCase()}`)),
      ];
      roles.grant("router", {
        sid: "BatchAthenaCatalog",
        actions: [
          "glue:GetDatabase",
          "glue:GetTable",
          "glue:GetPartition",
          "glue:GetPartitions",
          "glue:BatchGetPartition",
        ],
        resources: catalog,
      });
      // Imported nodes: the router reads every one already (collaboration.ts), so not twice.
      for (const s of this.readStatements("BatchAthena", { ...inputs, upstream: [] }))
        roles.grant("router", s);
      roles.grant("router", {
        sid: "BatchAthenaWrite",
        actions: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        resources: [storage.objects(PREFIXES.internalData), storage.objects(PREFIXES.athenaResults)],
      });
      roles.grant("router", {
        sid: "BatchAthenaBucket",
        actions: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
        resources: [storage.bucket.arn],
      });
      roles.grant("router", {
        sid: "BatchAthenaKey",
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: [storage.key.arn],
      });
    }

    // ---------------------------------------------------------------- EMR Serverless
    if (uses("emrServerless")) {
      const emrRole = roles.role("emr");
      this.emrServerless = new EmrserverlessApplication(this, "emr-serverless", {
        name: resourceNames.emrServerlessApplication(app),
        releaseLabel: this.releaseLabel("emrServerless"),
        type: "spark",
        autoStartConfiguration: { enabled: true },
        autoStopConfiguration: { enabled: true, idleTimeoutMinutes: props.emrServerlessIdleMinutes ?? 15 },
        monitoringConfiguration: {
          s3MonitoringConfiguration: {
            logUri: `s3://${storage.bucketName}/${PREFIXES.emrServerlessLogs}`,
            encryptionKeyArn: storage.key.arn,
          },
        },
        tags,
      });
      this.grantCompute(roles, "emr", "BatchEmrServerless", this.targetsOn("emrServerless"));
      roles.grant("emr", {
        sid: "BatchEmrServerlessLogs",
        actions: ["s3:PutObject", "s3:GetObject"],
        resources: [storage.objects(PREFIXES.emrServerlessLogs)],
      });
      roles.grant("router", {
        sid: "BatchEmrServerlessJobRuns",
        actions: ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"],
        resources: [this.emrServerless.arn, `${this.emrServerless.arn}/jobruns/*`],
      });
      roles.grant("router", {
        sid: "BatchEmrServerlessPassRole",
        actions: ["iam:PassRole"],
        resources: [emrRole.arn],
        conditions: { StringLike: { "iam:PassedToService": "emr-serverless.amazonaws.com" } },
      });
      env.SLUICE_EMR_SERVERLESS_APP_ID = this.emrServerless.id;
      env.SLUICE_EMR_EXECUTION_ROLE = emrRole.arn;
    }

    // ---------------------------------------------------------------- EMR on EC2
    if (uses("emr")) {
      this.emrServiceRole = new IamRole(this, "emr-service-role", {
        name: naming.name("emr-service-role", 64),
        description: `Sluice ${app}: service role of transient EMR clusters`,
        assumeRolePolicy: assumeRolePolicy("elasticmapreduce.amazonaws.com"),
        tags,
      });
      new IamRolePolicyAttachment(this, "emr-service-policy", {
        role: this.emrServiceRole.name,
        policyArn: EMR_SERVICE_POLICY_ARN,
      });
      this.emrInstanceRole = new IamRole(this, "emr-instance-role", {
        name: naming.name("emr-instance-role", 64),
        description: `Sluice ${app}: EC2 instance role of transient EMR clusters (runs the Spark driver)`,
        assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"),
        tags,
      });
      this.emrInstanceProfile = new IamInstanceProfile(this, "emr-instance-profile", {
        name: naming.name("emr-instance-profile", 128),
        role: this.emrInstanceRole.name,
        tags,
      });
      const emrNodes = this.targetsOn("emr");
      const instanceStatements: Statement[] = [
        ...this.computeStatements("BatchEmr", emrNodes),
        {
          sid: "BatchEmrLogs",
          actions: ["s3:PutObject", "s3:GetObject"],
          resources: [storage.objects(PREFIXES.emrLogs)],
        },
        // The targets' own permissions, verbatim, on the role their code runs as.
        ...emrNodes.flatMap((n) =>
          n.compute
            .filter((t) => t.engine === "emr")
            .flatMap((t) => t.permissions)
            .map((p, i) => ({
              sid: `User${n.id.replace(/[^A-Za-z0-9]/g, "")}${i + 1}`,
              effect: p.effect,
              actions: p.actions,
              resources: p.resources,
            })),
        ),
      ];
      new IamRolePolicy(this, "emr-instance-policy", {
        name: naming.name("emr-instance-policy", 128),
        role: this.emrInstanceRole.id,
        policy: policyDocument(instanceStatements),
      });
      roles.grant("router", {
        sid: "BatchEmrRunJobFlow",
        actions: ["elasticmapreduce:RunJobFlow"],
        resources: ["*"],
      });
      roles.grant("router", {
        sid: "BatchEmrListClusters",
        actions: ["elasticmapreduce:ListClusters"],
        resources: ["*"],
      });
      roles.grant("router", {
        sid: "BatchEmrSteps",
        actions: [
          "elasticmapreduce:AddJobFlowSteps",
          "elasticmapreduce:DescribeStep",
          "elasticmapreduce:ListSteps",
          "elasticmapreduce:CancelSteps",
          "elasticmapreduce:DescribeCluster",
          "elasticmapreduce:TerminateJobFlows",
        ],
        resources: [this.arn("elasticmapreduce", "cluster/*")],
      });
      roles.grant("router", {
        sid: "BatchEmrPassServiceRole",
        actions: ["iam:PassRole"],
        resources: [this.emrServiceRole.arn],
        conditions: { StringLike: { "iam:PassedToService": "elasticmapreduce.amazonaws.com*" } },
      });
      roles.grant("router", {
        sid: "BatchEmrPassInstanceRole",
        actions: ["iam:PassRole"],
        resources: [this.emrInstanceRole.arn],
        conditions: { StringLike: { "iam:PassedToService": "ec2.amazonaws.com*" } },
      });
      env.SLUICE_EMR_SERVICE_ROLE = this.emrServiceRole.name;
      env.SLUICE_EMR_JOB_FLOW_ROLE = this.emrInstanceProfile.name;
      env.SLUICE_EMR_LOG_URI = `s3://${storage.bucketName}/${PREFIXES.emrLogs}`;
    }
    if (uses("emr") || uses("emrServerless")) env.SLUICE_DRIVER_SCRIPT = this.driverScriptUri;
  }

  // ---------------------------------------------------------------- helpers

  /** `arn:aws:<service>:<region>:<account>:<resource>` in the stack's account and region. */
  private arn(
    service: string,
    resource: string,
    region = this.naming.region,
    account = this.naming.account,
  ): string {
    return `arn:aws:${service}:${region}:${account}:${resource}`;
  }

  /** Data nodes with at least one target on `engine`. */
  private targetsOn(engine: Engine): DataNodeModel[] {
    return dataNodes(this.model).filter((n) => n.compute.some((t) => t.engine === engine));
  }

  /** The one EMR release of the targets on an EMR engine (an application or cluster runs one). */
  private releaseLabel(engine: "emr" | "emrServerless"): string {
    const labels = new Set<string>();
    for (const n of this.targetsOn(engine)) {
      for (const t of n.compute) {
        if (t.engine === engine) labels.add(t.params.emr?.releaseLabel ?? DEFAULT_EMR_RELEASE_LABEL);
      }
    }
    if (engine === "emrServerless" && labels.size > 1) {
      throw new SynthError(
        `EMR Serverless targets use several release labels (${[...labels].sort().join(", ")}); ` +
          `the application's one EMR Serverless application runs one release: give them the same emr.releaseLabel`,
      );
    }
    return [...labels][0] ?? DEFAULT_EMR_RELEASE_LABEL;
  }

  private s3Location(node: S3DatasetNodeModel): S3Location {
    const b = this.bindings[node.id] ?? {};
    const key = b.encryptionKey ?? node.encryptionKey;
    // A module reads the location from its `datasets` variable; the caller passes the bindings.
    if (this.naming.datasetsFromVariable) {
      // The key is the caller's too: reads decrypt through S3 (see readStatements), whatever the key.
      return { ...this.naming.s3Location(node), format: node.format };
    }
    return {
      bucket: b.bucket ?? node.bucket,
      prefix: b.prefix ?? node.prefix,
      account: b.account ?? node.account,
      region: b.region ?? node.region,
      format: b.format ?? node.format,
      ...(key === undefined ? {} : { encryptionKey: key }),
    };
  }

  private glueTableOf(node: GlueTableNodeModel): GlueTableNodeModel {
    // The environment's binding over the flow's declaration, or module expressions.
    const { account, region, database, table } = this.naming.glueTableLocation(node);
    return { ...node, account, region, database, table };
  }

  /** The data inputs (external and internal) of some data nodes. */
  private inputsOf(nodes: readonly DataNodeModel[]): InputSet {
    const s3 = new Map<string, S3Location>();
    const glueTables = new Map<string, GlueTableNodeModel>();
    const data = new Map<string, DataNodeModel>();
    const upstream = new Map<string, UpstreamDataNodeModel>();
    for (const n of nodes) {
      for (const i of n.inputs) {
        const source = this.model.nodes[i.node];
        if (source?.kind === "s3Dataset") s3.set(source.id, this.s3Location(source));
        else if (source?.kind === "glueTable") glueTables.set(source.id, this.glueTableOf(source));
        else if (source?.kind === "data") data.set(source.id, source);
        else if (source?.kind === "upstreamData") upstream.set(source.id, source);
      }
    }
    const sorted = <T>(m: Map<string, T>): T[] =>
      [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    return {
      s3: sorted(s3),
      glueTables: sorted(glueTables),
      data: sorted(data),
      upstream: sorted(upstream),
    };
  }

  /**
   * Read access to the external inputs: S3 prefixes, their KMS keys, Glue catalog tables, and the
   * imported nodes' prefixes of the upstreams' buckets.
   */
  private readStatements(sidPrefix: string, inputs: InputSet): Statement[] {
    const out: Statement[] = [];
    const byBucket = new Map<string, string[]>();
    const keyPrefixes = new Map<string, string>();
    for (const l of inputs.s3) {
      const prefixes = byBucket.get(l.bucket) ?? [];
      if (!prefixes.includes(l.prefix)) prefixes.push(l.prefix);
      byBucket.set(l.bucket, prefixes);
      if (l.keyPrefix !== undefined) keyPrefixes.set(l.prefix, l.keyPrefix);
    }
    let k = 0;
    for (const [bucket, prefixes] of byBucket) {
      k++;
      if (keyPrefixes.size > 0) {
        // A module: the prefix is the caller's; an empty one makes "*" of the condition (any key).
        const keyed = prefixes.map((p) => keyPrefixes.get(p) ?? `${p}/`);
        out.push({
          sid: `${sidPrefix}ListInputs${k}`,
          actions: ["s3:ListBucket"],
          resources: [`arn:aws:s3:::${bucket}`],
          conditions: { StringLike: { "s3:prefix": prefixes.flatMap((p, i) => [p, `${keyed[i]}*`]) } },
        });
        out.push(bucketLocation(sidPrefix, k, bucket));
        out.push({
          sid: `${sidPrefix}ReadInputs${k}`,
          actions: ["s3:GetObject"],
          resources: keyed.map((kp) => `arn:aws:s3:::${bucket}/${kp}*`),
        });
        continue;
      }
      const whole = prefixes.includes("");
      out.push({
        sid: `${sidPrefix}ListInputs${k}`,
        actions: ["s3:ListBucket"],
        resources: [`arn:aws:s3:::${bucket}`],
        ...(whole
          ? {}
          : { conditions: { StringLike: { "s3:prefix": prefixes.flatMap((p) => [p, `${p}/*`]) } } }),
      });
      out.push(bucketLocation(sidPrefix, k, bucket));
      out.push({
        sid: `${sidPrefix}ReadInputs${k}`,
        actions: ["s3:GetObject"],
        resources: whole
          ? [`arn:aws:s3:::${bucket}/*`]
          : prefixes.map((p) => `arn:aws:s3:::${bucket}/${p}/*`),
      });
    }
    if (this.naming.datasetsFromVariable && inputs.s3.length > 0) {
      out.push(decryptViaS3(`${sidPrefix}InputsDecryptViaS3`, inputs.s3, this.naming.account));
    }
    const keyArns: string[] = [];
    const aliases: { resource: string; alias: string }[] = [];
    for (const l of inputs.s3) {
      if (l.encryptionKey === undefined) continue;
      const key = l.encryptionKey;
      const alias = /^arn:aws[a-z-]*:kms:([^:]+):(\d{12}):(alias\/.+)$/.exec(key);
      if (alias)
        aliases.push({ resource: `arn:aws:kms:${alias[1]}:${alias[2]}:key/*`, alias: alias[3] as string });
      else if (key.startsWith("alias/"))
        aliases.push({ resource: `arn:aws:kms:${l.region}:${l.account}:key/*`, alias: key });
      else if (key.startsWith("arn:")) keyArns.push(key);
      else keyArns.push(`arn:aws:kms:${l.region}:${l.account}:key/${key}`);
    }
    if (keyArns.length > 0) {
      out.push({
        sid: `${sidPrefix}InputKeys`,
        actions: ["kms:Decrypt"],
        resources: [...new Set(keyArns)].sort(),
      });
    }
    aliases.forEach((a, i) =>
      out.push({
        sid: `${sidPrefix}InputKeyAlias${i + 1}`,
        actions: ["kms:Decrypt"],
        resources: [a.resource],
        conditions: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": a.alias } },
      }),
    );
    if (inputs.glueTables.length > 0) {
      const resources = new Set<string>();
      for (const t of inputs.glueTables) {
        resources.add(this.arn("glue", "catalog", t.region, t.account));
        resources.add(this.arn("glue", `database/${t.database}`, t.region, t.account));
        resources.add(this.arn("glue", `table/${t.database}/${t.table}`, t.region, t.account));
      }
      out.push({
        sid: `${sidPrefix}InputTables`,
        actions: [
          "glue:GetDatabase",
          "glue:GetTable",
          "glue:GetPartition",
          "glue:GetPartitions",
          "glue:BatchGetPartition",
        ],
        resources: [...resources].sort(),
      });
    }
    out.push(...upstreamReadStatements(sidPrefix, inputs.upstream, this.naming.account));
    return out;
  }

  /**
   * What the code of Spark targets needs: read their inputs, read and write the application's
   * internal data, read its assets (the driver), use its key.
   */
  private computeStatements(sidPrefix: string, nodes: readonly DataNodeModel[]): Statement[] {
    const s = this.storage;
    return [
      ...this.readStatements(sidPrefix, this.inputsOf(nodes)),
      {
        sid: `${sidPrefix}AppBucket`,
        actions: ["s3:ListBucket", "s3:GetBucketLocation"],
        resources: [s.bucket.arn],
      },
      {
        sid: `${sidPrefix}InternalData`,
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        resources: [s.objects(PREFIXES.internalData)],
      },
      {
        sid: `${sidPrefix}Assets`,
        actions: ["s3:GetObject"],
        resources: [s.objects(PREFIXES.assets)],
      },
      {
        sid: `${sidPrefix}AppKey`,
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: [s.key.arn],
      },
    ];
  }

  private grantCompute(
    roles: ExecutionRoles,
    role: RoleName,
    sidPrefix: string,
    nodes: DataNodeModel[],
  ): void {
    for (const s of this.computeStatements(sidPrefix, nodes)) roles.grant(role, s);
  }

  /** Key policy of the Glue key: the account administers it, CloudWatch Logs encrypts Glue's logs. */
  private glueKeyPolicy(): string {
    const { account, region } = this.naming;
    return keyPolicy(account, [logsKeyStatement("CloudWatchLogsOfGlue", account, region, "/aws-glue/*")]);
  }

  /**
   * The storage descriptor of a module's s3Dataset: looked up by its bound format in
   * `local.table_formats` (written once, with the first such table). The OpenCSVSerde parameters are
   * always set (other SerDes ignore them); only CSV skips a header line.
   */
  private boundFormat(id: string): Format {
    if (!this.tableFormatsWritten) {
      const formats = Object.fromEntries(
        (Object.keys(FORMATS) as DataFormat[]).sort().map((name) => {
          const f = FORMATS[name];
          const fields = { classification: f.classification, input_format: f.inputFormat };
          return [name, { ...fields, output_format: f.outputFormat, serde: f.serde }];
        }),
      );
      TerraformStack.of(this).addOverride(`locals.${TABLE_FORMATS_LOCAL}`, formats);
      this.tableFormatsWritten = true;
    }
    const bound = datasetRef(id, "format");
    const field = (name: string): string => `\${local.${TABLE_FORMATS_LOCAL}[${bound}].${name}}`;
    return {
      inputFormat: field("input_format"),
      outputFormat: field("output_format"),
      serde: field("serde"),
      serdeParameters: FORMATS.csv.serdeParameters ?? {},
      classification: field("classification"),
      tableParameters: { "skip.header.line.count": `\${${bound} == "csv" ? "1" : "0"}` },
    };
  }

  /** S3 root of a node's data (no trailing slash). */
  private rootOf(node: TableNode): string {
    if (node.kind === "data") return `s3://${this.storage.bucketName}/${node.path}`;
    if (node.kind === "upstreamData") return `s3://${upstreamBucket(node.upstream)}/${node.path}`;
    const l = this.s3Location(node);
    if (this.naming.datasetsFromVariable) {
      // `s3://<bucket>/<prefix>` (no trailing slash), whatever prefix the caller passes.
      return `\${trimsuffix("s3://\${${datasetRef(node.id, "bucket")}}/${l.keyPrefix}", "/")}`;
    }
    return `s3://${l.bucket}${l.prefix === "" ? "" : `/${l.prefix}`}`;
  }

  /** The Glue table Athena reads a node through: external, partition-projected, named by the node id. */
  private table(node: TableNode): GlueCatalogTable {
    const format = node.kind === "s3Dataset" ? this.s3Location(node).format : node.format;
    // A module's s3Dataset has the format its environment binds: the storage descriptor follows it.
    const f =
      node.kind === "s3Dataset" && this.naming.datasetsFromVariable
        ? this.boundFormat(node.id)
        : FORMATS[format];
    const dims = node.signal.dimensions;
    const root = this.rootOf(node);
    const segments = dims.map((d, i) => {
      const template = node.kind === "s3Dataset" ? (node.partitions[i] ?? "{}") : "{}";
      // Athena's `${column}` placeholder, escaped so that Terraform writes it as is.
      return terraformLiteral(template).replace("{}", () => `$\${${d.name.toLowerCase()}}`);
    });
    const projection: Record<string, string> = {};
    for (const d of dims) {
      Object.assign(projection, projectionOf(d, d.name.toLowerCase(), node.signal.filter[d.name]));
    }
    const storageDescriptor: GlueCatalogTableStorageDescriptor = {
      location: `${root}/`,
      inputFormat: f.inputFormat,
      outputFormat: f.outputFormat,
      serDeInfo: {
        serializationLibrary: f.serde,
        ...(f.serdeParameters ? { parameters: f.serdeParameters } : {}),
      },
      columns: columnsOf(node, format),
    };
    return new GlueCatalogTable(this, `table-${node.id}`, {
      name: node.id.toLowerCase(),
      databaseName: this.database.name,
      description: `Sluice ${this.naming.app}: ${tableSubject(node)}`,
      tableType: "EXTERNAL_TABLE",
      parameters: {
        EXTERNAL: "TRUE",
        classification: f.classification,
        ...f.tableParameters,
        "projection.enabled": "true",
        ...projection,
        ...(dims.length > 0 ? { "storage.location.template": [root, ...segments].join("/") } : {}),
      },
      partitionKeys: dims.map((d) => ({
        name: d.name.toLowerCase(),
        type: d.type === "LONG" ? "bigint" : "string",
      })),
      storageDescriptor,
    });
  }
}
