/**
 * The one error type of the CLI: a one-line message for the user, the exit code it maps to, and the
 * error that caused it (kept for --debug and for tests, never printed by default).
 */

/** Exit codes, as documented in `sluice help`. */
export const EXIT = { ok: 0, invalid: 1, usage: 2, synth: 3, runtime: 4 } as const;

export class CliError extends Error {
  override readonly name: string = "CliError";

  constructor(
    message: string,
    /** Exit code: EXIT.usage for what the user typed or a flow that does not load, EXIT.runtime for what a run answered. */
    readonly exit: number,
    options?: { cause?: unknown },
  ) {
    super(oneLine(message), options);
  }

  /** Same as `exit` (the name the local command used). */
  get code(): number {
    return this.exit;
  }
}

export function usageError(message: string, cause?: unknown): CliError {
  return new CliError(message, EXIT.usage, cause === undefined ? undefined : { cause });
}

export function runtimeError(message: string, cause?: unknown): CliError {
  return new CliError(message, EXIT.runtime, cause === undefined ? undefined : { cause });
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** A message without a leading "sluice …:" prefix that a caller would add again. */
export function withoutPrefix(message: string): string {
  return message.replace(/^(sluice(?: [a-z]+)?: )+/, "");
}

/** `path: message`, without repeating a location the message already starts with. */
export function formatIssue(i: { readonly path: string; readonly message: string }): string {
  return i.message.startsWith(`${i.path}:`) ? i.message : `${i.path}: ${i.message}`;
}
