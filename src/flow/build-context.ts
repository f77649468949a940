/**
 * What a node sees of the application while it turns itself into model form.
 */
import type { LocalFunctionRegistry } from "./code-ref";
import type { IssueCollector } from "./errors";
import type { Engine, SignalModel } from "./model/flow-model";
import type { Node } from "./node";

export interface ApplicationInfo {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly metricsNamespace: string;
  readonly enginePriority: readonly Engine[];
}

export interface BuildContext {
  readonly app: ApplicationInfo;
  readonly issues: IssueCollector;
  readonly functions: LocalFunctionRegistry;
  /** The node's signal (memoized); undefined when the node is not part of this application or in a cycle. */
  signalOf(node: Node): SignalModel | undefined;
  /** True when the node was declared on this application (and not replaced since). */
  owns(node: Node): boolean;
}
