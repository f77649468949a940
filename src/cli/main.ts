/**
 * `sluice` command line: model, validate and synth. Graph, local and remote runs arrive with their issue.
 */
import type { Application } from "../flow/application";
import { FlowValidationError } from "../flow/errors";
import { canonicalJson } from "../flow/model/canonical-json";
import { FlowLoadError, loadFlow } from "./load-flow";
import type * as SynthModule from "./synth-module";

const USAGE = `usage: sluice <command> <flow.ts> [options]

commands:
  model <flow.ts>      print the flow's FlowModel (canonical JSON)
  validate <flow.ts>   list every problem of the flow, one per line; exit 1 if any
  synth <flow.ts>      write the flow as a Terraform module
      --env NAME         environment to synthesize (default: the application's own account)
      --out DIR          output folder (default: sluice.out/<application>[-<env>])
      --format json      main.tf.json (the only format: cdktf 0.21 renders HCL only through its CLI)
      --cdktf            synthesize a deployable stack into cdktf's outdir (used by cdktf.json)

options: --json (machine-readable output)

exit codes: 0 ok, 1 invalid flow, 2 usage or load error, 3 synthesis error`;

/** Where the CLI writes; process.stdout/stderr, or a sink in tests. */
export interface Output {
  write(text: string): unknown;
}

interface Args {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(["--env", "--out", "--format"]);

function parseArgs(argv: readonly string[]): Args | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--")) positional.push(a);
    else if (VALUE_FLAGS.has(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) return `${a} needs a value`;
      flags.set(a, v);
    } else flags.set(a, true);
  }
  return { positional, flags };
}

export function main(
  argv: readonly string[],
  out: Output = process.stdout,
  err: Output = process.stderr,
): number {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    err.write(`sluice: ${args}\n`);
    return 2;
  }
  const json = args.flags.has("--json");
  const [command, file] = args.positional;
  if (command === undefined || command === "help" || args.flags.has("--help")) {
    out.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== "model" && command !== "validate" && command !== "synth") {
    err.write(`sluice: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  if (file === undefined) {
    err.write(`sluice ${command}: missing <flow.ts>\n`);
    return 2;
  }
  try {
    const app = loadFlow(file);
    if (command === "model") {
      out.write(`${canonicalJson(app.toModel())}\n`);
      return 0;
    }
    if (command === "synth") return synth(app, args, json, out, err);
    const issues = app.validate();
    if (json) out.write(`${JSON.stringify({ valid: issues.length === 0, issues }, null, 2)}\n`);
    else if (issues.length === 0) out.write(`${file}: valid (${app.nodeList.length} nodes)\n`);
    else for (const i of issues) out.write(`${i.path}: ${i.message}\n`);
    return issues.length === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof FlowValidationError) {
      for (const i of e.issues) err.write(`${i.path}: ${i.message}\n`);
      return 1;
    }
    if (e instanceof FlowLoadError) {
      err.write(`sluice: ${e.message}\n`);
      return 2;
    }
    if (e instanceof Error && e.name === "SynthError") {
      err.write(`sluice synth: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
}

function synth(app: Application, args: Args, json: boolean, out: Output, err: Output): number {
  const format = args.flags.get("--format") ?? "json";
  if (format !== "json") {
    err.write(
      `sluice synth: --format ${String(format)} is not available: cdktf 0.21 renders HCL only through its CLI; use json\n`,
    );
    return 2;
  }
  const env = args.flags.get("--env");
  const environment = typeof env === "string" ? env : undefined;
  // Loaded here so `model`/`validate` never pay for cdktf and the provider bindings.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const synthesis = require("./synth-module") as typeof SynthModule;
  if (args.flags.has("--cdktf")) {
    synthesis.synthCdktfApp(app, environment);
    return 0;
  }
  const dest = args.flags.get("--out");
  const summary = synthesis.synthModule(app, {
    out: typeof dest === "string" ? dest : `sluice.out/${app.name}${environment ? `-${environment}` : ""}`,
    ...(environment ? { environment } : {}),
  });
  if (json) out.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    out.write(
      `${app.name}${environment ? ` (${environment})` : ""}: ${summary.resources} resources → ${summary.out}\n`,
    );
    for (const [component, count] of Object.entries(summary.components))
      if (count > 0) out.write(`  ${component.padEnd(12)} ${count}\n`);
    out.write(`  files: ${summary.files.join(", ")}\n`);
  }
  return 0;
}
