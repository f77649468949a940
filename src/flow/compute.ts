/**
 * Compute descriptors: what a data node runs when a trigger group completes, and on which engine.
 */
import type { BuildContext } from "./build-context";
import { parseModuleRef, type CodeRef } from "./code-ref";
import { checkKnownProps } from "./known-props";
import type { IssueCollector, Location } from "./errors";
import type {
  CodeRefModel,
  ComputeKind,
  ComputeParamsModel,
  ComputeTargetModel,
  EmrConfigModel,
  Engine,
  JsonValue,
  PolicyStatementModel,
} from "./model/flow-model";
import type { InlineCompute } from "./model/inline-api";

export interface PolicyStatement {
  /** @default "Allow" */
  readonly effect?: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface ComputeParams {
  /** Engine to run on. @default inferred: EMR settings → EMR, Presto → Athena, Spark → the first of the application's enginePriority (Glue) */
  readonly engine?: Engine;
  /** Glue workers / EMR core instances. */
  readonly workers?: number;
  /** Glue worker type (G.1X, G.2X, …). */
  readonly workerType?: string;
  /** Glue version ("4.0", "5.0", …). @default the synth's default (Glue 4.0) */
  readonly glueVersion?: string;
  readonly emr?: EmrConfigModel;
  /** Extra spark-submit/Glue arguments, verbatim. */
  readonly sparkArgs?: Readonly<Record<string, string>>;
  /** Engine-side timeout. @default the engine's default */
  readonly timeoutSeconds?: number;
  /** IAM statements added verbatim to the compute role. */
  readonly permissions?: readonly PolicyStatement[];
  /** Engine-specific parameters passed through unchanged. */
  readonly extra?: Readonly<Record<string, JsonValue>>;
}

export class ComputeTarget {
  constructor(
    readonly kind: ComputeKind,
    readonly params: ComputeParams,
    readonly code?: string,
    readonly handler?: CodeRef,
  ) {}
}

export function sparkSql(sql: string, params: ComputeParams = {}): ComputeTarget {
  return new ComputeTarget("sparkSql", params, sql);
}

export function pySpark(code: string, params: ComputeParams = {}): ComputeTarget {
  return new ComputeTarget("pySpark", params, code);
}

export function prestoSql(sql: string, params: ComputeParams = {}): ComputeTarget {
  return new ComputeTarget("prestoSql", params, sql);
}

/** User code in the router: "path/to/module.ts#export", or (LocalRuntime only) a function. */
export function inline(handler: string | InlineCompute, params: ComputeParams = {}): ComputeTarget {
  return new ComputeTarget("inline", params, undefined, handler);
}

/** Which engines can run which kind of target. */
export const ENGINES_OF_KIND: Readonly<Record<ComputeKind, readonly Engine[]>> = {
  sparkSql: ["glue", "emrServerless", "emr"],
  pySpark: ["glue", "emrServerless", "emr"],
  prestoSql: ["athena"],
  inline: ["lambda"],
};

export const DEFAULT_ENGINE_PRIORITY: readonly Engine[] = [
  "glue",
  "emrServerless",
  "emr",
  "athena",
  "lambda",
];
export const ENGINES: readonly Engine[] = ["athena", "emr", "emrServerless", "glue", "lambda"];
export const GLUE_VERSIONS: readonly string[] = ["0.9", "1.0", "2.0", "3.0", "4.0", "5.0"];
export const GLUE_WORKER_TYPES: readonly string[] = [
  "Standard",
  "G.025X",
  "G.1X",
  "G.2X",
  "G.4X",
  "G.8X",
  "Z.2X",
];

/** The engine a target runs on: the explicit one, else the first of `priority` that fits kind and hints. */
export function inferEngine(
  kind: ComputeKind,
  params: ComputeParams,
  priority: readonly Engine[],
): Engine | undefined {
  if (params.engine !== undefined) return params.engine;
  const fitting = ENGINES_OF_KIND[kind] ?? [];
  let candidates = fitting;
  if (params.emr !== undefined) {
    candidates = candidates.filter((e) => (params.emr?.serverless ? e === "emrServerless" : e === "emr"));
  } else if (params.workerType !== undefined || params.glueVersion !== undefined) {
    candidates = candidates.filter((e) => e === "glue");
  }
  // Hints the kind cannot honour (workerType on prestoSql) do not move it to an engine it cannot run on.
  if (candidates.length === 0) candidates = fitting;
  return priority.find((e) => candidates.includes(e)) ?? candidates[0];
}

export function buildComputeTarget(
  ctx: BuildContext,
  loc: Location,
  target: unknown,
  index: number,
): ComputeTargetModel {
  const tloc: Location = { ...loc, field: `compute ${index + 1}` };
  if (!(target instanceof ComputeTarget)) {
    ctx.issues.add(
      tloc,
      "compute.type",
      `compute must come from sparkSql(), pySpark(), prestoSql() or inline()`,
    );
    return { kind: "inline", engine: "lambda", params: {}, permissions: [] };
  }
  const p = target.params;
  checkKnownProps(ctx.issues, tloc, p, "computeParams", "compute parameter");
  if (p.emr !== undefined) checkKnownProps(ctx.issues, tloc, p.emr, "emr", "emr setting");
  (p.permissions ?? []).forEach((s, i) =>
    checkKnownProps(
      ctx.issues,
      { ...tloc, field: `${tloc.field ?? ""} permission ${i + 1}` },
      s,
      "policyStatement",
    ),
  );
  const engine = inferEngine(target.kind, p, ctx.app.enginePriority) ?? "lambda";
  if (!ENGINES.includes(engine)) {
    ctx.issues.add(tloc, "compute.engine", `engine "${engine}" is not one of ${ENGINES.join(", ")}`);
  } else if (!ENGINES_OF_KIND[target.kind].includes(engine)) {
    ctx.issues.add(
      tloc,
      "compute.engine",
      `${target.kind} cannot run on ${engine} (it runs on ${ENGINES_OF_KIND[target.kind].join(", ")})`,
    );
  }
  checkParams(ctx, tloc, engine, p);
  if (target.kind !== "inline" && (typeof target.code !== "string" || target.code.trim() === "")) {
    ctx.issues.add(tloc, "compute.code", `${target.kind} code is empty`);
  }
  const handler =
    target.kind === "inline"
      ? codeRefModel(ctx, tloc, target.handler, `${loc.node ?? ""}/compute/${index + 1}`)
      : undefined;
  return {
    kind: target.kind,
    engine,
    ...(target.code === undefined ? {} : { code: target.code }),
    ...(handler === undefined ? {} : { handler }),
    params: paramsModel(p),
    permissions: (p.permissions ?? []).map(statementModel),
  };
}

/** A code reference in model form, reporting malformed references; functions go to the local registry. */
export function codeRefModel(
  ctx: BuildContext,
  loc: Location,
  ref: CodeRef | undefined,
  key: string,
): CodeRefModel | undefined {
  if (typeof ref === "function") return ctx.functions.register(key, ref);
  if (typeof ref !== "string") {
    ctx.issues.add(loc, "code.reference", `expected "path/to/module.ts#export" or a function`);
    return undefined;
  }
  const parsed = parseModuleRef(ref);
  if ("error" in parsed) {
    ctx.issues.add(loc, "code.reference", parsed.error);
    return undefined;
  }
  return parsed;
}

function checkParams(ctx: BuildContext, loc: Location, engine: Engine, p: ComputeParams): void {
  const glueOnly = (["workerType", "glueVersion"] as const).filter((k) => p[k] !== undefined);
  if (engine !== "glue" && glueOnly.length > 0) {
    ctx.issues.add(
      loc,
      "compute.params",
      `${glueOnly.join(", ")} apply to Glue only, but the target runs on ${engine}`,
    );
  }
  if (p.emr !== undefined && engine !== "emr" && engine !== "emrServerless") {
    ctx.issues.add(loc, "compute.params", `emr settings apply to EMR only, but the target runs on ${engine}`);
  }
  if (
    (engine === "athena" || engine === "lambda") &&
    (p.workers !== undefined || p.sparkArgs !== undefined)
  ) {
    ctx.issues.add(loc, "compute.params", `workers and sparkArgs do not apply to ${engine}`);
  }
  checkParamValues(ctx.issues, loc, p);
}

/** Checks of the values themselves, whichever engine they end up on (also used for environment overrides). */
export function checkParamValues(issues: IssueCollector, loc: Location, p: ComputeParams): void {
  if (p.workers !== undefined && !(Number.isInteger(p.workers) && p.workers >= 1 && p.workers <= 10_000)) {
    issues.add(loc, "compute.workers", `workers must be an integer from 1 to 10000, got ${p.workers}`);
  }
  if (p.workerType !== undefined && !GLUE_WORKER_TYPES.includes(p.workerType)) {
    issues.add(
      loc,
      "compute.worker-type",
      `workerType "${p.workerType}" is not a Glue worker type (${GLUE_WORKER_TYPES.join(", ")})`,
    );
  }
  if (p.glueVersion !== undefined && !GLUE_VERSIONS.includes(p.glueVersion)) {
    issues.add(
      loc,
      "compute.glue-version",
      `glueVersion "${p.glueVersion}" is not one of ${GLUE_VERSIONS.join(", ")}`,
    );
  }
  if (p.timeoutSeconds !== undefined && !(Number.isInteger(p.timeoutSeconds) && p.timeoutSeconds > 0)) {
    issues.add(loc, "compute.timeout", `timeoutSeconds must be a positive integer`);
  }
  if (
    p.emr?.instanceCount !== undefined &&
    !(Number.isInteger(p.emr.instanceCount) && p.emr.instanceCount >= 1)
  ) {
    issues.add(loc, "compute.emr", `emr.instanceCount must be a positive integer`);
  }
  if (p.emr?.releaseLabel !== undefined && !/^emr-\d+\.\d+\.\d+$/.test(p.emr.releaseLabel)) {
    issues.add(loc, "compute.emr", `emr.releaseLabel "${p.emr.releaseLabel}" must look like "emr-7.1.0"`);
  }
  (p.permissions ?? []).forEach((s, i) => {
    if (
      !Array.isArray(s.actions) ||
      s.actions.length === 0 ||
      !Array.isArray(s.resources) ||
      s.resources.length === 0
    ) {
      issues.add(
        loc,
        "compute.permissions",
        `permission ${i + 1} needs at least one action and one resource`,
      );
    }
  });
}

export function paramsModel(p: ComputeParams): ComputeParamsModel {
  return {
    ...(p.workers === undefined ? {} : { workers: p.workers }),
    ...(p.workerType === undefined ? {} : { workerType: p.workerType }),
    ...(p.glueVersion === undefined ? {} : { glueVersion: p.glueVersion }),
    ...(p.emr === undefined ? {} : { emr: p.emr }),
    ...(p.sparkArgs === undefined ? {} : { sparkArgs: p.sparkArgs }),
    ...(p.timeoutSeconds === undefined ? {} : { timeoutSeconds: p.timeoutSeconds }),
    ...(p.extra === undefined ? {} : { extra: p.extra }),
  };
}

function statementModel(s: PolicyStatement): PolicyStatementModel {
  return {
    effect: s.effect ?? "Allow",
    actions: [...(s.actions ?? [])],
    resources: [...(s.resources ?? [])],
  };
}
