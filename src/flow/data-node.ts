/**
 * Internal data nodes: inputs (with selections, references and range checks), links between input
 * dimensions, output dimensions and their links, compute targets, hooks and execution policy.
 * At runtime each data node is a route.
 */
import type { BuildContext } from "./build-context";
import { codeRefModel, buildComputeTarget, ComputeTarget } from "./compute";
import type { CodeRef } from "./code-ref";
import { reportFormat } from "./datasets";
import type { DimensionSpec } from "./dim";
import type { Location } from "./errors";
import { Link, type LinkEndpoint } from "./link";
import type {
  CheckpointModel,
  CodeRefModel,
  DataFormat,
  DataNodeModel,
  DimensionFilterModel,
  DimensionModel,
  DimensionRefModel,
  DimensionValue,
  HookName,
  HooksModel,
  InputModel,
  JsonValue,
  LinkModel,
  MapperModel,
  OutputLinkModel,
  RangeModel,
  SignalModel,
} from "./model/flow-model";
import { HOOK_NAMES } from "./model/flow-model";
import { checkKnownProps } from "./known-props";
import { didYouMean } from "./suggest";
import { granularityRank } from "./model/granularity";
import { mapperArity } from "./model/mapper";
import { canonicalize } from "./model/canonical-json";
import { dataNodePath } from "./model/deployment-contract";
import { parseModuleRef } from "./code-ref";
import { DimensionRef, InputSignal, Node, type Selector } from "./node";
import { RangeSelector } from "./range";
import {
  buildDimensions,
  buildFilter,
  coerceOrReport,
  intersectFilters,
  NAME_PATTERN,
  names,
  outsideFilter,
  show,
  sortValues,
  type FilterInput,
} from "./signal-spec";

/** What `inputs` accepts: a node (all of it) or a selection of one. */
export type InputLike = Node | InputSignal;

export interface Hooks extends Partial<Record<HookName, CodeRef>> {
  /** Called while an execution is still running after `afterSeconds`. */
  readonly checkpoints?: readonly { readonly afterSeconds: number; readonly handler: CodeRef }[];
}

export interface DataNodeProps {
  /** Array: each node's id is its alias. Record: keys are the aliases. */
  readonly inputs: readonly InputLike[] | Readonly<Record<string, InputLike>>;
  /**
   * Links `link(target, mapper, ...sources)` between input dimensions. A string target names an
   * output dimension (an output link); "alias.dimension" names an input dimension by alias.
   */
  readonly links?: readonly Link[];
  /** Output links, same as string-target `links`. */
  readonly outputLinks?: readonly Link[];
  /** Output dimension spec. @default the first input's spec (and its effective filter) */
  readonly output?: DimensionSpec;
  /** Filter of the output dimensions. @default none when `output` is given */
  readonly outputFilter?: FilterInput;
  /** Link same-named input dimensions with eq, and output dimensions to the first input having them. @default true */
  readonly autoLink?: boolean;
  /** Targets run in declaration order. */
  readonly compute: ComputeTarget | readonly ComputeTarget[];
  readonly hooks?: Hooks;
  /** Retries of user errors per execution. @default 0 */
  readonly retries?: number;
  /** How long an incomplete trigger group waits. @default 604800 (7 days) */
  readonly pendingTtlSeconds?: number;
  /** Format of the output data. @default "parquet" */
  readonly format?: DataFormat;
  readonly metadata?: Readonly<Record<string, JsonValue>>;
}

export const DEFAULT_PENDING_TTL_SECONDS = 7 * 24 * 3600;
export const MAX_RETRIES = 100;

interface ResolvedInput {
  readonly alias: string;
  readonly selection: InputSignal;
  readonly signal: SignalModel;
  readonly model: InputModel;
}

type Endpoint =
  { readonly output: string } | { readonly input: ResolvedInput; readonly spec: DimensionModel };

export class DataNode extends Node<DataNodeProps> {
  readonly kind = "data" as const;
  private readonly resolved = new WeakMap<BuildContext, readonly ResolvedInput[]>();

  /** Prefix of the node's partitions in the storage bucket. */
  get path(): string {
    return dataNodePath(this.id);
  }

  override dependencies(): Node[] {
    return inputEntries(this.props.inputs).flatMap(([, x]) =>
      x instanceof InputSignal ? [x.node] : x instanceof Node ? [x] : [],
    );
  }

  buildSignal(ctx: BuildContext): SignalModel {
    const loc = { node: this.id, field: "output" };
    const inputs = this.inputs(ctx);
    if (this.props.output !== undefined) {
      const dimensions = buildDimensions(this.props.output, loc, ctx.issues);
      return {
        kind: "internal",
        dimensions,
        filter: buildFilter(dimensions, this.props.outputFilter, loc, ctx.issues),
      };
    }
    const first = inputs[0];
    if (first === undefined) return { kind: "internal", dimensions: [], filter: {} };
    const filter = this.props.outputFilter
      ? buildFilter(first.signal.dimensions, this.props.outputFilter, loc, ctx.issues)
      : Object.fromEntries(Object.entries(first.model.filter).filter(([, f]) => f !== "*"));
    return { kind: "internal", dimensions: first.signal.dimensions, filter: canonicalize(filter) };
  }

  buildModel(ctx: BuildContext, signal: SignalModel): DataNodeModel {
    const p = this.props;
    const loc: Location = { node: this.id };
    const inputs = this.inputs(ctx);
    const autoLink = p.autoLink ?? true;

    const explicit = [...(p.links ?? []), ...(p.outputLinks ?? [])];
    const links: LinkModel[] = [];
    const outputLinks: OutputLinkModel[] = [];
    // Targets an explicit link names, valid or not: auto-linking leaves them alone, so one mistake
    // is reported once rather than again as a missing or conflicting auto link.
    const claimed = new Set<string>();
    explicit.forEach((l, i) =>
      this.buildExplicitLink(ctx, inputs, signal, l, i, links, outputLinks, claimed),
    );
    if (autoLink) this.autoLinkInputs(ctx, inputs, links, claimed);
    this.linkOutputs(ctx, inputs, signal, autoLink, outputLinks, claimed);
    this.checkRangeChecks(ctx, inputs, links);

    const computeList: readonly unknown[] =
      p.compute instanceof ComputeTarget ? [p.compute] : Array.isArray(p.compute) ? p.compute : [p.compute];
    if (computeList.length === 0 || p.compute === undefined) {
      ctx.issues.add(loc, "compute.missing", `a data node needs at least one compute target`);
    }
    const compute = computeList
      .filter((c) => c !== undefined)
      .map((c, i) => buildComputeTarget(ctx, loc, c, i));

    const retries = p.retries ?? 0;
    if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
      ctx.issues.add(
        { ...loc, field: "retries" },
        "node.retries",
        `retries must be an integer from 0 to ${MAX_RETRIES}, got ${String(retries)}`,
      );
    }
    const pendingTtlSeconds = p.pendingTtlSeconds ?? DEFAULT_PENDING_TTL_SECONDS;
    if (!Number.isInteger(pendingTtlSeconds) || pendingTtlSeconds < 1) {
      ctx.issues.add(
        { ...loc, field: "pendingTtlSeconds" },
        "node.pending-ttl",
        `pendingTtlSeconds must be a positive integer, got ${String(pendingTtlSeconds)}`,
      );
    }
    const format = p.format ?? "parquet";
    reportFormat(ctx, loc, format);

    return {
      id: this.id,
      kind: "data",
      signal,
      metadata: p.metadata ?? {},
      inputs: inputs.map((r) => r.model),
      links,
      outputLinks,
      autoLink,
      compute,
      hooks: this.buildHooks(ctx),
      retries,
      pendingTtlSeconds,
      format,
      path: this.path,
    };
  }

  // ---------------------------------------------------------------- inputs

  private inputs(ctx: BuildContext): readonly ResolvedInput[] {
    const cached = this.resolved.get(ctx);
    if (cached) return cached;
    const out: ResolvedInput[] = [];
    const loc = { node: this.id };
    const entries = inputEntries(this.props.inputs);
    if (entries.length === 0) ctx.issues.add(loc, "input.none", `a data node needs at least one input`);
    for (const [alias, raw] of entries) {
      const iloc = { ...loc, input: alias };
      const selection =
        raw instanceof InputSignal ? raw : raw instanceof Node ? new InputSignal(raw) : undefined;
      if (selection === undefined) {
        ctx.issues.add(
          iloc,
          "input.type",
          `input must be a node or a selection of one (node.at(...), node.ref())`,
        );
        continue;
      }
      if (!NAME_PATTERN.test(alias)) {
        ctx.issues.add(
          iloc,
          "input.alias",
          `alias "${alias}" must be a valid identifier (it names the input's SQL view)`,
        );
      }
      if (out.some((o) => o.alias === alias)) {
        ctx.issues.add(
          iloc,
          "input.duplicate-alias",
          `alias is used twice; give the inputs as a record to alias them`,
        );
        continue;
      }
      if (!ctx.owns(selection.node)) {
        ctx.issues.add(
          iloc,
          "input.unknown-node",
          `node "${selection.node.id}" is not declared in this application`,
        );
        continue;
      }
      if (selection.node === this) {
        ctx.issues.add(iloc, "graph.cycle", `a node cannot be its own input`);
        continue;
      }
      if (selection.node.kind === "externalMetric" || selection.node.kind === "metric") {
        ctx.issues.add(
          iloc,
          "input.metric",
          `metric "${selection.node.id}" cannot be a data input; watch it with an alarm and use alarm.is("ALARM") as the input`,
        );
        continue;
      }
      const signal = ctx.signalOf(selection.node);
      if (signal === undefined) continue;
      out.push({ alias, selection, signal, model: this.inputModel(ctx, iloc, alias, selection, signal) });
    }
    if (out.length > 0 && out.every((r) => r.model.reference)) {
      ctx.issues.add(loc, "input.all-references", `every input is a reference; nothing can trigger the node`);
    }
    this.resolved.set(ctx, out);
    return out;
  }

  private inputModel(
    ctx: BuildContext,
    loc: Location,
    alias: string,
    selection: InputSignal,
    signal: SignalModel,
  ): InputModel {
    const dims = signal.dimensions;
    if (selection.selectors.length > dims.length) {
      ctx.issues.add(
        loc,
        "input.too-many-selectors",
        `at() gives ${selection.selectors.length} values but node "${selection.node.id}" has ${dims.length} dimension(s) (${names(dims)})`,
      );
    }
    const filter: Record<string, DimensionFilterModel> = {};
    const ranges: Record<string, RangeModel> = {};
    dims.forEach((spec, i) => {
      const dloc = { ...loc, dimension: spec.name };
      const narrowed = this.selectorFilter(ctx, dloc, spec, selection.selectors[i], ranges);
      const bad = narrowed === undefined ? [] : outsideFilter(spec, signal.filter[spec.name], narrowed);
      for (const v of bad)
        ctx.issues.add(dloc, "filter.value-not-allowed", `value ${show(v)} is not in the filter`);
      const effective = intersectFilters(spec, signal.filter[spec.name], narrowed);
      if (effective !== "*") filter[spec.name] = sortValues(effective);
    });
    return canonicalize({
      alias,
      node: selection.node.id,
      reference: selection.reference,
      rangeCheck: selection.checkRange,
      filter,
      ranges,
    });
  }

  /** Values an at() position narrows to, or undefined for "*"/range (recorded in `ranges`). */
  private selectorFilter(
    ctx: BuildContext,
    loc: Location,
    spec: DimensionModel,
    s: Selector | undefined,
    ranges: Record<string, RangeModel>,
  ): DimensionValue[] | undefined {
    if (s === undefined || s === "*") return undefined;
    if (s instanceof RangeSelector) {
      if (spec.type === "STRING") {
        ctx.issues.add(
          loc,
          "input.range-on-string",
          `range() needs an ordered dimension, but it is a STRING`,
        );
      } else if (!Number.isInteger(s.size) || s.size === 0) {
        ctx.issues.add(loc, "input.range-size", `range(${s.size}) must be a non-zero integer`);
      } else {
        ranges[spec.name] = s.offsets;
      }
      return undefined;
    }
    const raw: readonly unknown[] = Array.isArray(s) ? s : [s];
    if (raw.length === 0) {
      ctx.issues.add(loc, "filter.empty", `at() gives an empty list: nothing could ever match`);
      return [];
    }
    return raw
      .map((v) => coerceOrReport(spec, v, loc, ctx.issues))
      .filter((v): v is DimensionValue => v !== undefined);
  }

  // ---------------------------------------------------------------- links

  private buildExplicitLink(
    ctx: BuildContext,
    inputs: readonly ResolvedInput[],
    signal: SignalModel,
    l: Link,
    index: number,
    links: LinkModel[],
    outputLinks: OutputLinkModel[],
    claimed: Set<string>,
  ): void {
    const loc: Location = { node: this.id, field: `link ${index + 1}` };
    if (!(l instanceof Link)) {
      ctx.issues.add(loc, "link.type", `links must be built with link(target, mapper, ...sources)`);
      return;
    }
    const target = this.endpoint(ctx, loc, inputs, signal, l.target, true);
    if (target !== undefined) claimed.add(claimKey(target));
    const sources = l.sources.map((s) => this.endpoint(ctx, loc, inputs, signal, s, false));
    if (target === undefined || sources.some((s) => s === undefined)) return;
    const srcs = sources as Endpoint[];
    if (srcs.some((s) => "output" in s)) {
      ctx.issues.add(
        loc,
        "link.source-output",
        `link sources must be input dimensions, not output dimensions`,
      );
      return;
    }
    const sourceRefs = srcs.map(refOf);
    const sourceSpecs = srcs.map((s) => (s as { spec: DimensionModel }).spec);
    if ("output" in target) {
      const spec = signal.dimensions.find((d) => d.name === target.output) as DimensionModel;
      const dloc = { node: this.id, field: `output link ${index + 1}`, dimension: target.output };
      if (outputLinks.some((o) => o.dimension === target.output)) {
        ctx.issues.add(dloc, "link.duplicate-target", `output dimension is linked twice`);
        return;
      }
      if (!this.checkMapper(ctx, dloc, l.mapper.model, l.mapper.error, spec, sourceSpecs)) return;
      outputLinks.push({
        dimension: target.output,
        sources: sourceRefs,
        mapper: l.mapper.model,
        auto: false,
      });
      return;
    }
    const targetRef = refOf(target);
    const dloc = {
      node: this.id,
      input: targetRef.input,
      field: `link ${index + 1}`,
      dimension: targetRef.dimension,
    };
    if (links.some((x) => sameRef(x.target, targetRef))) {
      ctx.issues.add(dloc, "link.duplicate-target", `dimension is the target of two links`);
      return;
    }
    if (sourceRefs.some((s) => s.input === targetRef.input)) {
      ctx.issues.add(dloc, "link.same-input", `a link must connect two different inputs`);
      return;
    }
    if (!this.checkMapper(ctx, dloc, l.mapper.model, l.mapper.error, target.spec, sourceSpecs)) return;
    links.push({ target: targetRef, sources: sourceRefs, mapper: l.mapper.model, auto: false });
  }

  private endpoint(
    ctx: BuildContext,
    loc: Location,
    inputs: readonly ResolvedInput[],
    signal: SignalModel,
    e: LinkEndpoint,
    isTarget: boolean,
  ): Endpoint | undefined {
    if (typeof e === "string") {
      const dot = e.indexOf(".");
      if (dot < 0) {
        if (!isTarget) {
          ctx.issues.add(
            loc,
            "link.source-output",
            `source "${e}" names an output dimension; sources must be input dimensions ("alias.dimension")`,
          );
          return undefined;
        }
        if (!signal.dimensions.some((d) => d.name === e)) {
          ctx.issues.add(
            { ...loc, dimension: e },
            "link.unknown-output-dimension",
            `not an output dimension (output has ${names(signal.dimensions)})`,
          );
          return undefined;
        }
        return { output: e };
      }
      const alias = e.slice(0, dot);
      const input = inputs.find((r) => r.alias === alias);
      if (!input) {
        ctx.issues.add(
          { ...loc, input: alias },
          "link.unknown-input",
          `"${alias}" is not an input alias (inputs: ${inputs.map((r) => r.alias).join(", ")})`,
        );
        return undefined;
      }
      return this.inputDimension(ctx, loc, input, e.slice(dot + 1));
    }
    if (!(e instanceof DimensionRef)) {
      ctx.issues.add(
        loc,
        "link.endpoint",
        `link endpoints are node.dim("x"), selection.dim("x"), "alias.x" or an output dimension name`,
      );
      return undefined;
    }
    let candidates = inputs.filter((r) => r.selection === e.owner);
    if (candidates.length === 0) {
      const node = e.owner instanceof InputSignal ? e.owner.node : e.owner;
      candidates = inputs.filter((r) => r.selection.node === node);
      if (candidates.length === 0) {
        ctx.issues.add(loc, "link.not-an-input", `node "${node.id}" is not an input of this node`);
        return undefined;
      }
      if (candidates.length > 1) {
        ctx.issues.add(
          loc,
          "link.ambiguous",
          `node "${node.id}" is input more than once (${candidates.map((c) => c.alias).join(", ")}); link through "alias.${e.dimension}"`,
        );
        return undefined;
      }
    }
    return this.inputDimension(ctx, loc, candidates[0] as ResolvedInput, e.dimension);
  }

  private inputDimension(
    ctx: BuildContext,
    loc: Location,
    input: ResolvedInput,
    name: string,
  ): Endpoint | undefined {
    const spec = input.signal.dimensions.find((d) => d.name === name);
    if (!spec) {
      ctx.issues.add(
        { ...loc, input: input.alias, dimension: name },
        "link.unknown-dimension",
        `node "${input.selection.node.id}" has no such dimension (it has ${names(input.signal.dimensions)})`,
      );
      return undefined;
    }
    return { input, spec };
  }

  /** Reports every way the mapper cannot produce `target` from `sources`; true when usable. */
  private checkMapper(
    ctx: BuildContext,
    loc: Location,
    m: MapperModel,
    error: string | undefined,
    target: DimensionModel,
    sources: readonly DimensionModel[],
  ): boolean {
    const before = ctx.issues.size;
    const bad = (code: string, msg: string): void => ctx.issues.add(loc, code, msg);
    if (error !== undefined) bad("link.mapper", error);
    const arity = mapperArity(m.kind);
    if (sources.length < arity.min || sources.length > arity.max) {
      const want = arity.min === arity.max ? `${arity.min}` : `at least ${arity.min}`;
      bad("link.arity", `${m.kind} takes ${want} source(s), got ${sources.length}`);
      return false;
    }
    const [src, second] = sources;
    switch (m.kind) {
      case "eq":
        if (src) {
          const why = eqIncompatibility(src, target);
          if (why)
            bad(
              "link.type-mismatch",
              `eq cannot link ${describeSpec(src)} to ${describeSpec(target)}: ${why}`,
            );
        }
        break;
      case "map":
        if (src) {
          m.entries.forEach(([from, to]) => {
            const k = coerceOrReport(
              src,
              from,
              { ...loc, field: `${loc.field ?? "link"} map key` },
              ctx.issues,
            );
            const v = coerceOrReport(
              target,
              to,
              { ...loc, field: `${loc.field ?? "link"} map value` },
              ctx.issues,
            );
            void k;
            void v;
          });
        }
        break;
      case "shift":
        if (src && (src.type === "STRING" || target.type !== src.type)) {
          bad(
            "link.type-mismatch",
            `shift needs LONG→LONG or DATETIME→DATETIME, got ${describeSpec(src)} → ${describeSpec(target)}`,
          );
        } else if (src?.type === "LONG" && m.unit !== undefined) {
          bad("link.mapper", `shift on a LONG takes no unit`);
        } else if (
          src?.type === "DATETIME" &&
          m.unit !== undefined &&
          granularityRank(m.unit) < granularityRank(src.granularity)
        ) {
          bad(
            "link.mapper",
            `shift by ${m.unit} is finer than the ${src.granularity} dimension it shifts; it would be lost`,
          );
        }
        break;
      case "truncate":
        if (src?.type !== "DATETIME" || target.type !== "DATETIME") {
          bad("link.type-mismatch", `truncate needs DATETIME→DATETIME`);
        } else if (granularityRank(src.granularity) > granularityRank(m.granularity)) {
          bad(
            "link.mapper",
            `truncate(${m.granularity}) of a ${src.granularity} dimension loses nothing; use eq`,
          );
        } else if (target.granularity !== m.granularity) {
          bad(
            "link.mapper",
            `truncate(${m.granularity}) feeds a ${target.granularity} dimension; truncate to ${target.granularity} instead`,
          );
        }
        break;
      case "concat":
        if (target.type !== "STRING")
          bad("link.type-mismatch", `concat produces a STRING, but the target is ${target.type}`);
        break;
      case "split":
        if (src?.type !== "STRING") bad("link.type-mismatch", `split needs a STRING source`);
        break;
      case "combine":
        if (src?.type !== "DATETIME" || second?.type === "STRING" || target.type !== "DATETIME") {
          bad("link.type-mismatch", `combine needs (DATETIME, LONG|DATETIME) → DATETIME`);
        }
        break;
      case "literal":
        coerceOrReport(target, m.value, loc, ctx.issues);
        break;
      case "custom":
        for (const ref of [m.ref, m.inverse]) {
          if (ref === undefined) continue;
          const parsed = parseModuleRef(ref);
          if ("error" in parsed) bad("code.reference", parsed.error);
        }
        break;
    }
    return ctx.issues.size === before;
  }

  private autoLinkInputs(
    ctx: BuildContext,
    inputs: readonly ResolvedInput[],
    links: LinkModel[],
    claimed: ReadonlySet<string>,
  ): void {
    const explicit = [...links];
    const seen = new Map<string, ResolvedInput>();
    for (const input of inputs) {
      for (const spec of input.signal.dimensions) {
        const anchor = seen.get(spec.name);
        if (anchor === undefined) {
          seen.set(spec.name, input);
          continue;
        }
        const target = { input: input.alias, dimension: spec.name };
        const source = { input: anchor.alias, dimension: spec.name };
        const related = explicit.some(
          (l) =>
            sameRef(l.target, target) ||
            (sameRef(l.target, source) && l.sources.some((s) => sameRef(s, target))),
        );
        if (related || claimed.has(claimKey({ input, spec }))) continue;
        const anchorSpec = anchor.signal.dimensions.find((d) => d.name === spec.name) as DimensionModel;
        const why = eqIncompatibility(anchorSpec, spec);
        if (why) {
          ctx.issues.add(
            { node: this.id, input: input.alias, dimension: spec.name },
            "link.auto-type-mismatch",
            `cannot auto-link to input "${anchor.alias}" (${describeSpec(anchorSpec)} vs ${describeSpec(spec)}: ${why}); add an explicit link or set autoLink: false`,
          );
          continue;
        }
        links.push({ target, sources: [source], mapper: { kind: "eq" }, auto: true });
      }
    }
  }

  private linkOutputs(
    ctx: BuildContext,
    inputs: readonly ResolvedInput[],
    signal: SignalModel,
    autoLink: boolean,
    outputLinks: OutputLinkModel[],
    claimed: ReadonlySet<string>,
  ): void {
    for (const spec of signal.dimensions) {
      if (outputLinks.some((o) => o.dimension === spec.name) || claimed.has(claimKey({ output: spec.name })))
        continue;
      const loc = { node: this.id, field: "output", dimension: spec.name };
      const first = autoLink
        ? inputs.find((r) => r.signal.dimensions.some((d) => d.name === spec.name))
        : undefined;
      if (first === undefined) {
        ctx.issues.add(
          loc,
          "output.unlinked",
          `nothing links this output dimension; add link("${spec.name}", mapper, input.dim(...)) or an input dimension of the same name`,
        );
        continue;
      }
      const from = first.signal.dimensions.find((d) => d.name === spec.name) as DimensionModel;
      const why = eqIncompatibility(from, spec);
      if (why) {
        ctx.issues.add(
          loc,
          "output.auto-type-mismatch",
          `cannot link from input "${first.alias}" (${describeSpec(from)} vs ${describeSpec(spec)}: ${why})`,
        );
        continue;
      }
      outputLinks.push({
        dimension: spec.name,
        sources: [{ input: first.alias, dimension: spec.name }],
        mapper: { kind: "eq" },
        auto: true,
      });
    }
    const order = signal.dimensions.map((d) => d.name);
    outputLinks.sort((a, b) => order.indexOf(a.dimension) - order.indexOf(b.dimension));
  }

  /** A range-checked reference must have every dimension determined: linked, or narrowed to one value. */
  private checkRangeChecks(
    ctx: BuildContext,
    inputs: readonly ResolvedInput[],
    links: readonly LinkModel[],
  ): void {
    for (const r of inputs) {
      // A trigger input's partitions come from its own event; only a reference needs links to find them.
      if (!r.model.rangeCheck || !r.model.reference) continue;
      for (const spec of r.signal.dimensions) {
        const linked =
          links.some((l) => sameRef(l.target, { input: r.alias, dimension: spec.name })) ||
          links.some(
            (l) =>
              l.sources.some((s) => sameRef(s, { input: r.alias, dimension: spec.name })) &&
              l.mapper.kind !== "split",
          );
        const f = r.model.filter[spec.name];
        const fixed = f !== undefined && f !== "*" && f.length === 1;
        if (linked || fixed) continue;
        ctx.issues.add(
          { node: this.id, input: r.alias, dimension: spec.name },
          "input.undetermined",
          `a range-checked reference needs every dimension linked or fixed by at(...), so its partitions are known`,
        );
      }
    }
  }

  // ---------------------------------------------------------------- hooks

  private buildHooks(ctx: BuildContext): HooksModel {
    const hooks = this.props.hooks ?? {};
    const handlers: Partial<Record<HookName, CodeRefModel>> = {};
    for (const [name, ref] of Object.entries(hooks)) {
      if (name === "checkpoints") continue;
      const loc = { node: this.id, field: `hook ${name}` };
      if (!(HOOK_NAMES as readonly string[]).includes(name)) {
        ctx.issues.add(
          loc,
          "hook.unknown",
          `unknown hook${didYouMean(name, [...HOOK_NAMES, "checkpoints"])} (hooks: ${HOOK_NAMES.join(", ")}, checkpoints)`,
        );
        continue;
      }
      const m = codeRefModel(ctx, loc, ref as CodeRef, `${this.id}/hooks/${name}`);
      if (m) handlers[name as HookName] = m;
    }
    const checkpoints: CheckpointModel[] = [];
    (hooks.checkpoints ?? []).forEach((c, i) => {
      const loc = { node: this.id, field: `checkpoint ${i + 1}` };
      checkKnownProps(ctx.issues, loc, c, "checkpoint");
      if (!Number.isInteger(c.afterSeconds) || c.afterSeconds < 1) {
        ctx.issues.add(loc, "hook.checkpoint", `afterSeconds must be a positive integer`);
      }
      const handler = codeRefModel(ctx, loc, c.handler, `${this.id}/checkpoints/${i + 1}`);
      if (handler) checkpoints.push({ afterSeconds: c.afterSeconds, handler });
    });
    checkpoints.sort((a, b) => a.afterSeconds - b.afterSeconds);
    return canonicalize({ handlers, checkpoints });
  }
}

function inputEntries(inputs: DataNodeProps["inputs"] | undefined): [string, InputLike][] {
  if (inputs === undefined || inputs === null) return [];
  if (Array.isArray(inputs)) {
    return (inputs as readonly InputLike[]).map((x) => [
      x instanceof InputSignal ? x.node.id : x instanceof Node ? x.id : "?",
      x,
    ]);
  }
  return Object.entries(inputs as Record<string, InputLike>);
}

function refOf(e: Endpoint): DimensionRefModel {
  if ("output" in e) throw new Error("output endpoint has no input reference");
  return { input: e.input.alias, dimension: e.spec.name };
}

function claimKey(e: Endpoint): string {
  return "output" in e ? `>${e.output}` : `${e.input.alias}.${e.spec.name}`;
}

function sameRef(a: DimensionRefModel, b: DimensionRefModel): boolean {
  return a.input === b.input && a.dimension === b.dimension;
}

/** Why eq cannot link these two dimensions, or undefined when it can. */
function eqIncompatibility(a: DimensionModel, b: DimensionModel): string | undefined {
  if (a.type !== b.type) return "types differ; use map() or another mapper";
  if (a.type === "DATETIME" && b.type === "DATETIME" && a.granularity !== b.granularity) {
    return "granularities differ; use truncate() or shift()";
  }
  return undefined;
}

function describeSpec(d: DimensionModel): string {
  return d.type === "DATETIME" ? `${d.name} (DATETIME ${d.granularity})` : `${d.name} (${d.type})`;
}
