/**
 * Storage: the application's bucket (internal data, assets, Athena results) encrypted with its own
 * KMS key, versioned, private, TLS-only, with EventBridge notifications on; and the application's SNS
 * topic (alarm actions, notifications), encrypted with the same key.
 */
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { Construct } from "./cdktf";
import type { Naming } from "./naming";
import { keyPolicy } from "./policy";

export interface StorageProps {
  readonly naming: Naming;
  /** Days a replaced or deleted object version is kept. @default 30 */
  readonly noncurrentVersionDays?: number;
  /** More statements of the bucket policy (cross-account read grants), given the bucket's ARN. @default none */
  readonly bucketPolicyStatements?: (bucketArn: string) => readonly Record<string, unknown>[];
  /** Let `terraform destroy` delete a non-empty bucket (dev environments). @default false */
  readonly forceDestroy?: boolean;
  /** Days CloudWatch-style services may take to delete the key after it is scheduled. @default 30 */
  readonly keyDeletionWindowDays?: number;
}

export class Storage extends Construct {
  readonly key: KmsKey;
  readonly bucket: S3Bucket;
  readonly topic: SnsTopic;
  readonly bucketName: string;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const { naming } = props;
    const tags = naming.tags();
    this.bucketName = naming.bucket;

    this.key = new KmsKey(this, "key", {
      description: `Sluice ${naming.app} (${naming.environment}): data, routing table, queues, topic`,
      enableKeyRotation: true, // CKV_AWS_7
      deletionWindowInDays: props.keyDeletionWindowDays ?? 30,
      policy: keyPolicy(naming.account, [
        {
          // CloudWatch alarms publish to the encrypted topic; the service needs the key to do so.
          Sid: "CloudWatchAlarmsPublish",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          Resource: "*",
          Condition: { StringEquals: { "aws:SourceAccount": naming.account } },
        },
      ]),
      tags,
    });
    new KmsAlias(this, "key-alias", {
      name: `alias/${naming.name("data", 200)}`,
      targetKeyId: this.key.keyId,
    });

    this.bucket = new S3Bucket(this, "bucket", {
      bucket: this.bucketName,
      forceDestroy: props.forceDestroy ?? false,
      tags,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketVersioningA(this, "versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" }, // CKV_AWS_21
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn }, // CKV_AWS_145
          bucketKeyEnabled: true,
        },
      ],
    });
    new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true, // CKV_AWS_53
      blockPublicPolicy: true, // CKV_AWS_54
      ignorePublicAcls: true, // CKV_AWS_55
      restrictPublicBuckets: true, // CKV_AWS_56
    });
    new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
          // An upload that asks for other encryption, or another key, is refused; one that asks for
          // none gets the bucket's default (this key). Requiring the header instead (…IfExists) would
          // refuse every writer that relies on default encryption: Spark's, the router's markers.
          {
            Sid: "DenyUnencryptedObjectUploads",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${this.bucket.arn}/*`,
            // Null false: the header is there (a negated operator alone is true when it is absent).
            Condition: {
              StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
              Null: { "s3:x-amz-server-side-encryption": "false" },
            },
          },
          {
            Sid: "DenyOtherKmsKeys",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${this.bucket.arn}/*`,
            Condition: {
              StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": this.key.arn },
              Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "false" },
            },
          },
          ...(props.bucketPolicyStatements?.(this.bucket.arn) ?? []),
        ],
      }),
    });
    new S3BucketNotification(this, "notifications", { bucket: this.bucket.id, eventbridge: true });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-old-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionDays ?? 30 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }], // CKV_AWS_300
        },
      ],
    });

    this.topic = new SnsTopic(this, "topic", {
      name: naming.name("events", 256),
      kmsMasterKeyId: this.key.id, // CKV_AWS_26
      tags,
    });
  }

  /** ARN pattern of objects under a key prefix of the bucket. */
  objects(prefix: string): string {
    return `${this.bucket.arn}/${prefix}*`;
  }
}
