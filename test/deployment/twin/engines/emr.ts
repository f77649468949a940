/**
 * Amazon EMR on EC2 as the router meets it: RunJobFlow of a transient cluster with the module's
 * service role and instance profile, AddJobFlowSteps, DescribeStep/ListSteps/DescribeCluster/
 * ListClusters, CancelSteps and TerminateJobFlows. A cluster whose service role is
 * AmazonEMRServicePolicy_v2 launches only when it carries the tag
 * `for-use-with-amazon-emr-managed-policies=true` and names a subnet (which must carry it too): without
 * them it ends TERMINATED_WITH_ERRORS as on AWS. Steps do the driver's S3 work as the instance
 * profile's role and end in "EMR Step Status Change" events.
 *
 * @see https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-managed-iam-policies.html
 */
import {
  hexId,
  plannedWith,
  serviceError,
  stateEvent,
  stringField,
  type EngineContext,
  type EngineTwin,
  type StartedJob,
} from "./engine-context";
import { trusts } from "./trust";
import { runDriver } from "./spark-job";

export const EMR_MANAGED_POLICY_TAG = "for-use-with-amazon-emr-managed-policies";
const SERVICE_POLICY_V2 = "arn:aws:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2";

interface Step extends StartedJob {
  readonly clusterId: string;
  readonly name: string;
  readonly args: readonly string[];
}

interface Cluster {
  readonly id: string;
  readonly name: string;
  state: string;
  reason?: string;
  readonly role: string;
}

export class EmrTwin implements EngineTwin {
  readonly service = "EMR";
  readonly started: Step[] = [];
  readonly clusters: Cluster[] = [];

  constructor(private readonly ctx: EngineContext) {}

  handle = async (command: string, input: Record<string, unknown>): Promise<unknown> => {
    switch (command) {
      case "RunJobFlowCommand":
        return this.runJobFlow(input);
      case "AddJobFlowStepsCommand": {
        const cluster = this.cluster(stringField(input, "JobFlowId"));
        const steps = (input.Steps as Record<string, unknown>[] | undefined) ?? [];
        return { StepIds: steps.map((s) => this.addStep(cluster, s)) };
      }
      case "DescribeStepCommand": {
        const step = this.step(stringField(input, "ClusterId"), stringField(input, "StepId"));
        return { Step: this.stepView(step) };
      }
      case "ListStepsCommand": {
        const cluster = this.cluster(stringField(input, "ClusterId"));
        return {
          Steps: this.started
            .filter((s) => s.clusterId === cluster.id)
            .reverse()
            .map((s) => this.stepView(s)),
        };
      }
      case "DescribeClusterCommand": {
        const c = this.cluster(stringField(input, "ClusterId"));
        return {
          Cluster: {
            Id: c.id,
            Name: c.name,
            Status: { State: c.state, StateChangeReason: { Message: c.reason } },
          },
        };
      }
      case "ListClustersCommand":
        return {
          Clusters: this.clusters.map((c) => ({ Id: c.id, Name: c.name, Status: { State: c.state } })),
        };
      case "TerminateJobFlowsCommand":
        for (const id of (input.JobFlowIds as string[] | undefined) ?? [])
          this.cluster(id).state = "TERMINATED";
        return {};
      case "CancelStepsCommand": {
        const ids = (input.StepIds as string[] | undefined) ?? [];
        for (const id of ids) {
          const step = this.step(stringField(input, "ClusterId"), id);
          if (step.state === "PENDING" || step.state === "RUNNING") step.state = "CANCELLED";
        }
        return { CancelStepsInfoList: ids.map((StepId) => ({ StepId, Status: "SUBMITTED" })) };
      }
      default:
        throw serviceError("ValidationException", `the EMR twin does not implement ${command}`);
    }
  };

  private runJobFlow(input: Record<string, unknown>): { JobFlowId: string; ClusterArn: string } {
    const serviceRole = this.roleArn(stringField(input, "ServiceRole"));
    const service = this.ctx.roles.get(serviceRole);
    if (!trusts(service.trust, "elasticmapreduce.amazonaws.com")) {
      throw serviceError(
        "ValidationException",
        `Service role ${serviceRole} does not trust elasticmapreduce.amazonaws.com`,
      );
    }
    const profileName = stringField(input, "JobFlowRole") ?? "";
    const profile = plannedWith(this.ctx.plan, "aws_iam_instance_profile", "name", profileName);
    if (!profile) throw serviceError("ValidationException", `Instance profile ${profileName} does not exist`);
    const instanceRole = this.roleArn(String(profile.role));
    if (!trusts(this.ctx.roles.get(instanceRole).trust, "ec2.amazonaws.com")) {
      throw serviceError(
        "ValidationException",
        `Instance profile role ${instanceRole} does not trust ec2.amazonaws.com`,
      );
    }
    const id = `j-${hexId(`emr/${this.clusters.length}/${String(input.Name)}`, 13).toUpperCase()}`;
    const cluster: Cluster = { id, name: String(input.Name ?? ""), state: "STARTING", role: instanceRole };
    const tags = (input.Tags as { Key?: string; Value?: string }[] | undefined) ?? [];
    const subnet = (input.Instances as { Ec2SubnetId?: string } | undefined)?.Ec2SubnetId;
    if (service.awsManaged.includes(SERVICE_POLICY_V2)) {
      const tagged = tags.some((t) => t.Key === EMR_MANAGED_POLICY_TAG && t.Value === "true");
      if (!tagged || subnet === undefined) {
        cluster.state = "TERMINATED_WITH_ERRORS";
        cluster.reason =
          `VALIDATION_ERROR: The EMR service role ${serviceRole} uses AmazonEMRServicePolicy_v2, which requires ` +
          `the tag ${EMR_MANAGED_POLICY_TAG}=true on the cluster${tagged ? "" : " (missing)"} and on its subnet and security groups` +
          `${subnet === undefined ? " (no Ec2SubnetId given)" : ""}: not authorized to perform ec2:RunInstances`;
      }
    }
    this.clusters.push(cluster);
    for (const s of (input.Steps as Record<string, unknown>[] | undefined) ?? []) this.addStep(cluster, s);
    return {
      JobFlowId: id,
      ClusterArn: `arn:aws:elasticmapreduce:${this.ctx.region}:${this.ctx.account}:cluster/${id}`,
    };
  }

  private addStep(cluster: Cluster, step: Record<string, unknown>): string {
    const id = `s-${hexId(`${cluster.id}/${this.started.length}`, 13).toUpperCase()}`;
    const args = ((step.HadoopJarStep as { Args?: string[] } | undefined)?.Args ?? []) as string[];
    this.started.push({
      engine: "emr",
      id,
      clusterId: cluster.id,
      name: String(step.Name ?? ""),
      role: cluster.role,
      state: "PENDING",
      request: step,
      args,
    });
    return id;
  }

  async runPending(): Promise<unknown[]> {
    const events: unknown[] = [];
    for (const step of this.started.filter((s) => s.state === "PENDING" || s.state === "RUNNING")) {
      const cluster = this.cluster(step.clusterId);
      let error: string | undefined;
      if (cluster.state === "TERMINATED_WITH_ERRORS" || cluster.state === "TERMINATED") {
        error = cluster.reason ?? `cluster ${cluster.id} terminated`;
        step.state = "CANCELLED";
      } else {
        const script = step.args.find((a) => /^s3:\/\/.*\.py$/.test(a));
        error = await runDriver(this.ctx.s3As(step.role), script, step.args);
        step.state = error === undefined ? "COMPLETED" : "FAILED";
      }
      if (error !== undefined) step.error = error;
      events.push(
        stateEvent(this.ctx, "emr.step-status-change.failed.awsdocs.json", {
          severity: error === undefined ? "INFO" : "ERROR",
          stepId: step.id,
          name: step.name,
          clusterId: cluster.id,
          state: step.state,
          message: error ?? `Step ${step.id} (${step.name}) in Amazon EMR cluster ${cluster.id} completed`,
        }),
      );
      if (cluster.state !== "TERMINATED_WITH_ERRORS") cluster.state = "TERMINATED";
    }
    return events;
  }

  private roleArn(nameOrArn: string | undefined): string {
    const v = nameOrArn ?? "";
    return v.startsWith("arn:") ? v : `arn:aws:iam::${this.ctx.account}:role/${v}`;
  }

  private cluster(id: string | undefined): Cluster {
    const c = this.clusters.find((x) => x.id === id);
    if (!c) throw serviceError("InvalidRequestException", `Cluster id '${String(id)}' is not valid.`);
    return c;
  }

  private step(clusterId: string | undefined, id: string | undefined): Step {
    const s = this.started.find((x) => x.id === id && x.clusterId === clusterId);
    if (!s) throw serviceError("InvalidRequestException", `Step id '${String(id)}' is not valid.`);
    return s;
  }

  private stepView(s: Step): Record<string, unknown> {
    return {
      Id: s.id,
      Name: s.name,
      Status: {
        State: s.state,
        ...(s.error === undefined
          ? {}
          : { FailureDetails: { Message: s.error }, StateChangeReason: { Message: s.error } }),
      },
    };
  }
}
