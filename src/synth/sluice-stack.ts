/**
 * SluiceStack: one Terraform stack per application environment. It turns a flow's FlowModel into
 * storage, the routing table, the router (processor), batch compute, diagnostics and one IAM role per
 * component, all named deterministically and tagged with application, environment and node.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { BINDING_FIELDS, SORTED_DATA_FORMATS } from "../flow/model/dataset-bindings";
import type { FlowModel } from "../flow/model/flow-model";
import { BatchCompute } from "./batch-compute";
import { Collaboration, downstreamBucketStatements, MANIFEST_KEY } from "./collaboration";
import {
  dependable,
  S3Backend,
  TerraformOutput,
  TerraformStack,
  TerraformVariable,
  type Construct,
} from "./cdktf";
import { Diagnostics } from "./diagnostics";
import { ExecutionRoles } from "./execution-roles";
import { DATASETS_LOCAL, DATASETS_VARIABLE, KEY_PREFIXES_LOCAL, Naming, datasetRef } from "./naming";
import { Processor, type ProcessorSizing } from "./processor";
import { RoutingTable } from "./routing-table";
import { Storage } from "./storage";
import { GlueTableLocations } from "./table-locations";
import { SynthError } from "./synth-error";

/** What synth needs of an Application (structural, so tests can pass a built model too). */
export interface FlowSource {
  toModel(): FlowModel;
  /** Folder that module references in the flow are relative to. */
  readonly root: string;
}

export interface S3BackendProps {
  readonly bucket: string;
  /** @default "sluice/<application>/<environment>.tfstate" */
  readonly key?: string;
  readonly region: string;
  /** DynamoDB table for state locking. */
  readonly dynamodbTable: string;
  readonly roleArn?: string;
}

export interface SluiceStackProps {
  readonly app: FlowSource;
  /** Environment to synthesize. @default the application's own account and region ("default") */
  readonly environment?: string;
  /** Role the AWS provider assumes in the target account. @default none (ambient credentials) */
  readonly assumeRoleArn?: string;
  /** S3 backend with DynamoDB locking. @default local state */
  readonly backend?: S3BackendProps;
  /**
   * Module mode: no provider configuration and no backend, so a root configuration passes its own
   * (provider aliases per account). @default false
   */
  readonly module?: boolean;
  /** Folder of the prebuilt runtime bundle. @default the package's dist/runtime-bundle */
  readonly bundleDir?: string;
  /** Router Lambda sizing. @default see ProcessorSizing */
  readonly processor?: ProcessorSizing;
  /** Let destroy remove a non-empty bucket and the table (dev environments). @default false */
  readonly disposable?: boolean;
}

export class SluiceStack extends TerraformStack {
  readonly model: FlowModel;
  readonly naming: Naming;
  readonly storage: Storage;
  readonly routingTable: RoutingTable;
  readonly roles: ExecutionRoles;
  readonly batchCompute: BatchCompute;
  readonly processor: Processor;
  readonly diagnostics: Diagnostics;
  /** Module mode: the caller's account and region as Terraform expressions. */
  private moduleLocation: { account: string; region: string } | undefined;

  constructor(scope: Construct, id: string, props: SluiceStackProps) {
    super(scope, id);
    this.model = props.app.toModel();
    const envName = props.environment ?? "default";
    const env = props.environment === undefined ? undefined : this.model.environments[props.environment];
    if (props.environment !== undefined && env === undefined) {
      const known = Object.keys(this.model.environments);
      throw new SynthError(
        `environment "${props.environment}" is not declared (declared: ${known.length ? known.join(", ") : "none"})`,
      );
    }
    let account = env?.account ?? this.model.application.account;
    let region = env?.region ?? this.model.application.region;
    let environment = envName;
    if (props.module) {
      // A module is the same in every account: what differs comes from the caller's provider and variables.
      const identity = new DataAwsCallerIdentity(this, "account");
      const where = new DataAwsRegion(this, "region");
      account = identity.accountId;
      region = where.region; // provider 6: `name` is deprecated
      // The same, as expressions written inside other expressions (the datasets local).
      this.moduleLocation = {
        account: `data.aws_caller_identity.${identity.friendlyUniqueId}.account_id`,
        region: `data.aws_region.${where.friendlyUniqueId}.region`,
      };
      // A module synthesized for a declared environment has no default, so that the modules of two
      // environments differ only where their bindings do; the caller names the environment.
      environment = new TerraformVariable(this, "environment", {
        type: "string",
        ...(props.environment === undefined ? { default: envName } : {}),
        description: "Environment name: tags, and the config the router gives user code",
      }).stringValue;
    }
    this.naming = new Naming(this.model, environment, account, region, envName, props.module ?? false);
    if (props.module) this.datasetsVariable();

    if (props.module) {
      // Satisfies cdktf's provider check; the module writer drops provider blocks (the caller passes its own).
      new AwsProvider(this, "aws", {});
    } else {
      new AwsProvider(this, "aws", {
        region,
        allowedAccountIds: [account],
        ...(props.assumeRoleArn ? { assumeRole: [{ roleArn: props.assumeRoleArn }] } : {}),
        defaultTags: [{ tags: this.naming.tags() }],
      });
      if (props.backend) {
        new S3Backend(this, {
          bucket: props.backend.bucket,
          key: props.backend.key ?? `sluice/${this.naming.app}/${envName}.tfstate`,
          region: props.backend.region,
          dynamodbTable: props.backend.dynamodbTable,
          encrypt: true,
          ...(props.backend.roleArn ? { assumeRole: { roleArn: props.backend.roleArn } } : {}),
        });
      }
    }

    const naming = this.naming;
    this.storage = new Storage(this, "storage", {
      naming,
      forceDestroy: props.disposable ?? false,
      bucketPolicyStatements: (arn) => downstreamBucketStatements(this.model, arn),
    });
    this.routingTable = new RoutingTable(this, "routing", {
      naming,
      key: this.storage.key,
      deletionProtection: !(props.disposable ?? false),
    });
    this.roles = new ExecutionRoles(this, "roles", { model: this.model, naming });
    const tables = new GlueTableLocations(this, "tables", { model: this.model, naming });
    this.batchCompute = new BatchCompute(this, "batch", {
      model: this.model,
      naming,
      storage: this.storage,
      roles: this.roles,
      tables,
      ...(props.bundleDir ? { bundleDir: props.bundleDir } : {}),
    });
    this.processor = new Processor(this, "processor", {
      model: this.model,
      naming,
      root: props.app.root,
      storage: this.storage,
      routingTable: this.routingTable,
      roles: this.roles,
      batchCompute: this.batchCompute,
      // A module takes the bindings from its `datasets` variable, never the environment's literals.
      datasets: props.module ? {} : (env?.datasets ?? {}),
      ...(props.bundleDir ? { bundleDir: props.bundleDir } : {}),
      ...(props.processor ? { sizing: props.processor } : {}),
    });
    this.diagnostics = new Diagnostics(this, "diagnostics", {
      model: this.model,
      naming,
      storage: this.storage,
      processor: this.processor,
      routingTable: this.routingTable,
    });
    const collaboration = new Collaboration(this, "collaboration", {
      model: this.model,
      naming,
      storage: this.storage,
      roles: this.roles,
    });
    this.roles.finalize();
    // The function must not start before its role may do anything (its first invocation would fail).
    this.processor.function.dependsOn = [...this.roles.policiesOf("router"), this.processor.bindings].map(
      (r) => dependable(r),
    );
    new TerraformOutput(this, "manifest", {
      value: collaboration.manifest.content,
      description: `The FlowModel published to ${MANIFEST_KEY} for downstream applications`,
    });

    const outputs: Record<string, string> = {
      bucket: this.storage.bucket.bucket,
      table: this.routingTable.table.name,
      queue: this.processor.internalQueue.url,
      dead_letter_queue: this.processor.deadLetterQueue.url,
      router_function: this.processor.function.functionName,
      topic: this.storage.topic.arn,
    };
    for (const [name, value] of Object.entries(outputs)) new TerraformOutput(this, name, { value });
  }

  /**
   * Module mode: the environment's dataset bindings are the caller's to say (variable `datasets`, the
   * flow's declaration by default), so the module is byte-identical in every environment.
   * `local.datasets` applies what the caller sets over the flow's declaration, field by field. A
   * dataset the flow declares in the application's own account and region follows the module: its
   * default account and region are the caller's provider's.
   */
  private datasetsVariable(): void {
    const app = this.model.application;
    // Per dataset: its fields, each a literal default or a Terraform expression (marked).
    const flow: Record<string, Record<string, string>> = {};
    const expressions: Record<string, Record<string, string>> = {};
    for (const id of Object.keys(this.model.nodes).sort()) {
      const node = this.model.nodes[id];
      if (node?.kind !== "s3Dataset" && node?.kind !== "glueTable") continue;
      const own = node.account === app.account && node.region === app.region;
      const where = { account: node.account, region: node.region };
      if (node.kind === "s3Dataset") {
        flow[id] = {
          bucket: node.bucket,
          prefix: node.prefix.replace(/^\/+|\/+$/g, ""),
          format: node.format,
          encryptionKey: node.encryptionKey ?? "",
          ...(own ? {} : where),
        };
      } else {
        flow[id] = { database: node.database, table: node.table, ...(own ? {} : where) };
      }
      if (own && this.moduleLocation) expressions[id] = this.moduleLocation;
    }
    if (Object.keys(flow).length === 0) {
      // No external dataset: no variable, but the router's bindings still read `local.datasets`.
      this.addOverride("locals", { [DATASETS_LOCAL]: {} });
      return;
    }
    const formats = SORTED_DATA_FORMATS;
    new TerraformVariable(this, DATASETS_VARIABLE, {
      type: `map(object({ ${BINDING_FIELDS.map((f) => `${variableField(f)} = optional(string)`).join(", ")} }))`,
      default: Object.fromEntries(
        Object.entries(flow).map(([id, fields]) => [
          id,
          Object.fromEntries(Object.entries(fields).map(([f, v]) => [variableField(f), v])),
        ]),
      ),
      description:
        "The environment's dataset bindings, by dataset id: bucket, prefix, format, encryption_key, account and region of an s3Dataset; database, table, account and region of a glueTable. Unset fields keep the flow's declaration (the default); a dataset of the application's own account and region defaults to the caller's.",
      validation: [
        {
          condition: `\${alltrue([for id, d in var.${DATASETS_VARIABLE} : d.format == null || contains(${JSON.stringify(formats)}, coalesce(d.format, "parquet"))])}`,
          errorMessage: `A dataset's format is one of ${formats.join(", ")}.`,
        },
        {
          condition: `\${alltrue([for id, d in var.${DATASETS_VARIABLE} : d.account == null || can(regex("^[0-9]{12}$", coalesce(d.account, "000000000000")))])}`,
          errorMessage: "A dataset's account is a 12-digit AWS account id.",
        },
      ],
    });
    const set = "local.dataset_bindings";
    const located: Record<string, Record<string, string>> = {};
    for (const id of Object.keys(flow)) {
      // A literal default is quoted; the caller's account and region are expressions already.
      const fields: Record<string, string> = Object.fromEntries(
        Object.entries(flow[id] ?? {}).map(([f, v]) => [f, JSON.stringify(v)]),
      );
      Object.assign(fields, expressions[id]);
      located[id] = Object.fromEntries(
        Object.entries(fields).map(([field, fallback]) => {
          const bound = `try(${set}[${JSON.stringify(id)}].${variableField(field)}, ${fallback})`;
          return [field, field === "prefix" ? `\${trim(${bound}, "/")}` : `\${${bound}}`];
        }),
      );
    }
    const keyPrefixes: Record<string, string> = {};
    for (const [id, fields] of Object.entries(flow)) {
      if (fields.prefix === undefined) continue;
      const prefix = datasetRef(id, "prefix");
      keyPrefixes[id] = `\${${prefix} == "" ? "" : "\${${prefix}}/"}`;
    }
    this.addOverride("locals", {
      dataset_bindings: `\${{ for id, d in var.${DATASETS_VARIABLE} : id => { for k, v in d : k => v if v != null } }}`,
      [DATASETS_LOCAL]: located,
      ...(Object.keys(keyPrefixes).length > 0 ? { [KEY_PREFIXES_LOCAL]: keyPrefixes } : {}),
    });
  }
}

/**
 * A binding field as the module's `datasets` variable spells it: Terraform's snake_case
 * (`encryptionKey` → `encryption_key`). `local.datasets` keeps the FlowModel's names for the router.
 */
export function variableField(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
