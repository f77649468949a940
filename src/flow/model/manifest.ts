/**
 * The manifest an application publishes for downstream applications (`sluice/manifest.json` in its
 * bucket, and the `manifest` module output): its FlowModel without its environments (accounts,
 * dataset locations, config values, compute sizing), which are the application's own business. A
 * downstream names the upstream's account and region itself when it imports, so the same manifest
 * serves every environment. The authorized downstream applications stay in it: an import checks that
 * it is one of them, early, rather than failing on a denied read once deployed.
 */
import type { FlowModel } from "./flow-model";

export function publishedManifest(model: FlowModel): FlowModel {
  return { ...model, environments: {} };
}
