/**
 * Local AWS stand-ins for integration tests, in process on 127.0.0.1: dynalite (DynamoDB on LevelDB)
 * and s3rver (S3 on a temp folder), with SDK v3 clients pointed at them.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types
const dynalite = require("dynalite") as (options: { createTableMs?: number }) => Server;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types
const S3rver = require("s3rver") as new (options: Record<string, unknown>) => S3rverInstance;

/** What both emulators accept. */
export const EMULATOR_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface Emulators {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  /** Closes the clients and servers and removes the S3 folder. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Region of the clients. @default "us-east-1" */
  readonly region?: string;
  /** Buckets to create. @default none */
  readonly buckets?: readonly string[];
}

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const region = options.region ?? "us-east-1";
  const dynamoServer = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamoServer.listen(0, "127.0.0.1", resolve));
  const dynamoEndpoint = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;
  const dynamodb = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region,
    credentials: EMULATOR_CREDENTIALS,
  });
  const s3Dir = mkdtempSync(path.join(tmpdir(), "sluice-s3rver-"));
  const s3rver = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: s3Dir });
  const { port } = await s3rver.run();
  const s3Endpoint = `http://127.0.0.1:${port}`;
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region,
    forcePathStyle: true,
    credentials: EMULATOR_CREDENTIALS,
  });
  for (const bucket of options.buckets ?? []) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    dynamodb,
    s3,
    dynamoEndpoint,
    s3Endpoint,
    async stop() {
      dynamodb.destroy();
      s3.destroy();
      await new Promise<void>((resolve, reject) => dynamoServer.close((e) => (e ? reject(e) : resolve())));
      await s3rver.close();
      await rm(s3Dir, { recursive: true, force: true });
    },
  };
}
