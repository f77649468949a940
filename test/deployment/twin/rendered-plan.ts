/**
 * A `terraform show -json` plan of a converted module read back as the original module's resources:
 * addresses, types and names restored, values in the provider's shape, computed attributes beside.
 */
import { blockShape, toProviderShape } from "./block-shapes";
import type { OriginalAddress } from "./provider-free";
import { ATTRIBUTES_OUTPUT, parseTwinName } from "./provider-free";

/** One planned instance of an AWS resource (or data source) of the module. */
export interface RenderedResource {
  /** The original address in the module, e.g. `aws_lambda_function.processor_function_D7E0E582["k"]`. */
  readonly address: string;
  /** The original AWS type, e.g. `aws_lambda_function`. */
  readonly type: string;
  readonly name: string;
  /** The count index or for_each key, if any. */
  readonly index?: string | number;
  /**
   * The rendered arguments: the planned input, nested blocks in the provider's shape (a block written
   * as an object, like cdktf's `environment`, is a one-element list, as the AWS provider plans it).
   */
  readonly values: Record<string, unknown>;
  /** The planned input exactly as written (blocks as written). */
  readonly input: Record<string, unknown>;
  /** The placeholders of its computed attributes (arn, id, url, ...), as references to it read them. */
  readonly attributes?: Record<string, unknown>;
}

/** A module's plan: its resources' rendered values and its outputs. */
export interface RenderedPlan {
  readonly resources: RenderedResource[];
  /** The data sources, as resolved. */
  readonly data: RenderedResource[];
  readonly outputs: Record<string, unknown>;
  /**
   * Milliseconds per step: init, data (a first plan evaluating data source arguments, 0 when none
   * needs it), validate, plan and show (run concurrently with validate), and in all.
   */
  readonly timings: Readonly<Record<"init" | "data" | "validate" | "plan" | "show" | "total", number>>;
  /**
   * The one resource of a type; with a name (`processor_function_D7E0E582`, or without cdktf's hash
   * suffix: `processor_function`), an address, or a predicate, the one that matches. Throws unless
   * exactly one does.
   */
  resource(type: string, nameOrPredicate?: string | ((r: RenderedResource) => boolean)): RenderedResource;
  /** All the resources of a type (in address order). */
  all(type: string): RenderedResource[];
}

/** A Terraform diagnostic, as `-json` commands report them. */
export interface TerraformDiagnostic {
  readonly severity: string;
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
  readonly range?: { filename: string; start: { line: number; column: number } };
  readonly snippet?: { context?: string | null; code?: string };
}

/** A failed Terraform command: the command line, its diagnostics, and its error output. */
export class TerraformPlanError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly diagnostics: readonly TerraformDiagnostic[],
    readonly stderr = "",
  ) {
    super(message);
    this.name = "TerraformPlanError";
  }
}

/** A diagnostic as text: summary, detail, and where (address, or file, line and context). */
export function formatDiagnostic(d: TerraformDiagnostic): string {
  const where = [
    d.address,
    d.range ? `${d.range.filename}:${d.range.start.line}` : undefined,
    d.snippet?.context ? `in ${d.snippet.context}` : undefined,
  ].filter(Boolean);
  return [
    `${d.severity === "error" ? "Error" : "Warning"}: ${d.summary}`,
    d.detail,
    where.length ? `  at ${where.join(", ")}` : undefined,
  ]
    .filter(Boolean)
    .join("\n");
}

/** The converted module's name in the root configuration. */
export const CHILD = "twin";

interface ShownResource {
  address: string;
  mode: string;
  type: string;
  name: string;
  index?: string | number;
  values: { input?: unknown };
}

/** What `terraform show -json` says of a plan (the parts read here). */
export interface ShownPlan {
  planned_values?: {
    outputs?: Record<string, { value?: unknown }>;
    root_module?: { child_modules?: { address: string; resources?: ShownResource[] }[] };
  };
  resource_changes?: { address: string; change: { after_unknown?: unknown } }[];
  output_changes?: Record<string, { after_unknown?: unknown }>;
}

/** The rendered plan of a shown plan; throws on values unknown at plan time. */
export function renderedPlan(shown: ShownPlan, timings: RenderedPlan["timings"]): RenderedPlan {
  const unknown = unknownValues(shown);
  if (unknown.length > 0) {
    throw new TerraformPlanError(
      `values unknown at plan time:\n- ${unknown.join("\n- ")}`,
      "terraform show -json",
      [],
    );
  }
  const outputs: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(shown.planned_values?.outputs ?? {})) outputs[name] = o.value;
  const attributes = (outputs[ATTRIBUTES_OUTPUT] ?? {}) as Record<
    string,
    Record<string, Record<string, unknown>>
  >;
  delete outputs[ATTRIBUTES_OUTPUT];
  const child = shown.planned_values?.root_module?.child_modules?.find(
    (m) => m.address === `module.${CHILD}`,
  );
  const resources: RenderedResource[] = [];
  const data: RenderedResource[] = [];
  for (const r of child?.resources ?? []) {
    const original = r.type === "terraform_data" ? parseTwinName(r.name) : undefined;
    if (!original) continue;
    const rendered = renderedResource(original, r, attributes);
    (original.mode === "data" ? data : resources).push(rendered);
  }
  const byAddress = (a: RenderedResource, b: RenderedResource): number => (a.address < b.address ? -1 : 1);
  resources.sort(byAddress);
  data.sort(byAddress);
  const all = (type: string): RenderedResource[] => resources.filter((r) => r.type === type);
  return {
    resources,
    data,
    outputs,
    timings,
    all,
    resource(type, nameOrPredicate) {
      const candidates = all(type);
      const matches =
        nameOrPredicate === undefined
          ? candidates
          : typeof nameOrPredicate === "function"
            ? candidates.filter(nameOrPredicate)
            : candidates.filter(
                (r) =>
                  r.name === nameOrPredicate ||
                  r.address === nameOrPredicate ||
                  r.name.replace(/_[0-9A-F]{8}$/, "") === nameOrPredicate,
              );
      if (matches.length !== 1) {
        const which =
          typeof nameOrPredicate === "string"
            ? ` named ${nameOrPredicate}`
            : nameOrPredicate
              ? " matching"
              : "";
        throw new Error(
          `${matches.length} ${type} resources${which} in the plan (expected one); ${type}: ${candidates.map((r) => r.address).join(", ") || "none"}`,
        );
      }
      return matches[0] as RenderedResource;
    },
  };
}

function renderedResource(
  original: OriginalAddress,
  r: ShownResource,
  attributes: Record<string, Record<string, Record<string, unknown>>>,
): RenderedResource {
  const key =
    r.index === undefined
      ? ""
      : typeof r.index === "number"
        ? `[${r.index}]`
        : `[${JSON.stringify(r.index)}]`;
  const base = `${original.mode === "data" ? "data." : ""}${original.type}.${original.name}`;
  const input = (r.values.input ?? {}) as Record<string, unknown>;
  const own = attributes[base]?.[r.index === undefined ? "" : String(r.index)];
  return {
    address: `${base}${key}`,
    type: original.type,
    name: original.name,
    ...(r.index !== undefined ? { index: r.index } : {}),
    values:
      original.mode === "data" ? input : toProviderShape(input, blockShape(original.type, original.mode)),
    input,
    ...(own ? { attributes: own } : {}),
  };
}

/** The paths of the planned values Terraform does not know yet (`after_unknown`). */
function unknownValues(shown: ShownPlan): string[] {
  const paths: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (v === true) paths.push(path);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  for (const rc of shown.resource_changes ?? []) {
    const after = rc.change.after_unknown as { input?: unknown } | undefined;
    walk(after?.input, `${originalAddress(rc.address)}.input`);
  }
  for (const [name, oc] of Object.entries(shown.output_changes ?? {}))
    walk(oc.after_unknown, `output.${name}`);
  return paths;
}

/** `module.twin.terraform_data.aws_s3_bucket__b[0]` → `aws_s3_bucket.b[0]` (other addresses as they are). */
function originalAddress(address: string): string {
  const m = /^module\.twin\.terraform_data\.([A-Za-z0-9_-]+)(.*)$/.exec(address);
  const original = m ? parseTwinName(m[1] as string) : undefined;
  if (!m || !original) return address;
  return `${original.mode === "data" ? "data." : ""}${original.type}.${original.name}${m[2] ?? ""}`;
}
