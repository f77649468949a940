/**
 * Runs sparkSql / pySpark targets as steps on EMR on EC2: `spark-submit <driver> --sluice_spec <spec>`
 * through command-runner.jar. With `params.emr.clusterId` the step is added to that cluster; without,
 * a transient cluster is created for the one step and terminates when it ends.
 *
 * start → AddJobFlowSteps or RunJobFlow (+ ListSteps for the step id); handle = `<clusterId>/<stepId>`
 * (`<clusterId>/` while the step id of a new cluster is not known yet; poll finds it by name);
 * poll → DescribeStep (+ DescribeCluster for why a step was cancelled); kill → CancelSteps, and
 * TerminateJobFlows for a transient cluster; recover → ListSteps of the cluster (a transient one found
 * by its name through ListClusters), the step named after the request's execution, target and attempt.
 */
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  ListClustersCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
  type Cluster,
  type ClusterState,
  type EMRClient,
  type RunJobFlowCommandInput,
  type Step,
  type StepConfig,
} from "@aws-sdk/client-emr";
import { EMR_MANAGED_POLICY_TAG } from "../../../flow/model/deployment-contract";
import { boundedName } from "../../../flow/model/resource-names";
import type { DispatchRequest, DispatchResult, Dispatcher } from "../../core/dispatcher";
import { failed, isCapacityMessage, pollFailure, sdkFailure, targetLabel } from "./errors";
import {
  encodeSparkJobSpec,
  oversizeMessage,
  startableSpec,
  SPEC_ARGUMENT,
  sparkSubmitArgs,
} from "./spark-job-spec";

/** "The string values passed into HadoopJarStep object cannot exceed a total of 10240 characters" (EMR AddJobFlowSteps). */
export const EMR_STEP_LIMIT_CHARS = 10_240;
export const DEFAULT_EMR_RELEASE_LABEL = "emr-7.1.0";
export const DEFAULT_EMR_INSTANCE_TYPE = "m5.xlarge";
export const DEFAULT_EMR_CORE_INSTANCES = 2;
export const DEFAULT_EMR_RECOVER_PAGES = 10;

export interface EmrDispatcherProps {
  readonly client: EMRClient;
  /** Service role of transient clusters. */
  readonly serviceRole: string;
  /** EC2 instance profile of transient clusters. */
  readonly jobFlowRole: string;
  /** s3:// folder of transient clusters' logs. */
  readonly logUri?: string;
  /** s3:// URI of the Sluice driver script. */
  readonly driverScript: string;
  /** Subnet of transient clusters. @default the account's default VPC */
  readonly subnetId?: string;
  /** Tries of ListSteps to learn a new cluster's step id before returning a handle without it. @default 3 */
  readonly stepLookupAttempts?: number;
  /** Waits between those tries. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Pages of ListSteps (newest steps first) and of ListClusters (active clusters), 50 entries each,
   * that `recover` looks through before it concludes that the attempt never started.
   * @default DEFAULT_EMR_RECOVER_PAGES
   */
  readonly recoverPages?: number;
}

const NAME_MAX = 256;
const RUNNING_STATES: ReadonlySet<string> = new Set(["PENDING", "RUNNING", "CANCEL_PENDING"]);
const ENDED_CLUSTER_STATES: ReadonlySet<string> = new Set(["TERMINATED", "TERMINATED_WITH_ERRORS"]);
/** Clusters that have not terminated yet: where `recover` looks for a transient cluster. */
const ACTIVE_CLUSTER_STATES: readonly ClusterState[] = [
  "STARTING",
  "BOOTSTRAPPING",
  "RUNNING",
  "WAITING",
  "TERMINATING",
];
/** Cluster state change reasons that are AWS-side conditions (instances lost or not provisioned in time). */
const TRANSIENT_CLUSTER_CODES: ReadonlySet<string> = new Set([
  "INTERNAL_ERROR",
  "INSTANCE_FAILURE",
  "INSTANCE_FLEET_TIMEOUT",
]);

interface Handle {
  readonly clusterId: string;
  /** "" while unknown. */
  readonly stepId: string;
}

export class EmrDispatcher implements Dispatcher {
  constructor(private readonly props: EmrDispatcherProps) {}

  /**
   * Name of the step of one attempt of a target (also the transient cluster's name):
   * `sluice-<executionId>-<targetIndex>-<attempt>`, what `recover` finds the step and cluster by.
   */
  stepName(request: DispatchRequest): string {
    return boundedName(
      ["sluice", request.executionId, String(request.targetIndex), String(request.attempt)],
      NAME_MAX,
    );
  }

  async start(request: DispatchRequest): Promise<DispatchResult> {
    const label = targetLabel(request);
    const spec = startableSpec(request);
    if (typeof spec === "string") return failed(`${label}: ${spec}`);
    const params = request.target.params;

    const clusterId = params.emr?.clusterId;
    const jar = "command-runner.jar";
    const args = [
      "spark-submit",
      "--deploy-mode",
      "cluster",
      ...sparkSubmitArgs(params.sparkArgs),
      this.props.driverScript,
      SPEC_ARGUMENT,
      encodeSparkJobSpec(spec),
    ];
    const size = jar.length + args.reduce((n, a) => n + a.length, 0);
    const oversize = oversizeMessage(
      "the EMR step's HadoopJarStep strings",
      size,
      EMR_STEP_LIMIT_CHARS,
      "characters",
    );
    if (oversize !== undefined) return failed(`${label}: ${oversize}`);
    const step: StepConfig = {
      Name: this.stepName(request),
      // A transient cluster exists for this step only.
      ActionOnFailure: clusterId === undefined ? "TERMINATE_CLUSTER" : "CONTINUE",
      HadoopJarStep: { Jar: jar, Args: args },
    };

    if (clusterId !== undefined) {
      let stepId: string | undefined;
      try {
        const out = await this.props.client.send(
          new AddJobFlowStepsCommand({ JobFlowId: clusterId, Steps: [step] }),
        );
        stepId = out.StepIds?.[0];
      } catch (e) {
        return sdkFailure(request, "EMR AddJobFlowSteps", e);
      }
      if (stepId === undefined || stepId === "") {
        return failed(`${label}: EMR AddJobFlowSteps returned no step id`, true);
      }
      return { status: "RUNNING", handle: formatHandle({ clusterId, stepId }) };
    }

    let newCluster: string | undefined;
    try {
      newCluster = (await this.props.client.send(new RunJobFlowCommand(this.runJobFlowInput(request, step))))
        .JobFlowId;
    } catch (e) {
      return sdkFailure(request, "EMR RunJobFlow", e);
    }
    if (newCluster === undefined || newCluster === "") {
      return failed(`${label}: EMR RunJobFlow returned no cluster id`, true);
    }
    // The cluster exists from here on: whatever happens, report it as running so that it is polled
    // (or killed), never started a second time.
    const attempts = Math.max(1, this.props.stepLookupAttempts ?? 3);
    const sleep = this.props.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let k = 1; k <= attempts; k++) {
      try {
        const found = await this.findStep(newCluster, step.Name as string);
        if (found !== undefined)
          return { status: "RUNNING", handle: formatHandle({ clusterId: newCluster, stepId: found }) };
      } catch {
        // Looked up again by poll.
      }
      if (k < attempts) await sleep(1000 * k);
    }
    return { status: "RUNNING", handle: formatHandle({ clusterId: newCluster, stepId: "" }) };
  }

  /** The RunJobFlow request of a transient cluster running `step`. */
  runJobFlowInput(request: DispatchRequest, step: StepConfig): RunJobFlowCommandInput {
    const { params } = request.target;
    const emr = params.emr ?? {};
    const workerType = emr.instanceType ?? DEFAULT_EMR_INSTANCE_TYPE;
    return {
      Name: step.Name,
      ReleaseLabel: emr.releaseLabel ?? DEFAULT_EMR_RELEASE_LABEL,
      Applications: [{ Name: "Spark" }],
      ServiceRole: this.props.serviceRole,
      JobFlowRole: this.props.jobFlowRole,
      ...(this.props.logUri === undefined ? {} : { LogUri: this.props.logUri }),
      Instances: {
        MasterInstanceType: emr.masterInstanceType ?? workerType,
        SlaveInstanceType: workerType,
        // One master node plus the core nodes.
        InstanceCount: emr.instanceCount ?? 1 + (params.workers ?? DEFAULT_EMR_CORE_INSTANCES),
        KeepJobFlowAliveWhenNoSteps: false,
        TerminationProtected: false,
        ...(this.props.subnetId === undefined ? {} : { Ec2SubnetId: this.props.subnetId }),
      },
      Steps: [step],
      VisibleToAllUsers: true,
      // AmazonEMRServicePolicy_v2 manages only resources that carry this tag: without it no cluster starts.
      Tags: [{ Key: EMR_MANAGED_POLICY_TAG, Value: "true" }],
    };
  }

  async poll(handle: string, request: DispatchRequest): Promise<DispatchResult> {
    const label = targetLabel(request);
    const h = parseHandle(handle);
    if (h === undefined) return failed(`${label}: malformed EMR handle "${handle}"`);
    let stepId = h.stepId;
    if (stepId === "") {
      try {
        stepId = (await this.findStep(h.clusterId, this.stepName(request))) ?? "";
      } catch (e) {
        return pollFailure(request, handle, "EMR ListSteps", e);
      }
      if (stepId === "") {
        // No step yet: fine while the cluster starts, a failure once it has ended.
        let cluster: Cluster | undefined;
        try {
          cluster = await this.cluster(h.clusterId);
        } catch (e) {
          return pollFailure(request, handle, "EMR DescribeCluster", e);
        }
        const state = cluster?.Status?.State ?? "";
        if (!ENDED_CLUSTER_STATES.has(state)) return { status: "RUNNING", handle };
        return failed(
          `${label}: EMR cluster ${h.clusterId} ended before its step was found${clusterText(cluster)}`,
          clusterTransient(cluster),
        );
      }
    }
    let step: Step | undefined;
    try {
      step = (
        await this.props.client.send(new DescribeStepCommand({ ClusterId: h.clusterId, StepId: stepId }))
      ).Step;
    } catch (e) {
      return pollFailure(request, handle, "EMR DescribeStep", e);
    }
    const state = step?.Status?.State ?? "";
    if (RUNNING_STATES.has(state)) return { status: "RUNNING", handle };
    if (state === "COMPLETED") return { status: "SUCCEEDED" };

    const details = step?.Status?.FailureDetails;
    const parts = [details?.Reason, details?.Message].filter((p): p is string => p !== undefined && p !== "");
    let text = parts.join(": ");
    if (details?.LogFile) text += ` (log ${details.LogFile})`;
    // A cancelled or interrupted step, or a failure without details: the cluster tells why.
    let cluster: Cluster | undefined;
    if (state !== "FAILED" || parts.length === 0)
      cluster = await this.cluster(h.clusterId).catch(() => undefined);
    const transient = isCapacityMessage(text) || clusterTransient(cluster);
    return failed(
      `${label}: EMR step ${stepId} on cluster ${h.clusterId} ended ${state || "in an unknown state"}${
        text === "" ? "" : `: ${text}`
      }${clusterText(cluster)}`,
      transient,
    );
  }

  /**
   * The step that a start of this request (same execution, target and attempt) added before its
   * invocation died, found by its name: on the target's cluster, or on the transient cluster of that
   * name among the active clusters (a cluster that has already terminated is not looked for). Its
   * handle as RUNNING (poll tells how it is doing), or undefined when there is none within
   * `recoverPages` pages. SDK errors propagate.
   */
  async recover(request: DispatchRequest): Promise<DispatchResult | undefined> {
    const name = this.stepName(request);
    const pages = Math.max(1, this.props.recoverPages ?? DEFAULT_EMR_RECOVER_PAGES);
    const clusterId = request.target.params.emr?.clusterId;
    if (clusterId !== undefined) {
      const stepId = await this.findStep(clusterId, name, pages);
      return stepId === undefined
        ? undefined
        : { status: "RUNNING", handle: formatHandle({ clusterId, stepId }) };
    }
    const cluster = await this.findActiveCluster(name, pages);
    if (cluster === undefined) return undefined;
    // The cluster exists for this step alone: it is the attempt's, whether its step is listed yet or not
    // (poll looks the step up by name, as after a start).
    const stepId = (await this.findStep(cluster, name, pages).catch(() => undefined)) ?? "";
    return { status: "RUNNING", handle: formatHandle({ clusterId: cluster, stepId }) };
  }

  async kill(handle: string, request: DispatchRequest): Promise<void> {
    const h = parseHandle(handle);
    if (h === undefined) throw new Error(`${targetLabel(request)}: malformed EMR handle "${handle}"`);
    const transientCluster = request.target.params.emr?.clusterId === undefined;
    let stepId = h.stepId;
    if (stepId === "")
      stepId = (await this.findStep(h.clusterId, this.stepName(request)).catch(() => undefined)) ?? "";
    if (transientCluster) {
      // Terminating the cluster ends the step in any case; cancel first so the step says why.
      if (stepId !== "") await this.cancelStep(h.clusterId, stepId, request).catch(() => undefined);
      await this.props.client.send(new TerminateJobFlowsCommand({ JobFlowIds: [h.clusterId] }));
      return;
    }
    if (stepId !== "") await this.cancelStep(h.clusterId, stepId, request);
  }

  private async cancelStep(clusterId: string, stepId: string, request: DispatchRequest): Promise<void> {
    const out = await this.props.client.send(
      new CancelStepsCommand({
        ClusterId: clusterId,
        StepIds: [stepId],
        StepCancellationOption: "SEND_INTERRUPT",
      }),
    );
    const info = out.CancelStepsInfoList?.find((i) => i.StepId === stepId);
    if (info?.Status !== "FAILED") return;
    // A step that has already ended cannot be cancelled: nothing to do.
    const step = (
      await this.props.client.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: stepId }))
    ).Step;
    const state = step?.Status?.State;
    if (state !== undefined && !RUNNING_STATES.has(state)) return;
    throw new Error(
      `${targetLabel(request)}: EMR CancelSteps of ${stepId} on ${clusterId} failed: ${info.Reason ?? "no reason given"}`,
    );
  }

  /** Id of the step named `name` on a cluster (the newest, if several) within `pages` pages, or undefined. */
  private async findStep(clusterId: string, name: string, pages = Infinity): Promise<string | undefined> {
    let marker: string | undefined;
    for (let page = 0; page < pages; page++) {
      const out = await this.props.client.send(
        new ListStepsCommand({ ClusterId: clusterId, ...(marker === undefined ? {} : { Marker: marker }) }),
      );
      // ListSteps returns the newest steps first.
      const hit = out.Steps?.find((s) => s.Name === name && s.Id !== undefined);
      if (hit?.Id !== undefined) return hit.Id;
      marker = out.Marker;
      if (marker === undefined || marker === "") return undefined;
    }
    return undefined;
  }

  /** Id of the active cluster named `name` within `pages` pages of ListClusters, or undefined. */
  private async findActiveCluster(name: string, pages: number): Promise<string | undefined> {
    let marker: string | undefined;
    for (let page = 0; page < pages; page++) {
      const out = await this.props.client.send(
        new ListClustersCommand({
          ClusterStates: [...ACTIVE_CLUSTER_STATES],
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      );
      const hit = out.Clusters?.find((c) => c.Name === name && c.Id !== undefined && c.Id !== "");
      if (hit?.Id !== undefined) return hit.Id;
      marker = out.Marker;
      if (marker === undefined || marker === "") return undefined;
    }
    return undefined;
  }

  private async cluster(clusterId: string): Promise<Cluster | undefined> {
    return (await this.props.client.send(new DescribeClusterCommand({ ClusterId: clusterId }))).Cluster;
  }
}

function clusterTransient(cluster: Cluster | undefined): boolean {
  const reason = cluster?.Status?.StateChangeReason;
  return TRANSIENT_CLUSTER_CODES.has(reason?.Code ?? "") || isCapacityMessage(reason?.Message);
}

function clusterText(cluster: Cluster | undefined): string {
  const status = cluster?.Status;
  if (status === undefined) return "";
  const reason = [status.StateChangeReason?.Code, status.StateChangeReason?.Message].filter(
    (p): p is string => p !== undefined && p !== "",
  );
  const ended = status.State ?? "in an unknown state";
  return `; cluster ${cluster?.Id ?? "?"} ${ended}${reason.length === 0 ? "" : `: ${reason.join(": ")}`}`;
}

function formatHandle(h: Handle): string {
  return `${h.clusterId}/${h.stepId}`;
}

function parseHandle(handle: string): Handle | undefined {
  const at = handle.indexOf("/");
  if (at <= 0) return undefined;
  return { clusterId: handle.slice(0, at), stepId: handle.slice(at + 1) };
}
