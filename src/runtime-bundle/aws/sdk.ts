/**
 * AWS SDK modules the router does not need on every invocation, loaded on first use: each client
 * module costs tens of milliseconds of cold start to evaluate.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- deferred loading is the point */
import type * as S3Sdk from "@aws-sdk/client-s3";
import type * as SqsSdk from "@aws-sdk/client-sqs";

function once<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= load());
}

export const s3Sdk = once(() => require("@aws-sdk/client-s3") as typeof S3Sdk);
export const sqsSdk = once(() => require("@aws-sdk/client-sqs") as typeof SqsSdk);
