/**
 * EMR Serverless: the application's one Spark application (auto-start, auto-stop, KMS-encrypted logs in
 * the bucket), the permissions of the EMR execution role, the router's permission to start, poll and
 * cancel job runs as that role, and the environment variables that tell the router where they are.
 */
import { EmrserverlessApplication } from "@cdktf/provider-aws/lib/emrserverless-application";
import { ROUTER_ENV } from "../../flow/model/deployment-contract";
import { resourceNames } from "../../flow/model/resource-names";
import type { FlowModel } from "../../flow/model/flow-model";
import { SynthError } from "../synth-error";
import { DEFAULT_EMR_RELEASE_LABEL, PREFIXES, targetsOn, type BatchBuild } from "./context";

/**
 * Builds the EMR Serverless application in `build.scope` (id `emr-serverless`), grants the EMR role
 * and the router, and sets the router's EMR Serverless variables in `build.env`.
 */
export function buildEmrServerless(
  build: BatchBuild,
  options: { readonly idleMinutes?: number },
): EmrserverlessApplication {
  const { scope, model, naming, storage, roles, reads, env } = build;
  const app = naming.app;
  const emrRole = roles.role("emr");
  const application = new EmrserverlessApplication(scope, "emr-serverless", {
    name: resourceNames.emrServerlessApplication(app),
    releaseLabel: releaseLabel(model, "emrServerless"),
    type: "spark",
    autoStartConfiguration: { enabled: true },
    autoStopConfiguration: { enabled: true, idleTimeoutMinutes: options.idleMinutes ?? 15 },
    monitoringConfiguration: {
      s3MonitoringConfiguration: {
        logUri: `s3://${storage.bucketName}/${PREFIXES.emrServerlessLogs}`,
        encryptionKeyArn: storage.key.arn,
      },
    },
    tags: naming.tags(),
  });
  reads.grantCompute(roles, "emr", "BatchEmrServerless", targetsOn(model, "emrServerless"));
  roles.grant("emr", {
    sid: "BatchEmrServerlessLogs",
    actions: ["s3:PutObject", "s3:GetObject"],
    resources: [storage.objects(PREFIXES.emrServerlessLogs)],
  });
  roles.grant("router", {
    sid: "BatchEmrServerlessJobRuns",
    actions: ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"],
    resources: [application.arn, `${application.arn}/jobruns/*`],
  });
  roles.grant("router", {
    sid: "BatchEmrServerlessPassRole",
    actions: ["iam:PassRole"],
    resources: [emrRole.arn],
    conditions: { StringLike: { "iam:PassedToService": "emr-serverless.amazonaws.com" } },
  });
  env[ROUTER_ENV.SLUICE_EMR_SERVERLESS_APP_ID] = application.id;
  env[ROUTER_ENV.SLUICE_EMR_EXECUTION_ROLE] = emrRole.arn;
  return application;
}

/** The one EMR release of the targets on an EMR engine (an application or cluster runs one). */
export function releaseLabel(model: FlowModel, engine: "emr" | "emrServerless"): string {
  const labels = new Set<string>();
  for (const n of targetsOn(model, engine)) {
    for (const t of n.compute) {
      if (t.engine === engine) labels.add(t.params.emr?.releaseLabel ?? DEFAULT_EMR_RELEASE_LABEL);
    }
  }
  if (engine === "emrServerless" && labels.size > 1) {
    throw new SynthError(
      `EMR Serverless targets use several release labels (${[...labels].sort().join(", ")}); ` +
        `the application's one EMR Serverless application runs one release: give them the same emr.releaseLabel`,
    );
  }
  return [...labels][0] ?? DEFAULT_EMR_RELEASE_LABEL;
}
