/**
 * Plans a synthesized module with the real Terraform binary, offline: the module is converted
 * provider-free (provider-free.ts), called from a root configuration with the given variables, and
 * `terraform init/validate/plan/show` render every resource's arguments as a deployment would send
 * them to AWS. Only Terraform's built-in provider is used, so nothing is downloaded.
 */
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isLiteralTemplate } from "./hcl-references";
import type { DataSourceResolvers, TerraformJson } from "./provider-free";
import {
  ATTRIBUTES_OUTPUT,
  attributesOutputValue,
  DEFERRED,
  parseTwinName,
  providerFreeModule,
  twinName,
  twinProviderAliases,
} from "./provider-free";
import type { OriginalAddress } from "./provider-free";
import type { RenderedPlan, ShownPlan, TerraformDiagnostic } from "./rendered-plan";
import { CHILD, formatDiagnostic, renderedPlan, TerraformPlanError } from "./rendered-plan";

export type {
  DataSourceContext,
  DataSourceResolver,
  DataSourceResolvers,
  TerraformJson,
} from "./provider-free";
export { providerFreeModule } from "./provider-free";
export type { RenderedPlan, RenderedResource, TerraformDiagnostic } from "./rendered-plan";
export { formatDiagnostic, TerraformPlanError } from "./rendered-plan";

/** What to plan: the module folder, its variables, and the account, region and data sources. */
export interface PlanModuleOptions {
  /** A module folder: main.tf.json and the files it references (router.zip, ...). */
  readonly moduleDir: string;
  /** The module's input variables (e.g. `environment`, `datasets`). */
  readonly variables?: Record<string, unknown>;
  readonly account: string;
  readonly region: string;
  /** @default "aws" */
  readonly partition?: string;
  readonly dataSources?: DataSourceResolvers;
}

let version: string | null | undefined;

/** The version of the `terraform` on PATH (e.g. `1.11.4`); undefined when there is none. */
export function terraformVersion(): string | undefined {
  if (version === undefined) {
    const result = spawnSync("terraform", ["version", "-json"], { encoding: "utf8", env: terraformEnv() });
    let parsed: string | undefined;
    try {
      parsed = (JSON.parse(result.stdout) as { terraform_version?: string }).terraform_version;
    } catch {
      parsed = undefined;
    }
    version = result.status === 0 && parsed ? parsed : null;
  }
  return version ?? undefined;
}

/**
 * Plans a module offline: converts it provider-free into a temporary root (its other files copied
 * beside it, so `${path.module}` functions work), runs `terraform init`, `validate`, `plan` and
 * `show`, and returns the rendered values. Resolvers of `dataSources` receive the data source's
 * arguments evaluated (`${lower(local.datasets.stores.table)}` → `stores`): when they hold
 * expressions, a first plan evaluates them. The temporary folder is removed in every case. Throws a
 * {@link TerraformPlanError} on any Terraform failure or on values unknown at plan time.
 */
export async function planModule(opts: PlanModuleOptions): Promise<RenderedPlan> {
  const started = Date.now();
  const original = readModule(opts);
  const deferred = expressionArguments(original, opts.dataSources);
  const convert = (dataSources: DataSourceResolvers | undefined): TerraformJson => {
    const converted = providerFreeModule(original, { ...opts, ...(dataSources ? { dataSources } : {}) });
    const attributes = { value: attributesOutputValue(original, opts) };
    return { ...converted, output: { ...converted.output, [ATTRIBUTES_OUTPUT]: attributes } };
  };
  const first = convert(deferred.size > 0 ? deferring(opts.dataSources ?? {}, deferred) : opts.dataSources);

  const work = mkdtempSync(join(tmpdir(), "sluice-tfplan-"));
  try {
    const moduleDir = join(work, CHILD);
    cpSync(opts.moduleDir, moduleDir, {
      recursive: true,
      filter: (src) => !/[\\/]\.terraform(\.lock\.hcl)?$/.test(src),
    });
    writeFileSync(join(moduleDir, "main.tf.json"), JSON.stringify(first, null, 2));
    writeFileSync(join(work, "main.tf.json"), JSON.stringify(rootModule(original, first, opts), null, 2));
    writeFileSync(join(work, "terraform.tfvars.json"), JSON.stringify(opts.variables ?? {}));
    writeFileSync(join(work, "terraformrc"), "");
    const env = terraformEnv({
      TF_CLI_CONFIG_FILE: join(work, "terraformrc"),
      TF_DATA_DIR: join(work, ".terraform"),
    });
    const timings = { init: 0, data: 0, validate: 0, plan: 0, show: 0, total: 0 };
    const step = async (name: keyof typeof timings, args: string[]): Promise<Run> => {
      const t = Date.now();
      const run = await terraform(args, work, env);
      timings[name] += Date.now() - t;
      return run;
    };
    const planAndShow = async (validating: boolean, targets: string[] = []): Promise<ShownPlan> => {
      // validate and plan only read the configuration: side by side, validate's diagnostics first.
      const [validate, plan] = await Promise.all([
        validating ? step("validate", ["validate", "-json", "-no-color"]) : undefined,
        step("plan", [
          "plan",
          "-input=false",
          "-lock=false",
          "-refresh=false",
          "-out=plan.bin",
          "-json",
          "-no-color",
          ...targets.map((t) => `-target=${t}`),
        ]),
      ]);
      const validation = parseJson<{ valid?: boolean; diagnostics?: TerraformDiagnostic[] }>(
        validate?.stdout ?? "",
      );
      if (validate && (validate.code !== 0 || validation?.valid !== true)) {
        throw failure("terraform validate", validate, (validation?.diagnostics ?? []).filter(isError));
      }
      if (plan.code !== 0) throw failure("terraform plan", plan, streamedDiagnostics(plan.stdout));
      const show = await step("show", ["show", "-json", "-no-color", "plan.bin"]);
      const shown = parseJson<ShownPlan>(show.stdout);
      if (show.code !== 0 || !shown) throw failure("terraform show", show, []);
      return shown;
    };

    const init = await step("init", ["init", "-input=false", "-backend=false", "-no-color"]);
    if (init.code !== 0) throw failure("terraform init", init, []);
    if (deferred.size > 0) {
      const t = Date.now();
      // Only the deferred data sources and what they depend on (locals, variables, other data).
      const targets = [...deferred].map((a) => `module.${CHILD}.terraform_data.${twinName(dataAddress(a))}`);
      const evaluated = evaluatedArguments(await planAndShow(false, targets), deferred);
      const final = convert(evaluating(opts.dataSources ?? {}, evaluated));
      writeFileSync(join(moduleDir, "main.tf.json"), JSON.stringify(final, null, 2));
      timings.data = Date.now() - t;
      timings.plan = timings.show = 0;
    }
    const shown = await planAndShow(true);
    timings.total = Date.now() - started;
    return renderedPlan(shown, timings);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function readModule(opts: PlanModuleOptions): TerraformJson {
  const mainFile = join(opts.moduleDir, "main.tf.json");
  if (!existsSync(mainFile)) throw new Error(`${opts.moduleDir}: no main.tf.json`);
  const others = readdirSync(opts.moduleDir).filter((f) => f !== "main.tf.json" && /\.tf(\.json)?$/.test(f));
  if (others.length > 0) {
    throw new Error(`${opts.moduleDir}: only main.tf.json is converted, found ${others.join(", ")}`);
  }
  const original = JSON.parse(readFileSync(mainFile, "utf8")) as TerraformJson;
  for (const name of Object.keys(opts.variables ?? {})) {
    if (!original.variable?.[name])
      throw new Error(`${opts.moduleDir}: the module has no variable '${name}'`);
  }
  if (original.output?.[ATTRIBUTES_OUTPUT])
    throw new Error(`the module has an output named ${ATTRIBUTES_OUTPUT}`);
  return original;
}

/** The data sources a resolver resolves whose arguments hold expressions (one instance each). */
function expressionArguments(module: TerraformJson, resolvers: DataSourceResolvers | undefined): Set<string> {
  const out = new Set<string>();
  const strings = (v: unknown): string[] =>
    typeof v === "string"
      ? [v]
      : v !== null && typeof v === "object"
        ? Object.values(v).flatMap(strings)
        : [];
  for (const [type, byName] of Object.entries(module.data ?? {})) {
    if (!resolvers?.[type]) continue;
    for (const [name, config] of Object.entries(byName)) {
      if (config.count !== undefined || config.for_each !== undefined) continue;
      const { depends_on: _d, lifecycle: _l, provider: _p, ...args } = config;
      if (strings(args).some((s) => !isLiteralTemplate(s))) out.add(`data.${type}.${name}`);
    }
  }
  return out;
}

function dataAddress(address: string): OriginalAddress {
  const [, type, name] = address.split(".") as [string, string, string];
  return { mode: "data", type, name };
}

/** The resolvers, deferring the given data sources (see {@link DEFERRED}). */
function deferring(resolvers: DataSourceResolvers, deferred: Set<string>): DataSourceResolvers {
  return Object.fromEntries(
    Object.entries(resolvers).map(([type, resolve]) => [
      type,
      (config, context) => (deferred.has(context.address) ? DEFERRED : resolve(config, context)),
    ]),
  );
}

/** The resolvers, given the evaluated arguments of the data sources that have them. */
function evaluating(
  resolvers: DataSourceResolvers,
  evaluated: Map<string, Record<string, unknown>>,
): DataSourceResolvers {
  return Object.fromEntries(
    Object.entries(resolvers).map(([type, resolve]) => [
      type,
      (config, context) => resolve({ ...config, ...evaluated.get(context.address) }, context),
    ]),
  );
}

/** The arguments of the deferred data sources as planned (those known at plan time). */
function evaluatedArguments(shown: ShownPlan, deferred: Set<string>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const child = shown.planned_values?.root_module?.child_modules?.find(
    (m) => m.address === `module.${CHILD}`,
  );
  for (const r of child?.resources ?? []) {
    const original = r.type === "terraform_data" ? parseTwinName(r.name) : undefined;
    const address = original && `data.${original.type}.${original.name}`;
    if (address && deferred.has(address)) out.set(address, (r.values.input ?? {}) as Record<string, unknown>);
  }
  return out;
}

/** The root configuration: calls the converted module with the variables and forwards its outputs. */
function rootModule(
  original: TerraformJson,
  converted: TerraformJson,
  opts: PlanModuleOptions,
): TerraformJson {
  const aliases = twinProviderAliases(converted);
  const variables = Object.keys(opts.variables ?? {});
  return {
    terraform: { required_providers: { terraform: { source: "terraform.io/builtin/terraform" } } },
    ...(aliases.length > 0
      ? { provider: { terraform: aliases.map((a) => ({ alias: a.split(".")[1] })) } }
      : {}),
    ...(variables.length > 0 ? { variable: Object.fromEntries(variables.map((v) => [v, {}])) } : {}),
    module: {
      [CHILD]: {
        source: `./${CHILD}`,
        ...Object.fromEntries(variables.map((v) => [v, `\${var.${v}}`])),
        ...(aliases.length > 0 ? { providers: Object.fromEntries(aliases.map((a) => [a, a])) } : {}),
      },
    },
    output: Object.fromEntries(
      Object.keys(converted.output ?? {}).map((name) => [
        name,
        {
          value: `\${module.${CHILD}.${name}}`,
          ...(original.output?.[name]?.sensitive === true ? { sensitive: true } : {}),
        },
      ]),
    ),
  };
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly command: string;
}

function terraform(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile("terraform", args, { cwd, env, maxBuffer: 512 * 1024 * 1024 }, (error, stdout, stderr) => {
      const exited = error === null || typeof error.code === "number";
      resolve({
        code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
        stdout,
        stderr: exited ? stderr : `${error.message}\n${stderr}`,
        command: `terraform ${args.join(" ")}`,
      });
    });
  });
}

/** The environment of a hermetic, offline, non-interactive Terraform: no inherited TF_* settings. */
function terraformEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("TF_") && k !== "CHECKPOINT_DISABLE") env[k] = v;
  return { ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0", ...extra };
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

const isError = (d: TerraformDiagnostic): boolean => d.severity === "error";

/** The error diagnostics of a `-json` command's stream of messages. */
function streamedDiagnostics(stdout: string): TerraformDiagnostic[] {
  return stdout
    .split("\n")
    .map((line) => parseJson<{ type?: string; diagnostic?: TerraformDiagnostic }>(line))
    .flatMap((m) =>
      m?.type === "diagnostic" && m.diagnostic && isError(m.diagnostic) ? [m.diagnostic] : [],
    );
}

function failure(what: string, run: Run, diagnostics: TerraformDiagnostic[]): TerraformPlanError {
  const text =
    diagnostics.length > 0 ? diagnostics.map(formatDiagnostic).join("\n\n") : run.stderr || run.stdout;
  return new TerraformPlanError(
    `${what} failed (${run.command}):\n${text}`,
    run.command,
    diagnostics,
    run.stderr,
  );
}
