/**
 * Collaboration between applications in different accounts.
 *
 * Upstream side (the flow authorizes downstream applications, `app.authorizeDownstream`): bucket policy
 * read grants on `internal_data/` for exactly the authorized accounts (`downstreamBucketStatements`,
 * rendered into the storage bucket's one policy), a KMS grant to decrypt for each of them, and a rule
 * forwarding the bucket's Object Created events under `internal_data/` to each downstream account's
 * default bus. The FlowModel manifest is published to `sluice/manifest.json` in the bucket.
 *
 * Downstream side (the flow imports upstream nodes, `app.importUpstream`): the router role reads the
 * imported prefixes of the upstream bucket and decrypts through S3, and the default bus accepts the
 * upstream accounts' events.
 */
import { CloudwatchEventPermission } from "@cdktf/provider-aws/lib/cloudwatch-event-permission";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsGrant } from "@cdktf/provider-aws/lib/kms-grant";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { canonicalJson } from "../flow/model/canonical-json";
import type { FlowModel, UpstreamDataNodeModel } from "../flow/model/flow-model";
import { boundedName } from "../flow/model/resource-names";
import { Construct } from "./cdktf";
import type { ExecutionRoles } from "./execution-roles";
import type { Naming } from "./naming";
import { assumeRolePolicy, policyDocument } from "./policy";
import type { Storage } from "./storage";

/** Key of the published FlowModel manifest in the storage bucket. */
export const MANIFEST_KEY = "sluice/manifest.json";
/** Prefix of the data nodes' partitions, the only part of the bucket downstream accounts may read. */
export const INTERNAL_DATA_PREFIX = "internal_data/";

/** Accounts of the authorized downstream applications, sorted, without repeats. */
export function downstreamAccounts(model: FlowModel): string[] {
  return [...new Set((model.application.downstream ?? []).map((d) => d.account))].sort();
}

/** Bucket policy statements letting exactly the authorized downstream accounts read internal data. */
export function downstreamBucketStatements(model: FlowModel, bucketArn: string): Record<string, unknown>[] {
  const accounts = downstreamAccounts(model);
  if (accounts.length === 0) return [];
  const principal = { AWS: accounts.map((a) => `arn:aws:iam::${a}:root`) };
  return [
    {
      Sid: "DownstreamReadInternalData",
      Effect: "Allow",
      Principal: principal,
      Action: "s3:GetObject",
      Resource: `${bucketArn}/${INTERNAL_DATA_PREFIX}*`,
    },
    {
      Sid: "DownstreamListInternalData",
      Effect: "Allow",
      Principal: principal,
      Action: "s3:ListBucket",
      Resource: bucketArn,
      Condition: { StringLike: { "s3:prefix": [`${INTERNAL_DATA_PREFIX}*`] } },
    },
  ];
}

/** The storage bucket of an upstream application (its name in its own account and region). */
export function upstreamBucket(node: UpstreamDataNodeModel): string {
  return boundedName([node.upstream.application, node.upstream.account, node.upstream.region], 63);
}

export interface CollaborationProps {
  readonly model: FlowModel;
  readonly naming: Naming;
  readonly storage: Storage;
  readonly roles: ExecutionRoles;
}

export class Collaboration extends Construct {
  /** The published manifest, when the flow authorizes downstream applications. */
  readonly manifest: S3Object | undefined;

  constructor(scope: Construct, id: string, props: CollaborationProps) {
    super(scope, id);
    const { model, naming, storage, roles } = props;
    const tags = naming.tags();
    const downstream = model.application.downstream ?? [];

    this.manifest =
      downstream.length === 0
        ? undefined
        : new S3Object(this, "manifest", {
            bucket: storage.bucket.id,
            key: MANIFEST_KEY,
            content: canonicalJson(model),
            contentType: "application/json",
            serverSideEncryption: "aws:kms",
            kmsKeyId: storage.key.arn,
            tags,
          });

    for (const account of downstreamAccounts(model)) {
      new KmsGrant(this, `key-grant-${account}`, {
        name: naming.name(`downstream-${account}`, 256),
        keyId: storage.key.keyId,
        granteePrincipal: `arn:aws:iam::${account}:root`,
        operations: ["Decrypt", "DescribeKey"],
      });
    }

    if (downstream.length > 0) {
      const buses = downstream.map((d) => `arn:aws:events:${d.region}:${d.account}:event-bus/default`);
      const forwarder = new IamRole(this, "forward-role", {
        name: naming.name("forward-role", 64),
        assumeRolePolicy: assumeRolePolicy("events.amazonaws.com"),
        tags,
      });
      new IamRolePolicy(this, "forward-policy", {
        role: forwarder.id,
        policy: policyDocument([{ actions: ["events:PutEvents"], resources: [...new Set(buses)].sort() }]),
      });
      const rule = new CloudwatchEventRule(this, "forward-rule", {
        name: naming.name("forward-downstream", 64),
        description: `Forwards ${naming.app} data node partitions to its downstream applications`,
        eventPattern: JSON.stringify({
          source: ["aws.s3"],
          "detail-type": ["Object Created"],
          detail: {
            bucket: { name: [storage.bucket.bucket] },
            object: { key: [{ prefix: INTERNAL_DATA_PREFIX }] },
          },
        }),
        tags,
      });
      downstream.forEach((d, i) => {
        new CloudwatchEventTarget(this, `forward-${d.name}`, {
          rule: rule.name,
          targetId: boundedName(["downstream", d.name], 64),
          arn: buses[i] as string,
          roleArn: forwarder.arn,
        });
      });
    }

    // Downstream side: read what is imported, accept the upstream accounts' events.
    const imported = Object.values(model.nodes).filter(
      (n): n is UpstreamDataNodeModel => n.kind === "upstreamData",
    );
    const byBucket = new Map<string, UpstreamDataNodeModel[]>();
    for (const n of imported)
      byBucket.set(upstreamBucket(n), [...(byBucket.get(upstreamBucket(n)) ?? []), n]);
    for (const bucket of [...byBucket.keys()].sort()) {
      const nodes = byBucket.get(bucket) ?? [];
      const prefixes = [...new Set(nodes.map((n) => `${n.path}/`))].sort();
      roles.grant("router", {
        sid: sid("ReadUpstream", bucket),
        actions: ["s3:GetObject"],
        resources: prefixes.map((p) => `arn:aws:s3:::${bucket}/${p}*`),
      });
      roles.grant("router", {
        sid: sid("ListUpstream", bucket),
        actions: ["s3:ListBucket"],
        resources: [`arn:aws:s3:::${bucket}`],
        conditions: { StringLike: { "s3:prefix": prefixes.map((p) => `${p}*`) } },
      });
      const regions = [...new Set(nodes.map((n) => n.upstream.region))].sort();
      roles.grant("router", {
        sid: sid("DecryptUpstream", bucket),
        actions: ["kms:Decrypt"],
        resources: ["*"],
        conditions: {
          StringEquals: {
            "kms:ViaService": regions.map((r) => `s3.${r}.amazonaws.com`),
            "kms:CallerAccount": naming.account,
          },
          // The bucket uses S3 Bucket Keys: the context is the bucket's ARN (an object's without them).
          StringLike: {
            "kms:EncryptionContext:aws:s3:arn": [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
          },
        },
      });
    }
    for (const account of [...new Set(imported.map((n) => n.upstream.account))].sort()) {
      new CloudwatchEventPermission(this, `bus-permission-${account}`, {
        principal: account,
        statementId: boundedName([naming.app, "upstream", account], 64),
        eventBusName: "default",
      });
    }
  }
}

function sid(prefix: string, bucket: string): string {
  return `${prefix}${bucket.replace(/[^A-Za-z0-9]/g, "")}`.slice(0, 100);
}
