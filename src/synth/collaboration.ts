/**
 * Collaboration between applications in different accounts.
 *
 * Upstream side (the flow authorizes downstream applications, `app.authorizeDownstream`): bucket policy
 * read grants on `internal_data/` for exactly the authorized accounts (`downstreamBucketStatements`,
 * rendered into the storage bucket's one policy), a KMS grant to decrypt for each of them, and a rule
 * forwarding the bucket's completion markers (Object Created of `internal_data/…/_SUCCESS`) to each
 * downstream account's default bus. Every application publishes its FlowModel manifest to
 * `sluice/manifest.json` in the bucket (and the `manifest` output), authorized downstreams or not: a
 * team may publish before it authorizes anyone, and a downstream imports from the manifest.
 *
 * Downstream side (the flow imports upstream nodes, `app.importUpstream`): the router role reads the
 * imported prefixes of the upstream bucket and decrypts through S3 (`upstreamReadStatements`, which
 * batch compute grants its roles too), and the default bus accepts the upstream accounts' events. The
 * rule that routes the forwarded markers to the router is the processor's (processor.ts).
 */
import { CloudwatchEventPermission } from "@cdktf/provider-aws/lib/cloudwatch-event-permission";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsGrant } from "@cdktf/provider-aws/lib/kms-grant";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { canonicalJson } from "../flow/model/canonical-json";
import { COMPLETION_MARKER, INTERNAL_DATA_PREFIX, MANIFEST_KEY } from "../flow/model/deployment-contract";
import { publishedManifest } from "../flow/model/manifest";
import type { FlowModel, UpstreamDataNodeModel } from "../flow/model/flow-model";
import { boundedName, upstreamBucket } from "../flow/model/resource-names";
import { Construct } from "./cdktf";
import type { ExecutionRoles } from "./execution-roles";
import type { Naming } from "./naming";
import { assumeRolePolicy, decryptViaS3Statements, policyDocument, type Statement } from "./policy";
import type { Storage } from "./storage";
import { terraformLiteral } from "./terraform-literal";

/**
 * The deployment contract's manifest key, prefix of the data nodes' partitions (the only part of the
 * bucket downstream accounts may read) and completion marker.
 */
export { COMPLETION_MARKER, INTERNAL_DATA_PREFIX, MANIFEST_KEY };
/**
 * Completion markers of the data nodes' partitions, at any depth (`internal_data/<node>/_SUCCESS`,
 * `internal_data/<node>/<v1>/<v2>/_SUCCESS`): an EventBridge wildcard's `*` matches "/" too.
 */
export const COMPLETION_MARKER_WILDCARD = `${INTERNAL_DATA_PREFIX}*/${COMPLETION_MARKER}`;

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
    {
      // What a downstream team imports from (`aws s3 cp s3://<bucket>/sluice/manifest.json …`).
      Sid: "DownstreamReadManifest",
      Effect: "Allow",
      Principal: principal,
      Action: "s3:GetObject",
      Resource: `${bucketArn}/${MANIFEST_KEY}`,
    },
    {
      // Athena and Spark's S3 clients ask where the bucket is; a prefix condition would never match it.
      Sid: "DownstreamBucketLocation",
      Effect: "Allow",
      Principal: principal,
      Action: "s3:GetBucketLocation",
      Resource: bucketArn,
    },
  ];
}

/**
 * Read access to imported nodes' partitions in their upstreams' buckets, for the role that reads them
 * (the router, and batch compute's roles): per bucket, in name order, list under and get the objects
 * of exactly the imported prefixes (`<sidPrefix>UpstreamList<k>`, `<sidPrefix>UpstreamRead<k>`); and
 * one `<sidPrefix>UpstreamDecrypt`. The upstream's key is another account's and unknown here, so that
 * one is on `Resource: "*"`, held to S3 in the upstreams' regions, this account as the caller and the
 * upstream buckets as the encryption context. The upstream's bucket policy and KMS grant let the
 * account in (downstreamBucketStatements); these let the role.
 */
export function upstreamReadStatements(
  sidPrefix: string,
  nodes: readonly UpstreamDataNodeModel[],
  account: string,
): Statement[] {
  const byBucket = new Map<string, UpstreamDataNodeModel[]>();
  for (const n of nodes) {
    const bucket = upstreamBucket(n.upstream);
    byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), n]);
  }
  const buckets = [...byBucket.keys()].sort();
  if (buckets.length === 0) return [];
  const out: Statement[] = [];
  buckets.forEach((bucket, i) => {
    const paths = [...new Set((byBucket.get(bucket) ?? []).map((n) => n.path))].sort();
    out.push({
      sid: `${sidPrefix}UpstreamList${i + 1}`,
      actions: ["s3:ListBucket"],
      resources: [`arn:aws:s3:::${bucket}`],
      conditions: { StringLike: { "s3:prefix": paths.flatMap((p) => [p, `${p}/*`]) } },
    });
    // Its own statement: an s3:prefix condition never matches GetBucketLocation (Athena calls it).
    out.push({
      sid: `${sidPrefix}UpstreamLocation${i + 1}`,
      actions: ["s3:GetBucketLocation"],
      resources: [`arn:aws:s3:::${bucket}`],
    });
    out.push({
      sid: `${sidPrefix}UpstreamRead${i + 1}`,
      actions: ["s3:GetObject"],
      resources: paths.map((p) => `arn:aws:s3:::${bucket}/${p}/*`),
    });
  });
  // The bucket uses S3 Bucket Keys: the context is the bucket's ARN (an object's without them).
  const located = buckets.map((bucket) => ({
    bucket,
    prefix: "",
    region: (byBucket.get(bucket) ?? [])[0]?.upstream.region as string,
  }));
  out.push(...decryptViaS3Statements(`${sidPrefix}UpstreamDecrypt`, located, account));
  return out;
}

export interface CollaborationProps {
  readonly model: FlowModel;
  readonly naming: Naming;
  readonly storage: Storage;
  readonly roles: ExecutionRoles;
}

export class Collaboration extends Construct {
  /** The published manifest (always: a downstream may import before this flow authorizes it). */
  readonly manifest: S3Object;

  constructor(scope: Construct, id: string, props: CollaborationProps) {
    super(scope, id);
    const { model, naming, storage, roles } = props;
    const tags = naming.tags();
    const downstream = model.application.downstream ?? [];

    this.manifest = new S3Object(this, "manifest", {
      bucket: storage.bucket.id,
      key: MANIFEST_KEY,
      content: terraformLiteral(canonicalJson(publishedManifest(model))),
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
        name: naming.accountWideName("forward-role", 64),
        assumeRolePolicy: assumeRolePolicy("events.amazonaws.com"),
        tags,
      });
      new IamRolePolicy(this, "forward-policy", {
        role: forwarder.id,
        policy: policyDocument([{ actions: ["events:PutEvents"], resources: [...new Set(buses)].sort() }]),
      });
      const rule = new CloudwatchEventRule(this, "forward-rule", {
        name: naming.name("forward-downstream", 64),
        description: `Forwards the completion markers of ${naming.app}'s data node partitions to its downstream applications`,
        eventPattern: JSON.stringify({
          source: ["aws.s3"],
          "detail-type": ["Object Created"],
          // Only this account's own bucket events: never forward what another account sent here.
          account: [naming.account],
          detail: {
            bucket: { name: [storage.bucket.bucket] },
            // Only completed partitions: the downstream's router turns a marker into the node's signal.
            object: { key: [{ wildcard: COMPLETION_MARKER_WILDCARD }] },
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
    for (const statement of upstreamReadStatements("", imported, naming.account))
      roles.grant("router", statement);
    for (const account of [...new Set(imported.map((n) => n.upstream.account))].sort()) {
      new CloudwatchEventPermission(this, `bus-permission-${account}`, {
        principal: account,
        statementId: boundedName([naming.app, "upstream", account], 64),
        eventBusName: "default",
      });
    }
  }
}
