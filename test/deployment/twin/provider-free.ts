/**
 * A module's Terraform JSON made plannable without the AWS provider: every `aws_*` resource and
 * data source becomes a built-in `terraform_data` whose `input` holds what was written, and every
 * reference to an AWS attribute (`aws_s3_bucket.b.arn`) becomes what AWS would return, computed
 * from the referenced resource's input (see placeholders.ts). Terraform then evaluates the module
 * for real — variables, locals, functions, count and for_each — and its plan shows the values a
 * deployment would send to AWS.
 */
import type { AwsReference } from "./hcl-references";
import { parseAwsAddress } from "./hcl-references";
import type { Blocks, TerraformJson } from "./module-json";
import {
  asExpression,
  awsProviderNames,
  escapeDeep,
  rewriteDeep,
  splitMeta,
  twinTerraformBlock,
} from "./module-json";
import type { DataSourceResolvers } from "./placeholders";
import { BUILTIN_DATA_SOURCES, RESOURCE_PLACEHOLDERS } from "./placeholders";

export type { TerraformJson } from "./module-json";
export type { DataSourceContext, DataSourceResolver, DataSourceResolvers } from "./placeholders";

/** The account, region and partition the module is planned for, and how to read other data sources. */
export interface ProviderFreeOptions {
  /** The caller's 12-digit account id (`data.aws_caller_identity.*.account_id`). */
  readonly account: string;
  /** The provider's region (`data.aws_region.*.region`). */
  readonly region: string;
  /** @default "aws" */
  readonly partition?: string;
  /** Resolvers of the data sources other than aws_caller_identity, aws_region and aws_partition. */
  readonly dataSources?: DataSourceResolvers;
}

/**
 * What a resolver returns for a data source it cannot resolve yet: the data source keeps only its
 * arguments, and the other attributes read of it are unknown at plan time (`jsondecode(uuid())`:
 * unknown and untyped until apply). planModule uses it to evaluate data source arguments first.
 */
export const DEFERRED: Record<string, unknown> = Object.freeze({});

/** The address of an AWS resource or data source, as the converted module names it. */
export interface OriginalAddress {
  readonly mode: "managed" | "data";
  readonly type: string;
  readonly name: string;
}

const DATA_PREFIX = "data__";
const SEPARATOR = "__";
/** The `terraform_data` name of an AWS resource (`aws_s3_bucket__b`) or data source (`data__aws_region__r`). */
export function twinName(address: OriginalAddress): string {
  return `${address.mode === "data" ? DATA_PREFIX : ""}${address.type}${SEPARATOR}${address.name}`;
}

/** The original address of a converted `terraform_data` name; undefined for other names. */
export function parseTwinName(name: string): OriginalAddress | undefined {
  const mode = name.startsWith(DATA_PREFIX) ? "data" : "managed";
  const rest = mode === "data" ? name.slice(DATA_PREFIX.length) : name;
  const at = rest.indexOf(SEPARATOR);
  if (!rest.startsWith("aws_") || at < 0) return undefined;
  return { mode, type: rest.slice(0, at), name: rest.slice(at + SEPARATOR.length) };
}

/** The provider aliases (`terraform.<alias>`) the converted module expects its caller to pass. */
export function twinProviderAliases(converted: TerraformJson): string[] {
  const providers = converted.terraform?.required_providers as
    Record<string, { configuration_aliases?: string[] }> | undefined;
  return [...(providers?.terraform?.configuration_aliases ?? [])];
}

/**
 * The module without the AWS provider: `aws_*` resources and data sources as `terraform_data`
 * (meta-arguments kept, `depends_on` addresses rewritten, `provider = aws.x` → `terraform.x`,
 * `lifecycle.ignore_changes` dropped: terraform_data has none of the AWS attributes), references to
 * AWS attributes as realistic placeholders. Throws, naming the reference, on a resource type or
 * attribute without a placeholder and on a data source without a resolver.
 */
export function providerFreeModule(moduleJson: TerraformJson, opts: ProviderFreeOptions): TerraformJson {
  const partition = opts.partition ?? "aws";
  if (!/^\d{12}$/.test(opts.account)) throw new Error(`account must be 12 digits, got '${opts.account}'`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(opts.region)) throw new Error(`not a region: '${opts.region}'`);
  if (!/^aws(-[a-z]+)*$/.test(partition)) throw new Error(`not a partition: '${partition}'`);
  const { resource, data, locals, output, terraform, module, ...rest } = moduleJson;
  if (module !== undefined) throw new Error("Module calls inside the module are not supported");
  const resources = resource ?? {};
  const dataSources = data ?? {};
  const ctx = { account: opts.account, region: opts.region, partition };
  const awsProviders = awsProviderNames(terraform);
  const aliases = new Set<string>();

  // Data sources first: references to them are checked against their resolved attributes.
  const resolvedData = new Map<
    string,
    { type: string; name: string; config: Record<string, unknown>; resolved: Record<string, unknown> }
  >();
  for (const [type, byName] of Object.entries(dataSources)) {
    if (!type.startsWith("aws_")) throw new Error(`data "${type}": only aws_* data sources are supported`);
    for (const [name, config] of Object.entries(byName)) {
      const address = `data.${type}.${name}`;
      const { attributes } = splitMeta(config, address);
      const custom = opts.dataSources?.[type];
      const builtin = BUILTIN_DATA_SOURCES[type];
      let resolved: Record<string, unknown>;
      if (custom) {
        const result = custom(attributes, { address, ...ctx });
        resolved = result === DEFERRED ? DEFERRED : escapeDeep(result);
      } else if (builtin) resolved = builtin(attributes, { address, ...ctx });
      else {
        throw new Error(
          `${address}: no resolver for data source type ${type} (pass dataSources.${type} to resolve it)`,
        );
      }
      resolvedData.set(address, { type, name, config, resolved });
    }
  }
  const dataAttributes = new Map(
    [...resolvedData].map(([address, d]) => [
      address,
      new Set([...Object.keys(d.resolved), ...Object.keys(splitMeta(d.config, address).attributes)]),
    ]),
  );

  function rewrite(ref: AwsReference): string {
    const index = ref.index === undefined ? "" : `[${ref.index}]`;
    const instance = `terraform_data.${twinName(ref)}${index}`;
    if (ref.mode === "data") {
      const known = dataAttributes.get(`data.${ref.type}.${ref.name}`);
      if (!known) throw new Error(`${ref.text}: no data source data.${ref.type}.${ref.name} in the module`);
      if (ref.attribute === undefined) return `${instance}.input`;
      if (
        resolvedData.get(`data.${ref.type}.${ref.name}`)?.resolved === DEFERRED &&
        !known.has(ref.attribute)
      ) {
        // Unknown at plan time, of no type yet: any traversal of it is unknown too.
        return "jsondecode(uuid())";
      }
      if (!known.has(ref.attribute)) {
        throw new Error(
          `${ref.text}: data source ${ref.type} has no attribute '${ref.attribute}' (resolved: ${[...known].sort().join(", ")})`,
        );
      }
      return `${instance}.input.${ref.attribute}`;
    }
    const config = resources[ref.type]?.[ref.name];
    if (!config) throw new Error(`${ref.text}: no resource ${ref.type}.${ref.name} in the module`);
    if (ref.attribute === undefined) {
      throw new Error(`${ref.text}: references to a whole resource are not supported; read an attribute`);
    }
    const placeholder = RESOURCE_PLACEHOLDERS[ref.type]?.[ref.attribute];
    if (!placeholder) throw new Error(unknownAttribute(ref.text, ref.type, ref.attribute));
    const key = ref.index === undefined ? "" : `[\${jsonencode(${ref.index})}]`;
    return asExpression(
      placeholder({
        instance,
        address: `${ref.type}.${ref.name}${key}`,
        config: splitMeta(config, ref.text).attributes,
        ...ctx,
        reference: ref.text,
      }),
    );
  }

  function convertMeta(meta: Record<string, unknown>, address: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(meta)) {
      if (key === "depends_on")
        out.depends_on = (value as unknown[]).map((d) => dependency(String(d), address));
      else if (key === "provider") out.provider = provider(String(value), address);
      else if (key === "lifecycle") out.lifecycle = lifecycle(value as Record<string, unknown>, address);
      else out[key] = rewriteDeep(value, rewrite);
    }
    return out;
  }

  function dependency(text: string, from: string): string {
    const target = parseAwsAddress(text);
    if (!target) return text; // module.x, terraform_data.x, ...
    const known = target.mode === "data" ? dataSources : resources;
    if (!known[target.type]?.[target.name])
      throw new Error(`${from}: depends_on ${text}, which is not in the module`);
    return `terraform_data.${twinName(target)}`;
  }

  function provider(text: string, from: string): string {
    const m = /^(?:\$\{)?([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?(?:\})?$/.exec(text);
    if (!m || !awsProviders.has(m[1] as string))
      throw new Error(`${from}: provider ${text} is not an AWS provider`);
    if (m[2] === undefined) return "terraform";
    aliases.add(`terraform.${m[2]}`);
    return `terraform.${m[2]}`;
  }

  function lifecycle(value: Record<string, unknown>, from: string): Record<string, unknown> {
    const { ignore_changes: _ignored, replace_triggered_by, ...kept } = value;
    const out = rewriteDeep(kept, rewrite) as Record<string, unknown>;
    if (Array.isArray(replace_triggered_by)) {
      out.replace_triggered_by = replace_triggered_by.map((r) => {
        const m =
          /^(?:\$\{)?((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)(\[[^\]]*\])?(?:\.[^}]*)?(?:\})?$/.exec(
            String(r),
          );
        return m ? `${dependency(m[1] as string, from)}${m[2] ?? ""}` : r;
      });
    }
    return out;
  }

  const convertedData: Record<string, Record<string, unknown>> = {};
  for (const [address, { type, name, config, resolved }] of resolvedData) {
    const { meta, attributes } = splitMeta(config, address);
    // The configuration's own arguments win over the resolver's (they are what was asked for).
    const input = {
      ...(resolved === DEFERRED ? {} : resolved),
      ...(rewriteDeep(attributes, rewrite) as Record<string, unknown>),
    };
    convertedData[twinName({ mode: "data", type, name })] = { input, ...convertMeta(meta, address) };
  }

  const convertedResources: Blocks = {};
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, config] of Object.entries(byName)) {
      const address = `${type}.${name}`;
      if (type === "terraform_data") {
        const { meta, attributes } = splitMeta(config, address);
        (convertedResources.terraform_data ??= {})[name] = {
          ...(rewriteDeep(attributes, rewrite) as Record<string, unknown>),
          ...convertMeta(meta, address),
        };
        continue;
      }
      if (!type.startsWith("aws_"))
        throw new Error(`${address}: only aws_* and terraform_data resources are supported`);
      const { meta, attributes } = splitMeta(config, address);
      (convertedResources.terraform_data ??= {})[twinName({ mode: "managed", type, name })] = {
        input: rewriteDeep(attributes, rewrite),
        ...convertMeta(meta, address),
      };
    }
  }
  for (const name of Object.keys(convertedData)) {
    (convertedResources.terraform_data ??= {})[name] = convertedData[name] as Record<string, unknown>;
  }

  const convertedOutputs: Record<string, Record<string, unknown>> = {};
  for (const [name, body] of Object.entries(output ?? {})) {
    const { depends_on, ...kept } = body;
    convertedOutputs[name] = {
      ...(rewriteDeep(kept, rewrite) as Record<string, unknown>),
      ...(Array.isArray(depends_on)
        ? { depends_on: depends_on.map((d) => dependency(String(d), `output.${name}`)) }
        : {}),
    };
  }

  // Planned from an empty state: moves, removals and imports have nothing to act on.
  const {
    provider: _providers,
    moved: _moved,
    removed: _removed,
    import: _imports,
    variable,
    ...others
  } = rest;
  const result: TerraformJson = { ...(rewriteDeep(others, rewrite) as TerraformJson) };
  if (variable !== undefined) result.variable = variable as TerraformJson["variable"];
  const tf = twinTerraformBlock(terraform, awsProviders, [...aliases].sort());
  if (tf) result.terraform = tf;
  if (locals !== undefined) result.locals = rewriteDeep(locals, rewrite) as Record<string, unknown>;
  if (Object.keys(convertedResources).length > 0) result.resource = convertedResources;
  if (output !== undefined) result.output = convertedOutputs;
  return result;
}

function unknownAttribute(reference: string, type: string, attribute: string): string {
  const table = RESOURCE_PLACEHOLDERS[type];
  if (!table) return `${reference}: no placeholders for resource type ${type} (extend RESOURCE_PLACEHOLDERS)`;
  return `${reference}: no placeholder for attribute '${attribute}' of ${type} (known: ${Object.keys(table).sort().join(", ")})`;
}

/** The output planModule adds to read back the attributes of every converted AWS resource. */
export const ATTRIBUTES_OUTPUT = "sluice_twin_attributes";

/**
 * The value of {@link ATTRIBUTES_OUTPUT} for a module (before conversion): by original address
 * (`aws_kms_key.k`), by instance key (`""` for a single instance, the count index or for_each key
 * otherwise), every attribute of the placeholder table the resource's configuration allows (those
 * needing an argument it does not set are left out).
 */
export function attributesOutputValue(moduleJson: TerraformJson, opts: ProviderFreeOptions): string {
  const ctx = { account: opts.account, region: opts.region, partition: opts.partition ?? "aws" };
  const entries: string[] = [];
  for (const [type, byName] of Object.entries(moduleJson.resource ?? {})) {
    const table = RESOURCE_PLACEHOLDERS[type];
    if (!table) continue;
    for (const [name, config] of Object.entries(byName)) {
      const expanded = config.count !== undefined || config.for_each !== undefined;
      const base = `terraform_data.${twinName({ mode: "managed", type, name })}`;
      const instance = expanded ? `${base}[twin_key]` : base;
      const attributes: string[] = [];
      for (const [attribute, placeholder] of Object.entries(table)) {
        try {
          const template = placeholder({
            instance,
            address: `${type}.${name}${expanded ? "[${jsonencode(twin_key)}]" : ""}`,
            config: splitMeta(config, `${type}.${name}`).attributes,
            ...ctx,
            reference: `${type}.${name}.${attribute}`,
          });
          attributes.push(`${attribute} = ${asExpression(template)}`);
        } catch {
          // The placeholder needs an argument this resource does not set.
        }
      }
      const object = `{ ${attributes.join(", ")} }`;
      const value = expanded
        ? `{ for twin_key, twin_value in ${base} : twin_key => ${object} }`
        : `{ "" = ${object} }`;
      entries.push(`"${type}.${name}" = ${value}`);
    }
  }
  return `\${{ ${entries.join(", ")} }}`;
}
