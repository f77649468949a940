/**
 * Glue: one job per (language, Glue version) used by Glue targets, each running the Sluice Spark
 * driver, with a security configuration (S3, CloudWatch and job-bookmark encryption), the key of
 * Glue's logs and bookmarks, the permissions of the Glue role, and the router's permission to start,
 * poll and stop the jobs' runs.
 */
import { GlueJob } from "@cdktf/provider-aws/lib/glue-job";
import { GlueSecurityConfiguration } from "@cdktf/provider-aws/lib/glue-security-configuration";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import type { FlowModel } from "../../flow/model/flow-model";
import { resourceNames } from "../../flow/model/resource-names";
import type { Naming } from "../naming";
import { keyPolicy, logsKeyStatement } from "../policy";
import { SynthError } from "../synth-error";
import { arnOf, dataNodes, DEFAULT_GLUE_VERSION, PREFIXES, targetsOn, type BatchBuild } from "./context";

/** One Glue job: a language and a Glue version. */
export interface GlueJobSpec {
  readonly language: "sql" | "python";
  readonly glueVersion: string;
  readonly name: string;
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

/** What the Glue builder creates. */
export interface GlueResources {
  /** Glue jobs by job name. */
  readonly jobs: Record<string, GlueJob>;
  readonly securityConfiguration: GlueSecurityConfiguration;
  /** Key of Glue's CloudWatch logs and job bookmarks (its policy lets CloudWatch Logs use it). */
  readonly key: KmsKey;
}

/**
 * Builds the Glue jobs of the flow's Glue targets in `build.scope` (ids `glue-key`, `glue-security`,
 * `glue-<language>-<version>`) and grants the Glue role and the router what they need.
 */
export function buildGlueJobs(
  build: BatchBuild,
  options: { readonly maxConcurrentRuns?: number },
): GlueResources {
  const { scope, model, naming, storage, roles, reads } = build;
  const app = naming.app;
  const tags = naming.tags();
  const jobs: Record<string, GlueJob> = {};
  const specs = glueJobSpecs(model, naming.environmentName);
  for (const s of specs) {
    if (Number(s.glueVersion) < 1) {
      throw new SynthError(
        `Glue ${s.glueVersion} runs Python 2; the Sluice driver needs Python 3 (Glue 1.0 or later)`,
      );
    }
  }
  const key = new KmsKey(scope, "glue-key", {
    description: `Sluice ${app} (${naming.environment}): Glue job logs and bookmarks`,
    enableKeyRotation: true, // CKV_AWS_7
    deletionWindowInDays: 30,
    policy: glueKeyPolicy(naming),
    tags,
  });
  const securityConfiguration = new GlueSecurityConfiguration(scope, "glue-security", {
    name: naming.name("glue-security", 255),
    encryptionConfiguration: {
      // CKV_AWS_99: every part encrypted
      s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: storage.key.arn },
      cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: key.arn },
      jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: key.arn },
    },
  });
  const glueRole = roles.role("glue");
  for (const s of specs) {
    jobs[s.name] = new GlueJob(scope, `glue-${s.language}-${s.glueVersion.replace(/\./g, "-")}`, {
      name: s.name,
      description: `Sluice ${app}: ${s.language === "sql" ? "sparkSql" : "pySpark"} targets on Glue ${s.glueVersion}`,
      roleArn: glueRole.arn,
      glueVersion: s.glueVersion,
      command: { name: "glueetl", scriptLocation: build.driverScriptUri, pythonVersion: "3" },
      defaultArguments: {
        "--job-language": "python",
        "--enable-glue-datacatalog": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-metrics": "true",
        "--job-bookmark-option": "job-bookmark-disable",
        "--TempDir": `s3://${storage.bucketName}/${PREFIXES.glueTemp}`,
      },
      executionProperty: { maxConcurrentRuns: options.maxConcurrentRuns ?? 100 },
      // Targets size their runs (workers, workerType); these are the defaults of a run that does not.
      workerType: "G.1X",
      numberOfWorkers: 2,
      // The router retries targets itself.
      maxRetries: 0,
      securityConfiguration: securityConfiguration.name, // CKV_AWS_195
      tags,
      ...(build.driverScript ? { dependsOn: [build.driverScript] } : {}),
    });
  }
  reads.grantCompute(roles, "glue", "BatchGlue", targetsOn(model, "glue"));
  const glueLogs = arnOf(naming, "logs", "log-group:/aws-glue/*");
  // Runs enable the Glue Data Catalog as Spark's metastore, which looks up the default database.
  roles.grant("glue", {
    sid: "BatchGlueCatalog",
    actions: ["glue:GetDatabase"],
    resources: [
      arnOf(naming, "glue", "catalog"),
      arnOf(naming, "glue", "database/default"),
      arnOf(naming, "glue", `database/${resourceNames.glueDatabase(app)}`),
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
    resources: [key.arn],
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
    resources: Object.values(jobs).map((j) => j.arn),
  });
  return { jobs, securityConfiguration, key };
}

/** Key policy of the Glue key: the account administers it, CloudWatch Logs encrypts Glue's logs. */
function glueKeyPolicy(naming: Naming): string {
  const { account, region } = naming;
  return keyPolicy(account, [logsKeyStatement("CloudWatchLogsOfGlue", account, region, "/aws-glue/*")]);
}
