/** Errors of `sluice remote`: one line each, with the exit code they map to. */
import { CliError, EXIT } from "../errors";

/** A CliError of `sluice remote` (EXIT.usage for what the user typed, EXIT.runtime for what the deployment answered). */
export class RemoteError extends CliError {
  override readonly name: string = "RemoteError";
  constructor(message: string, exit: number, options?: { cause?: unknown }) {
    super(message, exit, options);
  }
}

/** The router function ran and failed (a Lambda FunctionError): other invocations may well succeed. */
export class FunctionFailedError extends RemoteError {
  constructor(message: string) {
    super(message, EXIT.runtime);
  }
}

export function usageError(message: string): RemoteError {
  return new RemoteError(message, EXIT.usage);
}

export function runtimeError(message: string): RemoteError {
  return new RemoteError(message, EXIT.runtime);
}

/** One line of an AWS SDK (or network) error, with a hint for the usual causes. */
export function describeAwsError(e: unknown, what: string): string {
  const err = e as { name?: string; message?: string; code?: string };
  const name = err.name ?? "Error";
  const message = firstLine(err.message ?? String(e));
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message))
    return `${what}: no AWS credentials (${message}); set them in the environment, or pass --profile`;
  if (name === "ResourceNotFoundException")
    return `${what}: ${message} (is the environment deployed, and are --env and --region right?)`;
  if (name === "AccessDeniedException" || name === "AccessDenied" || name === "UnrecognizedClientException")
    return `${what}: ${name}: ${message} (are these the environment account's credentials?)`;
  if (err.code === "ECONNREFUSED" || err.code === "ENOTFOUND")
    return `${what}: cannot reach the endpoint (${err.code}: ${message})`;
  return `${what}: ${name === "Error" ? "" : `${name}: `}${message}`;
}

export function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "") ?? "";
  return line.trim();
}
