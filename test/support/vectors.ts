/**
 * The real AWS event samples vendored in test/fixtures/aws-events (sources and licences in its
 * README.md, copied unedited from the design repository's shared vectors).
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

/** Beside this file in the repository; from the working directory when bundled elsewhere (`npm run bench`). */
export const VECTORS = [
  path.resolve(__dirname, "../fixtures/aws-events"),
  path.resolve(process.cwd(), "test/fixtures/aws-events"),
].find((d) => existsSync(d)) as string;

/** One vector, parsed. */
export function readVector(file: string): unknown {
  return JSON.parse(readFileSync(path.join(VECTORS, file), "utf8"));
}
