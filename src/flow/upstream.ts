/**
 * Collaboration between applications: an upstream application's data nodes imported as inputs
 * (`app.importUpstream`), read from the FlowModel manifest the upstream publishes.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { BuildContext } from "./build-context";
import { FlowValidationError } from "./errors";
import type {
  DataNodeModel,
  FlowModel,
  SignalModel,
  UpstreamDataNodeModel,
  UpstreamRefModel,
} from "./model/flow-model";
import { Node } from "./node";

export interface UpstreamProps {
  /** Account the upstream application is deployed to. */
  readonly account: string;
  readonly region: string;
  /**
   * The upstream's storage bucket. Needed only when its name is not the derived
   * `<app>-<account>-<region>`: a name longer than 63 characters, which synth shortens with a hash
   * and a Terraform module with `substr`. @default the derived name
   */
  readonly bucket?: string;
  /**
   * The upstream's FlowModel: the object, or a path (relative to the application root) to the
   * manifest JSON that synth publishes (`sluice/manifest.json`).
   */
  readonly manifest: FlowModel | string;
}

/** An upstream application, as this application sees it. */
export class Upstream {
  /** The upstream's published FlowModel. */
  readonly model: FlowModel;
  private readonly imported = new Map<string, UpstreamDataNode>();

  /** @internal created by Application.importUpstream */
  constructor(
    readonly name: string,
    readonly props: UpstreamProps,
    root: string,
    private readonly declare: (node: UpstreamDataNode) => UpstreamDataNode,
  ) {
    this.model =
      typeof props.manifest === "string"
        ? (JSON.parse(readFileSync(path.resolve(root, props.manifest), "utf8")) as FlowModel)
        : props.manifest;
  }

  get ref(): UpstreamRefModel {
    const { account, region, bucket } = this.props;
    return { application: this.name, account, region, ...(bucket === undefined ? {} : { bucket }) };
  }

  /**
   * A data node of the upstream, usable as an input. Only the upstream's own data nodes are visible:
   * nodes it imports from its own upstreams, and its external datasets, timers and alarms, are not.
   * @param localId the node's id in this application. @default the upstream's id
   */
  node(id: string, localId: string = id): UpstreamDataNode {
    const known = this.imported.get(id);
    if (known) return known;
    const upstreamNode = this.model.nodes[id];
    if (upstreamNode === undefined || upstreamNode.kind !== "data") {
      const why =
        upstreamNode === undefined
          ? "no such node"
          : upstreamNode.kind === "upstreamData"
            ? `it is imported by "${this.name}" from "${upstreamNode.upstream.application}" and is not re-exposed (no transitive exposure)`
            : `it is a ${upstreamNode.kind}; only the upstream's own data nodes are visible`;
      throw new FlowValidationError([
        {
          path: `upstreams.${this.name}.${id}`,
          code: "upstream.node",
          message: `upstream "${this.name}", node "${id}": ${why}`,
        },
      ]);
    }
    const node = this.declare(new UpstreamDataNode(localId, { upstream: this, source: upstreamNode }));
    this.imported.set(id, node);
    return node;
  }
}

export interface UpstreamDataNodeProps {
  readonly upstream: Upstream;
  readonly source: DataNodeModel;
}

export class UpstreamDataNode extends Node<UpstreamDataNodeProps> {
  readonly kind = "upstreamData" as const;

  buildSignal(_ctx: BuildContext): SignalModel {
    return this.props.source.signal;
  }

  buildModel(_ctx: BuildContext, signal: SignalModel): UpstreamDataNodeModel {
    const { upstream, source } = this.props;
    return {
      id: this.id,
      kind: "upstreamData",
      signal,
      metadata: source.metadata,
      upstream: upstream.ref,
      node: source.id,
      path: source.path,
      format: source.format,
    };
  }
}
