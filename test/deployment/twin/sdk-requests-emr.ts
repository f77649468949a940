/**
 * Authorization requests of the EMR (on EC2) and EMR Serverless commands the router sends.
 *
 * Roles handed to a service are authorized as `iam:PassRole` on the role with `iam:PassedToService`:
 * EMR's ServiceRole to `elasticmapreduce.amazonaws.com`, its AutoScalingRole to
 * `application-autoscaling.amazonaws.com`, its JobFlowRole to `ec2.amazonaws.com` (the clusters' instances),
 * and an EMR Serverless job's execution role to `emr-serverless.amazonaws.com`. JobFlowRole names an EC2
 * instance profile, and AWS evaluates PassRole on the role inside it; a pure mapping cannot read IAM, so
 * the profile's role comes from `ctx.instanceProfileRole`, by default the same-named role (what
 * `aws emr create-default-roles` and most Terraform set-ups create).
 */
import {
  arn,
  type AuthorizationContext,
  type AuthorizationRequest,
  list,
  optStr,
  requestTagContext,
  roleArn,
  str,
} from "./sdk-requests-shared";

/** `arn:…:elasticmapreduce:<region>:<account>:cluster/<id>`. */
export function clusterArn(ctx: AuthorizationContext, clusterId: string): string {
  return arn(ctx, "elasticmapreduce", `cluster/${clusterId}`);
}

function passRole(role: string, service: string): AuthorizationRequest {
  return { action: "iam:PassRole", resource: role, context: { "iam:PassedToService": service } };
}

/** The role inside an instance profile given by name or ARN (see the file comment). */
function instanceProfileRoleArn(ctx: AuthorizationContext, profile: string): string {
  const name = profile.startsWith("arn:") ? profile.slice(profile.lastIndexOf("/") + 1) : profile;
  const role = ctx.instanceProfileRole?.(profile) ?? ctx.instanceProfileRole?.(name) ?? name;
  return roleArn(ctx, role);
}

/** EMR on EC2 (client serviceId "EMR"). */
export function emrRequests(
  op: string,
  input: Record<string, unknown>,
  ctx: AuthorizationContext,
): AuthorizationRequest[] | undefined {
  const cluster = (field: string) => [
    { action: `elasticmapreduce:${op}`, resource: clusterArn(ctx, str(input, field)), context: {} },
  ];
  switch (op) {
    case "RunJobFlow": {
      const tags: Record<string, string> = {};
      for (const tag of list(input, "Tags")) tags[str(tag, "Key")] = optStr(tag, "Value") ?? "";
      const requests: AuthorizationRequest[] = [
        {
          action: "elasticmapreduce:RunJobFlow",
          resource: "*",
          context: requestTagContext(tags, ["aws", "elasticmapreduce"]),
        },
      ];
      const serviceRole = optStr(input, "ServiceRole");
      if (serviceRole) requests.push(passRole(roleArn(ctx, serviceRole), "elasticmapreduce.amazonaws.com"));
      const jobFlowRole = optStr(input, "JobFlowRole");
      if (jobFlowRole) requests.push(passRole(instanceProfileRoleArn(ctx, jobFlowRole), "ec2.amazonaws.com"));
      const autoScalingRole = optStr(input, "AutoScalingRole");
      if (autoScalingRole) {
        requests.push(passRole(roleArn(ctx, autoScalingRole), "application-autoscaling.amazonaws.com"));
      }
      return requests;
    }
    case "AddJobFlowSteps": {
      const executionRole = optStr(input, "ExecutionRoleArn");
      return [
        {
          action: "elasticmapreduce:AddJobFlowSteps",
          resource: clusterArn(ctx, str(input, "JobFlowId")),
          context: executionRole ? { "elasticmapreduce:ExecutionRoleArn": executionRole } : {},
        },
      ];
    }
    case "DescribeStep":
    case "DescribeCluster":
    case "ListSteps":
    case "CancelSteps":
      return cluster("ClusterId");
    case "TerminateJobFlows": {
      const ids = input["JobFlowIds"];
      if (!Array.isArray(ids)) throw new Error("twin IAM: TerminateJobFlows without JobFlowIds");
      return ids.map((id) => ({
        action: "elasticmapreduce:TerminateJobFlows",
        resource: clusterArn(ctx, String(id)),
        context: {},
      }));
    }
    case "ListClusters":
      return [{ action: "elasticmapreduce:ListClusters", resource: "*", context: {} }];
    default:
      return undefined;
  }
}

/** EMR Serverless (client serviceId "EMR Serverless"; its inputs are camelCase). */
export function emrServerlessRequests(
  op: string,
  input: Record<string, unknown>,
  ctx: AuthorizationContext,
): AuthorizationRequest[] | undefined {
  const application = () => arn(ctx, "emr-serverless", `/applications/${str(input, "applicationId")}`);
  switch (op) {
    case "StartJobRun": {
      const tags = (input["tags"] ?? {}) as Record<string, string>;
      return [
        {
          action: "emr-serverless:StartJobRun",
          resource: application(),
          context: requestTagContext(tags, ["aws"]),
        },
        passRole(roleArn(ctx, str(input, "executionRoleArn")), "emr-serverless.amazonaws.com"),
      ];
    }
    case "GetJobRun":
    case "CancelJobRun":
      return [
        {
          action: `emr-serverless:${op}`,
          resource: `${application()}/jobruns/${str(input, "jobRunId")}`,
          context: {},
        },
      ];
    default:
      return undefined;
  }
}
