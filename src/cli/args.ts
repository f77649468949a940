/**
 * Command-line arguments, parsed strictly with Node's util.parseArgs: every option a command does
 * not declare is a usage error with a did-you-mean.
 */
import { parseArgs as nodeParseArgs } from "node:util";
import { didYouMean } from "../flow/suggest";
import { EXIT, usageError } from "./errors";

export { EXIT } from "./errors";

export interface Args {
  readonly positional: readonly string[];
  /** Options given, by their `--name`: a string for valued options, true for switches. */
  readonly flags: ReadonlyMap<string, string | true>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, "string" | "boolean">> = {
  json: "boolean",
  help: "boolean",
  debug: "boolean",
};

/**
 * Parses argv (without the command name's position removed) against a command's options.
 * Throws a CliError (exit 2) for unknown options, a missing value, or a value given to a switch.
 */
export function parseArgs(
  argv: readonly string[],
  options: Readonly<Record<string, "string" | "boolean">>,
  command = "",
): Args {
  const all = { ...GLOBAL_OPTIONS, ...options };
  const names = Object.keys(all).map((n) => `--${n}`);
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.entries(all).map(([n, type]) => [n, { type }])),
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    const quoted = /'(-[^' ]*)/.exec(err.message ?? "")?.[1];
    const of = command ? ` of ${command}` : "";
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && quoted !== undefined) {
      const name = quoted.replace(/=.*$/, "");
      throw usageError(
        `unknown option ${name}${didYouMean(name, names, "")}; options${of}: ${names.join(", ")}`,
        e,
      );
    }
    if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && quoted !== undefined) {
      const name = quoted.replace(/[ =].*$/, "");
      const type = all[name.replace(/^--/, "")];
      throw usageError(type === "boolean" ? `${name} takes no value` : `${name} needs a value`, e);
    }
    throw usageError((err.message ?? String(e)).split(/\.\s/)[0] ?? "invalid arguments", e);
  }
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === "string") flags.set(`--${name}`, value);
    else if (value === true) flags.set(`--${name}`, true);
  }
  return { positional: parsed.positionals, flags };
}

/** A flag's string value, or undefined when absent. */
export function flag(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

/** Where the CLI writes; process.stdout/stderr, or a sink in tests. */
export interface Output {
  write(text: string): unknown;
}

export interface Io {
  readonly out: Output;
  readonly err: Output;
  /** --json was given: machine-readable output. */
  readonly json: boolean;
}

/** One `sluice <name>` command. Its module stays light: what it needs is loaded in run(). */
export interface Command {
  readonly name: string;
  /** One line for `sluice help`. */
  readonly summary: string;
  /** The command's help (`sluice <name> --help`): synopsis and actions. */
  readonly usage: string;
  /** Options besides --json, --help and --debug: "string" takes a value, "boolean" is a switch. */
  readonly options?: Readonly<Record<string, "string" | "boolean">>;
  /** The first positional is a flow file (or the config's). @default true */
  readonly needsFlow?: boolean;
  run(args: Args, io: Io): number | Promise<number>;
}

/** Exit codes for `sluice help`. */
export const EXIT_HELP = `exit codes: ${EXIT.ok} ok, ${EXIT.invalid} invalid flow, ${EXIT.usage} usage or flow load error, ${EXIT.synth} synthesis error, ${EXIT.runtime} runtime error`;
