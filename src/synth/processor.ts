/**
 * The processor: the router Lambda and everything that feeds it.
 *
 * - Code: `router.zip`, written in process and deterministically (code-package.ts), holding the
 *   prebuilt runtime bundle (`dist/runtime-bundle/index.js`, the engines' files it loads on first use,
 *   without source maps), the route table (`flow-model.json`, the canonical FlowModel) and the
 *   user-code bundle (`user-code.js`, see user-code.ts); a file asset of the stack, hashed once.
 * - Queues: a dead-letter queue (unprocessable events, failed async invocations, poisoned internal
 *   messages) and the internal queue the router schedules its own follow-up work on; both KMS-encrypted.
 * - EventBridge rules, each targeting the function: S3 "Object Created" per s3Dataset (bucket and key
 *   prefix), Glue catalog table changes per glueTable, one schedule per timer (named
 *   `resourceNames.timerRule`, which is how the router recognises it), alarm state changes of the
 *   alarms used as data inputs, the completion markers of the imported nodes per upstream application
 *   (forwarded by the upstream's account), state changes of the engines the flow uses, and the
 *   sweeper schedule.
 * - The router role's grants (least privilege, see `grantRouter`).
 *
 * What the rules cannot do alone: S3 sends "Object Created" to EventBridge only when the bucket has
 * EventBridge notifications turned on (the application's own bucket does; an external bucket's owner
 * must turn them on), and events of another account or region reach this account's default bus only
 * when that account forwards them (a cross-account EventBridge rule and a bus policy on this side).
 * The data nodes' own partitions need no rule: the router pushes their signals itself.
 */
import { CloudwatchEventPermission } from "@cdktf/provider-aws/lib/cloudwatch-event-permission";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { canonicalJson } from "../flow/model/canonical-json";
import {
  ASSETS_PREFIX,
  DEAD_LETTERS_PREFIX,
  BINDINGS_KEY,
  COMPLETION_MARKER,
  HANDLER_FILE,
  INTERNAL_DATA_PREFIX,
  LAMBDA_HANDLER,
  MODEL_FILE,
  ROUTER_ENV,
  USER_CODE_FILE,
} from "../flow/model/deployment-contract";
import type {
  DatasetBindingModel,
  Engine,
  FlowModel,
  GlueTableNodeModel,
  NodeModel,
  S3DatasetNodeModel,
  UpstreamDataNodeModel,
} from "../flow/model/flow-model";
import { boundedName, resourceNames, shortHash, upstreamBucket } from "../flow/model/resource-names";
import { parseSchedule } from "../flow/model/schedule";
import type { BatchCompute } from "./batch-compute";
import { defaultBundleDir } from "./bundle-dir";
import { BUNDLE_FILES, bundleEntries, ENGINE_FILES, sha256, writeZip } from "./code-package";
import { App, AssetType, Construct, Fn, TerraformAsset, TerraformStack, Token } from "./cdktf";
import type { ExecutionRoles } from "./execution-roles";
import { DATASETS_LOCAL, type Naming } from "./naming";
import { decryptViaS3Statements, keyPolicy, logsKeyStatement, type Statement } from "./policy";
import type { RoutingTable } from "./routing-table";
import type { Storage } from "./storage";
import { SynthError } from "./synth-error";
import { bundleUserCode, type UserCodeRef } from "./user-code";

export interface ProcessorSizing {
  /** Router memory in MB (128–10240). @default 1024 */
  readonly memoryMb?: number;
  /** Router timeout in seconds (1–900); the internal queue's visibility timeout is 6× this. @default 300 */
  readonly timeoutSeconds?: number;
  /** Reserved concurrent executions of the router. @default none (the account's unreserved pool) */
  readonly reservedConcurrency?: number;
  /** Retention of the router's log group, a value CloudWatch Logs accepts. @default 90 */
  readonly logRetentionDays?: number;
  /** EventBridge schedule of the sweeper (missed events, timeouts, retries). @default "rate(5 minutes)" */
  readonly sweeperSchedule?: string;
}

export interface ProcessorProps {
  readonly model: FlowModel;
  readonly naming: Naming;
  /** Folder that module references of the flow are relative to. */
  readonly root: string;
  readonly storage: Storage;
  readonly routingTable: RoutingTable;
  readonly roles: ExecutionRoles;
  readonly batchCompute: BatchCompute;
  /** The environment's dataset bindings by node id (location overrides). @default none */
  readonly datasets: Readonly<Record<string, DatasetBindingModel>>;
  /** Folder of the prebuilt runtime bundle. @default the package's dist/runtime-bundle */
  readonly bundleDir?: string;
  readonly sizing?: ProcessorSizing;
}

export { BUNDLE_FILES, ENGINE_FILES } from "./code-package";
/** The code package's file name in its staging folder and in the stack's assets. */
export const CODE_PACKAGE_FILE = "router.zip";
/** Names the router reads (the deployment contract's). */
export { MODEL_FILE, USER_CODE_FILE };

/** Catalog changes that add partitions: the only ones the router acts on (glue-catalog.ts). */
export const GLUE_PARTITION_CHANGES: readonly string[] = ["BatchCreatePartition", "CreatePartition"];

const LOG_RETENTION_DAYS: ReadonlySet<number> = new Set([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;
const MAX_RECEIVES = 5;
/** Lambda's limit on the total size of a function's environment variables. */
const ENV_LIMIT_BYTES = 4096;

export { defaultBundleDir } from "./bundle-dir";

/** Which EventBridge rule serves what, for reviews and tests. */
export interface RuleInfo {
  readonly rule: CloudwatchEventRule;
  /** s3Dataset | glueTable | timer | alarm | upstream | engine:<engine> | sweeper */
  readonly kind: string;
  /** The node the rule serves, if any. */
  readonly node?: string;
}

export class Processor extends Construct {
  readonly function: LambdaFunction;
  readonly deadLetterQueue: SqsQueue;
  readonly internalQueue: SqsQueue;
  readonly logGroup: CloudwatchLogGroup;
  /** Key of the log group: its policy lets CloudWatch Logs use it for this log group only. */
  readonly logKey: KmsKey;
  readonly rules: CloudwatchEventRule[] = [];
  /** The same rules, with what each serves. */
  readonly ruleInfo: RuleInfo[] = [];
  readonly eventSourceMapping: LambdaEventSourceMapping;
  /** The code package (`router.zip`) as a file asset of the stack. */
  readonly asset: TerraformAsset;
  /** Folder the code package is written to (`router.zip`), which the asset copies into the stack. */
  readonly stagingDir: string;
  /** The code package: its file, its entries (sorted) and its SHA-256 (hex, and base64 as Lambda's). */
  readonly codePackage: {
    readonly path: string;
    readonly files: readonly string[];
    readonly sha256: string;
    readonly sha256Base64: string;
  };
  /**
   * The runtime bundle's source maps, kept out of the code package (Lambda never loads them): by the
   * name they take beside it (`router.js.map` for index.js, `router.<engine>.js.map`), their file.
   */
  readonly sourceMaps: Readonly<Record<string, string>>;
  /** Module references bundled into user-code.js. */
  readonly userCode: readonly UserCodeRef[];
  readonly functionName: string;
  /** The environment's bindings object, which the router reads at cold start. */
  readonly bindings: S3Object;

  private readonly props: ProcessorProps;
  private readonly sizing: CheckedSizing;

  constructor(scope: Construct, id: string, props: ProcessorProps) {
    super(scope, id);
    this.props = props;
    const { model, naming, storage } = props;
    const app = naming.app;
    const sizing = checkSizing(props.sizing ?? {});
    this.sizing = sizing;
    const tags = naming.tags();
    this.functionName = resourceNames.routerFunction(app);

    // ---------------------------------------------------------------- code
    const bundleDir = props.bundleDir ?? defaultBundleDir();
    if (!existsSync(join(bundleDir, HANDLER_FILE))) {
      throw new SynthError(
        `the prebuilt runtime bundle is missing: no ${HANDLER_FILE} in ${bundleDir}. Run \`npm run build\` to build it.`,
      );
    }
    const userCode = bundleUserCode(model, props.root);
    this.userCode = userCode.refs;
    this.stagingDir = stagingDir(this);
    rmSync(this.stagingDir, { recursive: true, force: true });
    mkdirSync(this.stagingDir, { recursive: true });
    const bundled = BUNDLE_FILES.filter((f) => existsSync(join(bundleDir, f)));
    const zip = writeZip(
      [],
      [
        { name: MODEL_FILE, data: Buffer.from(`${canonicalJson(model)}\n`) },
        { name: USER_CODE_FILE, data: Buffer.from(userCode.code) },
      ],
      bundleEntries(bundleDir, bundled),
    );
    const hash = sha256(zip);
    const zipPath = join(this.stagingDir, CODE_PACKAGE_FILE);
    writeFileSync(zipPath, zip);
    this.codePackage = {
      path: zipPath,
      files: [...bundled, MODEL_FILE, USER_CODE_FILE].sort(),
      sha256: hash.hex,
      sha256Base64: hash.base64,
    };
    this.sourceMaps = Object.fromEntries(
      [HANDLER_FILE, ...ENGINE_FILES]
        .filter((f) => existsSync(join(bundleDir, `${f}.map`)))
        .map((f) => [
          f === HANDLER_FILE ? "router.js.map" : `router.${f.slice(f.indexOf("/") + 1)}.map`,
          join(bundleDir, `${f}.map`),
        ]),
    );
    // A file asset (copied into the stack at synth, not zipped again), hashed here once: the hash names
    // its folder, and a module's writer turns the function's literal hash into filebase64sha256.
    this.asset = new TerraformAsset(this, "code", {
      path: zipPath,
      type: AssetType.FILE,
      assetHash: hash.hex,
    });

    // ---------------------------------------------------------------- queues
    this.deadLetterQueue = new SqsQueue(this, "dead-letter-queue", {
      name: resourceNames.deadLetterQueue(app),
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
      kmsMasterKeyId: storage.key.arn, // CKV_AWS_27
      kmsDataKeyReusePeriodSeconds: 300,
      tags,
    });
    this.internalQueue = new SqsQueue(this, "internal-queue", {
      name: resourceNames.internalQueue(app),
      // A message stays invisible while a batch of it is being handled, retries included.
      visibilityTimeoutSeconds: 6 * sizing.timeoutSeconds,
      redrivePolicy: JSON.stringify({
        deadLetterTargetArn: this.deadLetterQueue.arn,
        maxReceiveCount: MAX_RECEIVES,
      }),
      kmsMasterKeyId: storage.key.arn, // CKV_AWS_27
      kmsDataKeyReusePeriodSeconds: 300,
      tags,
    });

    // ---------------------------------------------------------------- bindings
    this.bindings = new S3Object(this, "bindings", {
      bucket: storage.bucket.id,
      key: BINDINGS_KEY,
      content: this.bindingsContent(),
      contentType: "application/json",
      serverSideEncryption: "aws:kms",
      kmsKeyId: storage.key.arn,
      bucketKeyEnabled: true,
      tags,
    });

    // ---------------------------------------------------------------- function
    const logGroupName = `/aws/lambda/${this.functionName}`;
    this.logKey = new KmsKey(this, "log-key", {
      description: `Sluice ${app} (${naming.environment}): logs of the router`,
      enableKeyRotation: true, // CKV_AWS_7
      deletionWindowInDays: 30,
      policy: logKeyPolicy(naming, logGroupName),
      tags,
    });
    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: logGroupName,
      retentionInDays: sizing.logRetentionDays, // CKV_AWS_66 (CKV_AWS_338 wants ≥ 365)
      kmsKeyId: this.logKey.arn, // CKV_AWS_158
      tags,
    });
    const roles = props.roles;
    this.function = new LambdaFunction(this, "function", {
      functionName: this.functionName,
      description: `Sluice router of ${app}: routes events to the flow's nodes and runs their compute`,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: LAMBDA_HANDLER,
      role: roles.role("router").arn,
      filename: this.asset.path,
      sourceCodeHash: this.asset.assetHash,
      memorySize: sizing.memoryMb,
      timeout: sizing.timeoutSeconds,
      ...(sizing.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: sizing.reservedConcurrency }), // CKV_AWS_115
      environment: { variables: this.environmentVariables() },
      kmsKeyArn: storage.key.arn, // CKV_AWS_173
      deadLetterConfig: { targetArn: this.deadLetterQueue.arn }, // CKV_AWS_116
      tracingConfig: { mode: "Active" }, // CKV_AWS_50
      loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name }, // EMF lines need Text
      tags,
    });
    this.eventSourceMapping = new LambdaEventSourceMapping(this, "internal-queue-source", {
      eventSourceArn: this.internalQueue.arn,
      functionName: this.function.arn,
      batchSize: 10,
      functionResponseTypes: ["ReportBatchItemFailures"],
    });

    // ---------------------------------------------------------------- rules
    this.addRules();

    // ---------------------------------------------------------------- grants
    for (const statement of this.routerStatements()) roles.grant("router", statement);
  }

  /**
   * The bindings object (`RouterBindings`): the environment's dataset bindings (the module's
   * `local.datasets`, or the environment's literals) and the Glue tables' locations from the catalog.
   */
  private bindingsContent(): string {
    const { naming, batchCompute, model, datasets } = this.props;
    const datasetsExpr = naming.datasetsFromVariable
      ? `local.${DATASETS_LOCAL}`
      : `jsondecode(${hclString(JSON.stringify(datasetLocations(model, datasets)))})`;
    const tables = Object.entries(sortKeys(batchCompute.tableLocations))
      .map(([id, location]) => `${hclString(id)} = ${location.replace(/^\$\{([\s\S]*)\}$/, "$1")}`)
      .join(", ");
    return `\${jsonencode({ datasets = ${datasetsExpr}, tableLocations = { ${tables} } })}`;
  }

  /** The router's environment (RouterEnvironment of the handler), keys sorted. */
  private environmentVariables(): Record<string, string> {
    const { naming, storage, batchCompute } = this.props;
    const variables: Record<string, string> = {
      ...batchCompute.routerEnvironment,
      [ROUTER_ENV.SLUICE_TABLE]: this.props.routingTable.table.name,
      [ROUTER_ENV.SLUICE_BUCKET]: storage.bucket.bucket,
      [ROUTER_ENV.SLUICE_ENV]: naming.environment,
      [ROUTER_ENV.SLUICE_DLQ_URL]: this.deadLetterQueue.url,
      [ROUTER_ENV.SLUICE_INTERNAL_QUEUE_URL]: this.internalQueue.url,
      // Bindings and table locations grow with the flow: an object of their own, read at cold start.
      [ROUTER_ENV.SLUICE_BINDINGS]: `s3://${storage.bucket.bucket}/${BINDINGS_KEY}`,
      [ROUTER_ENV.SLUICE_BINDINGS_SHA256]: Fn.sha256(this.bindings.content),
    };
    const sorted = sortKeys(variables);
    const known = Object.entries(sorted)
      .filter(([, v]) => !Token.isUnresolved(v) && !(naming.datasetsFromVariable && v.includes("${")))
      .reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);
    if (known > ENV_LIMIT_BYTES) {
      throw new SynthError(
        `the router's environment variables take ${known} bytes before ARNs and URLs are known; ` +
          `Lambda allows ${ENV_LIMIT_BYTES} in all (dataset bindings and table locations are the large ones)`,
      );
    }
    return sorted;
  }

  // ---------------------------------------------------------------- EventBridge

  private addRules(): void {
    const { model, naming, batchCompute } = this.props;
    const app = naming.app;
    const nodes = Object.keys(model.nodes)
      .sort()
      .map((id) => model.nodes[id] as NodeModel);

    for (const node of nodes) {
      if (node.kind === "s3Dataset") {
        const { bucket, prefix } = naming.datasetsFromVariable
          ? naming.s3Location(node)
          : boundLocation(node, this.props.datasets[node.id]);
        // With a completion marker, only the marker's arrival means anything: data files never
        // invoke the router. Without one, every object is the partition's arrival.
        const keyPrefix = naming.datasetsFromVariable
          ? naming.s3Location(node).keyPrefix
          : prefix === ""
            ? ""
            : `${prefix}/`;
        const keys: unknown[] =
          node.completion === null
            ? keyPrefix === ""
              ? []
              : [{ prefix: keyPrefix }]
            : [`${keyPrefix}${node.completion}`, { wildcard: `${keyPrefix}*/${node.completion}` }];
        this.addRule(`rule-s3-${node.id}`, naming.name(`s3-${node.id}`), "s3Dataset", node.id, {
          description: `${node.completion === null ? "Objects" : `${node.completion} markers`} created under s3://${bucket}/${prefix} (s3Dataset ${node.id})`,
          eventPattern: {
            source: ["aws.s3"],
            "detail-type": ["Object Created"],
            ...this.accountOf(node),
            detail: {
              bucket: { name: [bucket] },
              // In a module the prefix is the caller's: an empty one matches every key.
              ...(keys.length > 0 ? { object: { key: keys } } : {}),
            },
          },
        });
      } else if (node.kind === "glueTable") {
        const { database, table, lowerDatabase, lowerTable } = naming.datasetsFromVariable
          ? naming.glueTableLocation(node)
          : withLower(boundTable(node, this.props.datasets[node.id]));
        this.addRule(`rule-table-${node.id}`, naming.name(`table-${node.id}`), "glueTable", node.id, {
          description: `Partitions added to ${database}.${table} (glueTable ${node.id})`,
          eventPattern: {
            source: ["aws.glue"],
            "detail-type": ["Glue Data Catalog Table State Change"],
            ...this.accountOf(node),
            // The catalog keeps names in lower case and says so in its events.
            detail: {
              databaseName: [lowerDatabase],
              tableName: [lowerTable],
              typeOfChange: [...GLUE_PARTITION_CHANGES],
            },
          },
        });
      } else if (node.kind === "timer") {
        this.addRule(`rule-timer-${node.id}`, resourceNames.timerRule(app, node.id), "timer", node.id, {
          description: `Timer ${node.id}: ${node.schedule}`,
          scheduleExpression: node.schedule,
        });
      }
    }

    // Alarms that trigger data nodes (reference inputs never trigger, so they need no events).
    const alarmInputs = new Set<string>();
    for (const node of nodes) {
      if (node.kind !== "data") continue;
      for (const input of node.inputs) if (!input.reference) alarmInputs.add(input.node);
    }
    for (const node of nodes) {
      if (!alarmInputs.has(node.id)) continue;
      if (node.kind !== "alarm" && node.kind !== "compositeAlarm" && node.kind !== "externalAlarm") continue;
      this.addRule(`rule-alarm-${node.id}`, naming.name(`alarm-${node.id}`), "alarm", node.id, {
        description: `State changes of alarm ${node.alarmName} (${node.kind} ${node.id})`,
        eventPattern: {
          source: ["aws.cloudwatch"],
          "detail-type": ["CloudWatch Alarm State Change"],
          // Another account's alarm arrives (forwarded) with that account in the envelope.
          account: [node.kind === "externalAlarm" ? node.account : naming.account],
          detail: { alarmName: [node.alarmName] },
        },
      });
    }

    // Completed partitions of the imported nodes, one rule per upstream application: its account
    // forwards its bucket's completion markers (collaboration.ts), which the router turns into signals.
    const byUpstream = new Map<string, UpstreamDataNodeModel[]>();
    for (const node of nodes) {
      if (node.kind !== "upstreamData") continue;
      const application = node.upstream.application;
      byUpstream.set(application, [...(byUpstream.get(application) ?? []), node]);
    }
    for (const application of [...byUpstream.keys()].sort()) {
      const imported = byUpstream.get(application) ?? [];
      const ref = (imported[0] as UpstreamDataNodeModel).upstream;
      const bucket = upstreamBucket(ref);
      const paths = [...new Set(imported.map((n) => n.path))].sort();
      const upstreamIds = [...new Set(imported.map((n) => n.node))].sort();
      this.addRule(
        `rule-upstream-${application}`,
        naming.name(`upstream-${application}`),
        "upstream",
        undefined,
        {
          description: `Completed partitions of ${upstreamIds.join(", ")} of upstream ${application} (s3://${bucket}, account ${ref.account})`,
          eventPattern: {
            source: ["aws.s3"],
            "detail-type": ["Object Created"],
            account: [ref.account],
            detail: {
              bucket: { name: [bucket] },
              // A node without dimensions completes at <path>/_SUCCESS, one with them below it.
              object: {
                key: paths.flatMap((p) => [
                  `${p}/${COMPLETION_MARKER}`,
                  { wildcard: `${p}/*/${COMPLETION_MARKER}` },
                ]),
              },
            },
          },
        },
      );
    }

    // Completion of the engines the flow uses.
    const engines = new Set<Engine>();
    for (const node of nodes) if (node.kind === "data") for (const t of node.compute) engines.add(t.engine);
    if (engines.has("glue")) {
      const jobNames = Object.keys(batchCompute.glueJobs).sort(); // keyed by job name
      this.addRule("rule-engine-glue", naming.name("glue-jobs"), "engine:glue", undefined, {
        description: `State changes of the Glue job runs of ${app}`,
        eventPattern: {
          source: ["aws.glue"],
          "detail-type": ["Glue Job State Change"],
          account: [naming.account],
          detail: { jobName: jobNames.length > 0 ? jobNames : [{ prefix: `${app}-glue-` }] },
        },
      });
    }
    if (engines.has("athena")) {
      const workgroup = batchCompute.workgroup?.name ?? resourceNames.athenaWorkgroup(app);
      this.addRule("rule-engine-athena", naming.name("athena-queries"), "engine:athena", undefined, {
        description: `State changes of the Athena queries of ${app}`,
        eventPattern: {
          source: ["aws.athena"],
          "detail-type": ["Athena Query State Change"],
          account: [naming.account],
          detail: { workgroupName: [workgroup] },
        },
      });
    }
    if (engines.has("emr")) {
      this.addRule("rule-engine-emr", naming.name("emr-steps"), "engine:emr", undefined, {
        description: `Status changes of the EMR steps Sluice submits`,
        eventPattern: {
          source: ["aws.emr"],
          "detail-type": ["EMR Step Status Change"],
          account: [naming.account],
          // The EMR dispatcher names every step "sluice-<execution>-<target>-<attempt>".
          detail: { name: [{ prefix: "sluice-" }] },
        },
      });
    }
    if (engines.has("emrServerless")) {
      const application = batchCompute.emrServerless?.id;
      this.addRule(
        "rule-engine-emr-serverless",
        naming.name("emr-serverless-jobs"),
        "engine:emrServerless",
        undefined,
        {
          description: `State changes of the EMR Serverless job runs of ${app}`,
          eventPattern: {
            source: ["aws.emr-serverless"],
            "detail-type": ["EMR Serverless Job Run State Change"],
            account: [naming.account],
            ...(application === undefined ? {} : { detail: { applicationId: [application] } }),
          },
        },
      );
    }

    this.admitForeignSources(nodes);

    this.addRule("rule-sweeper", resourceNames.sweeperRule(app), "sweeper", undefined, {
      description: `Sweeper of ${app}: missed events, timeouts, retries`,
      scheduleExpression: this.sizing.sweeperSchedule,
    });
  }

  /**
   * Events of another account reach this account's default bus only when that account forwards them
   * and this bus admits it: one bus permission per account that owns a triggering s3Dataset, glueTable
   * or external alarm (as the flow declares it, or as the environment binds it; a module's caller who
   * binds a dataset to yet another account admits that account itself). Imported upstream nodes are
   * admitted by the collaboration component.
   */
  private admitForeignSources(nodes: readonly NodeModel[]): void {
    const { naming, model } = this.props;
    const own = model.application.account;
    const triggering = new Set<string>();
    for (const node of nodes) {
      if (node.kind !== "data") continue;
      for (const input of node.inputs) if (!input.reference) triggering.add(input.node);
    }
    const accounts = new Set<string>();
    for (const node of nodes) {
      if (!triggering.has(node.id)) continue;
      if (node.kind === "s3Dataset" || node.kind === "glueTable" || node.kind === "externalAlarm") {
        const bound = naming.datasetsFromVariable ? undefined : this.props.datasets[node.id]?.account;
        const account = bound ?? node.account;
        if (account !== own) accounts.add(account);
      }
    }
    for (const account of [...accounts].sort()) {
      new CloudwatchEventPermission(this, `bus-permission-${account}`, {
        principal: account,
        statementId: boundedName([naming.app, "source", account], 64),
        eventBusName: "default",
      });
    }
  }

  /**
   * The `account` filter of a dataset's rule: the account its events come from (the bucket's or the
   * catalog's owner), so that a forwarded event of another account never passes for this one.
   */
  private accountOf(node: S3DatasetNodeModel | GlueTableNodeModel): { account: string[] } {
    const { naming } = this.props;
    if (naming.datasetsFromVariable) {
      return {
        account: [
          node.kind === "s3Dataset"
            ? naming.s3Location(node).account
            : naming.glueTableLocation(node).account,
        ],
      };
    }
    return { account: [this.props.datasets[node.id]?.account ?? node.account] };
  }

  private addRule(
    id: string,
    name: string,
    kind: string,
    node: string | undefined,
    spec: { description: string; eventPattern?: object; scheduleExpression?: string },
  ): void {
    if (spec.eventPattern) checkPatternSize(name, JSON.stringify(spec.eventPattern));
    const rule = new CloudwatchEventRule(this, id, {
      name,
      description: spec.description.slice(0, 512),
      ...(spec.eventPattern ? { eventPattern: JSON.stringify(spec.eventPattern) } : {}),
      ...(spec.scheduleExpression ? { scheduleExpression: spec.scheduleExpression } : {}),
      tags: this.props.naming.tags(node),
    });
    new CloudwatchEventTarget(this, `${id}-target`, {
      rule: rule.name,
      targetId: "router",
      arn: this.function.arn,
    });
    new LambdaPermission(this, `${id}-permission`, {
      statementId: `events-${name}`,
      action: "lambda:InvokeFunction",
      functionName: this.function.functionName,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn, // CKV_AWS_364
    });
    this.rules.push(rule);
    this.ruleInfo.push(node === undefined ? { rule, kind } : { rule, kind, node });
  }

  // ---------------------------------------------------------------- IAM

  /** What the router needs, and nothing more. */
  private routerStatements(): Statement[] {
    const { model, storage, routingTable } = this.props;
    const bucketArn = storage.bucket.arn;
    const statements: Statement[] = [
      {
        sid: "RoutingTable",
        // Single-item conditional writes and queries: no Scan, no table administration.
        actions: [
          "dynamodb:BatchGetItem",
          "dynamodb:DeleteItem",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:Query",
          "dynamodb:UpdateItem",
        ],
        resources: [routingTable.table.arn],
      },
      {
        sid: "InternalData",
        actions: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
        resources: [`${bucketArn}/${INTERNAL_DATA_PREFIX}*`],
      },
      { sid: "Assets", actions: ["s3:GetObject"], resources: [`${bucketArn}/${ASSETS_PREFIX}*`] },
      // Events too large for an SQS dead letter are kept here, the letter naming them.
      { sid: "DeadLetters", actions: ["s3:PutObject"], resources: [`${bucketArn}/${DEAD_LETTERS_PREFIX}*`] },
      // The environment's bindings, read once at cold start.
      { sid: "Bindings", actions: ["s3:GetObject"], resources: [`${bucketArn}/${BINDINGS_KEY}`] },
      {
        sid: "ListOwnBucket",
        actions: ["s3:ListBucket"],
        resources: [bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${INTERNAL_DATA_PREFIX}*`, `${ASSETS_PREFIX}*`] } },
      },
      {
        sid: "DataKey",
        actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        resources: [storage.key.arn],
      },
      {
        sid: "Queues",
        actions: ["sqs:SendMessage"],
        resources: [this.deadLetterQueue.arn, this.internalQueue.arn],
      },
      {
        sid: "InternalQueueConsume",
        actions: ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        resources: [this.internalQueue.arn],
      },
      {
        sid: "Logs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${this.logGroup.arn}:*`],
      },
      {
        sid: "XRay",
        // X-Ray has no resource-level permissions for these actions.
        actions: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        resources: ["*"],
      },
    ];

    // Read-only access to the external datasets, where the environment binds them.
    for (const id of Object.keys(model.nodes).sort()) {
      const node = model.nodes[id] as NodeModel;
      if (node.kind !== "s3Dataset") continue;
      const binding = this.props.datasets[id];
      const { bucket, prefix, encryptionKey } = boundLocation(node, binding);
      const sid = `Read${alnum(id)}`;
      if (this.props.naming.datasetsFromVariable) {
        // A module: the location is the caller's (an empty prefix makes "*" of the condition: any key).
        const l = this.props.naming.s3Location(node);
        statements.push({
          sid,
          actions: ["s3:GetObject"],
          resources: [`arn:aws:s3:::${l.bucket}/${l.keyPrefix}*`],
        });
        statements.push({
          sid: `${sid}List`,
          actions: ["s3:ListBucket"],
          resources: [`arn:aws:s3:::${l.bucket}`],
          conditions: { StringLike: { "s3:prefix": [`${l.keyPrefix}*`] } },
        });
      } else {
        statements.push({
          sid,
          actions: ["s3:GetObject"],
          resources: [`arn:aws:s3:::${bucket}/${prefix === "" ? "" : `${prefix}/`}*`],
        });
        statements.push({
          sid: `${sid}List`,
          actions: ["s3:ListBucket"],
          resources: [`arn:aws:s3:::${bucket}`],
          ...(prefix === "" ? {} : { conditions: { StringLike: { "s3:prefix": [`${prefix}/*`] } } }),
        });
      }
      if (encryptionKey !== undefined && !this.props.naming.datasetsFromVariable) {
        const account = binding?.account ?? node.account;
        const region = binding?.region ?? node.region;
        statements.push({
          sid: `${sid}Key`,
          actions: ["kms:Decrypt"],
          ...keyResource(encryptionKey, account, region),
        });
      }
    }
    // A module: each environment binds its own keys (or none); decrypt through S3 for the bound locations.
    const { naming } = this.props;
    const datasets = Object.keys(model.nodes)
      .sort()
      .map((id) => model.nodes[id] as NodeModel)
      .filter((n): n is S3DatasetNodeModel => n.kind === "s3Dataset");
    if (naming.datasetsFromVariable && datasets.length > 0) {
      const located = datasets.map((n) => naming.s3Location(n));
      statements.push(...decryptViaS3Statements("ReadDatasetsDecryptViaS3", located, naming.account));
    }
    return statements;
  }
}

// ---------------------------------------------------------------- helpers

interface CheckedSizing {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  readonly logRetentionDays: number;
  readonly sweeperSchedule: string;
}

function checkSizing(s: ProcessorSizing): CheckedSizing {
  const memoryMb = s.memoryMb ?? 1024;
  const timeoutSeconds = s.timeoutSeconds ?? 300;
  const logRetentionDays = s.logRetentionDays ?? 90;
  const sweeperSchedule = s.sweeperSchedule ?? "rate(5 minutes)";
  const problems: string[] = [];
  if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10240)
    problems.push(`memoryMb ${memoryMb} is not an integer from 128 to 10240`);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900)
    problems.push(`timeoutSeconds ${timeoutSeconds} is not an integer from 1 to 900`);
  if (
    s.reservedConcurrency !== undefined &&
    (!Number.isInteger(s.reservedConcurrency) || s.reservedConcurrency < 0)
  )
    problems.push(`reservedConcurrency ${s.reservedConcurrency} is not a non-negative integer`);
  if (!LOG_RETENTION_DAYS.has(logRetentionDays))
    problems.push(
      `logRetentionDays ${logRetentionDays} is not a retention CloudWatch Logs accepts (${[...LOG_RETENTION_DAYS].join(", ")})`,
    );
  const parsed = parseSchedule(sweeperSchedule);
  if (parsed.errors.length > 0) problems.push(`sweeperSchedule: ${parsed.errors.join("; ")}`);
  if (problems.length > 0) throw new SynthError(`processor sizing: ${problems.join("; ")}`);
  return {
    memoryMb,
    timeoutSeconds,
    logRetentionDays,
    sweeperSchedule,
    ...(s.reservedConcurrency === undefined ? {} : { reservedConcurrency: s.reservedConcurrency }),
  };
}

/** Where an s3Dataset is in this environment: the binding wins over the flow's declaration. */
function boundLocation(
  node: S3DatasetNodeModel,
  binding: DatasetBindingModel | undefined,
): { bucket: string; prefix: string; encryptionKey?: string } {
  const encryptionKey = binding?.encryptionKey ?? node.encryptionKey;
  return {
    bucket: binding?.bucket ?? node.bucket,
    prefix: (binding?.prefix ?? node.prefix).replace(/^\/+|\/+$/g, ""),
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
  };
}

function boundTable(
  node: GlueTableNodeModel,
  binding: DatasetBindingModel | undefined,
): { database: string; table: string } {
  return { database: binding?.database ?? node.database, table: binding?.table ?? node.table };
}

function withLower(t: { database: string; table: string }): {
  database: string;
  table: string;
  lowerDatabase: string;
  lowerTable: string;
} {
  return { ...t, lowerDatabase: t.database.toLowerCase(), lowerTable: t.table.toLowerCase() };
}

/** SLUICE_DATASETS: the locations the router needs of each bound dataset, keys sorted. */
function datasetLocations(
  model: FlowModel,
  datasets: Readonly<Record<string, DatasetBindingModel>>,
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const id of Object.keys(datasets).sort()) {
    const b = datasets[id];
    const kind = model.nodes[id]?.kind;
    // Everything the environment binds: the router binds it into its model (bindDatasets).
    const fields: Record<string, string | undefined> =
      kind === "glueTable"
        ? { account: b.account, database: b.database, region: b.region, table: b.table }
        : {
            account: b.account,
            bucket: b.bucket,
            encryptionKey: b.encryptionKey,
            format: b.format,
            prefix: b.prefix,
            region: b.region,
          };
    const located = Object.fromEntries(
      Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined),
    );
    if (Object.keys(located).length > 0) out[id] = located;
  }
  return out;
}

/**
 * EventBridge's default quota on an event pattern (4,096 after an increase the account asks for).
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
 */
export const EVENT_PATTERN_MAX_CHARS = 2048;

/** A pattern within the quota, a Terraform expression counted at a bucket name's 63 characters. */
function checkPatternSize(rule: string, pattern: string): void {
  const chars = pattern.replace(/\$\{[^{}]*\}/g, "x".repeat(63)).length;
  if (chars > EVENT_PATTERN_MAX_CHARS) {
    throw new SynthError(
      `EventBridge rule ${rule}: its event pattern takes up to ${chars} characters; EventBridge allows ` +
        `${EVENT_PATTERN_MAX_CHARS} by default (fewer imported nodes or datasets per upstream or bucket reduce it)`,
    );
  }
}

/** kms:Decrypt resource of a key given as an ARN, a key id or an alias (IAM matches aliases by condition). */
function keyResource(
  key: string,
  account: string,
  region: string,
): Pick<Statement, "resources" | "conditions"> {
  const arn = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(key);
  if (arn) {
    const [, partition, keyRegion, keyAccount, type, name] = arn;
    if (type === "key") return { resources: [key] };
    return {
      resources: [`arn:${partition}:kms:${keyRegion}:${keyAccount}:key/*`],
      conditions: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": [`alias/${name}`] } },
    };
  }
  if (key.startsWith("alias/")) {
    return {
      resources: [`arn:aws:kms:${region}:${account}:key/*`],
      conditions: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": [key] } },
    };
  }
  return { resources: [`arn:aws:kms:${region}:${account}:key/${key}`] };
}

/**
 * Policy of the log group's key. CloudWatch Logs encrypts with the key as its own service principal,
 * so the key policy (not the router's role) must allow it, and only for this log group; the account
 * administers the key through IAM as usual.
 */
function logKeyPolicy(naming: Naming, logGroupName: string): string {
  return keyPolicy(naming.account, [
    logsKeyStatement("CloudWatchLogsOfTheRouter", naming.account, naming.region, logGroupName),
  ]);
}

/** A string literal of HCL (JSON's escapes, and `$${` / `%%{` so that nothing is a template). */
function hclString(text: string): string {
  return JSON.stringify(text).replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key];
  return out;
}

function alnum(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, "");
}

/**
 * Where the code asset is staged: under the app's output directory (`<outdir>/.sluice-staging/…`, next
 * to, not inside, the stacks), at a path derived from the construct path, so a synth of the same flow
 * writes the same bytes to the same place. TerraformAsset hashes the content, not the path.
 */
function stagingDir(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  let outdir: string;
  try {
    outdir = App.of(scope).outdir;
  } catch {
    outdir = join(tmpdir(), "sluice-staging");
  }
  const path = scope.node.path;
  // Absolute: TerraformAsset reads a relative path against cdktf.json, not against the outdir.
  return resolve(outdir, ".sluice-staging", `${alnum(stack.node.id) || "stack"}-${shortHash(path)}`);
}
