/**
 * Athena: the workgroup of prestoSql targets (encrypted results, enforced configuration), the Glue
 * tables of what they read (glue-tables.ts), and the router's permissions: Athena runs as the router,
 * so the router reads the targets' inputs and writes their outputs and the query results.
 */
import { AthenaWorkgroup } from "@cdktf/provider-aws/lib/athena-workgroup";
import type { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import type { GlueCatalogTable } from "@cdktf/provider-aws/lib/glue-catalog-table";
import { resourceNames } from "../../flow/model/resource-names";
import { arnOf, PREFIXES, targetsOn, type BatchBuild } from "./context";
import { GlueTables, tableNodesOf } from "./glue-tables";

/** What the Athena builder creates. */
export interface AthenaResources {
  /** Glue tables of Athena inputs, by node id. */
  readonly tables: Record<string, GlueCatalogTable>;
  readonly workgroup: AthenaWorkgroup;
}

/** Catalog ARNs per statement: about 100 characters each, well within a 6,144-character managed policy. */
const CATALOG_ARNS_PER_STATEMENT = 40;

/**
 * Builds, in `build.scope`, the Glue tables of the prestoSql targets' inputs (ids `table-<node id>`, in
 * `database`) and the workgroup (id `workgroup`), and grants the router what the queries need.
 */
export function buildAthena(build: BatchBuild, database: GlueCatalogDatabase): AthenaResources {
  const { scope, model, naming, storage, roles, reads } = build;
  const app = naming.app;
  const tags = naming.tags();
  const tables: Record<string, GlueCatalogTable> = {};
  const nodes = targetsOn(model, "athena");
  const inputs = reads.inputsOf(nodes);
  const glueTables = new GlueTables(build, database);
  for (const source of tableNodesOf(model, nodes)) tables[source.id] = glueTables.table(source);

  const workgroup = new AthenaWorkgroup(scope, "workgroup", {
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
    resources: [workgroup.arn],
  });
  const databaseName = resourceNames.glueDatabase(app);
  const catalog = [
    arnOf(naming, "glue", "catalog"),
    arnOf(naming, "glue", `database/${databaseName}`),
    ...Object.keys(tables).map((id) => arnOf(naming, "glue", `table/${databaseName}/${id.toLowerCase()}`)),
  ];
  // A few dozen tables per statement, so that no statement outgrows a managed policy (policy-quota.ts).
  for (let i = 0; i < catalog.length; i += CATALOG_ARNS_PER_STATEMENT) {
    const n = i / CATALOG_ARNS_PER_STATEMENT;
    roles.grant("router", {
      sid: `BatchAthenaCatalog${n === 0 ? "" : n + 1}`,
      actions: [
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:BatchGetPartition",
      ],
      resources: catalog.slice(i, i + CATALOG_ARNS_PER_STATEMENT),
    });
  }
  // Imported nodes: the router reads every one already (collaboration.ts), so not twice.
  for (const s of reads.readStatements("BatchAthena", { ...inputs, upstream: [] })) roles.grant("router", s);
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
  return { tables, workgroup };
}
