/**
 * Bounded dead letters as deployed (issue 12): the router run by the deployment twin from its code
 * package, with its synthesized role enforced, keeps an event too large for an SQS dead letter under
 * `dead_letters/` of its storage bucket (the role's `DeadLetters` grant), the letter naming it.
 * Needs `npm run build` first (the twin runs dist/runtime-bundle), like test/deployment.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { SQS_MAX_MESSAGE_BYTES } from "../../src/runtime-bundle/aws/dead-letters";
import { describeWithTerraform, example, twinOf } from "../deployment/support";
import type { DeploymentTwin } from "../deployment/twin/twin";

jest.setTimeout(180_000);

describeWithTerraform("a dead letter too large for SQS, as deployed", () => {
  let twin: DeploymentTwin & { dispose(): Promise<void> };
  beforeAll(async () => {
    twin = await twinOf(example("daily-aggregation"), {
      catalog: { "reference.stores": "s3://acme-reference/stores" },
      externalBuckets: ["acme-raw-orders", "acme-reference"],
    });
  });
  afterAll(() => twin?.dispose());

  test("kept under dead_letters/ with the router's own role; the letter carries its URI and SHA-256", async () => {
    // An unreadable direct invocation of 300 KB: no AWS event, so the router dead-letters it.
    const event = { hello: "router", padding: '"'.repeat(300 * 1024) };
    await twin.invoke(event);
    expect(twin.denials()).toEqual([]);
    const letters = twin.deadLetters() as {
      reason: string;
      reasonCode: string;
      stored?: { uri: string; sha256: string };
    }[];
    expect(letters).toEqual([
      expect.objectContaining({
        reasonCode: "unknown-source",
        stored: expect.objectContaining({ sha256: expect.any(String) }),
      }),
    ]);
    const bucket = twin.environment.SLUICE_BUCKET as string;
    const keys = await twin.keys(bucket, "dead_letters/");
    expect(keys).toHaveLength(1);
    expect(letters[0]?.stored?.uri).toBe(`s3://${bucket}/${keys[0]}`);
    const raw = JSON.stringify(letters[0]);
    expect(Buffer.byteLength(raw)).toBeLessThan(SQS_MAX_MESSAGE_BYTES);
    const got = await twin.s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[0] }));
    const text = (await got.Body?.transformToString()) ?? "";
    expect(createHash("sha256").update(text).digest("hex")).toBe(letters[0]?.stored?.sha256);
    expect(JSON.parse(text)).toEqual(event);
  });
});
