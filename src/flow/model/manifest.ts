/**
 * The manifest an application publishes for downstream applications (`sluice/manifest.json` in its
 * bucket, and the `manifest` module output): its FlowModel without what is the application's own
 * business. Environments (accounts, dataset locations, config values, compute sizing) and the list of
 * authorized downstream applications stay private; a downstream names the upstream's account and
 * region itself when it imports, and the same manifest serves every environment.
 */
import type { FlowModel } from "./flow-model";

export function publishedManifest(model: FlowModel): FlowModel {
  const { downstream: _downstream, ...application } = model.application;
  return { ...model, application, environments: {} };
}
