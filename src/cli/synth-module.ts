/**
 * `sluice synth`: a flow's environment as a Terraform module. The SluiceStack is synthesized in
 * module mode (no provider configuration, no backend; account and region come from the caller's
 * provider), its JSON cleaned of cdktf's bookkeeping so reviews see only real changes, and written
 * with the router's code package and a README.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import Handlebars from "handlebars";
import type { Application } from "../flow/application";
import { canonicalJson } from "../flow/model/canonical-json";
import { BINDABLE } from "../flow/model/dataset-bindings";
import { ROUTER_PACKAGE } from "../flow/model/deployment-contract";
import type { FlowModel } from "../flow/model/flow-model";
import { App } from "../synth/cdktf";
import { SluiceStack, variableField } from "../synth/sluice-stack";
import { MODULE_README } from "./module-readme";

export interface SynthModuleOptions {
  readonly environment?: string;
  /** Output folder; created, and emptied of a previous module. */
  readonly out: string;
  /** Folder of the prebuilt runtime bundle. @default the package's dist/runtime-bundle */
  readonly bundleDir?: string;
}

export interface SynthSummary {
  readonly out: string;
  readonly files: readonly string[];
  /** Resource count per component (storage, routing, processor, batch, diagnostics, roles). */
  readonly components: Readonly<Record<string, number>>;
  readonly resources: number;
  readonly variables: readonly string[];
  readonly outputs: readonly string[];
  /** What a root configuration passes the module for this environment. */
  readonly inputs: ModuleInputs;
}

/** The module's inputs for one environment: its name and its dataset bindings (`datasets`). */
export interface ModuleInputs {
  readonly environment: string;
  /**
   * By dataset id, the fields the environment binds, spelled as the variable spells them
   * (`encryption_key`); the others keep the flow's declaration.
   */
  readonly datasets: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

interface TerraformJson {
  "//"?: unknown;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  variable?: Record<string, Record<string, unknown>>;
  output?: Record<string, Record<string, unknown>>;
  provider?: unknown;
  terraform?: Record<string, unknown>;
  [k: string]: unknown;
}

/** The name of the router package beside the module's main.tf.json (the deployment contract's). */
export { ROUTER_PACKAGE };

export function synthModule(app: Application, options: SynthModuleOptions): SynthSummary {
  const outdir = mkdtempSync(join(tmpdir(), "sluice-cdktf-"));
  try {
    const cdk = new App({ outdir });
    const id = options.environment ? `${app.name}-${options.environment}` : app.name;
    const stack = new SluiceStack(cdk, id, {
      app,
      module: true,
      ...(options.environment ? { environment: options.environment } : {}),
      ...(options.bundleDir ? { bundleDir: options.bundleDir } : {}),
    });
    cdk.synth();
    const stackDir = join(outdir, "stacks", id);
    const json = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as TerraformJson;
    rmSync(options.out, { recursive: true, force: true });
    mkdirSync(options.out, { recursive: true });
    const assets = new Map<string, string>();
    const module = toModule(json, (assetPath) => {
      const name = basename(assetPath) === "archive.zip" ? ROUTER_PACKAGE : basename(assetPath);
      assets.set(name, join(stackDir, assetPath));
      return name;
    });
    for (const [name, source] of assets) copyFileSync(source, join(options.out, name));
    // The bundle's source maps beside the module, for debugging (the code package ships none).
    const maps = Object.entries(stack.processor.sourceMaps);
    for (const [name, source] of maps) copyFileSync(source, join(options.out, name));
    const files = ["main.tf.json", "README.md", ...[...assets.keys(), ...maps.map(([name]) => name)].sort()];
    writeFileSync(join(options.out, "main.tf.json"), `${canonicalJson(module)}\n`);
    const inputs = moduleInputs(app.toModel(), options.environment);
    const summary = summarize(module, options.out, files, inputs);
    writeFileSync(
      join(options.out, "README.md"),
      Handlebars.compile(MODULE_README, { noEscape: true })({
        application: app.name,
        environment: options.environment ?? "default",
        usage: usageBlock(app.name, inputs, module.variable !== undefined && DATASETS in module.variable),
        summary,
        components: Object.entries(summary.components).map(([name, count]) => ({ name, count })),
        variables: Object.entries(module.variable ?? {}).map(([name, v]) => ({
          name,
          description: String(v.description ?? ""),
        })),
        outputs: Object.keys(module.output ?? {}),
      }),
    );
    return summary;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * cdktf's stack JSON → a module: no provider configuration, no backend, no bookkeeping comments;
 * asset files (the router package, the Spark driver) referenced beside the module under stable
 * names, and content hashes computed by Terraform, so the JSON changes only when the flow does.
 */
export function toModule(
  json: TerraformJson,
  placeAsset: (assetPath: string) => string = (p) => basename(p),
): TerraformJson {
  const { "//": _meta, provider: _provider, ...rest } = json;
  const terraform = { ...(rest.terraform ?? {}) };
  delete terraform.backend;
  const providers = terraform.required_providers as Record<string, { source?: string }> | undefined;
  // "aws" is Terraform's shorthand; spell it as root configurations do.
  if (providers?.aws?.source === "aws") providers.aws = { ...providers.aws, source: "hashicorp/aws" };
  const hashes = new Map<string, string>();
  const rewritten = rewrite(stripMetadata({ ...rest, terraform }), (text) => {
    const m = ASSET_PATH.exec(text);
    if (!m) return text;
    const placed = `\${path.module}/${placeAsset(text)}`;
    hashes.set(m[1] as string, placed);
    return placed;
  });
  // A literal asset hash (e.g. a Lambda's source_code_hash) becomes Terraform's own hash of the file.
  return rewrite(rewritten, (text) => {
    const placed = hashes.get(text);
    return placed === undefined ? text : `\${filebase64sha256("${placed}")}`;
  }) as TerraformJson;
}

/** `assets/<construct>/<content hash>/<file>`: where cdktf puts a TerraformAsset in a stack. */
const ASSET_PATH = /^assets\/[^/]+\/([0-9A-F]{16,})\/[^/]+$/;

function rewrite(v: unknown, f: (text: string) => string): unknown {
  if (typeof v === "string") return f(v);
  if (Array.isArray(v)) return v.map((x) => rewrite(x, f));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x, f)]));
  }
  return v;
}

function stripMetadata(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripMetadata);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== "//") out[k] = stripMetadata(x);
    return out;
  }
  return v;
}

const COMPONENTS = ["storage", "routing", "roles", "batch", "processor", "diagnostics", "collaboration"];

function summarize(module: TerraformJson, out: string, files: string[], inputs: ModuleInputs): SynthSummary {
  const components: Record<string, number> = Object.fromEntries(COMPONENTS.map((c) => [c, 0]));
  let resources = 0;
  for (const byId of Object.values(module.resource ?? {})) {
    for (const id of Object.keys(byId)) {
      resources++;
      const component = COMPONENTS.find((c) => id.startsWith(`${c}_`)) ?? "other";
      components[component] = (components[component] ?? 0) + 1;
    }
  }
  return {
    out,
    files,
    components,
    resources,
    variables: Object.keys(module.variable ?? {}).sort(),
    outputs: Object.keys(module.output ?? {}).sort(),
    inputs,
  };
}

const DATASETS = "datasets";

/** The environment's bindings, limited to what the module's `datasets` variable takes. */
export function moduleInputs(model: FlowModel, environment: string | undefined): ModuleInputs {
  const bindings = environment === undefined ? {} : (model.environments[environment]?.datasets ?? {});
  const datasets: Record<string, Record<string, string>> = {};
  for (const id of Object.keys(bindings).sort()) {
    const kind = model.nodes[id]?.kind;
    if (kind !== "s3Dataset" && kind !== "glueTable") continue;
    const fields = Object.entries(bindings[id] ?? {})
      .filter(([f, v]) => typeof v === "string" && (BINDABLE[kind] as readonly string[]).includes(f))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    if (fields.length > 0) {
      datasets[id] = Object.fromEntries(fields.map(([f, v]) => [variableField(f), v])) as Record<
        string,
        string
      >;
    }
  }
  return { environment: environment ?? "default", datasets };
}

/** The README's module block: the call a root configuration makes for this environment. */
function usageBlock(application: string, inputs: ModuleInputs, takesDatasets: boolean): string {
  const env = inputs.environment;
  const lines = [
    `module "${`${application}_${env}`.replace(/[^A-Za-z0-9_]/g, "_")}" {`,
    `  source      = "./modules/${application}"`,
    `  providers   = { aws = aws.${env.replace(/[^A-Za-z0-9_]/g, "_")} }`,
    `  environment = ${JSON.stringify(env)}`,
  ];
  if (takesDatasets) {
    const ids = Object.keys(inputs.datasets);
    if (ids.length === 0) lines.push(`  datasets    = {}`);
    else {
      const width = Math.max(...ids.map((id) => id.length));
      lines.push("  datasets = {");
      for (const id of ids) {
        const fields = Object.entries(inputs.datasets[id] ?? {})
          .map(([f, v]) => `${f} = ${JSON.stringify(v)}`)
          .join(", ");
        lines.push(`    ${id.padEnd(width)} = { ${fields} }`);
      }
      lines.push("  }");
    }
  }
  lines.push("}");
  return lines.join("\n");
}

/** For `cdktf synth` (cdktf.json): a deployable stack (provider, local state) into cdktf's outdir. */
export function synthCdktfApp(app: Application, environment?: string): void {
  const cdk = new App();
  new SluiceStack(cdk, environment ? `${app.name}-${environment}` : app.name, {
    app,
    ...(environment ? { environment } : {}),
  });
  cdk.synth();
}
