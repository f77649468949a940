/**
 * The base of every node handle, and the selections made from it (`at`, `ref`, `rangeCheck`, `dim`).
 */
import type { BuildContext } from "./build-context";
import type { IssueCollector } from "./errors";
import type { NodeModel, SignalModel } from "./model/flow-model";
import type { RangeSelector } from "./range";
import type { DimensionValueInput } from "./signal-spec";

/** One position of `at(...)`: "*", a value, a list of values, or `range(n)`. */
export type Selector = "*" | DimensionValueInput | readonly DimensionValueInput[] | RangeSelector;

/** A dimension of a node or of one particular input selection, used as a link endpoint. */
export class DimensionRef {
  constructor(
    readonly owner: Node | InputSignal,
    readonly dimension: string,
  ) {}
}

/** A node seen through a selection: what a data node consumes, or one concrete event to inject. */
export class InputSignal {
  constructor(
    readonly node: Node,
    readonly selectors: readonly Selector[] = [],
    readonly reference = false,
    readonly checkRange = false,
  ) {}

  /** Narrows dimensions in order; later calls replace the positions they give. */
  at(...selectors: Selector[]): InputSignal {
    const merged = [...this.selectors];
    selectors.forEach((s, i) => (merged[i] = s));
    return this.with({ selectors: merged });
  }

  /** A reference input: read, never triggers. */
  ref(): InputSignal {
    return this.with({ reference: true });
  }

  /** Keep the trigger group pending until every partition of the input's range exists. */
  rangeCheck(): InputSignal {
    return this.with({ checkRange: true });
  }

  dim(name: string): DimensionRef {
    return new DimensionRef(this, name);
  }

  protected with(p: {
    selectors?: readonly Selector[];
    reference?: boolean;
    checkRange?: boolean;
  }): InputSignal {
    return new InputSignal(
      this.node,
      p.selectors ?? this.selectors,
      p.reference ?? this.reference,
      p.checkRange ?? this.checkRange,
    );
  }
}

/** The application a node belongs to, as far as the node needs to know it. */
export interface NodeOwner {
  createContext(issues: IssueCollector): BuildContext;
}

export abstract class Node<P = unknown> {
  abstract readonly kind: NodeModel["kind"];
  private currentProps: P;
  private ownerRef: NodeOwner | undefined;

  constructor(
    readonly id: string,
    props: P,
  ) {
    this.currentProps = props;
  }

  /** The node's declared properties (replaced by `Application.update`/`patch`). */
  get props(): P {
    return this.currentProps;
  }

  /** @internal used by Application.update/patch */
  replaceProps(props: P): void {
    this.currentProps = props;
  }

  /** @internal set once by the Application that declares the node */
  attach(owner: NodeOwner): void {
    this.ownerRef = owner;
  }

  protected owner(): NodeOwner {
    if (this.ownerRef === undefined) throw new Error(`node "${this.id}" is not declared on an application`);
    return this.ownerRef;
  }

  at(...selectors: Selector[]): InputSignal {
    return new InputSignal(this, selectors);
  }

  ref(): InputSignal {
    return new InputSignal(this, [], true);
  }

  rangeCheck(): InputSignal {
    return new InputSignal(this, [], false, true);
  }

  dim(name: string): DimensionRef {
    return new DimensionRef(this, name);
  }

  /** Nodes this node consumes (inputs, alarms in a rule); used for cycle detection and downstream re-validation. */
  dependencies(): Node[] {
    return [];
  }

  /** @internal */
  abstract buildSignal(ctx: BuildContext): SignalModel;

  /** @internal */
  abstract buildModel(ctx: BuildContext, signal: SignalModel): NodeModel;
}
