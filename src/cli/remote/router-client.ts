/**
 * The deployed router through direct invocations: Lambda Invoke (RequestResponse) with a command the
 * router's service understands, its `{ result }` decoded. A function error becomes one line.
 */
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { CommandResult, RemoteCommand } from "../../runtime-bundle/aws/service";
import { describeAwsError, firstLine, FunctionFailedError, runtimeError } from "./errors";
import type { RemoteTarget } from "./target";

export class RouterClient {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly target: RemoteTarget,
  ) {}

  async invoke<T extends CommandResult>(command: RemoteCommand): Promise<T> {
    const what = `${command.sluice} on ${this.target.functionName} (${this.target.environment}, ${this.target.region})`;
    let response;
    try {
      response = await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.target.functionArn,
          InvocationType: "RequestResponse",
          Payload: new TextEncoder().encode(JSON.stringify(command)),
        }),
      );
    } catch (e) {
      throw runtimeError(describeAwsError(e, what));
    }
    const text = response.Payload ? Buffer.from(response.Payload).toString("utf8") : "";
    if (response.FunctionError !== undefined)
      throw new FunctionFailedError(`${what} failed: ${functionError(text)}`);
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw runtimeError(`${what}: the router answered something that is not JSON: ${firstLine(text)}`);
    }
    if (body === null || typeof body !== "object" || !("result" in body))
      throw runtimeError(
        `${what}: the router answered without a result (${firstLine(text).slice(0, 120) || "empty payload"}); is it a sluice router of this version?`,
      );
    return (body as { result: T }).result;
  }
}

/** The message of a Lambda function error payload ({ errorType, errorMessage, trace }). */
function functionError(text: string): string {
  try {
    const e = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    const message = typeof e.errorMessage === "string" ? firstLine(e.errorMessage) : "";
    const type = typeof e.errorType === "string" && e.errorType !== "Error" ? `${e.errorType}: ` : "";
    if (message !== "" || type !== "") return `${type}${message}`;
  } catch {
    // not JSON: the raw text
  }
  return firstLine(text) || "unknown error";
}
