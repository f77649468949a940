/**
 * The route table: a FlowModel compiled for matching. Each data node is a route; an index maps a
 * signal's node to the (route, input) pairs it can feed, so matching is O(1) in the number of routes.
 *
 * Group keys: inputs linked by invertible one-to-one mappers (eq, shift, injective map) form link
 * components. A component every trigger input takes part in is "shared"; the values of the shared
 * components, each converted to one pivot dimension, are the group key. Every event of a group has
 * the same key, so an event reads and writes one bucket of groups, never a scan of the route.
 */
import type {
  DataNodeModel,
  DimensionModel,
  DimensionValue,
  FlowModel,
  InputModel,
  LinkModel,
  NodeModel,
} from "../../flow/model/flow-model";
import { applyMapper, invertMapper, type CustomMapperResolver } from "../../flow/model/mapper";
import { shortHash } from "./hash";
import { dimensionKey, type Dimensions } from "./signal";

export interface RouteInput {
  readonly alias: string;
  readonly model: InputModel;
  readonly source: NodeModel;
  readonly dims: readonly DimensionModel[];
  /** Non-reference inputs must each receive an event before the group completes. */
  readonly trigger: boolean;
}

interface PivotStep {
  readonly link: LinkModel;
  /** "apply": from the link's source to its target; "invert": back from target to source. */
  readonly direction: "apply" | "invert";
}

interface ComponentMember {
  readonly dimension: string;
  readonly steps: readonly PivotStep[];
}

export interface KeyComponent {
  readonly pivot: string;
  readonly members: ReadonlyMap<string, ComponentMember>;
}

/** Marks a key part whose value cannot be converted: such a group can never be joined. */
const UNMATCHABLE = "\u2205";

export class Route {
  readonly id: string;
  readonly inputs: readonly RouteInput[];
  readonly triggers: readonly RouteInput[];
  readonly keyComponents: readonly KeyComponent[];
  /**
   * The link structure stored items were written for: trigger inputs, their dimensions, links,
   * output links and the group-key components. Items of another signature are expired on a redeploy.
   */
  readonly signature: string;
  private readonly byAlias: ReadonlyMap<string, RouteInput>;

  constructor(
    readonly node: DataNodeModel,
    nodes: FlowModel["nodes"],
    private readonly custom?: CustomMapperResolver,
  ) {
    this.id = node.id;
    this.inputs = node.inputs.map((model) => {
      const source = nodes[model.node];
      if (!source)
        throw new Error(`route "${node.id}": input "${model.alias}" names unknown node "${model.node}"`);
      return { alias: model.alias, model, source, dims: source.signal.dimensions, trigger: !model.reference };
    });
    this.triggers = this.inputs.filter((i) => i.trigger);
    this.byAlias = new Map(this.inputs.map((i) => [i.alias, i]));
    this.keyComponents = sharedComponents(node.links, this.triggers, (a, d) => this.spec(a, d));
    this.signature = shortHash(
      JSON.stringify({
        inputs: this.inputs.map((i) => [i.alias, i.source.id, i.trigger, i.dims.map((d) => d.name)]),
        links: node.links,
        outputLinks: node.outputLinks,
        output: node.signal.dimensions.map((d) => d.name),
        key: this.keyComponents.map((c) => c.pivot),
      }),
    );
  }

  input(alias: string): RouteInput | undefined {
    return this.byAlias.get(alias);
  }

  /** Spec of an input's dimension. */
  spec(alias: string, dimension: string): DimensionModel {
    const d = this.byAlias.get(alias)?.dims.find((x) => x.name === dimension);
    if (!d) throw new Error(`route "${this.id}": input "${alias}" has no dimension "${dimension}"`);
    return d;
  }

  get outputDims(): readonly DimensionModel[] {
    return this.node.signal.dimensions;
  }

  /**
   * Group key of an event on a trigger input: the shared components' values at their pivots. A route
   * with one trigger input keys by all of its dimensions (each partition is its own group).
   */
  groupKey(alias: string, dims: Dimensions): string {
    const only = this.triggers.length === 1 ? this.triggers[0] : undefined;
    if (only !== undefined && only.alias === alias)
      return dimensionKey(
        only.dims.map((d) => d.name),
        dims,
      );
    return this.keyComponents
      .map((c) => {
        const m = c.members.get(alias);
        const v = m === undefined ? undefined : this.toPivot(alias, m, dims[m.dimension]);
        return v === undefined ? UNMATCHABLE : encodeURIComponent(String(v));
      })
      .join("|");
  }

  private toPivot(
    alias: string,
    member: ComponentMember,
    value: DimensionValue | undefined,
  ): DimensionValue | undefined {
    let at = { alias, dimension: member.dimension };
    let v = value;
    for (const step of member.steps) {
      if (v === undefined) return undefined;
      const source = step.link.sources[0] as { input: string; dimension: string };
      const target = step.link.target;
      if (step.direction === "apply") {
        v = applyMapper(
          step.link.mapper,
          [{ spec: this.spec(at.alias, at.dimension), value: v }],
          this.spec(target.input, target.dimension),
          this.custom,
        );
        at = { alias: target.input, dimension: target.dimension };
      } else {
        const tuples = invertMapper(
          step.link.mapper,
          v,
          this.spec(at.alias, at.dimension),
          [this.spec(source.input, source.dimension)],
          this.custom,
        );
        v = tuples?.length === 1 ? tuples[0]?.[0] : undefined;
        at = { alias: source.input, dimension: source.dimension };
      }
    }
    return v;
  }
}

export interface RouteMatch {
  readonly route: Route;
  readonly input: RouteInput;
}

export class RouteTable {
  readonly routes: ReadonlyMap<string, Route>;
  private readonly triggerIndex = new Map<string, RouteMatch[]>();
  private readonly rangeCheckIndex = new Map<string, RouteMatch[]>();

  constructor(
    readonly model: FlowModel,
    custom?: CustomMapperResolver,
  ) {
    const routes = new Map<string, Route>();
    for (const node of Object.values(model.nodes)) {
      if (node.kind !== "data") continue;
      const route = new Route(node, model.nodes, custom);
      routes.set(node.id, route);
      for (const input of route.inputs) {
        if (input.trigger) push(this.triggerIndex, input.source.id, { route, input });
        if (input.model.rangeCheck) push(this.rangeCheckIndex, input.source.id, { route, input });
      }
    }
    this.routes = routes;
  }

  node(id: string): NodeModel | undefined {
    return this.model.nodes[id];
  }

  route(id: string): Route | undefined {
    return this.routes.get(id);
  }

  /** (route, input) pairs a signal of `node` can trigger. */
  triggersOf(node: string): readonly RouteMatch[] {
    return this.triggerIndex.get(node) ?? [];
  }

  /** (route, input) pairs whose range checks a signal of `node` may satisfy. */
  rangeChecksOf(node: string): readonly RouteMatch[] {
    return this.rangeCheckIndex.get(node) ?? [];
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** One-to-one mappers: following them either way gives exactly one value. */
function isBijective(l: LinkModel): boolean {
  if (l.sources.length !== 1) return false;
  return (
    l.mapper.kind === "eq" || l.mapper.kind === "shift" || (l.mapper.kind === "map" && l.mapper.injective)
  );
}

function sharedComponents(
  links: readonly LinkModel[],
  triggers: readonly RouteInput[],
  spec: (alias: string, dim: string) => DimensionModel,
): KeyComponent[] {
  const key = (r: { input: string; dimension: string }): string => `${r.input}.${r.dimension}`;
  const edges = new Map<string, { other: string; link: LinkModel; fromIsSource: boolean }[]>();
  const addEdge = (a: string, b: string, link: LinkModel, aIsSource: boolean): void => {
    push(edges, a, { other: b, link, fromIsSource: aIsSource });
  };
  for (const l of links.filter(isBijective)) {
    const s = key(l.sources[0] as { input: string; dimension: string });
    const t = key(l.target);
    addEdge(s, t, l, true);
    addEdge(t, s, l, false);
  }
  const triggerAliases = new Set(triggers.map((t) => t.alias));
  const seen = new Set<string>();
  const components: KeyComponent[] = [];
  // Pivots in trigger-input order, so keys are stable for the same flow.
  const candidates = triggers.flatMap((t) => t.dims.map((d) => `${t.alias}.${d.name}`));
  for (const pivot of candidates) {
    if (seen.has(pivot) || !edges.has(pivot)) continue;
    // BFS from the pivot; each member's path back to it is the reverse of its discovery path.
    const parent = new Map<string, { via: string; link: LinkModel; memberIsSource: boolean }>();
    const order = [pivot];
    seen.add(pivot);
    for (let i = 0; i < order.length; i++) {
      const at = order[i] as string;
      for (const e of edges.get(at) ?? []) {
        if (seen.has(e.other)) continue;
        seen.add(e.other);
        parent.set(e.other, { via: at, link: e.link, memberIsSource: !e.fromIsSource });
        order.push(e.other);
      }
    }
    const members = new Map<string, ComponentMember>();
    for (const m of order) {
      const [alias, dimension] = splitKey(m);
      if (!triggerAliases.has(alias) || members.has(alias)) continue;
      const steps: PivotStep[] = [];
      for (let cur = m; cur !== pivot;) {
        const p = parent.get(cur) as { via: string; link: LinkModel; memberIsSource: boolean };
        steps.push({ link: p.link, direction: p.memberIsSource ? "apply" : "invert" });
        cur = p.via;
      }
      spec(alias, dimension); // fail fast on a model that names a missing dimension
      members.set(alias, { dimension, steps });
    }
    if ([...triggerAliases].every((a) => members.has(a))) components.push({ pivot, members });
  }
  return components;
}

function splitKey(k: string): [string, string] {
  const i = k.indexOf(".");
  return [k.slice(0, i), k.slice(i + 1)];
}
