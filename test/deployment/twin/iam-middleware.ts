/**
 * IAM enforcement on an AWS SDK v3 client: every command is mapped to the authorization requests AWS
 * makes for it (sdk-requests.ts), each is evaluated as the role against its policies (iam-evaluator.ts),
 * and a denial fails the call the way AWS fails it (access-denied.ts: the SDK's own deserializer reads
 * AWS's error response). Also modelled:
 *
 * - S3 server-side encryption with KMS: writing to a bucket whose default key is `bucketKey(bucket)` (or
 *   with an explicit `SSEKMSKeyId`) needs `kms:GenerateDataKey`, reading an object back needs
 *   `kms:Decrypt`, both with `kms:ViaService` = `s3.<region>.amazonaws.com`, `kms:CallerAccount` and
 *   `kms:EncryptionContext:aws:s3:arn` (the object ARN, or the bucket ARN with S3 Bucket Keys), against
 *   the key policy. The decrypt is checked after the stand-in answered (AWS decrypts only an object that
 *   exists). HeadObject reads no data and needs no decrypt on general-purpose buckets (AWS's HeadObject
 *   docs list only s3:GetObject); `kmsDecryptOnHead` turns it on.
 * - S3's 404→403 rule: GetObject/HeadObject of a missing key is 404 only for a caller allowed
 *   s3:ListBucket on the bucket (evaluated without `s3:prefix`), otherwise 403 AccessDenied.
 *
 * The middleware sits first in the initialize step, so it also guards commands that a twin of the service
 * answers later in that step. A client stubbed with aws-sdk-client-mock bypasses the middleware stack
 * altogether and is not authorized.
 */
import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments } from "@smithy/types";
import { accessDeniedMessage, accessDeniedResponse, callerArn, sdkErrorFrom } from "./access-denied";
import type { Decision, DeniedBy, EvaluationResult, PolicyDocument, PolicyEvaluator } from "./iam-evaluator";
import {
  authorizationsFor,
  parseCopySource,
  s3Arn,
  type AuthorizationContext,
  type AuthorizationRequest,
} from "./sdk-requests";

/** One evaluated authorization request. */
export interface AuthorizationRecord {
  readonly principal: string;
  /** The client's serviceId, e.g. "S3". */
  readonly service: string;
  /** The command, without "Command". */
  readonly command: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | string[]>>;
  readonly decision: Decision;
  readonly reason: string;
  /** Why AWS asked: the command itself, S3's KMS call, or S3's ListBucket check on a 404. */
  readonly purpose: "command" | "s3-kms" | "s3-not-found";
}

/** A denial, as handed to `onDeny`. */
export interface AuthorizationDenial extends AuthorizationRecord {
  readonly deniedBy: DeniedBy;
}

/** A policy or a promise of one. */
type MaybePromise<T> = T | Promise<T>;

/** How {@link authorizeClient} authorizes. */
export interface AuthorizeClientOptions {
  /** The role the client runs as. */
  readonly principal: string;
  readonly evaluator: PolicyEvaluator;
  /** The role's policies, read on every call (so a test may change them between calls). */
  readonly identityPolicies: () => MaybePromise<readonly PolicyDocument[]>;
  /**
   * The resource policy held by `arn`: called with the bucket ARN for S3 buckets and objects, the table
   * ARN for DynamoDB tables and indexes, the queue ARN for SQS, the key ARN for KMS keys, the Glue catalog
   * ARN for Glue catalog resources, else the resource's ARN.
   */
  readonly resourcePolicy?: (arn: string) => MaybePromise<PolicyDocument | undefined>;
  /** Owner account of a resource whose ARN has none (S3). @default the evaluator's account */
  readonly resourceAccount?: (arn: string) => string | undefined;
  /** The KMS key ARN of a bucket's default SSE-KMS encryption, if it has one. */
  readonly bucketKey?: (bucket: string) => string | undefined;
  /** Whether S3 Bucket Keys are on (the encryption context is then the bucket ARN). @default false */
  readonly bucketKeyEnabled?: (bucket: string) => boolean;
  /** Require kms:Decrypt for HeadObject too (see the file comment). @default false */
  readonly kmsDecryptOnHead?: boolean;
  /** Every evaluated request is appended here. */
  readonly log?: AuthorizationRecord[];
  /** What a denial does: "fail" (as AWS) or "allow" (record and go on). @default () => "fail" */
  readonly onDeny?: (denial: AuthorizationDenial) => "fail" | "allow";
  /** Session name in AWS's messages (`assumed-role/<role>/<session>`). @default "sluice-twin" */
  readonly sessionName?: string;
  /**
   * The workgroup of an Athena query this client did not start itself (queries it started are learnt
   * from their StartQueryExecution).
   */
  readonly queryWorkGroup?: (queryExecutionId: string) => string | undefined;
  /** The role inside an EC2 instance profile, for EMR's JobFlowRole (see sdk-requests-emr.ts). */
  readonly instanceProfileRole?: (instanceProfile: string) => string | undefined;
}

/** The parts of an SDK v3 client the middleware uses. */
export interface AuthorizableClient {
  readonly config: { readonly serviceId?: string };
  readonly middlewareStack: {
    add(
      middleware: (
        next: InitializeHandler<object, object>,
        context: HandlerExecutionContext,
      ) => InitializeHandler<object, object>,
      options: { step: "initialize"; priority: "high"; name: string },
    ): void;
  };
}

const MIDDLEWARE_NAME = "sluiceTwinIamAuthorization";

/**
 * Adds IAM enforcement to `client`, an AWS SDK v3 client (see {@link AuthorizableClient}; checked at run
 * time, so generic callers need not narrow their type), once: adding it again throws. Returns the client.
 */
export function authorizeClient<C extends object>(target: C, options: AuthorizeClientOptions): C {
  if (!isAuthorizable(target)) throw new Error("twin IAM: not an AWS SDK v3 client (no middlewareStack)");
  const client: AuthorizableClient = target;
  const serviceId = client.config.serviceId;
  if (!serviceId) throw new Error("twin IAM: the client has no serviceId");
  const queryWorkGroups = new Map<string, string>();
  const ctx: AuthorizationContext = {
    account: options.evaluator.account,
    region: options.evaluator.region,
    partition: options.evaluator.partition,
    queryWorkGroup: (id) => queryWorkGroups.get(id) ?? options.queryWorkGroup?.(id),
    ...(options.instanceProfileRole ? { instanceProfileRole: options.instanceProfileRole } : {}),
  };
  client.middlewareStack.add(
    (next, context) => async (args: InitializeHandlerArguments<object>) => {
      const command = String(context.commandName ?? "").replace(/Command$/, "");
      const input = args.input as Record<string, unknown>;
      const call = new Call(options, serviceId, command, context, client.config, input);
      for (const request of authorizationsFor(serviceId, command, input, ctx))
        await call.require(request, "command");
      if (serviceId === "S3") await call.requireS3Writes(ctx);
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        throw await call.s3NotFound(error, ctx);
      }
      if (serviceId === "S3")
        await call.requireS3Read(ctx, result.output as { Body?: unknown; SSEKMSKeyId?: string });
      if (serviceId === "Athena" && command === "StartQueryExecution") {
        const id = (result.output as { QueryExecutionId?: string }).QueryExecutionId;
        if (id)
          queryWorkGroups.set(id, typeof input["WorkGroup"] === "string" ? input["WorkGroup"] : "primary");
      }
      return result;
    },
    { step: "initialize", priority: "high", name: MIDDLEWARE_NAME },
  );
  return target;
}

function isAuthorizable(client: object): client is AuthorizableClient {
  const candidate = client as Partial<AuthorizableClient>;
  return typeof candidate.middlewareStack?.add === "function" && typeof candidate.config === "object";
}

/** One command's authorization. */
class Call {
  constructor(
    private readonly options: AuthorizeClientOptions,
    private readonly serviceId: string,
    private readonly command: string,
    private readonly context: HandlerExecutionContext,
    private readonly config: object,
    private readonly input: Record<string, unknown>,
  ) {}

  /** Evaluates one request; on a denial that must fail, throws the SDK error AWS's response becomes. */
  async require(request: AuthorizationRequest, purpose: AuthorizationRecord["purpose"]): Promise<void> {
    const denial = await this.check(request, purpose);
    if (denial) throw await this.error(denial);
  }

  /** Evaluates one request and records it; returns the denial if it must fail the call. */
  async check(
    request: AuthorizationRequest,
    purpose: AuthorizationRecord["purpose"],
  ): Promise<AuthorizationDenial | undefined> {
    const { options } = this;
    const result = await options.evaluator.explain({
      principal: options.principal,
      action: request.action,
      resource: request.resource,
      context: request.context,
      identityPolicies: await options.identityPolicies(),
      ...(await this.resourceFields(request.resource)),
    });
    const record: AuthorizationRecord = {
      principal: options.principal,
      service: this.serviceId,
      command: this.command,
      action: request.action,
      resource: request.resource,
      context: request.context,
      decision: result.decision,
      reason: result.reason,
      purpose,
    };
    options.log?.push(record);
    if (result.decision === "Allowed") return undefined;
    const denial: AuthorizationDenial = { ...record, deniedBy: deniedBy(result) };
    return (options.onDeny ?? (() => "fail"))(denial) === "fail" ? denial : undefined;
  }

  private async resourceFields(resource: string) {
    const holder = policyHolder(resource);
    const resourcePolicy = await this.options.resourcePolicy?.(holder);
    const resourceAccount = this.options.resourceAccount?.(holder);
    return { ...(resourcePolicy ? { resourcePolicy } : {}), ...(resourceAccount ? { resourceAccount } : {}) };
  }

  /** The SDK error for a denial; S3 says only "Access Denied" across accounts, and nothing to a HEAD. */
  async error(denial: AuthorizationDenial): Promise<Error> {
    const { options } = this;
    const head = this.command === "HeadObject";
    const crossAccountS3 =
      this.serviceId === "S3" &&
      denial.resource.startsWith("arn:aws:s3:") &&
      (options.resourceAccount?.(policyHolder(denial.resource)) ?? options.evaluator.account) !==
        (options.principal.split(":")[4] ?? options.evaluator.account);
    const message = crossAccountS3
      ? "Access Denied"
      : accessDeniedMessage(this.serviceId, {
          caller: callerArn(options.principal, options.sessionName ?? "sluice-twin"),
          action: denial.action,
          resource: denial.resource,
          explicit: denial.decision === "ExplicitlyDenied",
          deniedBy: denial.deniedBy,
        });
    return sdkErrorFrom(
      this.config,
      this.context,
      this.input,
      accessDeniedResponse(this.serviceId, message, { head }),
    );
  }

  /** kms:GenerateDataKey for S3 writes into SSE-KMS buckets (before the write, as AWS). */
  async requireS3Writes(ctx: AuthorizationContext): Promise<void> {
    if (this.command === "PutObject" || this.command === "CopyObject") {
      const bucket = String(this.input["Bucket"]);
      const explicitKey =
        this.input["ServerSideEncryption"] === "aws:kms" ? this.input["SSEKMSKeyId"] : undefined;
      const key = typeof explicitKey === "string" ? explicitKey : this.options.bucketKey?.(bucket);
      if (key)
        await this.require(
          this.kmsRequest(ctx, "kms:GenerateDataKey", key, bucket, String(this.input["Key"])),
          "s3-kms",
        );
    }
    if (this.command === "CopyObject") {
      const source = parseCopySource(String(this.input["CopySource"]));
      const key = this.options.bucketKey?.(source.bucket);
      if (key)
        await this.require(this.kmsRequest(ctx, "kms:Decrypt", key, source.bucket, source.key), "s3-kms");
    }
  }

  /** kms:Decrypt for reading an object of an SSE-KMS bucket back (after the stand-in answered). */
  async requireS3Read(
    ctx: AuthorizationContext,
    output: { Body?: unknown; SSEKMSKeyId?: string } | undefined,
  ): Promise<void> {
    const head = this.command === "HeadObject";
    if (this.command !== "GetObject" && !(head && this.options.kmsDecryptOnHead)) return;
    const bucket = String(this.input["Bucket"]);
    const key = output?.SSEKMSKeyId ?? this.options.bucketKey?.(bucket);
    if (!key) return;
    const denial = await this.check(
      this.kmsRequest(ctx, "kms:Decrypt", key, bucket, String(this.input["Key"])),
      "s3-kms",
    );
    if (!denial) return;
    const body = output?.Body as { destroy?: () => void } | undefined;
    body?.destroy?.();
    throw await this.error(denial);
  }

  private kmsRequest(
    ctx: AuthorizationContext,
    action: string,
    key: string,
    bucket: string,
    objectKey: string,
  ): AuthorizationRequest {
    const bucketKeys = this.options.bucketKeyEnabled?.(bucket) ?? false;
    return {
      action,
      resource: key,
      context: {
        "kms:ViaService": `s3.${ctx.region}.amazonaws.com`,
        "kms:CallerAccount": this.options.principal.split(":")[4] || ctx.account,
        "kms:EncryptionContext:aws:s3:arn": bucketKeys ? s3Arn(ctx, bucket) : s3Arn(ctx, bucket, objectKey),
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
      },
    };
  }

  /** The error to throw for `error` from the stand-in: S3's 404 becomes 403 without s3:ListBucket. */
  async s3NotFound(error: unknown, ctx: AuthorizationContext): Promise<unknown> {
    const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
      ?.httpStatusCode;
    const getOrHead = this.command === "GetObject" || this.command === "HeadObject";
    if (this.serviceId !== "S3" || !getOrHead || status !== 404) return error;
    const bucket = String(this.input["Bucket"]);
    const denial = await this.check(
      { action: "s3:ListBucket", resource: s3Arn(ctx, bucket), context: {} },
      "s3-not-found",
    );
    if (!denial) return error;
    const head = this.command === "HeadObject";
    return sdkErrorFrom(
      this.config,
      this.context,
      this.input,
      accessDeniedResponse("S3", "Access Denied", { head }),
    );
  }
}

function deniedBy(result: EvaluationResult): DeniedBy {
  return result.deniedBy ?? "identity";
}

/** The ARN of the resource that holds the policy for `arn` (see `resourcePolicy`). */
export function policyHolder(arn: string): string {
  const s3 = /^(arn:[^:]+:s3:::[^/]+)/.exec(arn);
  if (s3?.[1]) return s3[1];
  const table = /^(arn:[^:]+:dynamodb:[^:]+:\d{12}:table\/[^/]+)/.exec(arn);
  if (table?.[1]) return table[1];
  const glue = /^(arn:[^:]+:glue:[^:]+:\d{12}):(catalog|database|table)\b/.exec(arn);
  if (glue?.[1]) return `${glue[1]}:catalog`;
  return arn;
}
