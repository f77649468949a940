/**
 * Runs prestoSql targets on Athena. Athena runs one statement, so the inputs become common table
 * expressions named by their aliases, each reading its Glue table narrowed to the input's partitions,
 * and the query's result is UNLOADed to the output partition:
 *
 *   UNLOAD (
 *   WITH "events" AS (SELECT * FROM "app_sluice"."events" WHERE "region" = 'NA' AND "day" IN ('…', '…')),
 *   "customers" AS (SELECT * FROM "crm"."customers" WHERE "region_id" = 1)
 *   <the target's query>
 *   ) TO 's3://…/internal_data/joined/NA/2024-05-07/' WITH (format = 'PARQUET')
 *
 * Tables: synth registers one Glue table per s3Dataset, data node and imported upstream data node
 * (over the upstream's bucket), named by the node's local id, in the application's database; a
 * glueTable input reads its own database and table. Partition columns are
 * named by the dimensions; a LONG dimension compares as a number, STRING and DATETIME dimensions as
 * strings (the DATETIME in its declared format), so synth declares them bigint and string.
 *
 * start → StartQueryExecution (handle = QueryExecutionId); poll → GetQueryExecution; kill → StopQueryExecution.
 */
import {
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type QueryExecution,
} from "@aws-sdk/client-athena";
import { coerceDimensionValue, renderDimensionValue } from "../../../flow/model/dimension-value";
import type {
  DataFormat,
  DimensionModel,
  DimensionValue,
  FlowModel,
  InputModel,
  NodeModel,
} from "../../../flow/model/flow-model";
import { boundedName, resourceNames } from "../../../flow/model/resource-names";
import type { DispatchInput, DispatchRequest, DispatchResult, Dispatcher } from "../../core/dispatcher";
import { expandRange } from "../../core/materialize";
import { WILDCARD } from "../../core/partition-layout";
import {
  chainToken,
  failed,
  isCapacityMessage,
  MAX_TOKEN_CHAIN,
  pollFailure,
  sdkFailure,
  startThroughTokenChain,
  targetLabel,
} from "./errors";

export interface AthenaDispatcherProps {
  readonly client: AthenaClient;
  readonly appName: string;
  /** Every node of the flow (with the environment's dataset bindings applied), to find input tables. */
  readonly nodes: FlowModel["nodes"];
  /** Database of the application's own tables. @default resourceNames.glueDatabase(appName) */
  readonly database?: string;
  /** @default resourceNames.athenaWorkgroup(appName) */
  readonly workgroup?: string;
  /** Clock of the start call, to recognise runs of earlier calls. @default Date.now */
  readonly now?: () => number;
}

/** Athena's ClientRequestToken is 32 to 128 characters long. */
const TOKEN_MIN = 32;
const TOKEN_MAX = 128;

/** Athena ErrorCategory 1: a system error, not the query's fault. */
const ATHENA_SYSTEM_ERROR = 1;

export class AthenaDispatcher implements Dispatcher {
  constructor(private readonly props: AthenaDispatcherProps) {}

  get database(): string {
    return this.props.database ?? resourceNames.glueDatabase(this.props.appName);
  }

  get workgroup(): string {
    return this.props.workgroup ?? resourceNames.athenaWorkgroup(this.props.appName);
  }

  async start(request: DispatchRequest): Promise<DispatchResult> {
    const label = targetLabel(request);
    let sql: string;
    try {
      sql = athenaQuery(request, this.props.nodes, this.database);
    } catch (e) {
      return failed(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const base = `${request.executionId}-${request.targetIndex}-${request.attempt}`;
    let id: string | undefined;
    try {
      id = await startThroughTokenChain(
        (k) => athenaToken(chainToken(base, k)),
        {
          start: async (token) => {
            const out = await this.props.client.send(
              new StartQueryExecutionCommand({
                QueryString: sql,
                WorkGroup: this.workgroup,
                QueryExecutionContext: { Database: this.database },
                ClientRequestToken: token,
              }),
            );
            if (out.QueryExecutionId === undefined || out.QueryExecutionId === "") {
              throw Object.assign(new Error("StartQueryExecution returned no QueryExecutionId"), {
                name: "InternalServerException",
              });
            }
            return out.QueryExecutionId;
          },
          describe: async (qid) => {
            const q = (await this.props.client.send(new GetQueryExecutionCommand({ QueryExecutionId: qid })))
              .QueryExecution;
            const state = q?.Status?.State;
            return {
              failed: state === "FAILED" || state === "CANCELLED",
              submittedAt: q?.Status?.SubmissionDateTime?.getTime(),
            };
          },
        },
        this.props.now,
      );
    } catch (e) {
      return sdkFailure(request, "Athena StartQueryExecution", e);
    }
    if (id === undefined) {
      return failed(
        `${label}: ${MAX_TOKEN_CHAIN} Athena queries of attempt ${request.attempt} failed transiently; giving up on this attempt`,
      );
    }
    return { status: "RUNNING", handle: id };
  }

  async poll(handle: string, request: DispatchRequest): Promise<DispatchResult> {
    let q: QueryExecution | undefined;
    try {
      q = (await this.props.client.send(new GetQueryExecutionCommand({ QueryExecutionId: handle })))
        .QueryExecution;
    } catch (e) {
      return pollFailure(request, handle, "Athena GetQueryExecution", e);
    }
    const state = q?.Status?.State ?? "";
    if (state === "QUEUED" || state === "RUNNING") return { status: "RUNNING", handle };
    if (state === "SUCCEEDED") return { status: "SUCCEEDED" };
    const reason = q?.Status?.StateChangeReason ?? q?.Status?.AthenaError?.ErrorMessage ?? "";
    const athenaError = q?.Status?.AthenaError;
    const transient =
      athenaError?.Retryable === true ||
      athenaError?.ErrorCategory === ATHENA_SYSTEM_ERROR ||
      isCapacityMessage(reason);
    return failed(
      `${targetLabel(request)}: Athena query ${handle} ended ${state || "in an unknown state"}${
        reason === "" ? "" : `: ${reason}`
      }`,
      transient,
    );
  }

  async kill(handle: string): Promise<void> {
    // Stopping a query that has already ended is not an error.
    await this.props.client.send(new StopQueryExecutionCommand({ QueryExecutionId: handle }));
  }
}

/** A ClientRequestToken from `text`: padded to 32 characters, or cut to 128 with a hash of the whole. */
export function athenaToken(text: string): string {
  if (text.length < TOKEN_MIN) return `${text}-${"0".repeat(TOKEN_MIN - text.length - 1)}`;
  return boundedName([text], TOKEN_MAX);
}

// ---------------------------------------------------------------- the statement

/** A request that cannot become an Athena statement; the message goes to the execution record. */
export class AthenaQueryError extends Error {
  override readonly name = "AthenaQueryError";
}

/** The UNLOAD statement of a prestoSql request. Throws AthenaQueryError. */
export function athenaQuery(request: DispatchRequest, nodes: FlowModel["nodes"], database: string): string {
  const { target, output } = request;
  if (target.kind !== "prestoSql") {
    throw new AthenaQueryError(`a ${target.kind} target cannot run on Athena: only prestoSql targets do`);
  }
  const body = singleQuery(target.code ?? "");
  if (!/^s3:\/\/[^/]+/.test(output.path)) {
    throw new AthenaQueryError(`output ${output.path} is not an s3:// URI`);
  }
  const ctes: string[] = [];
  for (const [alias, input] of Object.entries(request.inputs)) {
    if (input.paths.length === 0) continue;
    const source = nodes[input.node];
    if (source === undefined)
      throw new AthenaQueryError(`input "${alias}": node "${input.node}" is not in the flow`);
    const model = request.node.inputs.find((i) => i.alias === alias);
    const where = partitionPredicates(alias, input, source, model).join(" AND ");
    ctes.push(
      `${quoteIdent(alias)} AS (SELECT * FROM ${tableOf(alias, source, database)}${where === "" ? "" : ` WHERE ${where}`})`,
    );
  }
  let query = body.text;
  if (ctes.length > 0) {
    const list = ctes.join(",\n");
    query = body.with
      ? `WITH ${body.recursive ? "RECURSIVE " : ""}${list},\n${body.afterWith}`
      : `WITH ${list}\n${body.text}`;
  }
  const destination = `${output.path.replace(/\/+$/, "")}/`;
  return `UNLOAD (\n${query}\n) TO ${quoteLiteral(destination)} WITH (${unloadFormat(output.format)})`;
}

/** `format = …` options of UNLOAD for an output format. */
function unloadFormat(format: DataFormat): string {
  switch (format) {
    case "parquet":
      return "format = 'PARQUET'";
    case "orc":
      return "format = 'ORC'";
    case "avro":
      return "format = 'AVRO'";
    case "json":
      return "format = 'JSON'";
    case "csv":
      return "format = 'TEXTFILE', field_delimiter = ','";
    case "text":
      return "format = 'TEXTFILE'";
    default:
      throw new AthenaQueryError(`unknown output format ${String(format)}`);
  }
}

function tableOf(alias: string, source: NodeModel, database: string): string {
  switch (source.kind) {
    case "s3Dataset":
    case "data":
    case "upstreamData":
      return `${quoteIdent(database)}.${quoteIdent(source.id)}`;
    case "glueTable":
      return `${quoteIdent(source.database)}.${quoteIdent(source.table)}`;
    default:
      throw new AthenaQueryError(
        `input "${alias}": node "${source.id}" is a ${source.kind} and has no table`,
      );
  }
}

interface SegmentTemplate {
  readonly prefix: string;
  readonly suffix: string;
}

/** How dimension `i` of a node appears in a partition path segment (see partition-layout). */
function segmentTemplate(source: NodeModel, i: number): SegmentTemplate {
  if (source.kind === "s3Dataset") {
    const [prefix = "", suffix = ""] = (source.partitions[i] ?? "{}").split("{}");
    return { prefix, suffix };
  }
  if (source.kind === "glueTable")
    return { prefix: `${source.signal.dimensions[i]?.name ?? ""}=`, suffix: "" };
  // data and upstreamData: the bare values.
  return { prefix: "", suffix: "" };
}

/**
 * The WHERE terms of one input: per dimension, the tip value (or, for a range, the values of the
 * range around the tip, recomputed from the node's input model); nothing for a dimension read whole.
 * The values are checked against the partition paths the router listed; where they differ (a
 * reference narrowed to several values by its filter or by a many-valued link, whose tip is only the
 * first of them) the values are read back from the paths themselves.
 */
function partitionPredicates(
  alias: string,
  input: DispatchInput,
  source: NodeModel,
  model: InputModel | undefined,
): string[] {
  const specs = source.signal.dimensions;
  if (specs.length === 0) return [];
  const listed: string[][] = specs.map(() => []);
  for (const path of input.paths) {
    const segments = path.replace(/\/+$/, "").split("/");
    if (segments.length <= specs.length) {
      throw new AthenaQueryError(`input "${alias}": path ${path} has fewer segments than dimensions`);
    }
    segments.slice(segments.length - specs.length).forEach((s, i) => {
      if (!listed[i]?.includes(s)) listed[i]?.push(s);
    });
  }
  const terms: string[] = [];
  specs.forEach((spec, i) => {
    const template = segmentTemplate(source, i);
    const render = (v: DimensionValue): string =>
      template.prefix + renderDimensionValue(spec, v) + template.suffix;
    const wildcard = template.prefix + WILDCARD + template.suffix;
    const seen = listed[i] ?? [];
    const tip = input.dimensions[spec.name];
    let values: DimensionValue[] | undefined;
    if (tip !== undefined && tip !== WILDCARD) {
      const range = model?.ranges[spec.name];
      try {
        values = range === undefined ? [tip] : expandRange(spec, tip, range.from, range.to);
      } catch (e) {
        throw new AthenaQueryError(
          `input "${alias}", dimension "${spec.name}": ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const matches =
      values === undefined ? seen.length === 1 && seen[0] === wildcard : sameSet(values.map(render), seen);
    if (!matches) values = valuesOfSegments(alias, spec, template, wildcard, seen);
    if (values !== undefined) terms.push(predicate(spec, values));
  });
  return terms;
}

/** Values read back from path segments; undefined when the dimension is read whole. */
function valuesOfSegments(
  alias: string,
  spec: DimensionModel,
  template: SegmentTemplate,
  wildcard: string,
  segments: readonly string[],
): DimensionValue[] | undefined {
  if (segments.includes(wildcard)) {
    if (segments.length === 1) return undefined;
    throw new AthenaQueryError(`input "${alias}", dimension "${spec.name}": paths mix "*" with values`);
  }
  return segments.map((s) => {
    const text =
      s.startsWith(template.prefix) &&
      s.endsWith(template.suffix) &&
      s.length >= template.prefix.length + template.suffix.length
        ? s.slice(template.prefix.length, s.length - template.suffix.length)
        : undefined;
    const c = text === undefined ? undefined : coerceDimensionValue(spec, text);
    if (c === undefined || c.error !== undefined) {
      throw new AthenaQueryError(
        `input "${alias}", dimension "${spec.name}": cannot read a value from path segment ${JSON.stringify(s)}`,
      );
    }
    return c.value;
  });
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

function predicate(spec: DimensionModel, values: readonly DimensionValue[]): string {
  const column = quoteIdent(spec.name);
  const literals = [...new Set(values.map((v) => literalOf(spec, v)))];
  return literals.length === 1 ? `${column} = ${literals[0]}` : `${column} IN (${literals.join(", ")})`;
}

function literalOf(spec: DimensionModel, value: DimensionValue): string {
  if (spec.type === "LONG") {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) {
      throw new AthenaQueryError(`dimension "${spec.name}": ${JSON.stringify(value)} is not an integer`);
    }
    return String(n);
  }
  return quoteLiteral(String(value));
}

/** A double-quoted identifier ("" inside). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single-quoted string literal ('' inside). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------- the target's query

interface QueryBody {
  /** The query without leading/trailing comments, whitespace and semicolons. */
  readonly text: string;
  /** True when the query starts with its own WITH clause. */
  readonly with: boolean;
  readonly recursive: boolean;
  /** With `with`: the text after `WITH [RECURSIVE]` (its first common table expression onwards). */
  readonly afterWith: string;
}

/**
 * The target's SQL as one query: without what trails its last token (a `--` comment there would
 * swallow UNLOAD's closing parenthesis), rejecting several statements and unterminated quotes or comments.
 */
function singleQuery(sql: string): QueryBody {
  const code = blankSql(sql);
  const start = code.search(/\S/);
  const end = code.replace(/[\s;]+$/, "").length;
  if (start < 0 || start >= end) throw new AthenaQueryError("the prestoSql target has no SQL code");
  if (code.slice(start, end).includes(";")) {
    throw new AthenaQueryError("the SQL must be a single query (it contains several statements)");
  }
  const text = sql.slice(start, end);
  const m = /^with\b\s*(recursive\b\s*)?/i.exec(code.slice(start, end));
  if (m === null) return { text, with: false, recursive: false, afterWith: "" };
  return { text, with: true, recursive: m[1] !== undefined, afterWith: text.slice(m[0].length) };
}

/**
 * `sql` of the same length with comments and the contents of string literals and quoted identifiers
 * blanked (quotes kept, newlines kept), so that keywords and semicolons can be found by position.
 * Trino rules: '…' and "…" with doubled quotes inside, -- line comments, non-nested block comments.
 */
function blankSql(sql: string): string {
  const out = sql.split("");
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      const stop = nl < 0 ? sql.length : nl;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      if (close < 0) throw new AthenaQueryError("the SQL has an unterminated /* comment");
      blank(i, close + 2);
      i = close + 2;
    } else if (c === "'" || c === '"') {
      let k = i + 1;
      for (;;) {
        if (k >= sql.length) {
          throw new AthenaQueryError(
            `the SQL has an unterminated ${c === "'" ? "string literal" : "quoted identifier"}`,
          );
        }
        if (sql[k] === c) {
          if (sql[k + 1] === c) {
            k += 2;
            continue;
          }
          break;
        }
        k++;
      }
      blank(i + 1, k);
      i = k + 1;
    } else i++;
  }
  return out.join("");
}
