/**
 * Read grants shared by every engine: what a compute role (or the router, for Athena) may read of the
 * targets' inputs. External S3 datasets (their prefixes and KMS keys, with the environment's bindings
 * applied, or the module's `datasets` variable), Glue catalog tables, and the imported nodes' prefixes
 * of the upstreams' buckets; plus what Spark targets need of the application's own bucket.
 */
import type {
  DataFormat,
  DataNodeModel,
  DatasetBindingModel,
  FlowModel,
  GlueTableNodeModel,
  S3DatasetNodeModel,
  UpstreamDataNodeModel,
} from "../../flow/model/flow-model";
import { upstreamReadStatements } from "../collaboration";
import type { ExecutionRoles, RoleName } from "../execution-roles";
import type { Naming } from "../naming";
import { decryptViaS3Statements, type Statement } from "../policy";
import type { Storage } from "../storage";
import type { GlueTableLocations } from "../table-locations";
import { arnOf, PREFIXES } from "./context";

/** An external S3 dataset with the environment's binding applied. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
  /** Module mode: `<prefix>/` or "" (a Terraform expression), as the prefix is the caller's. */
  readonly keyPrefix?: string;
  readonly account: string;
  readonly region: string;
  readonly encryptionKey?: string;
  readonly format: DataFormat;
}

/** Read access of one compute role (or of the router for Athena). */
export interface InputSet {
  readonly s3: S3Location[];
  readonly glueTables: GlueTableNodeModel[];
  readonly data: DataNodeModel[];
  /** Imported nodes: their partitions are in the upstream's bucket. */
  readonly upstream: UpstreamDataNodeModel[];
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

/** The inputs of a flow's targets and the statements that read them (no constructs: plain statements). */
export class ReadGrants {
  private readonly bindings: Readonly<Record<string, DatasetBindingModel>>;

  constructor(
    private readonly model: FlowModel,
    private readonly naming: Naming,
    private readonly storage: Storage,
    private readonly tables?: GlueTableLocations,
  ) {
    // A module reads every binding from its `datasets` variable (local.datasets), never a literal.
    this.bindings = naming.datasetsFromVariable
      ? {}
      : (model.environments[naming.environmentName]?.datasets ?? {});
  }

  /** Where an s3Dataset input is: the environment's binding over the declaration, or module expressions. */
  s3Location(node: S3DatasetNodeModel): S3Location {
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

  /** A glueTable input with its binding applied (or module expressions). */
  glueTableOf(node: GlueTableNodeModel): GlueTableNodeModel {
    // The environment's binding over the flow's declaration, or module expressions.
    const { account, region, database, table } = this.naming.glueTableLocation(node);
    return { ...node, account, region, database, table };
  }

  /** The data inputs (external and internal) of some data nodes. */
  inputsOf(nodes: readonly DataNodeModel[]): InputSet {
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
  readStatements(sidPrefix: string, inputs: InputSet): Statement[] {
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
      out.push(...decryptViaS3Statements(`${sidPrefix}InputsDecryptViaS3`, inputs.s3, this.naming.account));
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
        resources.add(arnOf(this.naming, "glue", "catalog", t.region, t.account));
        resources.add(arnOf(this.naming, "glue", `database/${t.database}`, t.region, t.account));
        resources.add(arnOf(this.naming, "glue", `table/${t.database}/${t.table}`, t.region, t.account));
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
      // Spark reads the table's files itself: S3 read on the location the catalog gives.
      out.push(
        ...(this.tables?.readStatements(
          sidPrefix,
          inputs.glueTables.map((t) => t.id),
        ) ?? []),
      );
    }
    out.push(...upstreamReadStatements(sidPrefix, inputs.upstream, this.naming.account));
    return out;
  }

  /**
   * What the code of Spark targets needs: read their inputs, read and write the application's
   * internal data, read its assets (the driver), use its key.
   */
  computeStatements(sidPrefix: string, nodes: readonly DataNodeModel[]): Statement[] {
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

  /** Grants `computeStatements` of `nodes` to `role`. */
  grantCompute(roles: ExecutionRoles, role: RoleName, sidPrefix: string, nodes: DataNodeModel[]): void {
    for (const s of this.computeStatements(sidPrefix, nodes)) roles.grant(role, s);
  }
}
