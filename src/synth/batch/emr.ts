/**
 * EMR on EC2: the service role and the instance profile of the transient clusters the router launches
 * (the instance role runs the Spark driver, with the targets' own permissions), the router's
 * permissions to launch, drive and terminate them, and the environment variables that name them.
 */
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { EMR_MANAGED_POLICY_TAG, ROUTER_ENV } from "../../flow/model/deployment-contract";
import { TerraformStack, TerraformVariable } from "../cdktf";
import { assumeRolePolicy, policyDocument, type Statement } from "../policy";
import { arnOf, PREFIXES, targetsOn, type BatchBuild } from "./context";

/** The AWS managed policy of the EMR service role (EMR on EC2). */
export const EMR_SERVICE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2";

/** The module variable of the EMR clusters' subnet. */
export const EMR_SUBNET_VARIABLE = "emr_subnet_id";

/** What the EMR on EC2 builder creates. */
export interface EmrResources {
  readonly serviceRole: IamRole;
  readonly instanceRole: IamRole;
  readonly instanceProfile: IamInstanceProfile;
}

/**
 * Builds the roles of transient EMR clusters in `build.scope` (ids `emr-service-role`,
 * `emr-service-policy`, `emr-instance-role`, `emr-instance-profile`, `emr-instance-policy`), grants the
 * router, and sets the router's EMR variables in `build.env`.
 */
export function buildEmr(build: BatchBuild): EmrResources {
  const { scope, model, naming, storage, roles, reads, env } = build;
  const app = naming.app;
  const tags = naming.tags();
  const serviceRole = new IamRole(scope, "emr-service-role", {
    name: naming.accountWideName("emr-service-role", 64),
    description: `Sluice ${app}: service role of transient EMR clusters`,
    assumeRolePolicy: assumeRolePolicy("elasticmapreduce.amazonaws.com"),
    tags,
  });
  new IamRolePolicyAttachment(scope, "emr-service-policy", {
    role: serviceRole.name,
    policyArn: EMR_SERVICE_POLICY_ARN,
  });
  const instanceRole = new IamRole(scope, "emr-instance-role", {
    name: naming.accountWideName("emr-instance-role", 64),
    description: `Sluice ${app}: EC2 instance role of transient EMR clusters (runs the Spark driver)`,
    assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"),
    tags,
  });
  const instanceProfile = new IamInstanceProfile(scope, "emr-instance-profile", {
    name: naming.accountWideName("emr-instance-profile", 128),
    role: instanceRole.name,
    tags,
  });
  const emrNodes = targetsOn(model, "emr");
  const instanceStatements: Statement[] = [
    ...reads.computeStatements("BatchEmr", emrNodes),
    {
      sid: "BatchEmrLogs",
      actions: ["s3:PutObject", "s3:GetObject"],
      resources: [storage.objects(PREFIXES.emrLogs)],
    },
    // The targets' own permissions, verbatim, on the role their code runs as.
    ...emrNodes.flatMap((n) =>
      n.compute
        .filter((t) => t.engine === "emr")
        .flatMap((t) => t.permissions)
        .map((p, i) => ({
          sid: `User${n.id.replace(/[^A-Za-z0-9]/g, "")}${i + 1}`,
          effect: p.effect,
          actions: p.actions,
          resources: p.resources,
        })),
    ),
  ];
  new IamRolePolicy(scope, "emr-instance-policy", {
    name: naming.name("emr-instance-policy", 128),
    role: instanceRole.id,
    policy: policyDocument(instanceStatements),
  });
  roles.grant("router", {
    sid: "BatchEmrRunJobFlow",
    actions: ["elasticmapreduce:RunJobFlow"],
    resources: ["*"],
  });
  roles.grant("router", {
    sid: "BatchEmrListClusters",
    actions: ["elasticmapreduce:ListClusters"],
    resources: ["*"],
  });
  roles.grant("router", {
    sid: "BatchEmrSteps",
    actions: [
      "elasticmapreduce:AddJobFlowSteps",
      "elasticmapreduce:DescribeStep",
      "elasticmapreduce:ListSteps",
      "elasticmapreduce:CancelSteps",
      "elasticmapreduce:DescribeCluster",
      "elasticmapreduce:TerminateJobFlows",
    ],
    resources: [arnOf(naming, "elasticmapreduce", "cluster/*")],
  });
  roles.grant("router", {
    sid: "BatchEmrPassServiceRole",
    actions: ["iam:PassRole"],
    resources: [serviceRole.arn],
    conditions: { StringLike: { "iam:PassedToService": "elasticmapreduce.amazonaws.com*" } },
  });
  roles.grant("router", {
    sid: "BatchEmrPassInstanceRole",
    actions: ["iam:PassRole"],
    resources: [instanceRole.arn],
    conditions: { StringLike: { "iam:PassedToService": "ec2.amazonaws.com*" } },
  });
  env[ROUTER_ENV.SLUICE_EMR_SERVICE_ROLE] = serviceRole.name;
  env[ROUTER_ENV.SLUICE_EMR_JOB_FLOW_ROLE] = instanceProfile.name;
  env[ROUTER_ENV.SLUICE_EMR_LOG_URI] = `s3://${storage.bucketName}/${PREFIXES.emrLogs}`;
  // AmazonEMRServicePolicy_v2 launches clusters only into a subnet tagged for it: the caller's network.
  env[ROUTER_ENV.SLUICE_EMR_SUBNET_ID] = new TerraformVariable(
    TerraformStack.of(scope),
    EMR_SUBNET_VARIABLE,
    {
      type: "string",
      description: `Subnet of the transient EMR clusters (subnet-…). It must carry the tag ${EMR_MANAGED_POLICY_TAG}=true, as must the security groups EMR creates in its VPC (AmazonEMRServicePolicy_v2).`,
      validation: [
        {
          condition: `\${can(regex("^subnet-[0-9a-f]{8,17}$", var.${EMR_SUBNET_VARIABLE}))}`,
          errorMessage: "emr_subnet_id is a subnet id: subnet- and 8 or 17 hexadecimal digits.",
        },
      ],
    },
  ).stringValue;
  return { serviceRole, instanceRole, instanceProfile };
}
