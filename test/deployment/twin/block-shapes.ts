/**
 * The AWS provider renders a nested block as a list (`environment = [{ variables = ... }]`) however
 * it is written (cdktf writes a single block as an object), and a `terraform_data` input keeps what
 * was written. The block structure of each resource type comes from the generated bindings of
 * @cdktf/provider-aws (each attribute's `isBlock` and `type` in `synthesizeHclAttributes`), so the
 * rendered values can be given the provider's shape without its schema.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The nested blocks of a resource type: by attribute, whether it is a list (or set) and its blocks. */
export interface BlockShape {
  readonly [attribute: string]: { readonly list: boolean; readonly blocks: BlockShape };
}

const cache = new Map<string, BlockShape | undefined>();

/** The block structure of an AWS resource (or data source) type; undefined when it is unknown. */
export function blockShape(type: string, mode: "managed" | "data" = "managed"): BlockShape | undefined {
  const key = `${mode}:${type}`;
  if (!cache.has(key)) cache.set(key, readShape(type, mode));
  return cache.get(key);
}

/** Values with their nested blocks in the provider's shape: list and set blocks as lists. */
export function toProviderShape(
  values: Record<string, unknown>,
  shape: BlockShape | undefined,
): Record<string, unknown> {
  if (!shape) return values;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const block = shape[key];
    if (!block || value === null || value === undefined) {
      out[key] = value;
      continue;
    }
    const shapeOne = (v: unknown): unknown =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? toProviderShape(v as Record<string, unknown>, block.blocks)
        : v;
    if (block.list) out[key] = (Array.isArray(value) ? value : [value]).map(shapeOne);
    else out[key] = shapeOne(Array.isArray(value) && value.length === 1 ? value[0] : value);
  }
  return out;
}

function bindingsDir(): string | undefined {
  try {
    return dirname(require.resolve("@cdktf/provider-aws", { paths: [__dirname, process.cwd()] }));
  } catch {
    return undefined;
  }
}

function readShape(type: string, mode: "managed" | "data"): BlockShape | undefined {
  const lib = bindingsDir();
  if (!lib || !type.startsWith("aws_")) return undefined;
  const dir = `${mode === "data" ? "data-aws-" : ""}${type.slice("aws_".length).replace(/_/g, "-")}`;
  const file = join(lib, dir, "index.js");
  if (!existsSync(file)) return undefined;
  const source = readFileSync(file, "utf8");
  const base = mode === "data" ? "TerraformDataSource" : "TerraformResource";
  const cls = source.search(new RegExp(`^class \\w+ extends cdktf\\.${base} \\{`, "m"));
  const start = cls < 0 ? -1 : source.indexOf("    synthesizeHclAttributes() {", cls);
  if (start < 0) return undefined;
  return shapeOf(source, source.slice(start, source.indexOf("\n    }\n", start)), 0);
}

const BLOCK = /^\s+(\w+): \{\n\s+value: (.*),\n\s+isBlock: true,\n\s+type: "(\w+)",/gm;

function shapeOf(source: string, body: string, depth: number): BlockShape {
  const shape: Record<string, { list: boolean; blocks: BlockShape }> = {};
  for (const m of body.matchAll(BLOCK)) {
    const [, attribute, value, kind] = m as unknown as [string, string, string, string];
    const fn = /(?<!cdktf\.)\b(\w+ToHclTerraform)\b/.exec(value)?.[1];
    let blocks: BlockShape = {};
    if (fn && depth < 8) {
      const at = source.indexOf(`\nfunction ${fn}(struct) {`);
      if (at >= 0) blocks = shapeOf(source, source.slice(at, source.indexOf("\n}\n", at)), depth + 1);
    }
    shape[attribute] = { list: kind === "list" || kind === "set", blocks };
  }
  return shape;
}
