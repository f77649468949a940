/**
 * `sluice` command line: a registry of commands (src/cli/commands), strict argument parsing, one
 * error type (CliError) with documented exit codes, and help per command. Command modules are
 * light: DuckDB, esbuild's bundling of code packages, cdktf and the AWS clients load only in the
 * commands that use them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FlowValidationError } from "../flow/errors";
import { didYouMean } from "../flow/suggest";
import { EXIT_HELP, GLOBAL_OPTIONS, parseArgs, type Command, type Output } from "./args";
import { graphCommand } from "./commands/graph";
import { initCommand } from "./commands/init";
import { localCommand } from "./commands/local";
import { modelCommand } from "./commands/model";
import { remoteCommand } from "./commands/remote";
import { synthCommand } from "./commands/synth";
import { validateCommand } from "./commands/validate";
import { loadProjectConfig, withConfig } from "./config";
import { CliError, EXIT, formatIssue, oneLine, usageError, withoutPrefix } from "./errors";

export type { Output } from "./args";
export { CliError, EXIT, formatIssue } from "./errors";

export const COMMANDS: readonly Command[] = [
  modelCommand,
  validateCommand,
  synthCommand,
  remoteCommand,
  localCommand,
  graphCommand,
  initCommand,
];

/** The package's version (package.json, two folders up from src/cli and dist/cli). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

export function usage(): string {
  return `usage: sluice <command> <flow.ts> [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

options: --json (machine-readable output), --help, --debug (stack traces), --version
\`sluice <command> --help\` (or \`sluice help <command>\`) shows a command's options and actions.
A sluice.config.json (or a "sluice" key in package.json) in the working directory gives the default
flow and the defaults of --dir, --datasets and --env: { "flow": "flow.ts", "dir": ".sluice-local" }.

${EXIT_HELP}`;
}

/** A command's help: its synopsis, actions and options. */
export function commandUsage(c: Command): string {
  const options = Object.entries({ ...c.options, ...GLOBAL_OPTIONS })
    .map(([n, t]) => (t === "string" ? `--${n} VALUE` : `--${n}`))
    .join(", ");
  return `usage: sluice ${c.usage}\n\noptions: ${options}\n\n${EXIT_HELP}`;
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  const names = COMMANDS.map((c) => c.name);
  throw usageError(`unknown command "${name}"${didYouMean(name, names)} (commands: ${names.join(", ")})`);
}

export async function main(
  argv: readonly string[],
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  const first = argv[0];
  if (first === "--version" || first === "-v" || first === "version") {
    out.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (first === undefined) {
    err.write(`${usage()}\n`);
    return EXIT.usage;
  }
  let name = "sluice";
  const debug = argv.includes("--debug");
  try {
    if (first === "help" || first === "--help" || first === "-h") {
      const topic = argv[1];
      out.write(`${topic === undefined ? usage() : commandUsage(findCommand(topic))}\n`);
      return EXIT.ok;
    }
    if (first.startsWith("-")) throw usageError(`expected a command before ${first} (see sluice --help)`);
    const command = findCommand(first);
    name = `sluice ${command.name}`;
    const parsed = parseArgs(argv, command.options ?? {}, command.name);
    if (parsed.flags.has("--help")) {
      out.write(`${commandUsage(command)}\n`);
      return EXIT.ok;
    }
    // sluice.config.json (or package.json "sluice"): the default flow, --dir, --datasets, --env.
    const project = loadProjectConfig();
    const needsFlow = command.needsFlow !== false;
    const args = project && needsFlow ? withConfig(parsed, command.options ?? {}, project.config) : parsed;
    if (needsFlow && args.positional[1] === undefined)
      throw usageError(`missing <flow.ts> (usage: sluice ${command.usage.split("\n")[0]})`);
    return await command.run(args, { out, err, json: args.flags.has("--json") });
  } catch (e) {
    if (e instanceof FlowValidationError) {
      for (const i of e.issues) err.write(`${formatIssue(i)}\n`);
      return EXIT.invalid;
    }
    if (e instanceof CliError) {
      err.write(`${name}: ${withoutPrefix(e.message)}\n`);
      if (debug && e.cause instanceof Error) err.write(`${e.cause.stack ?? ""}\n`);
      return e.exit;
    }
    if (e instanceof Error && e.name === "SynthError") {
      err.write(`${name}: ${withoutPrefix(oneLine(e.message))}\n`);
      if (debug) err.write(`${e.stack ?? ""}\n`);
      return EXIT.synth;
    }
    // Anything else is a failure of the run (a bug, or the environment): one line, the stack with --debug.
    err.write(`${name}: ${e instanceof Error ? withoutPrefix(oneLine(e.message)) : String(e)}\n`);
    if (debug && e instanceof Error) err.write(`${e.stack ?? ""}\n`);
    return EXIT.runtime;
  }
}
