import { join } from "node:path";

/** The prebuilt runtime bundle, `<package root>/dist/runtime-bundle`, from both src/ and dist/ layouts. */
export function defaultBundleDir(): string {
  return join(__dirname, "..", "..", "dist", "runtime-bundle");
}
