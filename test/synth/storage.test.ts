/** Storage, routing table and the stack around them: present, wired, encrypted, tagged, least privilege. */
import { Application, dim, sparkSql } from "sluice";
import { policy, synth } from "./support";

function app(): Application {
  const a = new Application("store-test", { account: "111122223333", region: "us-east-1" });
  a.environment("prod", { account: "999988887777", region: "eu-west-1" });
  const ev = a.s3Dataset("events", {
    bucket: "raw-events",
    prefix: "events",
    dimensions: { day: dim.datetime() },
  });
  a.data("daily", { inputs: [ev], compute: sparkSql("SELECT * FROM events") });
  return a;
}

const s = synth({ app: app() });

describe("storage bucket", () => {
  test("CKV_AWS_145 encrypted with the application's KMS key (SSE-KMS, bucket key)", () => {
    const enc = s.only("aws_s3_bucket_server_side_encryption_configuration") as {
      rule: {
        apply_server_side_encryption_by_default: { sse_algorithm: string; kms_master_key_id: string };
      }[];
    };
    expect(enc.rule[0]?.apply_server_side_encryption_by_default).toEqual({
      sse_algorithm: "aws:kms",
      kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.storage_key_[0-9A-F]+\.arn\}$/),
    });
  });
  test("CKV_AWS_21 versioning enabled", () => {
    expect(s.only("aws_s3_bucket_versioning")).toMatchObject({
      versioning_configuration: { status: "Enabled" },
    });
  });
  test("CKV_AWS_53 CKV_AWS_54 CKV_AWS_55 CKV_AWS_56 public access blocked", () => {
    expect(s.only("aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });
  test("TLS-only and deny-unencrypted bucket policy", () => {
    const doc = policy(s.only("aws_s3_bucket_policy").policy);
    expect(doc.Statement.map((x) => [x.Sid, x.Effect])).toEqual([
      ["DenyInsecureTransport", "Deny"],
      ["DenyUnencryptedObjectUploads", "Deny"],
      ["DenyOtherKmsKeys", "Deny"],
    ]);
  });
  test("EventBridge notifications on, old versions expire, incomplete uploads abort (CKV_AWS_300)", () => {
    expect(s.only("aws_s3_bucket_notification")).toMatchObject({ eventbridge: true });
    expect(s.only("aws_s3_bucket_lifecycle_configuration")).toMatchObject({
      rule: [
        {
          status: "Enabled",
          noncurrent_version_expiration: [{ noncurrent_days: 30 }],
          abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
        },
      ],
    });
  });
  test("the bucket name is deterministic and within 63 characters", () => {
    expect(s.only("aws_s3_bucket").bucket).toBe("store-test-111122223333-us-east-1");
  });
});

describe("KMS key and topic", () => {
  test("CKV_AWS_7 key rotation enabled", () => {
    expect(s.resources("aws_kms_key")).toEqual(expect.objectContaining({}));
    const key = Object.entries(s.resources("aws_kms_key")).find(([id]) => id.startsWith("storage_key"))?.[1];
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
  });
  test("the key policy lets the account administer it and CloudWatch alarms publish to the encrypted topic", () => {
    const key = Object.entries(s.resources("aws_kms_key")).find(([id]) => id.startsWith("storage_key"))?.[1];
    const doc = JSON.parse(String(key?.policy)) as { Statement: { Sid: string; Principal: unknown }[] };
    expect(doc.Statement.map((x) => [x.Sid, x.Principal])).toEqual([
      ["AccountAdministers", { AWS: "arn:aws:iam::111122223333:root" }],
      ["CloudWatchAlarmsPublish", { Service: "cloudwatch.amazonaws.com" }],
    ]);
  });
  test("CKV_AWS_26 SNS topic encrypted", () => {
    expect(s.only("aws_sns_topic").kms_master_key_id).toMatch(
      /^\$\{aws_kms_key\.storage_key_[0-9A-F]+\.id\}$/,
    );
  });
});

describe("routing table", () => {
  const table = s.only("aws_dynamodb_table");
  test("keys and TTL match the router's store", () => {
    expect(table).toMatchObject({
      name: "store-test-routing",
      billing_mode: "PAY_PER_REQUEST",
      hash_key: "pk",
      range_key: "sk",
      attribute: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
      ],
      ttl: { attribute_name: "ttl", enabled: true },
    });
  });
  test("CKV_AWS_28 point-in-time recovery", () => {
    expect(table).toMatchObject({ point_in_time_recovery: { enabled: true } });
  });
  test("CKV_AWS_119 encrypted with the application's KMS key", () => {
    expect(table).toMatchObject({
      server_side_encryption: { enabled: true, kms_key_arn: expect.stringMatching(/storage_key/) },
    });
  });
  test("deletion protection unless the stack is disposable", () => {
    expect(table.deletion_protection_enabled).toBe(true);
    const dev = synth({ app: app(), disposable: true }, "dev");
    expect(dev.only("aws_dynamodb_table").deletion_protection_enabled).toBe(false);
    expect(dev.only("aws_s3_bucket").force_destroy).toBe(true);
  });
});

describe("stack", () => {
  test("every taggable resource carries application and environment tags", () => {
    let tagged = 0;
    for (const [type, byId] of Object.entries(s.json.resource)) {
      for (const [id, r] of Object.entries(byId)) {
        if (!("tags" in r)) continue;
        tagged++;
        expect([type, id, r.tags]).toEqual([
          type,
          id,
          expect.objectContaining({ "sluice:application": "store-test", "sluice:environment": "default" }),
        ]);
      }
    }
    expect(tagged).toBeGreaterThan(10);
  });
  test("the provider targets the environment's account and region, optionally assuming a role; S3 backend with locking", () => {
    const prod = synth(
      {
        app: app(),
        environment: "prod",
        assumeRoleArn: "arn:aws:iam::999988887777:role/deploy",
        backend: { bucket: "state", region: "us-east-1", dynamodbTable: "locks" },
      },
      "prod",
    );
    expect(prod.json.provider?.aws).toEqual([
      expect.objectContaining({
        region: "eu-west-1",
        allowed_account_ids: ["999988887777"],
        assume_role: [{ role_arn: "arn:aws:iam::999988887777:role/deploy" }],
      }),
    ]);
    expect(prod.json.terraform?.backend).toEqual({
      s3: {
        bucket: "state",
        key: "sluice/store-test/prod.tfstate",
        region: "us-east-1",
        dynamodb_table: "locks",
        encrypt: true,
      },
    });
    expect(prod.only("aws_s3_bucket").bucket).toBe("store-test-999988887777-eu-west-1");
  });
  test("an undeclared environment is a clear error", () => {
    expect(() => synth({ app: app(), environment: "qa" }, "qa")).toThrow(
      /environment "qa" is not declared \(declared: prod\)/,
    );
  });
  test("outputs: bucket, table, queues, router function, topic, manifest", () => {
    expect(Object.keys(s.json.output ?? {}).sort()).toEqual([
      "bucket",
      "dead_letter_queue",
      "manifest",
      "queue",
      "router_function",
      "table",
      "topic",
    ]);
  });
});

test("statement ids are unique in every role policy (IAM rejects repeats)", () => {
  const a = new Application("sid-test", { account: "111122223333", region: "us-east-1" });
  const ev = a.s3Dataset("ev", { bucket: "raw-ev", dimensions: { day: dim.datetime() } });
  const perm = { actions: ["s3:GetObject"], resources: ["arn:aws:s3:::other/*"] };
  a.data("report", {
    inputs: [ev],
    compute: [sparkSql("SELECT 1", { permissions: [perm] }), sparkSql("SELECT 2", { permissions: [perm] })],
  });
  a.data("re_port", { inputs: [ev], compute: sparkSql("SELECT 3", { permissions: [perm] }) });
  const out = synth({ app: a }, "sids");
  for (const p of Object.values(out.resources("aws_iam_role_policy"))) {
    const sids = policy(p.policy)
      .Statement.map((x) => x.Sid)
      .filter((x) => x !== undefined);
    expect(new Set(sids).size).toBe(sids.length);
  }
});
