/** Command-line arguments: positionals, `--flag value` pairs (for flags a command declares) and switches. */

export interface Args {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string | true>;
}

export function parseArgs(argv: readonly string[], valueFlags: ReadonlySet<string>): Args | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--")) positional.push(a);
    else if (a.includes("=")) flags.set(a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1));
    else if (valueFlags.has(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) return `${a} needs a value`;
      flags.set(a, v);
    } else flags.set(a, true);
  }
  return { positional, flags };
}

/** A flag's string value, or undefined when absent (a bare switch is not a value). */
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

/** One `sluice <name>` command. */
export interface Command {
  readonly name: string;
  /** Usage lines shown by `sluice help`. */
  readonly usage: string;
  /** Flags that take a value. */
  readonly valueFlags?: readonly string[];
  run(args: Args, io: Io): number | Promise<number>;
}

/** Exit codes, as documented in `sluice help`. */
export const EXIT = { ok: 0, invalid: 1, usage: 2, synth: 3, runtime: 4 } as const;
