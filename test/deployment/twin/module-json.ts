/**
 * Terraform JSON plumbing of the provider-free conversion: the configuration's shape, meta-arguments
 * apart from attributes, strings rewritten as templates or escaped as literals, and the terraform
 * block without the AWS provider.
 */
import type { AwsReference } from "./hcl-references";
import { escapeTemplate, rewriteTemplate } from "./hcl-references";

/** Blocks by type then name (resources, data sources). */
export type Blocks = Record<string, Record<string, Record<string, unknown>>>;

/** A Terraform JSON configuration (one `.tf.json` file). */
export interface TerraformJson {
  resource?: Blocks;
  data?: Blocks;
  locals?: Record<string, unknown>;
  variable?: Record<string, Record<string, unknown>>;
  output?: Record<string, Record<string, unknown>>;
  terraform?: Record<string, unknown>;
  provider?: unknown;
  module?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** The meta-arguments of resources and data sources. */
export const META = [
  "count",
  "for_each",
  "depends_on",
  "lifecycle",
  "provider",
  "provisioner",
  "connection",
] as const;

/** A placeholder's template text as an expression: a lone interpolation unwrapped, else a string. */
export function asExpression(template: string): string {
  const lone = /^\$\{([^{}]*)\}$/.exec(template);
  return lone ? (lone[1] as string) : `"${template}"`;
}

/** A resource's meta-arguments apart from its attributes (`//` comments dropped). */
export function splitMeta(
  config: Record<string, unknown>,
  address: string,
): { meta: Record<string, unknown>; attributes: Record<string, unknown> } {
  const meta: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === "//") continue;
    if (key === "dynamic") throw new Error(`${address}: dynamic blocks are not supported`);
    if ((META as readonly string[]).includes(key)) meta[key] = value;
    else attributes[key] = value;
  }
  return { meta, attributes };
}

/** Every string (object keys included) rewritten as a template; `//` comments dropped. */
export function rewriteDeep(value: unknown, rewrite: (ref: AwsReference) => string): unknown {
  if (typeof value === "string") return rewriteTemplate(value, rewrite);
  if (Array.isArray(value)) return value.map((v) => rewriteDeep(v, rewrite));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "//")
        .map(([k, v]) => [rewriteTemplate(k, rewrite), rewriteDeep(v, rewrite)]),
    );
  }
  return value;
}

/** Literal values as Terraform JSON: `${` and `%{` escaped in strings and keys. */
export function escapeDeep(value: unknown): Record<string, unknown> {
  const esc = (v: unknown): unknown => {
    if (typeof v === "string") return escapeTemplate(v);
    if (Array.isArray(v)) return v.map(esc);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeTemplate(k), esc(x)]));
    }
    return v;
  };
  return esc(value) as Record<string, unknown>;
}

const AWS_SOURCE = /^((registry\.terraform\.io\/)?hashicorp\/)?aws$/;

/** The local names of the AWS provider: `aws`, and any other name required with source hashicorp/aws. */
export function awsProviderNames(terraform: Record<string, unknown> | undefined): Set<string> {
  const names = new Set(["aws"]);
  const required = (terraform?.required_providers ?? {}) as Record<string, { source?: string } | string>;
  for (const [name, spec] of Object.entries(required)) {
    const source = typeof spec === "string" ? undefined : spec.source;
    if (source !== undefined && AWS_SOURCE.test(source)) names.add(name);
  }
  return names;
}

/** The terraform block without the AWS provider, requiring the built-in one with the aliases used. */
export function twinTerraformBlock(
  terraform: Record<string, unknown> | undefined,
  awsProviders: Set<string>,
  aliases: string[],
): Record<string, unknown> | undefined {
  const { backend: _backend, cloud: _cloud, required_providers, ...kept } = terraform ?? {};
  const providers = Object.fromEntries(
    Object.entries((required_providers ?? {}) as Record<string, unknown>).filter(
      ([name]) => !awsProviders.has(name),
    ),
  );
  if (aliases.length > 0) {
    providers.terraform = { source: "terraform.io/builtin/terraform", configuration_aliases: aliases };
  }
  const out = { ...kept, ...(Object.keys(providers).length > 0 ? { required_providers: providers } : {}) };
  return Object.keys(out).length > 0 ? out : undefined;
}
