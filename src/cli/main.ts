/**
 * `sluice` command line. This wave: `model` (print the FlowModel) and `validate`. Synth, graph,
 * local and remote runs arrive with their issues.
 */
import { FlowValidationError } from "../flow/errors";
import { canonicalJson } from "../flow/model/canonical-json";
import { FlowLoadError, loadFlow } from "./load-flow";

const USAGE = `usage: sluice <command> <flow.ts> [--json]

commands:
  model <flow.ts>      print the flow's FlowModel (canonical JSON)
  validate <flow.ts>   list every problem of the flow, one per line; exit 1 if any

exit codes: 0 ok, 1 invalid flow, 2 usage or load error`;

/** Where the CLI writes; process.stdout/stderr, or a sink in tests. */
export interface Output {
  write(text: string): unknown;
}

export function main(
  argv: readonly string[],
  out: Output = process.stdout,
  err: Output = process.stderr,
): number {
  const json = argv.includes("--json");
  const [command, file] = argv.filter((a) => !a.startsWith("--"));
  if (command === undefined || command === "help" || argv.includes("--help")) {
    out.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== "model" && command !== "validate") {
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
    throw e;
  }
}
