/**
 * AWS's access-denied responses, as bytes on the wire, and the SDK errors they become.
 *
 * A denial is turned into the SDK error by running the client's own deserializer middleware (the one
 * its commands install through `getSchemaSerdePlugin`) on a synthetic HTTP response, so `name`, `$fault`,
 * `$metadata`, `message` and the query-compatibility fields are exactly what the SDK makes of AWS's real
 * response. What AWS sends, per protocol:
 *
 * - S3 (REST-XML): 403 with an `<Error><Code>AccessDenied</Code>…` body, or no body for HEAD (the SDK
 *   then names the error after nothing in the body: see the tests for the name it gives).
 * - DynamoDB, Glue, Athena, EMR, KMS (JSON 1.0/1.1): 400, `__type` `…#AccessDeniedException`.
 * - SQS and CloudWatch (JSON 1.0, query-compatible): the JSON error plus the `x-amzn-query-error:
 *   AccessDenied;Sender` header their SDK clients read first, so the error's name is `AccessDenied` (as
 *   the query protocol named it); SQS writes the action lower-case in its message (`sqs:sendmessage`).
 * - Lambda, EMR Serverless (REST-JSON): 403 with `x-amzn-ErrorType: AccessDeniedException`.
 */
import { HttpResponse } from "@smithy/core/protocols";
import { getSchemaSerdePlugin } from "@smithy/core/schema";
import type { HandlerExecutionContext } from "@smithy/types";
import type { DeniedBy } from "./iam-evaluator";

type Wire = "restXml" | "json1.0" | "json1.1" | "json1.0-query" | "restJson";

const WIRE: Record<string, { readonly wire: Wire; readonly status: number }> = {
  S3: { wire: "restXml", status: 403 },
  DynamoDB: { wire: "json1.0", status: 400 },
  SQS: { wire: "json1.0-query", status: 403 },
  CloudWatch: { wire: "json1.0-query", status: 403 },
  Glue: { wire: "json1.1", status: 400 },
  Athena: { wire: "json1.1", status: 400 },
  EMR: { wire: "json1.1", status: 400 },
  KMS: { wire: "json1.1", status: 400 },
  Lambda: { wire: "restJson", status: 403 },
  "EMR Serverless": { wire: "restJson", status: 403 },
};

const PHRASE: Record<DeniedBy, string> = {
  identity: "identity-based policy",
  resource: "resource-based policy",
  "permissions-boundary": "permissions boundary",
  scp: "service control policy",
  rcp: "resource control policy",
  "vpc-endpoint": "VPC endpoint policy",
};

/** What a denial message names. */
export interface DenialMessage {
  /** The caller as AWS prints it (an assumed-role session ARN for a role). */
  readonly caller: string;
  readonly action: string;
  /** `*` for actions without resource types (then the message has no "on resource"). */
  readonly resource: string;
  readonly explicit: boolean;
  readonly deniedBy: DeniedBy;
}

/**
 * AWS's message: `User: <caller> is not authorized to perform: <action> on resource: <arn> because no
 * identity-based policy allows the <action> action` (or `with an explicit deny in a …`).
 *
 * @param serviceId the client's serviceId: S3 quotes the resource, SQS lower-cases the action
 */
export function accessDeniedMessage(serviceId: string, m: DenialMessage): string {
  const action = serviceId === "SQS" ? m.action.toLowerCase() : m.action;
  const resource = serviceId === "S3" ? `"${m.resource}"` : m.resource;
  const on = m.resource === "*" ? "" : ` on resource: ${resource}`;
  const phrase = PHRASE[m.deniedBy];
  const why = m.explicit
    ? `with an explicit deny in ${m.deniedBy === "identity" ? "an" : "a"} ${phrase}`
    : `because no ${phrase} allows the ${action} action`;
  return `User: ${m.caller} is not authorized to perform: ${action}${on} ${why}`;
}

/** How AWS prints a role caller: `arn:aws:sts::<account>:assumed-role/<name>/<session>`. */
export function callerArn(principal: string, sessionName: string): string {
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principal);
  return role ? `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/${sessionName}` : principal;
}

let requestCounter = 0;

/** The HTTP response AWS sends for an access denial by the service with this `serviceId`. */
export function accessDeniedResponse(
  serviceId: string,
  message: string,
  options: { head?: boolean } = {},
): HttpResponse {
  const shape = WIRE[serviceId];
  if (!shape) throw new Error(`twin IAM: no access-denied response for service ${serviceId}`);
  const requestId = `TWIN${String(++requestCounter).padStart(12, "0")}`;
  const json = (contentType: string, body: Record<string, string>, extra: Record<string, string> = {}) =>
    new HttpResponse({
      statusCode: shape.status,
      headers: { "content-type": contentType, "x-amzn-requestid": requestId, ...extra },
      body: Buffer.from(JSON.stringify(body)),
    });
  const coralType = "com.amazon.coral.service#AccessDeniedException";
  switch (shape.wire) {
    case "restXml": {
      const headers = { "x-amz-request-id": requestId, "x-amz-id-2": `twin/${requestId}` };
      if (options.head) return new HttpResponse({ statusCode: 403, headers });
      const xml =
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>` +
        `<Message>${escapeXml(message)}</Message><RequestId>${requestId}</RequestId>` +
        `<HostId>twin/${requestId}</HostId></Error>`;
      return new HttpResponse({
        statusCode: 403,
        headers: { ...headers, "content-type": "application/xml" },
        body: Buffer.from(xml),
      });
    }
    case "json1.0":
      return json("application/x-amz-json-1.0", { __type: coralType, message });
    case "json1.1":
      return json("application/x-amz-json-1.1", { __type: coralType, Message: message });
    case "json1.0-query":
      return json(
        "application/x-amz-json-1.0",
        { __type: coralType, message },
        { "x-amzn-query-error": "AccessDenied;Sender" },
      );
    case "restJson":
      return json(
        "application/json",
        { Type: "User", Message: message },
        { "x-amzn-errortype": "AccessDeniedException" },
      );
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

type DeserializeHandler = (args: { input: object }) => Promise<unknown>;
type CapturedMiddleware = (
  next: (args: object) => Promise<{ response: unknown; output?: unknown }>,
  context: HandlerExecutionContext,
) => DeserializeHandler;

/**
 * The error the client's SDK makes of `response`: runs the client's deserializer middleware (captured
 * from the schema serde plugin its commands apply) on it, and sets `$metadata.attempts` and
 * `totalRetryDelay` as the retry middleware does for a non-retryable error.
 *
 * @param config the client's resolved config (it holds the protocol)
 * @param context the command's handler execution context (it holds the operation schema)
 */
export async function sdkErrorFrom(
  config: object,
  context: HandlerExecutionContext,
  input: object,
  response: HttpResponse,
): Promise<Error> {
  let deserializer: CapturedMiddleware | undefined;
  const plugin = getSchemaSerdePlugin(config as Parameters<typeof getSchemaSerdePlugin>[0]);
  plugin.applyToStack({
    add: (middleware: unknown, options: { step?: string }) => {
      if (options.step === "deserialize") deserializer = middleware as CapturedMiddleware;
    },
  } as unknown as Parameters<typeof plugin.applyToStack>[0]);
  if (!deserializer) throw new Error("twin IAM: the client's serde plugin added no deserializer");
  try {
    await deserializer(async () => ({ response }), context)({ input });
  } catch (error) {
    if (error instanceof Error) {
      const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata;
      if (metadata) Object.assign(metadata, { attempts: 1, totalRetryDelay: 0 });
      return error;
    }
    throw error;
  }
  throw new Error(`twin IAM: the SDK accepted a ${response.statusCode} response as a success`);
}
