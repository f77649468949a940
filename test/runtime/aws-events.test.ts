/**
 * AWS event adapters against the real payloads in test/fixtures/aws-events (every file must have an
 * expectation here), plus key decoding, filters, dataset overrides, nesting and junk input.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { Application, anyOf, dim, inline, type FlowModel, type NodeModel } from "sluice";
import { bindDatasets } from "../../src/flow/model/dataset-bindings";
import { resourceNames } from "../../src/flow/model/resource-names";
import type { Signal } from "../../src/runtime-bundle/core/signal";
import { adaptEvent } from "../../src/runtime-bundle/aws/events/adapt";
import { decodeS3Key } from "../../src/runtime-bundle/aws/events/s3";
import { SourceIndex, type SourceIndexProps } from "../../src/runtime-bundle/aws/events/source-index";
import { S3Storage } from "../../src/runtime-bundle/aws/s3-storage";
import { isTransientMessage } from "../../src/runtime-bundle/aws/events/engine-state";
import { partitionValues } from "../../src/runtime-bundle/aws/events/glue-catalog";
import type { AdaptedEvent, EngineEvent } from "../../src/runtime-bundle/aws/events/types";

import { VECTORS } from "../support/vectors";
/** Entries of the vectors folder that are not vectors. */
const NOT_VECTORS = new Set(["README.md", "_src"]);
const STORAGE = "vectors-storage";

// ---------------------------------------------------------------- the model the vectors are read against

/** Names, buckets and alarm names chosen from the vectors' payloads. */
function vectorsModel(): FlowModel {
  const app = new Application("vectors", { account: "123456789012", region: "us-east-1" });
  // S3: the sample keys are files at the bucket root, so these datasets have no partition dimension.
  app.s3Dataset("happy_faces", { bucket: "mybucket", completion: null, format: "text" });
  app.s3Dataset("go_faces", { bucket: "sourcebucket", completion: null, format: "text" });
  app.s3Dataset("artifacts", { bucket: "lambda-artifacts-deafc19498e3f2df", prefix: "artifacts" });
  // Declared on a valid name; the test environment binds it to the doc sample's (uppercase) bucket.
  app.s3Dataset("doc_example", { bucket: "doc-example-bucket1", completion: null, format: "text" });
  app.s3Dataset("templates", {
    bucket: "s3-eb-unwrap-sourcebucket-7mop1gqlyrzu",
    completion: "s3-eb-template.yaml",
  });
  app.s3Dataset("images", { bucket: "example-bucket", completion: "_SUCCESS" });
  app.s3Dataset("sns_drops", {
    bucket: "s3-sns-unwrap-bucket-683517028648",
    completion: null,
    format: "text",
  });
  app.s3Dataset("sqs_drops", {
    bucket: "sqs-s3-unwrap-bucket-683517028648",
    completion: null,
    format: "text",
  });
  app.s3Dataset("multi", { bucket: "example-bucket11", completion: null, format: "text" });
  app.s3Dataset("pdfs", { bucket: "xxx", completion: null, format: "text" });
  // Partitioned datasets for the unit tests.
  app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events",
    partitions: ["region={}", "dt={}"],
    dimensions: { region: dim.string(), dt: dim.datetime({ format: "%Y-%m-%d" }) },
    filter: { region: ["NA", "EU"] },
    completion: "_SUCCESS",
  });
  app.s3Dataset("reports", {
    bucket: "raw",
    prefix: "reports",
    partitions: ["{}"],
    dimensions: { team: dim.string() },
    completion: null,
    format: "csv",
  });
  // Timers: no vector's rule name can be "<app>-timer-<id>", so the unit tests rename their resources.
  app.timer("daily", "rate(1 day)");
  app.timer("hourly_load", "rate(1 hour)");
  // Glue catalog: the doc sample's default.foo with partitions "2018,01", "2018,02".
  app.glueTable("foo", {
    database: "default",
    table: "foo",
    dimensions: { year: dim.long(), month: dim.long({ digits: 2 }) },
  });
  app.glueTable("orders", {
    database: "sales",
    table: "orders",
    dimensions: { region: dim.string() },
    filter: { region: ["NA"] },
  });
  // Alarms named like the samples.
  const ec2 = app.externalMetric("ec2", {
    namespace: "AWS/EC2",
    subDimensions: { InstanceId: "i-12345678901234567" },
  });
  const cpu = app.alarm("cpu_high", {
    alarmName: "ServerCpuTooHigh",
    metric: ec2.get("CPUUtilization"),
    statistic: "Average",
    threshold: 50,
    comparison: "GreaterThanThreshold",
  });
  const network = app.alarm("network_high", {
    alarmName: "TotalNetworkTrafficTooHigh",
    metrics: { m1: ec2.get("NetworkIn"), m2: ec2.get("NetworkOut") },
    expression: "m1 + m2",
    statistic: "Maximum",
    threshold: 10000,
    comparison: "GreaterThanThreshold",
  });
  app.compositeAlarm("service", {
    alarmName: "ServiceAggregatedAlarm",
    rule: anyOf(cpu.is("ALARM"), network.is("ALARM")),
  });
  app.externalAlarm("cpu_anomaly", { alarmName: "EC2 CPU Utilization Anomaly" });
  app.externalAlarm("composite_demo", { alarmName: "CompositeDemo.Main", account: "111122223333" });
  app.externalAlarm("test_alert", { alarmName: "Test alert", region: "eu-west-1" });
  app.externalAlarm("example_alarm", { alarmName: "EXAMPLE" });
  return app.toModel();
}

const MODEL = vectorsModel();
const INDEX_PROPS: SourceIndexProps = {
  model: bindDatasets(MODEL, { doc_example: { bucket: "DOC-EXAMPLE-BUCKET1" } }),
  storageBucket: STORAGE,
};
const INDEX = new SourceIndex(INDEX_PROPS);

function load(file: string): unknown {
  return JSON.parse(readFileSync(path.join(VECTORS, file), "utf8"));
}

function loadObject(file: string): Record<string, unknown> {
  return load(file) as Record<string, unknown>;
}

// ---------------------------------------------------------------- expectations per vector

interface ExpectedIgnored {
  readonly reason: RegExp;
  readonly eventId?: string;
  readonly unprocessable?: boolean;
}

interface Expectation {
  readonly signals?: readonly Signal[];
  readonly engineEvents?: readonly EngineEvent[];
  readonly ignored?: readonly ExpectedIgnored[];
}

const alarmSignal = (node: string, time: string, iso: string, name: string): Signal => ({
  node,
  dimensions: { state: "ALARM", time },
  eventId: `alarm:${name}:ALARM@${iso}`,
});

const s3Signal = (node: string, bucket: string, key: string, version: string): Signal => ({
  node,
  dimensions: {},
  path: `s3://${bucket}`,
  eventId: `s3:${bucket}/${key}@${version}`,
});

const notHandled = (detailType: string, source: string, eventId: string): ExpectedIgnored => ({
  reason: new RegExp(`^EventBridge "${detailType}" from "${source}" is not an event the router handles$`),
  eventId,
});

const EXPECTED: Readonly<Record<string, Expectation>> = {
  "athena.query-state-change.failed.awsdocs.json": {
    engineEvents: [
      {
        engine: "athena",
        handle: "01234567-0123-0123-0123-012345678901",
        result: { status: "FAILED", error: "Amazon S3 bucket not found", transient: false },
        eventId: "abcdef00-1234-5678-9abc-def012345678",
      },
    ],
  },
  "athena.query-state-change.succeeded.awsdocs.json": {
    engineEvents: [
      {
        engine: "athena",
        handle: "01234567-0123-0123-0123-012345678901",
        result: { status: "SUCCEEDED" },
        eventId: "abcdef00-1234-5678-9abc-def012345678",
      },
    ],
  },
  "cloudwatch.alarm-configuration-change.composite-create.awsdocs.json": {
    ignored: [
      {
        reason: /^CloudWatch Alarm Configuration Change of "ServiceAggregatedAlarm" \(not a state change\)$/,
        eventId: "91535fdd-1e9c-849d-624b-9a9f2b1d09d0",
      },
    ],
  },
  "cloudwatch.alarm-configuration-change.metric-math-delete.awsdocs.json": {
    ignored: [
      {
        reason:
          /^CloudWatch Alarm Configuration Change of "TotalNetworkTrafficTooHigh" \(not a state change\)$/,
        eventId: "f171d220-9e1c-c252-5042-2677347a83ed",
      },
    ],
  },
  "cloudwatch.alarm-configuration-change.metric-update.awsdocs.json": {
    ignored: [
      {
        reason: /^CloudWatch Alarm Configuration Change of "ServerCpuTooHigh" \(not a state change\)$/,
        eventId: "bc7d3391-47f8-ae47-f457-1b4d06118d50",
      },
    ],
  },
  // alarmArn names "SuppressionDemo.Main" but alarmData.alarmName is the alarm's name.
  "cloudwatch.alarm-lambda-action.composite.powertools.json": {
    signals: [
      alarmSignal("composite_demo", "2023-08-04T12:56", "2023-08-04T12:56:46.138Z", "CompositeDemo.Main"),
    ],
  },
  // accountId 123456789012 (the ARN says 912397435824): accountId is the alarm's account.
  "cloudwatch.alarm-lambda-action.metric-math.powertools.json": {
    signals: [alarmSignal("test_alert", "2024-02-17T11:53", "2024-02-17T11:53:08.431Z", "Test alert")],
  },
  "cloudwatch.alarm-state-change.anomaly-detection.awsdocs.json": {
    signals: [
      alarmSignal(
        "cpu_anomaly",
        "2019-10-03T16:00",
        "2019-10-03T16:00:04.653Z",
        "EC2 CPU Utilization Anomaly",
      ),
    ],
  },
  "cloudwatch.alarm-state-change.composite-with-suppressor.awsdocs.json": {
    signals: [
      alarmSignal("service", "2022-07-22T15:57", "2022-07-22T15:57:45.394Z", "ServiceAggregatedAlarm"),
    ],
  },
  "cloudwatch.alarm-state-change.metric-math.awsdocs.json": {
    signals: [
      alarmSignal(
        "network_high",
        "2019-10-02T17:20",
        "2019-10-02T17:20:48.554Z",
        "TotalNetworkTrafficTooHigh",
      ),
    ],
  },
  "cloudwatch.alarm-state-change.single-metric.awsdocs.json": {
    signals: [alarmSignal("cpu_high", "2019-10-02T17:04", "2019-10-02T17:04:40.989Z", "ServerCpuTooHigh")],
  },
  "emr-serverless.job-run-state-change.running.awsdocs.json": {
    engineEvents: [
      {
        engine: "emrServerless",
        handle: "00f1982r1uukb925/00f1cbn5g4bb0c01",
        result: { status: "RUNNING", handle: "00f1982r1uukb925/00f1cbn5g4bb0c01" },
        eventId: "00df3ec6-5da1-36e6-ab71-20f0de68f8a0",
      },
    ],
  },
  "emr-serverless.job-run-state-change.success.clickstream.json": {
    engineEvents: [
      {
        engine: "emrServerless",
        handle: "00faddrcc3p0sf09/00fag0b74fhau80a",
        result: { status: "SUCCEEDED" },
        eventId: "b13537d9-b14a-6ef1-bd26-fb1090329744",
      },
    ],
  },
  "emr.auto-scaling-policy-state-change.pending.awsdocs.json": {
    ignored: [
      notHandled("EMR Auto Scaling Policy State Change", "aws.emr", "2f8147ab-8c48-47c6-b0b6-3ee23ec8d300"),
    ],
  },
  "emr.cluster-state-change.starting.awsdocs.json": {
    ignored: [notHandled("EMR Cluster State Change", "aws.emr", "999cccaa-eaaa-0000-1111-123456789012")],
  },
  "emr.cluster-state-change.terminated.awsdocs.json": {
    ignored: [notHandled("EMR Cluster State Change", "aws.emr", "1234abb0-f87e-1234-b7b6-000000123456")],
  },
  "emr.instance-group-state-change.running.awsdocs.json": {
    ignored: [
      notHandled("EMR Instance Group State Change", "aws.emr", "999cccaa-eaaa-0000-1111-123456789012"),
    ],
  },
  "emr.step-status-change.failed.awsdocs.json": {
    engineEvents: [
      {
        engine: "emr",
        handle: "j-123456789ABCD/s-ZYXWVUTSRQPON",
        result: {
          status: "FAILED",
          error:
            "Step s-ZYXWVUTSRQPON (CustomJAR) in Amazon EMR cluster j-123456789ABCD (Development Cluster) failed at 2016-12-16 20:53 UTC.",
          transient: false,
        },
        eventId: "999cccaa-eaaa-0000-1111-123456789012",
      },
    ],
  },
  "eventbridge-scheduler.scheduled-event.powertools.json": {
    ignored: [
      {
        reason:
          /^no timer fires on rule\/schedule "aaaaa" \(timer rules: "vectors-timer-daily", "vectors-timer-hourly-load"\)$/,
        eventId: "d167b752-343a-4b28-afd6-d4de056319e8",
      },
    ],
  },
  "eventbridge.scheduled-event.awsdocs.json": {
    ignored: [
      {
        reason: /^no timer fires on rule\/schedule "MyScheduledRule"/,
        eventId: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
      },
    ],
  },
  "eventbridge.scheduled-event.rust.json": {
    ignored: [
      {
        reason: /^no timer fires on rule\/schedule "my-scheduled-rule"/,
        eventId: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
      },
    ],
  },
  "glue.data-catalog-table-state-change.batchcreatepartition.awsdocs.json": {
    signals: [
      {
        node: "foo",
        dimensions: { year: 2018, month: 1 },
        eventId: "glue:default.foo/2018,01@abcdef00-1234-5678-9abc-def012345678",
      },
      {
        node: "foo",
        dimensions: { year: 2018, month: 2 },
        eventId: "glue:default.foo/2018,02@abcdef00-1234-5678-9abc-def012345678",
      },
    ],
  },
  "glue.job-state-change.failed.awsdocs.json": {
    engineEvents: [
      {
        engine: "glue",
        handle: "jr_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        result: {
          status: "FAILED",
          error:
            "JobName:MyJob and JobRunId:jr_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef failed to execute with exception Role arn:aws:iam::123456789012:role/Glue_Role should be given assume role permissions for Glue Service.",
          transient: false,
        },
        eventId: "abcdef01-1234-5678-9abc-def012345678",
      },
    ],
  },
  "glue.job-state-change.stopped.awsdocs.json": {
    engineEvents: [
      {
        engine: "glue",
        handle: "jr_abc0123456789abcdef0123456789abcdef0123456789abcdef0123456789def",
        result: { status: "FAILED", error: "Job run stopped", transient: false },
        eventId: "abcdef00-1234-5678-9abc-def012345678",
      },
    ],
  },
  "glue.job-state-change.succeeded.awsdocs.json": {
    engineEvents: [
      {
        engine: "glue",
        handle: "jr_abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        result: { status: "SUCCEEDED" },
        eventId: "abcdef00-1234-5678-9abc-def012345678",
      },
    ],
  },
  "glue.job-state-change.timeout.awsdocs.json": {
    engineEvents: [
      {
        engine: "glue",
        handle: "jr_abc0123456789abcdef0123456789abcdef0123456789abcdef0123456789def",
        result: { status: "FAILED", error: "Job run timed out", transient: false },
        eventId: "abcdef00-1234-5678-9abc-def012345678",
      },
    ],
  },
  // Bound to the uppercase doc bucket through the `datasets` override.
  "s3-eventbridge.object-created.awsdocs.json": {
    signals: [s3Signal("doc_example", "DOC-EXAMPLE-BUCKET1", "example-key", "617f08299329d189")],
  },
  // The object is the dataset's completion file.
  "s3-eventbridge.object-created.captured.json": {
    signals: [
      s3Signal(
        "templates",
        "s3-eb-unwrap-sourcebucket-7mop1gqlyrzu",
        "s3-eb-template.yaml",
        "0065FB77A03AD4478F",
      ),
    ],
  },
  "s3-eventbridge.object-created.powertools.json": {
    ignored: [
      {
        reason:
          /^not the completion file: "IMG_m7fzo3\.jpg" in s3Dataset "images" \(completes on "_SUCCESS"\)$/,
        eventId: "s3:example-bucket/IMG_m7fzo3.jpg@006408CAD69598B05E",
      },
    ],
  },
  "s3-eventbridge.object-deleted.awsdocs.json": {
    ignored: [
      {
        reason:
          /^S3 Object Deleted of s3:\/\/DOC-EXAMPLE-BUCKET1\/example-key: removed objects never signal$/,
        eventId: "s3:DOC-EXAMPLE-BUCKET1/example-key@617f0837b476e463",
      },
    ],
  },
  // "Happy%20Face.jpg" decodes to "Happy Face.jpg".
  "s3-notification.lambda-go.json": {
    signals: [s3Signal("go_faces", "sourcebucket", "Happy Face.jpg", "Happy Sequencer")],
  },
  "s3-notification.objectcreated-put.awsdocs.json": {
    signals: [s3Signal("happy_faces", "mybucket", "HappyFace.jpg", "0055AED6DCD90281E5")],
  },
  "s3-notification.objectcreated-put.powertools.json": {
    ignored: [
      {
        reason:
          /^key "b21b84d653bb07b05b1e6b33684dc11b" of bucket "lambda-artifacts-deafc19498e3f2df" is under no s3Dataset prefix \("artifacts"\)$/,
        eventId: "s3:lambda-artifacts-deafc19498e3f2df/b21b84d653bb07b05b1e6b33684dc11b@0C0F6F405D6ED209E1",
      },
    ],
  },
  "s3-notification.test-event.awsdocs.json": {
    ignored: [
      {
        reason: /^s3:TestEvent of bucket "bucketname": sent when a notification/,
        eventId: "5582815E1AEA5ADF",
      },
    ],
  },
  "sns.cloudwatch-alarm.multiple-metrics.lambda-go.json": {
    // AWSAccountId is the placeholder "EXAMPLE": no account to check.
    signals: [alarmSignal("example_alarm", "2015-06-03T17:43", "2015-06-03T17:43:27.123Z", "EXAMPLE")],
  },
  "sns.cloudwatch-alarm.single-metric.lambda-go.json": {
    signals: [alarmSignal("example_alarm", "2015-06-03T17:43", "2015-06-03T17:43:27.123Z", "EXAMPLE")],
  },
  "sns.plain.powertools.json": {
    ignored: [
      {
        reason: /^SNS message is not JSON: "Hello from SNS!"$/,
        eventId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        unprocessable: true,
      },
    ],
  },
  "sns.s3-notification.captured.json": {
    signals: [
      s3Signal("sns_drops", "s3-sns-unwrap-bucket-683517028648", "samconfig.toml", "0065F3718D39E6D6DC"),
    ],
  },
  "sqs.plain.lambda-go.json": {
    ignored: [
      {
        reason: /^SQS message body is not JSON: "Message Body"$/,
        eventId: "MessageID_1",
        unprocessable: true,
      },
    ],
  },
  "sqs.plain.powertools.json": {
    ignored: [
      {
        reason: /^SQS message body is not JSON: "Test message\."$/,
        eventId: "059f36b4-87a3-44ab-83d2-661975830a7d",
        unprocessable: true,
      },
      {
        reason: /^SQS message body is not a known AWS event: an object with keys "message"$/,
        eventId: "2e1424d4-f796-459a-8184-9c92662be6da",
        unprocessable: true,
      },
    ],
  },
  "sqs.rawsns.plain.captured.json": {
    ignored: [
      {
        reason: /^SQS message body is not JSON: "this is a raw message"$/,
        eventId: "c2f72267-c1b4-432b-b35e-c27a337798d1",
        unprocessable: true,
      },
    ],
  },
  "sqs.s3-notification.captured.json": {
    signals: [
      s3Signal("sqs_drops", "sqs-s3-unwrap-bucket-683517028648", "samconfig.toml", "0065F349D4F05B5827"),
    ],
  },
  // Trimmed records (no eventSource): one bucket is a dataset's, the other is nobody's.
  "sqs.s3-notification.multi.captured.json": {
    signals: [s3Signal("multi", "example-bucket11", "example-object-3.txt", "example-sequencer-3")],
    ignored: [
      {
        reason: /^no s3Dataset on bucket "example-bucket22" \(object "example-object-3\.txt"\)$/,
        eventId: "s3:example-bucket22/example-object-3.txt@example-sequencer-3",
      },
    ],
  },
  "sqs.s3-notification.powertools.json": {
    signals: [s3Signal("pdfs", "xxx", "test.pdf", "00643717F9F8B85354")],
  },
  "sqs.sns-envelope.captured.json": {
    ignored: [
      {
        reason: /^SNS message is not JSON: "from sns"$/,
        eventId: "bf5ff648-5111-5dbe-ad4b-a82514ed6a35",
        unprocessable: true,
      },
    ],
  },
  "sqs.sns-envelope.powertools.json": {
    ignored: [
      {
        reason: /^SNS message is not a known AWS event: an object with keys "message", "username"$/,
        eventId: "d88d4479-6ec0-54fe-b63f-1cf9df4bb16e",
        unprocessable: true,
      },
    ],
  },
};

function expectOutcome(actual: AdaptedEvent, expected: Expectation): void {
  expect(actual.signals).toEqual(expected.signals ?? []);
  expect(actual.engineEvents).toEqual(expected.engineEvents ?? []);
  const ignored = expected.ignored ?? [];
  expect(actual.ignored.map((i) => i.reason)).toHaveLength(ignored.length);
  ignored.forEach((e, i) => {
    const got = actual.ignored[i];
    expect(got.reason).toMatch(e.reason);
    if (e.eventId !== undefined) expect(got.eventId).toBe(e.eventId);
    expect(got.unprocessable === true).toBe(e.unprocessable === true);
  });
}

describe("the AWS event vectors", () => {
  const entries = readdirSync(VECTORS);
  const vectors = entries.filter((f) => f.endsWith(".json")).sort();

  it("are all covered by an expectation, and no expectation is stale", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(45);
    expect(entries.filter((f) => !f.endsWith(".json") && !NOT_VECTORS.has(f))).toEqual([]);
    expect(vectors.filter((f) => !(f in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((f) => !vectors.includes(f))).toEqual([]);
  });

  it.each(vectors)("%s", (file) => {
    const expected = EXPECTED[file];
    expect(expected).toBeDefined();
    expectOutcome(adaptEvent(load(file), INDEX), expected);
  });

  it("each delivery yields something: a signal, an engine event or an ignored reason", () => {
    for (const file of vectors) {
      const r = adaptEvent(load(file), INDEX);
      expect(r.signals.length + r.engineEvents.length + r.ignored.length).toBeGreaterThan(0);
      for (const i of r.ignored) expect(i.reason.length).toBeGreaterThan(10);
    }
  });
});

// ---------------------------------------------------------------- S3

function s3Notification(bucket: string, key: string, extra: { eventName?: string; sequencer?: string } = {}) {
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: "2024-05-08T01:02:03.000Z",
        eventName: extra.eventName ?? "ObjectCreated:Put",
        s3: {
          s3SchemaVersion: "1.0",
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key,
            size: 0,
            eTag: "d41d8cd98f00b204e9800998ecf8427e",
            ...(extra.sequencer === undefined ? {} : { sequencer: extra.sequencer }),
          },
        },
      },
    ],
  };
}

function s3EventBridge(bucket: string, key: string) {
  const event = loadObject("s3-eventbridge.object-created.awsdocs.json");
  const detail = event.detail as Record<string, unknown>;
  return {
    ...event,
    detail: { ...detail, bucket: { name: bucket }, object: { ...(detail.object as object), key } },
  };
}

describe("S3 object keys", () => {
  it("decode like S3 encodes them: %XX escapes and + as space", () => {
    expect(decodeS3Key("events/region%3DNA/dt%3D2024-05-07/_SUCCESS")).toBe(
      "events/region=NA/dt=2024-05-07/_SUCCESS",
    );
    expect(decodeS3Key("reports/data+team/q1+report.csv")).toBe("reports/data team/q1 report.csv");
    expect(decodeS3Key("c%2B%2B/a%2Bb")).toBe("c++/a+b");
    expect(decodeS3Key("Happy%20Face.jpg")).toBe("Happy Face.jpg");
    expect(decodeS3Key("bad%E0%A4%A")).toBeUndefined();
  });

  it("an encoded Hive-style completion marker signals its partition", () => {
    const r = adaptEvent(
      s3Notification("raw", "events/region%3DNA/dt%3D2024-05-07/_SUCCESS", { sequencer: "0A1B" }),
      INDEX,
    );
    expect(r.signals).toEqual([
      {
        node: "events",
        dimensions: { region: "NA", dt: "2024-05-07" },
        path: "s3://raw/events/region=NA/dt=2024-05-07",
        eventId: "s3:raw/events/region=NA/dt=2024-05-07/_SUCCESS@0A1B",
      },
    ]);
    expect(r.ignored).toEqual([]);
  });

  it("a + in a notification's key is a space; EventBridge carries the key unencoded", () => {
    const expected = {
      node: "reports",
      dimensions: { team: "data team" },
      path: "s3://raw/reports/data team",
    };
    expect(adaptEvent(s3Notification("raw", "reports/data+team/q1+report.csv"), INDEX).signals).toEqual([
      { ...expected, eventId: "s3:raw/reports/data team/q1 report.csv@d41d8cd98f00b204e9800998ecf8427e" },
    ]);
    expect(adaptEvent(s3EventBridge("raw", "reports/data team/q1 report.csv"), INDEX).signals).toEqual([
      { ...expected, eventId: "s3:raw/reports/data team/q1 report.csv@617f08299329d189" },
    ]);
    // Through EventBridge a "+" is a plus (and "%20" three characters), never decoded.
    expect(adaptEvent(s3EventBridge("raw", "reports/c++/q1%20report.csv"), INDEX).signals).toEqual([
      {
        node: "reports",
        dimensions: { team: "c++" },
        path: "s3://raw/reports/c++",
        eventId: "s3:raw/reports/c++/q1%20report.csv@617f08299329d189",
      },
    ]);
  });

  it("the idempotency id falls back from sequencer to etag to event time", () => {
    const withSeq = adaptEvent(s3Notification("mybucket", "a.txt", { sequencer: "S1" }), INDEX);
    expect(withSeq.signals[0].eventId).toBe("s3:mybucket/a.txt@S1");
    const withEtag = adaptEvent(s3Notification("mybucket", "a.txt"), INDEX);
    expect(withEtag.signals[0].eventId).toBe("s3:mybucket/a.txt@d41d8cd98f00b204e9800998ecf8427e");
    const bare = s3Notification("mybucket", "a.txt");
    delete (bare.Records[0].s3.object as { eTag?: string }).eTag;
    expect(adaptEvent(bare, INDEX).signals[0].eventId).toBe("s3:mybucket/a.txt@2024-05-08T01:02:03.000Z");
  });

  it("other files of a partition are not the completion file", () => {
    const r = adaptEvent(s3Notification("raw", "events/region=NA/dt=2024-05-07/part-0000.parquet"), INDEX);
    expect(r.signals).toEqual([]);
    expect(r.ignored).toEqual([
      {
        reason:
          'not the completion file: "part-0000.parquet" in s3Dataset "events" (completes on "_SUCCESS")',
        eventId: "s3:raw/events/region=NA/dt=2024-05-07/part-0000.parquet@d41d8cd98f00b204e9800998ecf8427e",
      },
    ]);
    // Without a completion marker, hidden and underscore files are not data.
    const hidden = adaptEvent(s3Notification("raw", "reports/ops/_tmp"), INDEX);
    expect(hidden.signals).toEqual([]);
    expect(hidden.ignored[0].reason).toBe(
      'not the completion file: "_tmp" in s3Dataset "reports" (completes on any data file)',
    );
  });

  it("a partition outside the dataset's filter is ignored", () => {
    const r = adaptEvent(s3Notification("raw", "events/region%3DJP/dt%3D2024-05-07/_SUCCESS"), INDEX);
    expect(r.signals).toEqual([]);
    expect(r.ignored).toHaveLength(1);
    expect(r.ignored[0].reason).toBe(
      'key "events/region=JP/dt=2024-05-07/_SUCCESS" is a partition outside the filter of s3Dataset "events"',
    );
    expect(r.ignored[0].unprocessable).toBeUndefined();
  });

  it("keys that do not follow the layout are ignored; a completion marker with an invalid value is rejected", () => {
    const bad = adaptEvent(s3Notification("raw", "events/region=NA/dt=2024-5-7/_SUCCESS"), INDEX);
    expect(bad.ignored).toEqual([
      expect.objectContaining({
        reason: expect.stringContaining('"2024-5-7" is not a valid value of dimension "dt" (DATETIME)'),
        unprocessable: true,
      }),
    ]);
    for (const key of [
      "events/region=NA/2024-05-07/_SUCCESS",
      "events/region=NA/dt=2024-05-07/deeper/_SUCCESS",
      "events/region=NA/dt=2024-05-07/",
    ]) {
      const r = adaptEvent(s3Notification("raw", key), INDEX);
      expect(r.signals).toEqual([]);
      expect(r.ignored.map((i) => i.reason)).toEqual([
        `key ${JSON.stringify(key)} does not match the partition layout of s3Dataset "events"`,
      ]);
    }
  });

  it("keys of another bucket, or under no dataset prefix, are ignored", () => {
    expect(adaptEvent(s3Notification("elsewhere", "x/y"), INDEX).ignored[0].reason).toBe(
      'no s3Dataset on bucket "elsewhere" (object "x/y")',
    );
    expect(adaptEvent(s3Notification("raw", "logs/2024/x"), INDEX).ignored[0].reason).toBe(
      'key "logs/2024/x" of bucket "raw" is under no s3Dataset prefix ("reports", "events")',
    );
  });

  it("the router's own internal data in the storage bucket is ignored", () => {
    const r = adaptEvent(s3Notification(STORAGE, "internal_data/joined/NA/2024-05-07/_SUCCESS"), INDEX);
    expect(r.signals).toEqual([]);
    expect(r.ignored).toEqual([
      {
        reason: `own internal data (the router pushes it): s3://${STORAGE}/internal_data/joined/NA/2024-05-07/_SUCCESS`,
        eventId: `s3:${STORAGE}/internal_data/joined/NA/2024-05-07/_SUCCESS@d41d8cd98f00b204e9800998ecf8427e`,
      },
    ]);
    // The same key in another bucket is not the router's.
    expect(
      adaptEvent(s3Notification("raw", "internal_data/joined/_SUCCESS"), INDEX).ignored[0].reason,
    ).toMatch(/under no s3Dataset prefix/);
  });

  it("removed objects and other S3 events never signal", () => {
    const removed = adaptEvent(
      s3Notification("raw", "events/region=NA/dt=2024-05-07/_SUCCESS", { eventName: "ObjectRemoved:Delete" }),
      INDEX,
    );
    expect(removed.signals).toEqual([]);
    expect(removed.ignored[0].reason).toBe(
      "S3 ObjectRemoved:Delete of s3://raw/events/region=NA/dt=2024-05-07/_SUCCESS: removed objects never signal",
    );
    const restore = adaptEvent(
      s3Notification("raw", "events/x", { eventName: "ObjectRestore:Completed" }),
      INDEX,
    );
    expect(restore.ignored[0].reason).toBe(
      'S3 "ObjectRestore:Completed" of s3://raw/events/x is not an object creation',
    );
  });

  it("a key that is not valid URL encoding is unprocessable", () => {
    const r = adaptEvent(s3Notification("raw", "events/%E0%A4%A/_SUCCESS"), INDEX);
    expect(r.ignored).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(/is not valid URL encoding/),
        unprocessable: true,
      }),
    ]);
  });

  it("one object matched by two datasets signals both, with distinct idempotency ids", () => {
    const app = new Application("twice", { account: "123456789012", region: "us-east-1" });
    app.s3Dataset("all_days", {
      bucket: "raw",
      prefix: "events",
      partitions: ["region={}", "dt={}"],
      dimensions: { region: dim.string(), dt: dim.datetime() },
    });
    app.s3Dataset("na_days", {
      bucket: "raw",
      prefix: "events/region=NA",
      partitions: ["dt={}"],
      dimensions: { dt: dim.datetime() },
    });
    const index = new SourceIndex({ model: app.toModel(), storageBucket: "store" });
    expect(index.datasetsOn("raw").map((n) => n.id)).toEqual(["na_days", "all_days"]);
    const r = adaptEvent(
      s3Notification("raw", "events/region=NA/dt=2024-05-07/_SUCCESS", { sequencer: "Q" }),
      index,
    );
    expect(r.signals).toEqual([
      {
        node: "na_days",
        dimensions: { dt: "2024-05-07" },
        path: "s3://raw/events/region=NA/dt=2024-05-07",
        eventId: "s3:raw/events/region=NA/dt=2024-05-07/_SUCCESS@Q#na_days",
      },
      {
        node: "all_days",
        dimensions: { region: "NA", dt: "2024-05-07" },
        path: "s3://raw/events/region=NA/dt=2024-05-07",
        eventId: "s3:raw/events/region=NA/dt=2024-05-07/_SUCCESS@Q#all_days",
      },
    ]);
  });
});

describe("dataset overrides", () => {
  const key = "v2/events/region=EU/dt=2024-05-07/_SUCCESS";

  it("move a dataset to another bucket and prefix", () => {
    const index = new SourceIndex({
      model: bindDatasets(MODEL, { events: { bucket: "prod-raw", prefix: "/v2/events/" } }),
      storageBucket: STORAGE,
    });
    const r = adaptEvent(s3Notification("prod-raw", key, { sequencer: "1" }), index);
    expect(r.signals).toEqual([
      {
        node: "events",
        dimensions: { region: "EU", dt: "2024-05-07" },
        path: "s3://prod-raw/v2/events/region=EU/dt=2024-05-07",
        eventId: `s3:prod-raw/${key}@1`,
      },
    ]);
    // The declared location no longer belongs to the dataset in that environment.
    const old = adaptEvent(s3Notification("raw", "events/region=EU/dt=2024-05-07/_SUCCESS"), index);
    expect(old.signals).toEqual([]);
    expect(old.ignored[0].reason).toMatch(/under no s3Dataset prefix \("reports"\)/);
  });

  it("without overrides the environment's bucket is unknown", () => {
    const r = adaptEvent(
      s3Notification("prod-raw", key),
      new SourceIndex({ model: MODEL, storageBucket: STORAGE }),
    );
    expect(r.signals).toEqual([]);
    expect(r.ignored[0].reason).toMatch(/^no s3Dataset on bucket "prod-raw"/);
  });

  it("apply to the doc sample's bucket only when given", () => {
    const r = adaptEvent(
      load("s3-eventbridge.object-created.awsdocs.json"),
      new SourceIndex({ model: MODEL, storageBucket: STORAGE }),
    );
    expect(r.signals).toEqual([]);
    expect(r.ignored[0].reason).toMatch(/^no s3Dataset on bucket "DOC-EXAMPLE-BUCKET1"/);
  });

  it("can rebind a Glue table's database and table", () => {
    const index = new SourceIndex({
      model: bindDatasets(MODEL, { foo: { database: "prod_db", table: "foo_v2" } }),
      storageBucket: STORAGE,
    });
    const event = loadObject("glue.data-catalog-table-state-change.batchcreatepartition.awsdocs.json");
    const moved = {
      ...event,
      detail: { ...(event.detail as object), databaseName: "prod_db", tableName: "foo_v2" },
    };
    expect(adaptEvent(moved, index).signals.map((s) => s.dimensions)).toEqual([
      { year: 2018, month: 1 },
      { year: 2018, month: 2 },
    ]);
    expect(adaptEvent(event, index).ignored[0].reason).toBe("Glue table default.foo: no glueTable node");
  });
});

// ---------------------------------------------------------------- nesting

// ---------------------------------------------------------------- collaboration

describe("forwarded upstream data node events", () => {
  const UP = { account: "111111111111", region: "us-east-1" };
  const DOWN = { account: "222222222222", region: "us-west-2" };
  const UP_BUCKET = resourceNames.storageBucket("orders", UP.account, UP.region);
  const DOWN_BUCKET = resourceNames.storageBucket("reports", DOWN.account, DOWN.region);
  const MARKER = "internal_data/daily_orders/NA/2024-05-07/_SUCCESS";
  const PARTITION = `s3://${UP_BUCKET}/internal_data/daily_orders/NA/2024-05-07`;

  /** "orders": raw (filtered to NA and EU) → daily_orders → refunds; authorizes "reports". */
  function ordersModel(): FlowModel {
    const app = new Application("orders", UP);
    app.authorizeDownstream("reports", DOWN);
    const raw = app.s3Dataset("raw", {
      bucket: "raw-orders",
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
      filter: { region: ["NA", "EU"] },
    });
    const daily = app.data("daily_orders", { inputs: [raw], compute: inline("compute/orders.ts#daily") });
    app.data("refunds", { inputs: [daily], compute: inline("compute/orders.ts#refunds") });
    return app.toModel();
  }

  /** "reports" imports orders' daily_orders as "orders_daily" (and may read an s3Dataset on its bucket). */
  function reportsModel(options: { bucket?: string; exports?: boolean } = {}): FlowModel {
    const app = new Application("reports", DOWN);
    const orders = app.importUpstream("orders", {
      ...UP,
      ...(options.bucket === undefined ? {} : { bucket: options.bucket }),
      manifest: ordersModel(),
    });
    const inputs: Parameters<typeof app.data>[1]["inputs"] = {
      orders: orders.node("daily_orders", "orders_daily"),
    };
    if (options.exports) {
      const exports = app.s3Dataset("exports", {
        bucket: UP_BUCKET,
        prefix: "exports",
        partitions: ["{}"],
        dimensions: { day: dim.datetime({ format: "%Y-%m-%d" }) },
      });
      app.data("exported", { inputs: [exports], compute: inline("compute/reports.ts#exported") });
    }
    app.data("report", { inputs, compute: inline("compute/reports.ts#run") });
    return app.toModel();
  }

  const REPORTS = reportsModel();
  const index = new SourceIndex({ model: REPORTS, storageBucket: DOWN_BUCKET });

  /** The awsdocs "Object Created" vector as the upstream's bus forwards it: its account, bucket and key. */
  function forwarded(key: string, account = UP.account, bucket = UP_BUCKET): Record<string, unknown> {
    const event = loadObject("s3-eventbridge.object-created.awsdocs.json");
    const detail = event.detail as Record<string, unknown>;
    return {
      ...event,
      account,
      resources: [`arn:aws:s3:::${bucket}`],
      detail: { ...detail, bucket: { name: bucket }, object: { ...(detail.object as object), key } },
    };
  }

  /** The awsdocs notification (Records form, no account) of an object of a bucket. */
  function notified(key: string, bucket = UP_BUCKET): Record<string, unknown> {
    const event = loadObject("s3-notification.objectcreated-put.awsdocs.json");
    const record = (event.Records as Record<string, unknown>[])[0] as Record<string, unknown>;
    const s3 = record.s3 as Record<string, Record<string, unknown>>;
    const rewritten = {
      ...s3,
      bucket: { ...s3.bucket, name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: { ...s3.object, key },
    };
    return { ...event, Records: [{ ...record, s3: rewritten }] };
  }

  const ignoredReasons = (r: AdaptedEvent): string[] => {
    expect(r.signals).toEqual([]);
    return r.ignored.map((i) => i.reason);
  };

  it("a completion marker signals the local node importing the upstream node, with its dimensions and path", () => {
    expect(UP_BUCKET).toBe("orders-111111111111-us-east-1");
    expect(index.importsOn(UP_BUCKET).map((n) => n.id)).toEqual(["orders_daily"]);
    const r = adaptEvent(forwarded(MARKER), index);
    expect(r.signals).toEqual([
      {
        node: "orders_daily",
        dimensions: { region: "NA", day: "2024-05-07" },
        path: PARTITION,
        eventId: `s3:${UP_BUCKET}/${MARKER}@617f08299329d189`,
      },
    ]);
    expect(r.ignored).toEqual([]);
    // The path is the one the router's S3Storage computes for the imported node's partition.
    const storage = new S3Storage({ bucket: DOWN_BUCKET });
    expect(storage.partitionPath(REPORTS.nodes.orders_daily as NodeModel, r.signals[0].dimensions)).toBe(
      PARTITION,
    );
  });

  it("an upstream bucket named in the reference replaces the derived one", () => {
    const named = new SourceIndex({
      model: reportsModel({ bucket: "orders-data" }),
      storageBucket: DOWN_BUCKET,
    });
    expect(adaptEvent(forwarded(MARKER, UP.account, "orders-data"), named).signals).toEqual([
      {
        node: "orders_daily",
        dimensions: { region: "NA", day: "2024-05-07" },
        path: "s3://orders-data/internal_data/daily_orders/NA/2024-05-07",
        eventId: `s3:orders-data/${MARKER}@617f08299329d189`,
      },
    ]);
    expect(ignoredReasons(adaptEvent(forwarded(MARKER), named))).toEqual([
      `no s3Dataset on bucket "${UP_BUCKET}" (object "${MARKER}")`,
    ]);
  });

  it("two local nodes importing the same upstream node both signal, with distinct idempotency ids", () => {
    const imported = REPORTS.nodes.orders_daily as NodeModel;
    const model: FlowModel = {
      ...REPORTS,
      nodes: { ...REPORTS.nodes, orders_again: { ...imported, id: "orders_again" } },
    };
    const twice = new SourceIndex({ model, storageBucket: DOWN_BUCKET });
    const id = `s3:${UP_BUCKET}/${MARKER}@617f08299329d189`;
    const dimensions = { region: "NA", day: "2024-05-07" };
    expect(adaptEvent(forwarded(MARKER), twice).signals).toEqual([
      { node: "orders_again", dimensions, path: PARTITION, eventId: `${id}#orders_again` },
      { node: "orders_daily", dimensions, path: PARTITION, eventId: `${id}#orders_daily` },
    ]);
  });

  it("the notification Records form of the same marker signals too (it carries no account)", () => {
    const r = adaptEvent(notified(MARKER.replace("2024-05-07", "2024-05-08")), index);
    expect(r.signals).toEqual([
      {
        node: "orders_daily",
        dimensions: { region: "NA", day: "2024-05-08" },
        path: `s3://${UP_BUCKET}/internal_data/daily_orders/NA/2024-05-08`,
        eventId: `s3:${UP_BUCKET}/internal_data/daily_orders/NA/2024-05-08/_SUCCESS@0055AED6DCD90281E5`,
      },
    ]);
    expect(r.ignored).toEqual([]);
  });

  it("other files of the partition are not the completion file", () => {
    const key = "internal_data/daily_orders/NA/2024-05-07/part-00000.parquet";
    for (const event of [forwarded(key), notified(key)]) {
      expect(ignoredReasons(adaptEvent(event, index))).toEqual([
        'not the completion file: "part-00000.parquet" in imported node "orders_daily" of upstream "orders" (completes on "_SUCCESS")',
      ]);
    }
  });

  it("keys of upstream nodes this application does not import are ignored", () => {
    for (const key of [
      "internal_data/refunds/NA/2024-05-07/_SUCCESS",
      "internal_data/daily_orders_v2/NA/2024-05-07/_SUCCESS",
    ]) {
      const r = adaptEvent(forwarded(key), index);
      expect(ignoredReasons(r)).toEqual([
        `key "${key}" of upstream bucket "${UP_BUCKET}" is not the data of an imported node (imported: "daily_orders")`,
      ]);
      expect(r.ignored[0]).toEqual(
        expect.objectContaining({ eventId: `s3:${UP_BUCKET}/${key}@617f08299329d189` }),
      );
      expect(r.ignored[0].unprocessable).toBeUndefined();
    }
  });

  it("an event from another account than the upstream's is ignored", () => {
    expect(ignoredReasons(adaptEvent(forwarded(MARKER, "999999999999"), index))).toEqual([
      `s3://${UP_BUCKET}/${MARKER}: the event comes from account "999999999999", not from upstream "orders" (account 111111111111)`,
    ]);
  });

  it("a partition outside the upstream node's filter, or not in its layout, is ignored", () => {
    const outside = "internal_data/daily_orders/JP/2024-05-07/_SUCCESS";
    expect(ignoredReasons(adaptEvent(forwarded(outside), index))).toEqual([
      `key "${outside}" is a partition outside the filter of imported node "orders_daily" of upstream "orders"`,
    ]);
    expect(
      ignoredReasons(adaptEvent(forwarded("internal_data/daily_orders/NA/2024-5-7/_SUCCESS"), index)),
    ).toEqual([expect.stringContaining('"2024-5-7" is not a valid value of dimension "day" (DATETIME)')]);
    for (const key of [
      "internal_data/daily_orders/2024-05-07/_SUCCESS",
      "internal_data/daily_orders/NA/2024-05-07/deeper/_SUCCESS",
    ]) {
      expect(ignoredReasons(adaptEvent(forwarded(key), index))).toEqual([
        `key "${key}" does not match the partition layout of imported node "orders_daily" of upstream "orders"`,
      ]);
    }
  });

  it("own internal data is still ignored; other keys of the upstream bucket go to its s3Datasets", () => {
    const own = "internal_data/report/NA/2024-05-07/_SUCCESS";
    for (const event of [forwarded(own, DOWN.account, DOWN_BUCKET), notified(own, DOWN_BUCKET)]) {
      expect(ignoredReasons(adaptEvent(event, index))).toEqual([
        `own internal data (the router pushes it): s3://${DOWN_BUCKET}/${own}`,
      ]);
    }
    expect(ignoredReasons(adaptEvent(forwarded("exports/2024-05-07/_SUCCESS"), index))).toEqual([
      `key "exports/2024-05-07/_SUCCESS" of upstream bucket "${UP_BUCKET}" is not under internal_data/ (no upstream data partition), and no s3Dataset is on the bucket`,
    ]);
    const both = new SourceIndex({ model: reportsModel({ exports: true }), storageBucket: DOWN_BUCKET });
    expect(adaptEvent(forwarded("exports/2024-05-07/_SUCCESS"), both).signals).toEqual([
      {
        node: "exports",
        dimensions: { day: "2024-05-07" },
        path: `s3://${UP_BUCKET}/exports/2024-05-07`,
        eventId: `s3:${UP_BUCKET}/exports/2024-05-07/_SUCCESS@617f08299329d189`,
      },
    ]);
    expect(adaptEvent(forwarded(MARKER), both).signals.map((s) => s.node)).toEqual(["orders_daily"]);
  });
});

describe("S3Storage of an imported upstream data node", () => {
  const UP = { account: "111111111111", region: "us-east-1" };
  const DOWN = { account: "222222222222", region: "us-west-2" };

  function imported(bucket?: string): NodeModel {
    const orders = new Application("orders", UP);
    orders.authorizeDownstream("reports", DOWN);
    const raw = orders.s3Dataset("raw", {
      bucket: "raw-orders",
      partitions: ["{}"],
      dimensions: { day: dim.datetime() },
    });
    orders.data("daily_orders", { inputs: [raw], compute: inline("compute/orders.ts#daily") });
    const app = new Application("reports", DOWN);
    const upstream = app.importUpstream("orders", {
      ...UP,
      ...(bucket === undefined ? {} : { bucket }),
      manifest: orders.toModel(),
    });
    app.data("report", {
      inputs: [upstream.node("daily_orders", "orders_daily")],
      compute: inline("r.ts#run"),
    });
    return app.toModel().nodes.orders_daily as NodeModel;
  }

  it("reads partitions from the upstream's bucket, derived or named in the reference", () => {
    const storage = new S3Storage({ bucket: "reports-222222222222-us-west-2" });
    expect(storage.partitionPath(imported(), { day: "2024-05-07" })).toBe(
      "s3://orders-111111111111-us-east-1/internal_data/daily_orders/2024-05-07",
    );
    expect(storage.datasetRoot(imported())).toBe(
      "s3://orders-111111111111-us-east-1/internal_data/daily_orders",
    );
    expect(storage.partitionPath(imported("orders-data"), { day: "2024-05-07" })).toBe(
      "s3://orders-data/internal_data/daily_orders/2024-05-07",
    );
  });
});

describe("envelopes", () => {
  const s3Json = JSON.stringify(
    s3Notification("raw", "events/region%3DNA/dt%3D2024-05-07/_SUCCESS", { sequencer: "77" }),
  );
  const expectedSignal = {
    node: "events",
    dimensions: { region: "NA", dt: "2024-05-07" },
    path: "s3://raw/events/region=NA/dt=2024-05-07",
    eventId: "s3:raw/events/region=NA/dt=2024-05-07/_SUCCESS@77",
  };

  function sqsOf(body: string, messageId = "m-1") {
    const vector = loadObject("sqs.sns-envelope.captured.json");
    const record = (vector.Records as Record<string, unknown>[])[0];
    return { Records: [{ ...record, messageId, body }] };
  }

  function snsEnvelopeJson(message: string): string {
    const vector = loadObject("sqs.sns-envelope.captured.json");
    const envelope = JSON.parse((vector.Records as { body: string }[])[0].body) as Record<string, unknown>;
    return JSON.stringify({ ...envelope, Message: message }, null, 2);
  }

  it("unwraps double-encoded S3 → SNS → SQS (non-raw delivery)", () => {
    const event = sqsOf(snsEnvelopeJson(s3Json));
    // The body really is JSON whose Message is JSON again.
    expect(typeof JSON.parse(event.Records[0].body).Message).toBe("string");
    const r = adaptEvent(event, INDEX);
    expect(r.signals).toEqual([expectedSignal]);
    expect(r.ignored).toEqual([]);
  });

  it("gives the same idempotency id to the same object whatever the path", () => {
    const direct = adaptEvent(JSON.parse(s3Json), INDEX).signals;
    const viaSqs = adaptEvent(sqsOf(s3Json), INDEX).signals;
    const viaRawSns = adaptEvent(sqsOf(s3Json, "m-2"), INDEX).signals;
    const vector = loadObject("sns.s3-notification.captured.json");
    const sns = (vector.Records as { Sns: Record<string, unknown> }[])[0];
    const viaSns = adaptEvent({ Records: [{ ...sns, Sns: { ...sns.Sns, Message: s3Json } }] }, INDEX).signals;
    expect([direct, viaSqs, viaRawSns, viaSns]).toEqual([
      [expectedSignal],
      [expectedSignal],
      [expectedSignal],
      [expectedSignal],
    ]);
  });

  it("unwraps EventBridge events and alarms delivered through SQS and SNS", () => {
    const glue = adaptEvent(
      sqsOf(JSON.stringify(load("glue.job-state-change.succeeded.awsdocs.json"))),
      INDEX,
    );
    expect(glue.engineEvents).toEqual(
      EXPECTED["glue.job-state-change.succeeded.awsdocs.json"].engineEvents as EngineEvent[],
    );
    const alarmSns = loadObject("sns.cloudwatch-alarm.single-metric.lambda-go.json");
    const message = (alarmSns.Records as { Sns: { Message: string } }[])[0].Sns.Message;
    const viaSqs = adaptEvent(sqsOf(snsEnvelopeJson(message)), INDEX);
    expect(viaSqs.signals).toEqual(EXPECTED["sns.cloudwatch-alarm.single-metric.lambda-go.json"].signals);
  });

  it("adapts arrays of events (EventBridge Pipes batches)", () => {
    const r = adaptEvent(
      [
        load("glue.job-state-change.failed.awsdocs.json"),
        load("athena.query-state-change.succeeded.awsdocs.json"),
      ],
      INDEX,
    );
    expect(r.engineEvents.map((e) => e.engine)).toEqual(["glue", "athena"]);
  });

  it("ignores SNS subscription confirmations without dead-lettering them", () => {
    const body = JSON.stringify({
      Type: "SubscriptionConfirmation",
      MessageId: "c-1",
      TopicArn: "arn:aws:sns:us-east-1:123456789012:t",
      Message: "You have chosen to subscribe",
    });
    expect(adaptEvent(sqsOf(body), INDEX).ignored).toEqual([
      { reason: 'SNS "SubscriptionConfirmation" message, not a notification', eventId: "c-1" },
    ]);
  });

  it("refuses nesting deeper than any AWS path", () => {
    let value: unknown = JSON.parse(s3Json);
    for (let i = 0; i < 12; i++) value = JSON.stringify(value);
    const r = adaptEvent(value, INDEX);
    expect(r.signals).toEqual([]);
    expect(r.ignored).toEqual([
      expect.objectContaining({ reason: "event is nested more than 8 envelopes deep", unprocessable: true }),
    ]);
  });
});

// ---------------------------------------------------------------- timers

describe("scheduled events", () => {
  const daily = resourceNames.timerRule("vectors", "daily");
  const hourly = resourceNames.timerRule("vectors", "hourly_load");

  it("rule names come from resourceNames.timerRule", () => {
    expect([daily, hourly]).toEqual(["vectors-timer-daily", "vectors-timer-hourly-load"]);
  });

  it("a classic EventBridge rule fires its timer at the event time, truncated to the timer's period", () => {
    const event = loadObject("eventbridge.scheduled-event.awsdocs.json");
    const r = adaptEvent(
      { ...event, resources: [`arn:aws:events:us-east-1:123456789012:rule/${daily}`] },
      INDEX,
    );
    expect(r.signals).toEqual([
      { node: "daily", dimensions: { time: "2015-10-08" }, eventId: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa" },
    ]);
    // A rule on a custom event bus has the bus in its ARN path.
    const onBus = adaptEvent(
      { ...event, resources: [`arn:aws:events:us-east-1:123456789012:rule/my-bus/${hourly}`] },
      INDEX,
    );
    expect(onBus.signals).toEqual([
      {
        node: "hourly_load",
        dimensions: { time: "2015-10-08T16" },
        eventId: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
      },
    ]);
  });

  it("an EventBridge Scheduler schedule (detail as a JSON string) fires its timer", () => {
    const event = loadObject("eventbridge-scheduler.scheduled-event.powertools.json");
    expect(typeof event.detail).toBe("string");
    const r = adaptEvent(
      { ...event, resources: [`arn:aws:scheduler:us-east-1:123456789012:schedule/default/${hourly}`] },
      INDEX,
    );
    expect(r.signals).toEqual([
      {
        node: "hourly_load",
        dimensions: { time: "2025-02-20T16" },
        eventId: "d167b752-343a-4b28-afd6-d4de056319e8",
      },
    ]);
  });

  it("the router's sweeper schedule and malformed scheduled events are not timers", () => {
    const event = loadObject("eventbridge.scheduled-event.rust.json");
    const sweeper = resourceNames.sweeperRule("vectors");
    expect(
      adaptEvent({ ...event, resources: [`arn:aws:events:us-east-1:123456789012:rule/${sweeper}`] }, INDEX)
        .ignored,
    ).toEqual([
      {
        reason: `scheduled event of the router's sweeper schedule "${sweeper}", not a timer`,
        eventId: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
      },
    ]);
    const noTime = adaptEvent(
      { ...event, time: "yesterday", resources: [`arn:x:events:r:a:rule/${daily}`] },
      INDEX,
    );
    expect(noTime.ignored[0]).toMatchObject({
      reason: expect.stringMatching(/has no valid time/),
      unprocessable: true,
    });
    const noResources = adaptEvent({ ...event, resources: [] }, INDEX);
    expect(noResources.ignored[0].reason).toBe("scheduled event names no rule or schedule in its resources");
  });
});

// ---------------------------------------------------------------- alarms

describe("alarm state changes", () => {
  it("the three shapes of one transition give the same signal and idempotency id", () => {
    const eb = loadObject("cloudwatch.alarm-state-change.single-metric.awsdocs.json");
    const lambda = loadObject("cloudwatch.alarm-lambda-action.metric-math.powertools.json");
    const alarmData = lambda.alarmData as Record<string, unknown>;
    const asLambda = {
      ...lambda,
      accountId: "123456789012",
      alarmData: {
        ...alarmData,
        alarmName: "ServerCpuTooHigh",
        state: { value: "ALARM", timestamp: "2019-10-02T17:04:40.989+0000" },
      },
    };
    const sns = loadObject("sns.cloudwatch-alarm.single-metric.lambda-go.json");
    const record = (sns.Records as { Sns: { Message: string } }[])[0];
    const message = {
      ...JSON.parse(record.Sns.Message),
      AlarmName: "ServerCpuTooHigh",
      StateChangeTime: "2019-10-02T17:04:40.989+0000",
    };
    const asSns = { Records: [{ ...record, Sns: { ...record.Sns, Message: JSON.stringify(message) } }] };
    const expected = EXPECTED["cloudwatch.alarm-state-change.single-metric.awsdocs.json"].signals;
    for (const e of [eb, asLambda, asSns]) expect(adaptEvent(e, INDEX).signals).toEqual(expected);
  });

  it("external alarms match by account when the event carries a real one", () => {
    const event = loadObject("cloudwatch.alarm-lambda-action.composite.powertools.json");
    const other = adaptEvent({ ...event, accountId: "999999999999" }, INDEX);
    expect(other.signals).toEqual([]);
    expect(other.ignored[0].reason).toBe(
      'Lambda alarm action of alarm "CompositeDemo.Main": no alarm node is named so in account 999999999999',
    );
    // Without accountId, the ARN's account decides (here the sample's 111122223333).
    const { accountId: _drop, ...noAccount } = event;
    expect(adaptEvent(noAccount, INDEX).signals.map((s) => s.node)).toEqual(["composite_demo"]);
    // The application's own alarms match by name in whatever account the environment deploys them.
    const own = loadObject("cloudwatch.alarm-state-change.single-metric.awsdocs.json");
    expect(adaptEvent({ ...own, account: "999999999999" }, INDEX).signals.map((s) => s.node)).toEqual([
      "cpu_high",
    ]);
  });

  it("OK and INSUFFICIENT_DATA transitions signal too; unknown states and alarms do not", () => {
    const event = loadObject("cloudwatch.alarm-state-change.metric-math.awsdocs.json");
    const detail = event.detail as Record<string, unknown>;
    const withState = (value: string, alarmName = "TotalNetworkTrafficTooHigh") => ({
      ...event,
      detail: { ...detail, alarmName, state: { value, timestamp: "2019-10-02T17:25:00.000+0000" } },
    });
    expect(adaptEvent(withState("OK"), INDEX).signals).toEqual([
      {
        node: "network_high",
        dimensions: { state: "OK", time: "2019-10-02T17:25" },
        eventId: "alarm:TotalNetworkTrafficTooHigh:OK@2019-10-02T17:25:00.000Z",
      },
    ]);
    expect(adaptEvent(withState("INSUFFICIENT_DATA"), INDEX).signals[0].dimensions.state).toBe(
      "INSUFFICIENT_DATA",
    );
    expect(adaptEvent(withState("PANIC"), INDEX).ignored[0].reason).toMatch(/state "PANIC" is not one of/);
    expect(adaptEvent(withState("ALARM", "Someone Else"), INDEX).ignored[0].reason).toBe(
      'EventBridge of alarm "Someone Else": no alarm node is named so',
    );
  });
});

// ---------------------------------------------------------------- Glue catalog

describe("Glue Data Catalog table changes", () => {
  const event = loadObject("glue.data-catalog-table-state-change.batchcreatepartition.awsdocs.json");
  const withDetail = (patch: Record<string, unknown>) => ({
    ...event,
    detail: { ...(event.detail as object), ...patch },
  });

  it("read comma-joined values in key order, bracketed or not", () => {
    expect(partitionValues("2018,01")).toEqual(["2018", "01"]);
    expect(partitionValues("[2018, 01]")).toEqual(["2018", "01"]);
    const r = adaptEvent(
      withDetail({ changedPartitions: ["[2018, 03]"], typeOfChange: "CreatePartition" }),
      INDEX,
    );
    expect(r.signals.map((s) => s.dimensions)).toEqual([{ year: 2018, month: 3 }]);
  });

  it("only partition creations signal", () => {
    const r = adaptEvent(withDetail({ typeOfChange: "BatchDeletePartition" }), INDEX);
    expect(r.signals).toEqual([]);
    expect(r.ignored[0].reason).toBe(
      'Glue table default.foo: catalog change "BatchDeletePartition" does not create partitions',
    );
  });

  it("values outside the table's filter, or not canonical, are ignored", () => {
    const r = adaptEvent(
      withDetail({ databaseName: "sales", tableName: "orders", changedPartitions: ["NA", "EU"] }),
      INDEX,
    );
    expect(r.signals).toEqual([
      {
        node: "orders",
        dimensions: { region: "NA" },
        eventId: "glue:sales.orders/NA@abcdef00-1234-5678-9abc-def012345678",
      },
    ]);
    expect(r.ignored.map((i) => i.reason)).toEqual([
      'Glue table sales.orders: partition "EU" is outside the filter of node "orders"',
    ]);
    const odd = adaptEvent(withDetail({ changedPartitions: ["2018,1", "2018"] }), INDEX);
    expect(odd.signals).toEqual([]);
    expect(odd.ignored.map((i) => i.reason)).toEqual([
      `Glue table default.foo: partition "2018,1" is not in the canonical form of node "foo"'s dimensions`,
      'Glue table default.foo: partition "2018" has 1 value(s), node "foo" has 2 dimension(s)',
    ]);
  });
});

// ---------------------------------------------------------------- engines

describe("engine state changes", () => {
  const glue = loadObject("glue.job-state-change.failed.awsdocs.json");
  const athena = loadObject("athena.query-state-change.failed.awsdocs.json");
  const emrStep = loadObject("emr.step-status-change.failed.awsdocs.json");
  const serverless = loadObject("emr-serverless.job-run-state-change.running.awsdocs.json");
  const patch = (event: Record<string, unknown>, detail: Record<string, unknown>) => ({
    ...event,
    detail: { ...(event.detail as object), ...detail },
  });
  const resultOf = (event: unknown) => adaptEvent(event, INDEX).engineEvents[0]?.result;

  it("recognize throttling and capacity messages as transient", () => {
    for (const m of [
      "ConcurrentRunsExceededException: Concurrent runs exceeded for job MyJob",
      "Rate exceeded",
      "ThrottlingException: Throttling",
      "ResourceNumberLimitExceededException: Number of concurrent runs exceeded",
      "Failed to meet capacity requirements: insufficient capacity in AZ",
    ]) {
      expect(isTransientMessage(m)).toBe(true);
      expect(resultOf(patch(glue, { message: m }))).toEqual({ status: "FAILED", error: m, transient: true });
    }
    expect(isTransientMessage("NameError: name 'spark' is not defined")).toBe(false);
  });

  it("map Glue states", () => {
    expect(resultOf(patch(glue, { state: "RUNNING" }))).toEqual({
      status: "RUNNING",
      handle: (glue.detail as { jobRunId: string }).jobRunId,
    });
    expect(resultOf(patch(glue, { state: "ERROR", message: undefined }))).toEqual({
      status: "FAILED",
      error: `Glue job run ${(glue.detail as { jobRunId: string }).jobRunId} ERROR`,
      transient: false,
    });
    const unknown = adaptEvent(patch(glue, { state: "DREAMING" }), INDEX);
    expect(unknown.ignored[0].reason).toMatch(/unknown Glue job run state "DREAMING"/);
    const noRun = adaptEvent(patch(glue, { jobRunId: 7 }), INDEX);
    expect(noRun.ignored[0]).toMatchObject({
      reason: "Glue Job State Change without jobRunId",
      unprocessable: true,
    });
  });

  it("map Athena states; retryable errors are transient", () => {
    const id = "01234567-0123-0123-0123-012345678901";
    expect(resultOf(patch(athena, { currentState: "QUEUED" }))).toEqual({ status: "RUNNING", handle: id });
    expect(resultOf(patch(athena, { currentState: "RUNNING" }))).toEqual({ status: "RUNNING", handle: id });
    expect(resultOf(patch(athena, { currentState: "CANCELLED" }))).toEqual({
      status: "FAILED",
      error: `Athena query ${id} CANCELLED`,
      transient: false,
    });
    const retryable = { errorCategory: 1, errorType: 401, errorMessage: "Query queue full", retryable: true };
    expect(resultOf(patch(athena, { athenaError: retryable }))).toEqual({
      status: "FAILED",
      error: "Query queue full",
      transient: true,
    });
    const internal = {
      errorCategory: 1,
      errorType: 100,
      errorMessage: "Internal service error",
      retryable: false,
    };
    expect(resultOf(patch(athena, { athenaError: internal }))).toMatchObject({ transient: true });
    const noError = { ...athena, detail: { ...(athena.detail as object), athenaError: undefined } };
    expect(resultOf(noError)).toEqual({
      status: "FAILED",
      error: `Athena query ${id} FAILED`,
      transient: false,
    });
    expect(resultOf(patch(athena, { athenaError: 3 }))).toEqual({
      status: "FAILED",
      error: `Athena query ${id} FAILED`,
      transient: false,
    });
  });

  it("map EMR step states", () => {
    const handle = "j-123456789ABCD/s-ZYXWVUTSRQPON";
    expect(resultOf(patch(emrStep, { state: "COMPLETED" }))).toEqual({ status: "SUCCEEDED" });
    expect(resultOf(patch(emrStep, { state: "PENDING" }))).toEqual({ status: "RUNNING", handle });
    expect(resultOf(patch(emrStep, { state: "CANCELLED" }))).toMatchObject({
      status: "FAILED",
      transient: false,
    });
    expect(resultOf(patch(emrStep, { state: "INTERRUPTED" }))).toMatchObject({ status: "FAILED" });
  });

  it("map EMR Serverless states", () => {
    const handle = "00f1982r1uukb925/00f1cbn5g4bb0c01";
    for (const state of ["SUBMITTED", "PENDING", "SCHEDULED", "QUEUED", "CANCELLING"]) {
      expect(resultOf(patch(serverless, { state }))).toEqual({ status: "RUNNING", handle });
    }
    expect(
      resultOf(
        patch(serverless, {
          state: "FAILED",
          stateDetails: "Job failed, Application quota exceeded: insufficient capacity",
        }),
      ),
    ).toEqual({
      status: "FAILED",
      error: "Job failed, Application quota exceeded: insufficient capacity",
      transient: true,
    });
    expect(resultOf(patch(serverless, { state: "CANCELLED" }))).toEqual({
      status: "FAILED",
      error: `EMR Serverless job run ${handle} CANCELLED`,
      transient: false,
    });
  });
});

// ---------------------------------------------------------------- junk

describe("malformed input", () => {
  const junk: unknown[] = [
    undefined,
    null,
    0,
    -1.5,
    true,
    "",
    "{",
    "null",
    "[]",
    [],
    {},
    Object.create(null),
    { Records: null },
    { Records: [] },
    { Records: [null, 1, "x", [], {}] },
    { Records: [{ eventSource: "aws:sqs", body: 5, messageId: "m" }] },
    { Records: [{ eventSource: "aws:sns" }] },
    { Records: [{ eventSource: "aws:sns", Sns: { Message: { not: "text" } } }] },
    { Records: [{ eventSource: "aws:s3", s3: { bucket: { name: 1 }, object: {} } }] },
    { Records: [{ eventSource: "aws:dynamodb", dynamodb: {} }] },
    { "detail-type": 1, source: [] },
    { "detail-type": "Object Created", source: "aws.s3" },
    { "detail-type": "Object Created", source: "aws.s3", detail: "not json" },
    { "detail-type": "Scheduled Event", source: "aws.events", resources: "nope" },
    { "detail-type": "CloudWatch Alarm State Change", source: "aws.cloudwatch", detail: { state: 5 } },
    {
      "detail-type": "Glue Data Catalog Table State Change",
      source: "aws.glue",
      detail: {
        databaseName: "default",
        tableName: "foo",
        typeOfChange: "CreatePartition",
        changedPartitions: "2018,01",
      },
    },
    { source: "aws.cloudwatch", alarmData: { state: {} } },
    { AlarmName: "EXAMPLE", NewStateValue: "ALARM", StateChangeTime: "when?" },
    { constructor: "x", toString: "y", __proto__: { Records: [{}] } },
  ];

  it("never throws, and every part is accounted for with a reason", () => {
    for (const raw of junk) {
      const r = adaptEvent(raw, INDEX);
      expect(r.signals).toEqual([]);
      expect(r.engineEvents).toEqual([]);
      expect(r.ignored.length).toBeGreaterThan(0);
      for (const i of r.ignored) expect(typeof i.reason).toBe("string");
    }
  });

  it("names what was seen", () => {
    expect(adaptEvent(42, INDEX).ignored).toEqual([
      { reason: "event is a number, not an event", unprocessable: true },
    ]);
    expect(adaptEvent({ hello: 1 }, INDEX).ignored[0].reason).toBe(
      'event is not a known AWS event: an object with keys "hello"',
    );
    expect(adaptEvent({ Records: [{ eventSource: "aws:dynamodb" }] }, INDEX).ignored[0].reason).toBe(
      'a record of event is not an SQS, SNS or S3 record: from "aws:dynamodb"',
    );
  });

  it("fc.anything() never throws", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
          withTypedArray: true,
        }),
        (raw) => {
          const r = adaptEvent(raw, INDEX);
          expect(Array.isArray(r.signals) && Array.isArray(r.engineEvents) && Array.isArray(r.ignored)).toBe(
            true,
          );
          for (const i of r.ignored) expect(typeof i.reason).toBe("string");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a vector with any one field replaced by anything never throws", () => {
    const files = readdirSync(VECTORS).filter((f) => f.endsWith(".json"));
    const samples = files.map((f) => ({ file: f, json: load(f), paths: pathsOf(load(f)) }));
    fc.assert(
      fc.property(
        fc.nat({ max: samples.length - 1 }),
        fc.nat(),
        fc.anything({ withNullPrototype: true, withObjectString: true }),
        (which, where, value) => {
          const sample = samples[which];
          const target = sample.paths[where % sample.paths.length];
          const mutated = setAt(structuredClone(sample.json), target, value);
          const r = adaptEvent(mutated, INDEX);
          expect(r.signals.length + r.engineEvents.length + r.ignored.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

type JsonPath = readonly (string | number)[];

/** Every path into a JSON value (including the paths of strings that are JSON themselves, by their own path). */
function pathsOf(value: unknown, at: JsonPath = []): JsonPath[] {
  const out: JsonPath[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...at, k]));
  }
  return out;
}

function setAt(root: unknown, at: JsonPath, value: unknown): unknown {
  if (at.length === 0) return value;
  let node = root as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[at[at.length - 1]] = value;
  return root;
}
