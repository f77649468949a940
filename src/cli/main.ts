/**
 * `sluice` command line: a registry of commands (src/cli/commands), one-line actionable errors and
 * documented exit codes.
 */
import { FlowValidationError } from "../flow/errors";
import { EXIT, parseArgs, type Command, type Output } from "./args";
import { graphCommand } from "./commands/graph";
import { localCommand } from "./commands/local";
import { modelCommand } from "./commands/model";
import { remoteCommand } from "./commands/remote";
import { synthCommand } from "./commands/synth";
import { validateCommand } from "./commands/validate";
import { FlowLoadError } from "./load-flow";

export type { Output } from "./args";

export const COMMANDS: readonly Command[] = [
  modelCommand,
  validateCommand,
  synthCommand,
  remoteCommand,
  localCommand,
  graphCommand,
];

export function usage(): string {
  return `usage: sluice <command> <flow.ts> [options]

commands:
${COMMANDS.map((c) => `  ${c.usage}`).join("\n")}

options: --json (machine-readable output), --help

exit codes: ${EXIT.ok} ok, ${EXIT.invalid} invalid flow, ${EXIT.usage} usage or load error, ${EXIT.synth} synthesis error, ${EXIT.runtime} runtime error`;
}

export async function main(
  argv: readonly string[],
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  const name = argv.find((a) => !a.startsWith("--"));
  if (name === undefined || name === "help" || argv.includes("--help")) {
    out.write(`${usage()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    err.write(`sluice: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")})\n`);
    return EXIT.usage;
  }
  const args = parseArgs(argv, new Set(command.valueFlags ?? []));
  if (typeof args === "string") {
    err.write(`sluice ${name}: ${args}\n`);
    return EXIT.usage;
  }
  if (args.positional[1] === undefined) {
    err.write(`sluice ${name}: missing <flow.ts>\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(args, { out, err, json: args.flags.has("--json") });
  } catch (e) {
    if (e instanceof FlowValidationError) {
      for (const i of e.issues) err.write(`${i.path}: ${i.message}\n`);
      return EXIT.invalid;
    }
    if (e instanceof FlowLoadError) {
      err.write(`sluice: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof Error && e.name === "SynthError") {
      err.write(`sluice synth: ${e.message}\n`);
      return EXIT.synth;
    }
    throw e;
  }
}
