/**
 * Glue catalog tables: one external, partition-projected table per node that prestoSql (Athena)
 * targets read (s3Datasets, data nodes, imported nodes), in the application's database, so that no
 * crawler or partition registration is needed. The storage descriptor follows the node's data
 * format; a module's s3Dataset follows the format its environment binds.
 */
import type { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import {
  GlueCatalogTable,
  type GlueCatalogTableStorageDescriptor,
} from "@cdktf/provider-aws/lib/glue-catalog-table";
import type {
  DataFormat,
  DataNodeModel,
  FlowModel,
  NodeModel,
  S3DatasetNodeModel,
  UpstreamDataNodeModel,
} from "../../flow/model/flow-model";
import { upstreamBucket } from "../../flow/model/resource-names";
import { TerraformStack } from "../cdktf";
import { datasetRef } from "../naming";
import { SynthError } from "../synth-error";
import { terraformLiteral } from "../terraform-literal";
import type { BatchBuild } from "./context";
import { projectionOf } from "./partition-projection";

/** Module local: each data format's storage descriptor, for tables whose format a variable binds. */
const TABLE_FORMATS_LOCAL = "table_formats";

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

/** A node Athena reads through a Glue table of the application's database. */
export type TableNode = S3DatasetNodeModel | DataNodeModel | UpstreamDataNodeModel;

/** What a node's Glue table holds, for its description. */
function tableSubject(node: TableNode): string {
  if (node.kind === "data") return `data node ${node.id}`;
  if (node.kind === "s3Dataset") return `dataset ${node.id}`;
  const imported = node.node === node.id ? "" : ` (imported as ${node.id})`;
  return `data node ${node.node} of upstream application ${node.upstream.application}${imported}`;
}

/**
 * The nodes whose Glue tables the targets `nodes` read (s3Datasets, data nodes, imported nodes), in id
 * order. Two nodes whose ids differ only in case would be one table: a SynthError.
 */
export function tableNodesOf(model: FlowModel, nodes: readonly DataNodeModel[]): TableNode[] {
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
  return tableNodes.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Creates the Glue tables of one BatchCompute construct (module locals written once). */
export class GlueTables {
  private tableFormatsWritten = false;

  constructor(
    private readonly build: BatchBuild,
    /** The application's database, where the tables live. */
    private readonly database: GlueCatalogDatabase,
  ) {}

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
      TerraformStack.of(this.build.scope).addOverride(`locals.${TABLE_FORMATS_LOCAL}`, formats);
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
    if (node.kind === "data") return `s3://${this.build.storage.bucketName}/${node.path}`;
    if (node.kind === "upstreamData") return `s3://${upstreamBucket(node.upstream)}/${node.path}`;
    const l = this.build.reads.s3Location(node);
    if (this.build.naming.datasetsFromVariable) {
      // `s3://<bucket>/<prefix>` (no trailing slash), whatever prefix the caller passes.
      return `\${trimsuffix("s3://\${${datasetRef(node.id, "bucket")}}/${l.keyPrefix}", "/")}`;
    }
    return `s3://${l.bucket}${l.prefix === "" ? "" : `/${l.prefix}`}`;
  }

  /**
   * The Glue table Athena reads a node through: external, partition-projected, named by the node id
   * (construct id `table-<node id>` in the BatchCompute construct).
   */
  table(node: TableNode): GlueCatalogTable {
    const format = node.kind === "s3Dataset" ? this.build.reads.s3Location(node).format : node.format;
    // A module's s3Dataset has the format its environment binds: the storage descriptor follows it.
    const f =
      node.kind === "s3Dataset" && this.build.naming.datasetsFromVariable
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
    return new GlueCatalogTable(this.build.scope, `table-${node.id}`, {
      name: node.id.toLowerCase(),
      databaseName: this.database.name,
      description: `Sluice ${this.build.naming.app}: ${tableSubject(node)}`,
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
