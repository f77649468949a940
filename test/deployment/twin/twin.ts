/**
 * The deployment twin: a synthesized module, planned by Terraform (provider-free), deployed onto local
 * stand-ins, and its router run **as the module renders it**:
 *
 * - the code package is the module's own `router.zip`, loaded as Lambda loads it (`index.handler`'s
 *   module), with exactly the environment variables the plan rendered;
 * - the routing table is created in dynalite from the module's `aws_dynamodb_table`, the buckets in
 *   s3rver, the module's S3 objects (driver script, manifest) uploaded;
 * - every AWS call of the router, and every S3 call the engines' jobs make, is evaluated against the
 *   rendered policies of the role that makes it, and fails the way AWS fails it;
 * - an event reaches the router only through a rule of the module whose pattern matches it, a target
 *   and a Lambda permission for that rule; the internal queue comes back through the module's event
 *   source mapping; engine jobs complete through state-change events that must pass the rules too.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { AthenaClient } from "@aws-sdk/client-athena";
import { EMRClient } from "@aws-sdk/client-emr";
import { EMRServerlessClient } from "@aws-sdk/client-emr-serverless";
import { GlueClient } from "@aws-sdk/client-glue";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import extract from "extract-zip";
import { EMULATOR_CREDENTIALS, startEmulators, type Emulators } from "../../support/emulators";
import { answeredBy, QueueTwin } from "./aws-services";
import { AthenaTwin } from "./engines/athena";
import type { EngineContext, EngineTwin } from "./engines/engine-context";
import { EmrTwin } from "./engines/emr";
import { EmrServerlessTwin } from "./engines/emr-serverless";
import { GlueTwin } from "./engines/glue";
import { matchesPattern } from "./event-pattern";
import { PolicyEvaluator, type PolicyDocument } from "./iam-evaluator";
import { authorizeClient, type AuthorizationRecord } from "./iam-middleware";
import { renderedQuotaViolations } from "./quotas";
import { TwinRoles } from "./roles";
import { planModule, type RenderedPlan, type RenderedResource } from "./terraform-plan";
import { EventRouting, type Delivery } from "./event-routing";

export interface TwinOptions {
  /** A synthesized module: main.tf.json, router.zip and its other files. */
  readonly moduleDir: string;
  /** The module's input variables. */
  readonly variables?: Record<string, unknown>;
  /** @default "111122223333" */
  readonly account?: string;
  /** @default "us-east-1" */
  readonly region?: string;
  /** Glue catalog tables outside the module: "database.table" → S3 location. */
  readonly catalog?: Readonly<Record<string, string>>;
  /** Buckets outside the module to create (external datasets). */
  readonly externalBuckets?: readonly string[];
  /** Virtual time the twin starts at (ms). @default 2024-05-07T06:00:00Z */
  readonly startAt?: number;
  /**
   * Resources of another account, by the ARN of what holds their policy (a bucket's ARN for its
   * objects): the owner account, and the resource policy its own module renders (a bucket policy).
   */
  readonly foreignResources?: Readonly<
    Record<string, { readonly account: string; readonly policy?: PolicyDocument }>
  >;
}

/** What the router module exposes, as its code package's main file exports it. */
interface RouterBundle {
  startService(
    env: Record<string, string>,
    dir: string,
    overrides: Record<string, unknown>,
  ): Promise<{ handle(event: unknown): Promise<unknown> }>;
}

export class DeploymentTwin {
  /** What the router logged (its log group), one entry per line. */
  readonly logs: string[] = [];
  /** Every authorization the twin evaluated, in order. */
  readonly authorizations: AuthorizationRecord[] = [];
  readonly queues: QueueTwin;
  readonly engines: EngineTwin[];
  readonly routing: EventRouting;
  /** The rendered Lambda environment of the router. */
  readonly environment: Readonly<Record<string, string>>;
  private clock: number;
  private service: Promise<{ handle(event: unknown): Promise<unknown> }> | undefined;
  private readonly evaluator: PolicyEvaluator;
  private readonly s3Clients = new Map<string, S3Client>();

  private constructor(
    readonly options: Required<Pick<TwinOptions, "account" | "region">> & TwinOptions,
    readonly plan: RenderedPlan,
    readonly roles: TwinRoles,
    private readonly emulators: Emulators,
    private readonly codeDir: string,
  ) {
    this.clock = options.startAt ?? Date.UTC(2024, 4, 7, 6);
    this.evaluator = new PolicyEvaluator({ account: options.account, region: options.region });
    const fn = plan.resource("aws_lambda_function");
    this.environment = first<{ variables?: Record<string, string> }>(fn.values.environment)?.variables ?? {};
    this.queues = new QueueTwin(
      new Set(plan.all("aws_sqs_queue").map((q) => this.queueUrl(q))),
      () => this.clock,
    );
    const ctx = this.engineContext();
    this.engines = [
      new GlueTwin(ctx),
      new AthenaTwin(ctx, this.routerRole),
      new EmrServerlessTwin(ctx, [this.environment.SLUICE_EMR_SERVERLESS_APP_ID ?? ""].filter(Boolean)),
      new EmrTwin(ctx),
    ];
    this.routing = new EventRouting(plan, options.account, options.region);
  }

  /** Plans the module, deploys it onto the stand-ins and loads its router. */
  static async start(options: TwinOptions): Promise<DeploymentTwin> {
    const account = options.account ?? "111122223333";
    const region = options.region ?? "us-east-1";
    const catalog = options.catalog ?? {};
    const plan = await planModule({
      moduleDir: options.moduleDir,
      account,
      region,
      ...(options.variables ? { variables: options.variables } : {}),
      dataSources: {
        aws_glue_catalog_table: (config: Record<string, unknown>) => {
          const location = catalog[`${String(config.database_name)}.${String(config.name)}`];
          if (location === undefined)
            throw new Error(
              `the twin's catalog has no table ${String(config.database_name)}.${String(config.name)}`,
            );
          return { storage_descriptor: [{ location }], partition_keys: [] };
        },
      },
    });
    const roles = new TwinRoles(plan, account);
    const violations = [...roles.violations, ...renderedQuotaViolations(plan)];
    if (violations.length > 0) throw new Error(`the module breaks AWS quotas:\n- ${violations.join("\n- ")}`);
    const buckets = [
      ...new Set([
        ...plan.all("aws_s3_bucket").map((b) => String(b.values.bucket)),
        ...(options.externalBuckets ?? []),
      ]),
    ];
    const emulators = await startEmulators({ region, buckets });
    const codeDir = mkdtempSync(join(tmpdir(), "sluice-twin-code-"));
    try {
      const twin = new DeploymentTwin({ ...options, account, region }, plan, roles, emulators, codeDir);
      await twin.deploy();
      return twin;
    } catch (e) {
      rmSync(codeDir, { recursive: true, force: true });
      await emulators.stop();
      throw e;
    }
  }

  get routerRole(): string {
    return String(this.plan.resource("aws_lambda_function").values.role);
  }

  now(): number {
    return this.clock;
  }

  advance(ms: number): void {
    this.clock += ms;
  }

  /** An unauthorized S3 client (the test's own hands: landing data, reading results). */
  get s3(): S3Client {
    return this.emulators.s3;
  }

  /** Objects under `prefix` of `bucket`. */
  async keys(bucket: string, prefix = ""): Promise<string[]> {
    const out = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key ?? "").sort();
  }

  /** Lands an object as its producer would (no IAM: the producer is outside the module). */
  async land(bucket: string, key: string, body = "x"): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }),
    );
  }

  /**
   * Publishes `event` on the default bus: every rule of the module whose pattern matches it invokes the
   * router (if it targets it and may invoke it). Resolves to what each delivery did.
   */
  async publish(event: unknown): Promise<Delivery[]> {
    const deliveries = this.routing.route(event);
    for (const d of deliveries) d.result = await this.invoke(event);
    return deliveries;
  }

  /** The event EventBridge sends when the schedule of `rule` (its name) fires. */
  scheduledEvent(rule: string): unknown {
    return this.routing.scheduledEvent(rule, this.clock);
  }

  /**
   * Invokes the router directly (the CLI's `sluice remote`, the function URL of an operator). What it
   * logs goes to `logs`, as the function's log group would keep it.
   */
  async invoke(event: unknown): Promise<unknown> {
    const { log, error, warn } = console;
    const keep = (...args: unknown[]): void => {
      this.logs.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    };
    console.log = keep;
    console.error = keep;
    console.warn = keep;
    try {
      return await (await (this.service ??= this.load())).handle(event);
    } finally {
      Object.assign(console, { log, error, warn });
    }
  }

  /**
   * Runs the world until nothing moves: engine jobs finish and publish their state changes, internal
   * queue messages come back through the event source mapping (the clock jumps to when they are due).
   */
  async settle(maxRounds = 50): Promise<void> {
    const internal = this.environment.SLUICE_INTERNAL_QUEUE_URL;
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const engine of this.engines) {
        for (const event of await engine.runPending()) {
          moved = true;
          const deliveries = await this.publish(event);
          if (deliveries.length === 0)
            throw new Error(
              `no rule of the module routes the ${engine.service} event ${JSON.stringify(event)}`,
            );
        }
      }
      const queued = this.queues.messages.filter((m) => m.queue === internal);
      if (queued.length > 0) {
        this.clock = Math.max(this.clock, ...queued.map((m) => m.sentAt + m.delaySeconds * 1000));
        const batch = this.queues.take(internal ?? "", this.clock);
        this.routing.requireQueueMapping(internal ?? "");
        for (let i = 0; i < batch.length; i += 10)
          await this.invoke(sqsEvent(batch.slice(i, i + 10), this.queueArn(internal ?? ""), this.clock));
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error(`the twin did not settle in ${maxRounds} rounds`);
  }

  /** Messages on the dead-letter queue. */
  deadLetters(): { reason: string }[] {
    return this.queues.messages
      .filter((m) => m.queue === this.environment.SLUICE_DLQ_URL)
      .map((m) => JSON.parse(m.body) as { reason: string });
  }

  /** Denied authorizations so far. */
  denials(): AuthorizationRecord[] {
    return this.authorizations.filter((a) => a.decision !== "Allowed");
  }

  async stop(): Promise<void> {
    for (const c of this.s3Clients.values()) c.destroy();
    rmSync(this.codeDir, { recursive: true, force: true });
    await this.emulators.stop();
  }

  // ---------------------------------------------------------------- deploy

  private async deploy(): Promise<void> {
    for (const t of this.plan.all("aws_dynamodb_table")) await this.createTable(t.values);
    for (const o of this.plan.all("aws_s3_object")) {
      const v = o.values;
      const body =
        typeof v.content === "string" ? v.content : readFileSync(this.moduleFile(String(v.source)));
      await this.s3.send(new PutObjectCommand({ Bucket: String(v.bucket), Key: String(v.key), Body: body }));
    }
    const fn = this.plan.resource("aws_lambda_function").values;
    await extract(this.moduleFile(String(fn.filename)), { dir: this.codeDir });
    const [file, exported] = String(fn.handler).split(".");
    if (!existsSync(join(this.codeDir, `${file}.js`)))
      throw new Error(`the code package has no ${file}.js for handler ${String(fn.handler)}`);
    if (exported !== "handler") throw new Error(`the handler ${String(fn.handler)} is not index.handler`);
  }

  private load(): Promise<{ handle(event: unknown): Promise<unknown> }> {
    const bundlePath = join(this.codeDir, "index.js");
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module's own code package
    const bundle = require(bundlePath) as RouterBundle & { handler?: unknown };
    if (typeof bundle.handler !== "function") throw new Error("the code package exports no handler");
    const role = this.routerRole;
    const { region } = this.options;
    const endpoint = { region, credentials: EMULATOR_CREDENTIALS };
    const dynamodb = this.authorized(
      new DynamoDBClient({ ...endpoint, endpoint: this.emulators.dynamoEndpoint }),
      role,
    );
    const engine = (name: string) => {
      const twin = this.engines.find((e) => e.service === name);
      if (!twin) throw new Error(`no ${name} twin`);
      return twin.handle;
    };
    return bundle.startService({ ...this.environment }, this.codeDir, {
      dynamodb,
      s3: this.s3As(role),
      sqs: answeredBy(this.authorized(new SQSClient(endpoint), role), this.queues.answer),
      clients: {
        glue: answeredBy(this.authorized(new GlueClient(endpoint), role), engine("Glue")),
        athena: answeredBy(this.authorized(new AthenaClient(endpoint), role), engine("Athena")),
        emrServerless: answeredBy(
          this.authorized(new EMRServerlessClient(endpoint), role),
          engine("EMR Serverless"),
        ),
        emr: answeredBy(this.authorized(new EMRClient(endpoint), role), engine("EMR")),
      },
      clock: { now: () => this.clock },
    });
  }

  /** S3 as `role`, IAM enforced (bucket policies and the storage key's policy included). */
  s3As(role: string): S3Client {
    let client = this.s3Clients.get(role);
    if (!client) {
      client = this.authorized(
        new S3Client({
          region: this.options.region,
          endpoint: this.emulators.s3Endpoint,
          forcePathStyle: true,
          credentials: EMULATOR_CREDENTIALS,
        }),
        role,
      );
      this.s3Clients.set(role, client);
    }
    return client;
  }

  private authorized<C extends object>(client: C, role: string): C {
    authorizeClient(client, {
      evaluator: this.evaluator,
      principal: role,
      identityPolicies: () => this.roles.get(role).policies as PolicyDocument[],
      resourcePolicy: (arn: string) => this.resourcePolicy(arn),
      resourceAccount: (arn: string) => this.options.foreignResources?.[arn]?.account,
      bucketKey: (bucket: string) => this.bucketKey(bucket),
      // EMR passes the role inside the instance profile: the module's profile says which.
      instanceProfileRole: (profile: string) =>
        this.plan
          .all("aws_iam_instance_profile")
          .find((p) => p.values.name === profile)
          ?.values.role?.toString(),
      log: this.authorizations,
    });
    return client;
  }

  private engineContext(): EngineContext {
    return {
      account: this.options.account,
      region: this.options.region,
      plan: this.plan,
      roles: this.roles,
      s3As: (role) => this.s3As(role),
      denied: (role, action, resource, context) => {
        const r = this.evaluator.evaluate({
          principal: role,
          action,
          resource,
          identityPolicies: this.roles.get(role).policies as PolicyDocument[],
          ...(context ? { context } : {}),
        });
        this.authorizations.push({
          principal: role,
          action,
          resource,
          decision: r.decision,
        } as AuthorizationRecord);
        return r.decision === "Allowed"
          ? undefined
          : `${role} is not authorized to perform: ${action} on resource: ${resource}`;
      },
      tableLocation: (database, table) => {
        const own = this.plan
          .all("aws_glue_catalog_table")
          .find((t) => t.values.database_name === database && t.values.name === table);
        const sd = first<{ location?: string }>(own?.values.storage_descriptor);
        return sd?.location ?? this.options.catalog?.[`${database}.${table}`];
      },
      now: () => this.clock,
    };
  }

  /** Bucket policies of the module's buckets; the key policies of its keys. */
  private resourcePolicy(arn: string): PolicyDocument | undefined {
    const foreign = this.options.foreignResources?.[arn];
    if (foreign !== undefined) return foreign.policy;
    const bucket = /^arn:aws:s3:::([^/]+)/.exec(arn)?.[1];
    if (bucket !== undefined) {
      const p = this.plan.all("aws_s3_bucket_policy").find((x) => x.values.bucket === bucket);
      return p ? (JSON.parse(String(p.values.policy)) as PolicyDocument) : undefined;
    }
    const key = this.plan.all("aws_kms_key").find((k) => this.routing.keyArn(k) === arn);
    return key && typeof key.values.policy === "string"
      ? (JSON.parse(key.values.policy) as PolicyDocument)
      : undefined;
  }

  /** The KMS key a module bucket encrypts with by default. */
  private bucketKey(bucket: string): string | undefined {
    const sse = this.plan
      .all("aws_s3_bucket_server_side_encryption_configuration")
      .find((x) => x.values.bucket === bucket);
    const rule = first<{ apply_server_side_encryption_by_default?: unknown }>(sse?.values.rule);
    const byDefault = first<{ kms_master_key_id?: string }>(rule?.apply_server_side_encryption_by_default);
    return byDefault?.kms_master_key_id;
  }

  private async createTable(v: Record<string, unknown>): Promise<void> {
    const attributes = list<{ name: string; type: string }>(v.attribute);
    const name = String(v.name);
    await this.emulators.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: attributes.map((a) => ({
          AttributeName: a.name,
          AttributeType: a.type as "S",
        })),
        KeySchema: [
          { AttributeName: String(v.hash_key), KeyType: "HASH" },
          ...(v.range_key ? [{ AttributeName: String(v.range_key), KeyType: "RANGE" as const }] : []),
        ],
        ...(list(v.global_secondary_index).length > 0
          ? {
              GlobalSecondaryIndexes: list<{
                name: string;
                hash_key: string;
                range_key?: string;
                projection_type: string;
              }>(v.global_secondary_index).map((g) => ({
                IndexName: g.name,
                KeySchema: [
                  { AttributeName: g.hash_key, KeyType: "HASH" as const },
                  ...(g.range_key ? [{ AttributeName: g.range_key, KeyType: "RANGE" as const }] : []),
                ],
                Projection: { ProjectionType: g.projection_type as "ALL" },
              })),
            }
          : {}),
      }),
    );
    const ttl = first<{ attribute_name?: string; enabled?: boolean }>(v.ttl);
    if (ttl?.enabled && ttl.attribute_name) {
      try {
        await this.emulators.dynamodb.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: ttl.attribute_name, Enabled: true },
          }),
        );
      } catch (e) {
        if (!(e instanceof Error && e.name === "UnknownOperationException")) throw e;
      }
    }
  }

  private moduleFile(rendered: string): string {
    const file = join(this.options.moduleDir, basename(rendered));
    if (!existsSync(file))
      throw new Error(`the module refers to ${rendered}, which is not in ${this.options.moduleDir}`);
    return file;
  }

  private queueUrl(q: RenderedResource): string {
    return `https://sqs.${this.options.region}.amazonaws.com/${this.options.account}/${String(q.values.name)}`;
  }

  private queueArn(url: string): string {
    return `arn:aws:sqs:${this.options.region}:${this.options.account}:${url.slice(url.lastIndexOf("/") + 1)}`;
  }
}

/** The event the Lambda event source mapping of an SQS queue delivers. */
function sqsEvent(
  messages: readonly { messageId: string; body: string }[],
  arn: string,
  now: number,
): unknown {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: `rh-${m.messageId}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(now),
        ApproximateFirstReceiveTimestamp: String(now),
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: arn,
      awsRegion: arn.split(":")[3],
    })),
  };
}

/** A nested block as Terraform JSON writes it: an object, or a list of one. */
export function first<T>(block: unknown): T | undefined {
  if (Array.isArray(block)) return block[0] as T | undefined;
  return (block ?? undefined) as T | undefined;
}

export function list<T>(block: unknown): T[] {
  if (Array.isArray(block)) return block as T[];
  return block === undefined || block === null ? [] : [block as T];
}

export { matchesPattern };
