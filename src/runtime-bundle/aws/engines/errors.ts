/**
 * Shared error handling of the AWS engine dispatchers: which SDK errors and which engine-side failure
 * messages are transient (throttling, capacity, service faults: worth retrying without counting
 * against the node's `retries`), and the plain-text messages that go to the execution record.
 */
import type { DispatchRequest, DispatchResult } from "../../core/dispatcher";

/**
 * SDK error names that mean "try again later" on any of the engines' APIs: throttling, service-side
 * faults, concurrency and capacity quotas (Glue ConcurrentRunsExceededException and
 * ResourceNumberLimitExceededException, EMR Serverless ServiceQuotaExceededException), timeouts.
 */
export const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "SlowDown",
  "InternalServiceException",
  "InternalServerException",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "OperationTimeoutException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ConcurrentRunsExceededException",
  "ResourceNumberLimitExceededException",
  "ServiceQuotaExceededException",
  "FederationSourceRetryableException",
]);

/** Node.js network error codes of a request that never got an answer. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
]);

/**
 * Phrases in an engine's failure message (a Glue run's ErrorMessage, an EMR Serverless run's
 * stateDetails, an EMR cluster's state change reason, an Athena StateChangeReason) that name a
 * capacity or throttling condition rather than a problem of the user's code or data.
 */
export const CAPACITY_PATTERNS: readonly RegExp[] = [
  /rate exceeded/i,
  /throttl/i,
  /too many requests/i,
  /slow ?down/i,
  /reduce your request rate/i,
  /resource unavailable/i,
  /failed to provision/i,
  /insufficient\s*(?:instance\s*)?capacity/i,
  /max(?:imum)? concurrent/i,
  /concurrent ?runs ?exceeded/i,
  /maximum (?:allowed )?capacity/i,
  /service unavailable/i,
  /internal (?:service|server) (?:error|exception)/i,
];

/** True when an engine-side failure message names a capacity or throttling condition. */
export function isCapacityMessage(message: string | undefined): boolean {
  return message !== undefined && CAPACITY_PATTERNS.some((p) => p.test(message));
}

/** The `name` of an SDK (or any) error; "Error" when there is none. */
export function errorName(e: unknown): string {
  if (typeof e === "object" && e !== null && typeof (e as { name?: unknown }).name === "string") {
    return (e as { name: string }).name;
  }
  return "Error";
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * True for an error thrown by an SDK call that is worth retrying: a transient name, an error the SDK
 * marks retryable or as a server fault, or a network failure. Client errors (EntityNotFoundException,
 * InvalidInputException, ValidationException, AccessDenied…) are not.
 */
export function isTransientError(e: unknown, extraNames: ReadonlySet<string> = new Set()): boolean {
  if (typeof e !== "object" || e === null) return false;
  const name = errorName(e);
  if (TRANSIENT_ERROR_NAMES.has(name) || extraNames.has(name)) return true;
  const err = e as { $retryable?: unknown; $fault?: unknown; code?: unknown };
  if (err.$retryable !== undefined && err.$retryable !== null && err.$retryable !== false) return true;
  if (err.$fault === "server") return true;
  return typeof err.code === "string" && TRANSIENT_NETWORK_CODES.has(err.code);
}

/** "sparkSql target 1 of node "joined"": how messages name the target. */
export function targetLabel(request: DispatchRequest): string {
  return `${request.target.kind} target ${request.targetIndex + 1} of node "${request.node.id}"`;
}

/** A FAILED result. */
export function failed(error: string, transient = false): DispatchResult {
  return { status: "FAILED", error, transient };
}

/** The FAILED result of an SDK call that threw: `<label>: <engine> <operation> failed: <name>: <message>`. */
export function sdkFailure(
  request: DispatchRequest,
  operation: string,
  e: unknown,
  extraTransientNames?: ReadonlySet<string>,
): DispatchResult {
  return failed(
    `${targetLabel(request)}: ${operation} failed: ${errorName(e)}: ${errorMessage(e)}`,
    isTransientError(e, extraTransientNames),
  );
}

/**
 * The result of a status call that threw. A transient error says nothing about the job, which is most
 * likely still running: the router keeps polling the same handle (a FAILED result would start the job
 * again beside the one still running). Anything else (the run does not exist, access denied) fails.
 */
export function pollFailure(
  request: DispatchRequest,
  handle: string,
  operation: string,
  e: unknown,
): DispatchResult {
  if (isTransientError(e)) return { status: "RUNNING", handle };
  return failed(
    `${targetLabel(request)}: ${operation} of ${handle} failed: ${errorName(e)}: ${errorMessage(e)}`,
  );
}

// ---------------------------------------------------------------- idempotent starts

/**
 * Engines with an idempotency token (Athena ClientRequestToken, EMR Serverless clientToken) answer a
 * repeated start with the run the token first created. That makes duplicate starts of one attempt
 * harmless, but a transient failure is retried by starting the same attempt again: the token would
 * hand back the failed run forever. So a start whose token returns a run that ended unsuccessfully
 * before this call began moves on to the next token of a deterministic chain (`base`, `base-t2`,
 * `base-t3`, …); duplicates of one start call walk the same chain and meet on the same live run.
 */
export interface TokenChainOps {
  /** Starts a run with `token` (or gets the run the token already created); its id. SDK errors propagate. */
  start(token: string): Promise<string>;
  /** When run `id` was submitted (epoch ms) and whether it ended unsuccessfully; undefined when unknown. */
  describe(id: string): Promise<{ readonly submittedAt?: number; readonly failed: boolean } | undefined>;
}

/** A run submitted this long before the start call began is taken as one of an earlier call. */
export const STALE_RUN_MARGIN_MS = 5_000;

/** Longest token chain walked before the attempt is failed (as a user error, so the next attempt gets new tokens). */
export const MAX_TOKEN_CHAIN = 20;

/** The k-th token (1-based) of the chain from `base`. */
export function chainToken(base: string, k: number): string {
  return k === 1 ? base : `${base}-t${k}`;
}

/** The id of the live (or fresh) run; undefined when MAX_TOKEN_CHAIN tokens all led to stale failed runs. */
export async function startThroughTokenChain(
  tokenOf: (k: number) => string,
  ops: TokenChainOps,
  now: () => number = Date.now,
): Promise<string | undefined> {
  const calledAt = now();
  for (let k = 1; k <= MAX_TOKEN_CHAIN; k++) {
    const id = await ops.start(tokenOf(k));
    let info: Awaited<ReturnType<TokenChainOps["describe"]>>;
    try {
      info = await ops.describe(id);
    } catch {
      return id; // Unknown state: keep the run; polling will tell.
    }
    const stale =
      info !== undefined &&
      info.failed &&
      info.submittedAt !== undefined &&
      info.submittedAt < calledAt - STALE_RUN_MARGIN_MS;
    if (!stale) return id;
  }
  return undefined;
}
