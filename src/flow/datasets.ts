/**
 * External datasets: S3 prefixes laid out in partitions, and Glue catalog tables.
 */
import { accountError, bucketError, kmsKeyError, regionError } from "./aws-names";
import type { BuildContext } from "./build-context";
import type { DimensionSpec } from "./dim";
import type { Location } from "./errors";
import type {
  DataFormat,
  GlueTableNodeModel,
  JsonValue,
  S3DatasetNodeModel,
  SignalModel,
} from "./model/flow-model";
import { Node } from "./node";
import { buildDimensions, buildFilter, type FilterInput } from "./signal-spec";

import { DATA_FORMATS } from "./model/flow-model";

export { DATA_FORMATS };

interface ExternalLocationProps {
  /** Account that owns the data. @default the application's account */
  readonly account?: string;
  /** @default the application's region */
  readonly region?: string;
  /** Ordered dimensions of the partitions. */
  readonly dimensions?: DimensionSpec;
  /** Allowed values per dimension. @default every value */
  readonly filter?: FilterInput;
  readonly metadata?: Readonly<Record<string, JsonValue>>;
}

export interface S3DatasetProps extends ExternalLocationProps {
  readonly bucket: string;
  /** Key prefix of the dataset, without leading or trailing slash. @default "" */
  readonly prefix?: string;
  /** One template per dimension, `{}` replaced by the value. @default hive style: "<dimension>={}" */
  readonly partitions?: readonly string[];
  /** @default "parquet" */
  readonly format?: DataFormat;
  /** File that marks a partition complete; null triggers on every object. @default "_SUCCESS" */
  readonly completion?: string | null;
  /** KMS key (id, alias or ARN) the objects are encrypted with. @default none (SSE-S3) */
  readonly encryptionKey?: string;
}

export class S3Dataset extends Node<S3DatasetProps> {
  readonly kind = "s3Dataset" as const;

  buildSignal(ctx: BuildContext): SignalModel {
    const loc = { node: this.id };
    const dimensions = buildDimensions(this.props.dimensions ?? {}, loc, ctx.issues);
    return { kind: "s3", dimensions, filter: buildFilter(dimensions, this.props.filter, loc, ctx.issues) };
  }

  buildModel(ctx: BuildContext, signal: SignalModel): S3DatasetNodeModel {
    const p = this.props;
    const loc = { node: this.id };
    const account = p.account ?? ctx.app.account;
    const region = p.region ?? ctx.app.region;
    reportLocation(ctx, loc, account, region);
    report(ctx, loc, "dataset.bucket", bucketError(p.bucket));
    report(ctx, loc, "dataset.encryption-key", kmsKeyError(p.encryptionKey));
    const prefix = p.prefix ?? "";
    if (prefix.startsWith("/") || prefix.endsWith("/")) {
      ctx.issues.add(loc, "dataset.prefix", `prefix "${prefix}" must not start or end with "/"`);
    }
    const partitions = p.partitions ?? signal.dimensions.map((d) => `${d.name}={}`);
    if (partitions.length !== signal.dimensions.length) {
      ctx.issues.add(
        loc,
        "dataset.partitions",
        `${partitions.length} partition template(s) for ${signal.dimensions.length} dimension(s); give one per dimension`,
      );
    }
    partitions.forEach((t, i) => {
      if (t.split("{}").length !== 2 || t.includes("/")) {
        ctx.issues.add(
          loc,
          "dataset.partitions",
          `partition template ${i + 1} "${t}" must contain exactly one "{}" and no "/"`,
        );
      }
    });
    const format = p.format ?? "parquet";
    reportFormat(ctx, loc, format);
    const completion = p.completion === undefined ? "_SUCCESS" : p.completion;
    if (completion !== null && (completion === "" || completion.includes("/"))) {
      ctx.issues.add(loc, "dataset.completion", `completion "${completion}" must be a file name`);
    }
    return {
      id: this.id,
      kind: "s3Dataset",
      signal,
      metadata: p.metadata ?? {},
      account,
      region,
      bucket: p.bucket,
      prefix,
      partitions,
      format,
      completion,
      ...(p.encryptionKey === undefined ? {} : { encryptionKey: p.encryptionKey }),
    };
  }
}

export interface GlueTableProps extends ExternalLocationProps {
  readonly database: string;
  readonly table: string;
}

export class GlueTable extends Node<GlueTableProps> {
  readonly kind = "glueTable" as const;

  buildSignal(ctx: BuildContext): SignalModel {
    const loc = { node: this.id };
    const dimensions = buildDimensions(this.props.dimensions ?? {}, loc, ctx.issues);
    return {
      kind: "glueTable",
      dimensions,
      filter: buildFilter(dimensions, this.props.filter, loc, ctx.issues),
    };
  }

  buildModel(ctx: BuildContext, signal: SignalModel): GlueTableNodeModel {
    const p = this.props;
    const loc = { node: this.id };
    const account = p.account ?? ctx.app.account;
    const region = p.region ?? ctx.app.region;
    reportLocation(ctx, loc, account, region);
    for (const [field, value] of [
      ["database", p.database],
      ["table", p.table],
    ] as const) {
      if (!value || !/^[a-z0-9_]{1,255}$/.test(value)) {
        ctx.issues.add(
          loc,
          `glue.${field}`,
          `${field} "${value ?? ""}" must be lowercase letters, digits and _ (Glue catalog names)`,
        );
      }
    }
    return {
      id: this.id,
      kind: "glueTable",
      signal,
      metadata: p.metadata ?? {},
      account,
      region,
      database: p.database,
      table: p.table,
    };
  }
}

export function reportLocation(ctx: BuildContext, loc: Location, account: string, region: string): void {
  report(ctx, loc, "aws.account", accountError(account));
  report(ctx, loc, "aws.region", regionError(region));
}

export function reportFormat(ctx: BuildContext, loc: Location, format: string): void {
  if (!(DATA_FORMATS as readonly string[]).includes(format)) {
    ctx.issues.add(loc, "dataset.format", `format "${format}" is not one of ${DATA_FORMATS.join(", ")}`);
  }
}

function report(ctx: BuildContext, loc: Location, code: string, error: string | undefined): void {
  if (error !== undefined) ctx.issues.add(loc, code, error);
}
