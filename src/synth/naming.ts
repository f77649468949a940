/**
 * Names and tags of everything a SluiceStack creates: deterministic (same flow, same names), within
 * AWS limits, tagged with application, environment and (where it belongs to one) node.
 */
import type {
  DatasetBindingModel,
  FlowModel,
  GlueTableNodeModel,
  S3DatasetNodeModel,
} from "../flow/model/flow-model";
import { createHash } from "node:crypto";
import {
  boundedName,
  resourceNames,
  STORAGE_BUCKET_HEAD,
  STORAGE_BUCKET_MAX,
} from "../flow/model/resource-names";
import { Fn, Op, Token } from "./cdktf";

export class Naming {
  readonly app: string;

  constructor(
    readonly model: FlowModel,
    /** Environment name; "default" for the application's own account. May be a token (module variable). */
    readonly environment: string,
    readonly account: string,
    readonly region: string,
    /**
     * The synthesized environment as declared (never a token): the key of `model.environments` whose
     * dataset bindings and compute sizing synth applies. @default environment
     */
    readonly environmentName: string = environment,
    /**
     * Module mode: external dataset locations (bucket, prefix, database, table) are read from the
     * module's `datasets` variable (through `local.datasets`), so the module is the same in every
     * environment and the caller passes the bindings. @default false (the environment's bindings as literals)
     */
    readonly datasetsFromVariable: boolean = false,
  ) {
    this.app = model.application.name;
  }

  /**
   * The storage bucket: a global namespace, so account and region are part of it (63 chars). In a
   * module they are known only at plan time (tokens), so Terraform computes the same name as
   * `resourceNames.storageBucket` (a too-long name is cut and ends in a SHA-1 digest of the whole).
   */
  get bucket(): string {
    if (Token.isUnresolved(this.account) || Token.isUnresolved(this.region)) {
      const full = Fn.join("-", [this.app, this.account, this.region]);
      return Token.asString(
        Fn.conditional(
          Op.lte(Fn.lengthOf(full), STORAGE_BUCKET_MAX),
          full,
          Fn.join("-", [Fn.substr(full, 0, STORAGE_BUCKET_HEAD), Fn.substr(Fn.sha1(full), 0, 8)]),
        ),
      );
    }
    return resourceNames.storageBucket(this.app, this.account, this.region);
  }

  get names(): typeof resourceNames {
    return resourceNames;
  }

  /**
   * A name in an account-wide namespace (IAM roles, instance profiles, managed policies):
   * `<app>-<what>-<6 hex>`, the digits the SHA-1 of `<region>/<environment>`, so that two regions or
   * two environments of one application in one account never share it. Within `max` characters.
   */
  accountWideName(what: string, max: number): string {
    const head = boundedName([this.app, what], max - 7);
    if (Token.isUnresolved(this.region) || Token.isUnresolved(this.environment)) {
      return Token.asString(
        Fn.join("-", [head, Fn.substr(Fn.sha1(Fn.join("/", [this.region, this.environment])), 0, 6)]),
      );
    }
    return `${head}-${createHash("sha1").update(`${this.region}/${this.environment}`).digest("hex").slice(0, 6)}`;
  }

  /** `<app>-<what>` within `max` characters. */
  name(what: string, max = 64): string {
    return boundedName([this.app, what], max);
  }

  /** The environment's binding of an external dataset (none in module mode: the caller passes them). */
  binding(id: string): DatasetBindingModel | undefined {
    return this.model.environments[this.environmentName]?.datasets?.[id];
  }

  /** Where an s3Dataset is: the environment's binding over the flow's declaration, or module expressions. */
  s3Location(node: S3DatasetNodeModel): S3DatasetLocation {
    if (this.datasetsFromVariable) {
      return {
        ...this.boundWhere(node.id),
        bucket: `\${${datasetRef(node.id, "bucket")}}`,
        prefix: `\${${datasetRef(node.id, "prefix")}}`,
        keyPrefix: `\${${datasetRef(node.id, undefined, KEY_PREFIXES_LOCAL)}}`,
      };
    }
    const b = this.binding(node.id);
    const prefix = trimSlashes(b?.prefix ?? node.prefix);
    return {
      bucket: b?.bucket ?? node.bucket,
      prefix,
      keyPrefix: prefix === "" ? "" : `${prefix}/`,
      account: b?.account ?? node.account,
      region: b?.region ?? node.region,
    };
  }

  /** Where a glueTable is: the environment's binding over the flow's declaration, or module expressions. */
  glueTableLocation(node: GlueTableNodeModel): GlueTableLocation {
    if (this.datasetsFromVariable) {
      const database = datasetRef(node.id, "database");
      const table = datasetRef(node.id, "table");
      return {
        ...this.boundWhere(node.id),
        database: `\${${database}}`,
        table: `\${${table}}`,
        lowerDatabase: `\${lower(${database})}`,
        lowerTable: `\${lower(${table})}`,
      };
    }
    const b = this.binding(node.id);
    const database = b?.database ?? node.database;
    const table = b?.table ?? node.table;
    return {
      database,
      table,
      lowerDatabase: database.toLowerCase(),
      lowerTable: table.toLowerCase(),
      account: b?.account ?? node.account,
      region: b?.region ?? node.region,
    };
  }

  /** Module mode: the account and region a dataset is bound to (`local.datasets`). */
  private boundWhere(id: string): { account: string; region: string } {
    return { account: `\${${datasetRef(id, "account")}}`, region: `\${${datasetRef(id, "region")}}` };
  }

  /** Tags for a resource; `node` when it serves one node of the flow. */
  tags(node?: string): Record<string, string> {
    return {
      "sluice:application": this.app,
      "sluice:environment": this.environment,
      ...(node === undefined ? {} : { "sluice:node": node }),
    };
  }
}

/** Where an external dataset is, as synth writes it: literals, or module expressions. */
export interface S3DatasetLocation {
  readonly bucket: string;
  /** Without leading or trailing slashes; "" for the whole bucket. */
  readonly prefix: string;
  /** `<prefix>/`, or "" for the whole bucket. */
  readonly keyPrefix: string; /** The account and region that own the data. */
  readonly account: string;
  readonly region: string;
}

export interface GlueTableLocation {
  readonly database: string;
  readonly table: string;
  /** As the Glue catalog spells them in its events (lower case). */
  readonly lowerDatabase: string;
  readonly lowerTable: string;
  /** The account and region of the catalog. */
  readonly account: string;
  readonly region: string;
}

/** The module variable of dataset locations and the locals that apply it over the flow's declaration. */
export const DATASETS_VARIABLE = "datasets";
export const DATASETS_LOCAL = "datasets";
/** `<prefix>/`, or "" for a whole bucket, by s3Dataset id. */
export const KEY_PREFIXES_LOCAL = "dataset_key_prefixes";

/**
 * `local.<local>.<id>[.field]`: no quotes, so that it stays valid inside JSON-encoded attributes (event
 * patterns, policies), where quotes are escaped.
 */
export function datasetRef(id: string, field?: string, local: string = DATASETS_LOCAL): string {
  const key = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(id) ? `.${id}` : `[${JSON.stringify(id)}]`;
  return `local.${local}${key}${field === undefined ? "" : `.${field}`}`;
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, "");
}
