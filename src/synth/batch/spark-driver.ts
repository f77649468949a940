/**
 * The Sluice Spark driver as an S3 object of the application's bucket (`DRIVER_SCRIPT_KEY`,
 * KMS-encrypted): the entry point of every Glue / EMR run, uploaded from the prebuilt runtime bundle.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { DRIVER_SCRIPT_KEY, SPARK_DRIVER_DIR, SPARK_DRIVER_FILE } from "../../flow/model/deployment-contract";
import { defaultBundleDir } from "../bundle-dir";
import { AssetType, TerraformAsset, type Construct } from "../cdktf";
import type { Naming } from "../naming";
import type { Storage } from "../storage";
import { SynthError } from "../synth-error";

/** s3:// URI of the driver script in the application's bucket. */
export function driverScriptUri(storage: Storage): string {
  return `s3://${storage.bucketName}/${DRIVER_SCRIPT_KEY}`;
}

/**
 * The driver script object, in `scope` (the BatchCompute construct, ids `driver-asset` and `driver`).
 * `bundleDir` is the folder of the prebuilt runtime bundle (default: `defaultBundleDir()`).
 */
export function sparkDriverScript(
  scope: Construct,
  naming: Naming,
  storage: Storage,
  bundleDir: string | undefined,
): S3Object {
  const source = join(bundleDir ?? defaultBundleDir(), SPARK_DRIVER_DIR, SPARK_DRIVER_FILE);
  if (!existsSync(source)) {
    throw new SynthError(
      `the Spark driver ${source} does not exist: the runtime bundle is not built. Run \`npm run build\` ` +
        `(or pass bundleDir: the folder of a built runtime bundle)`,
    );
  }
  const asset = new TerraformAsset(scope, "driver-asset", { path: source, type: AssetType.FILE });
  return new S3Object(scope, "driver", {
    bucket: storage.bucket.id,
    key: DRIVER_SCRIPT_KEY,
    source: asset.path,
    sourceHash: createHash("sha256").update(readFileSync(source)).digest("hex"),
    contentType: "text/x-python",
    serverSideEncryption: "aws:kms",
    kmsKeyId: storage.key.arn, // CKV_AWS_186
    bucketKeyEnabled: true,
    tags: naming.tags(),
  });
}
