/**
 * Where the flow's Glue tables keep their data, resolved from the catalog at plan time (one
 * `data "aws_glue_catalog_table"` per glueTable, in the table's catalog account): the router needs the
 * location to give compute the table's path, and the roles that read the table need S3 read on it,
 * which a `glue:GetTable` grant alone does not give. The resource owns its grants: `readStatements`.
 *
 * Each data source names the table's catalog account and region (AWS provider 6's per-resource
 * `region`), so a table of another account or region needs no provider alias; the account that plans
 * must be allowed `glue:GetTable` there (the catalog's resource policy, for another account).
 */
import { DataAwsGlueCatalogTable } from "@cdktf/provider-aws/lib/data-aws-glue-catalog-table";
import type { FlowModel, GlueTableNodeModel } from "../flow/model/flow-model";
import { Construct, TerraformStack } from "./cdktf";
import { datasetRef, type Naming } from "./naming";
import type { Statement } from "./policy";

/** The local of the tables' data: `local.sluice_tables.<id>.{location,bucket,prefix}`. */
export const TABLES_LOCAL = "sluice_tables";

export interface GlueTableLocationsProps {
  readonly model: FlowModel;
  readonly naming: Naming;
}

export class GlueTableLocations extends Construct {
  /** By glueTable id: its S3 location (`s3://bucket/prefix`), a plan-time expression `${…}`. */
  readonly locations: Readonly<Record<string, string>>;
  private readonly account: Readonly<Record<string, string>>;
  private readonly region: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: GlueTableLocationsProps) {
    super(scope, id);
    const locations: Record<string, string> = {};
    const account: Record<string, string> = {};
    const region: Record<string, string> = {};
    const tables = Object.values(props.model.nodes)
      .filter((n): n is GlueTableNodeModel => n.kind === "glueTable")
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const node of tables) {
      const where = props.naming.glueTableLocation(node);
      const table = new DataAwsGlueCatalogTable(this, node.id, {
        databaseName: where.lowerDatabase,
        name: where.lowerTable,
        catalogId: where.account,
        // Provider 6's per-resource region: a table of another region needs no provider alias.
        region: where.region,
      });
      const location = `trimsuffix(data.aws_glue_catalog_table.${table.friendlyUniqueId}.storage_descriptor[0].location, "/")`;
      const key = `trimprefix(trimprefix(${location}, "s3://"), "s3a://")`;
      // Locals, so that policies (JSON inside a string) reference them without quotes.
      TerraformStack.of(this).addOverride(`locals.${TABLES_LOCAL}.${node.id}`, {
        location: `\${${location}}`,
        bucket: `\${element(split("/", ${key}), 0)}`,
        prefix: `\${join("/", slice(split("/", ${key}), 1, length(split("/", ${key}))))}`,
      });
      locations[node.id] = `\${${datasetRef(node.id, "location", TABLES_LOCAL)}}`;
      account[node.id] = where.account;
      region[node.id] = where.region;
    }
    this.locations = locations;
    this.account = account;
    this.region = region;
  }

  /**
   * Read access to the data of the tables `ids`: list below the location, get its objects, and decrypt
   * through S3 with keys of the table's account and region only.
   */
  readStatements(sidPrefix: string, ids: readonly string[]): Statement[] {
    const known = [...new Set(ids)].filter((id) => this.locations[id] !== undefined).sort();
    if (known.length === 0) return [];
    const objects: string[] = [];
    const buckets: string[] = [];
    const out: Statement[] = [];
    known.forEach((id, i) => {
      const bucket = `\${${datasetRef(id, "bucket", TABLES_LOCAL)}}`;
      const prefix = `\${${datasetRef(id, "prefix", TABLES_LOCAL)}}`;
      objects.push(`arn:aws:s3:::${bucket}/${prefix}/*`);
      buckets.push(`arn:aws:s3:::${bucket}`);
      out.push({
        sid: `${sidPrefix}TableData${i + 1}List`,
        actions: ["s3:ListBucket"],
        resources: [`arn:aws:s3:::${bucket}`],
        conditions: { StringLike: { "s3:prefix": [`${prefix}/*`, prefix] } },
      });
    });
    out.unshift({ sid: `${sidPrefix}TableData`, actions: ["s3:GetObject"], resources: objects });
    out.push({ sid: `${sidPrefix}TableDataLocation`, actions: ["s3:GetBucketLocation"], resources: buckets });
    out.push({
      sid: `${sidPrefix}TableDataDecryptViaS3`,
      actions: ["kms:Decrypt"],
      resources: [...new Set(known.map((id) => `arn:aws:kms:${this.region[id]}:${this.account[id]}:key/*`))],
      conditions: {
        StringLike: {
          "kms:ViaService": [...new Set(known.map((id) => `s3.${this.region[id]}.amazonaws.com`))],
        },
      },
    });
    return out;
  }
}
