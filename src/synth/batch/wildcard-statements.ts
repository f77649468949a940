/**
 * The registry of IAM statements allowed `Resource: "*"`, with the reason of each: every other
 * statement of the stack names its resources (tests and reviews check it).
 */

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
