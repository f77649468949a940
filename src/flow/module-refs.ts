/**
 * Module references of a flow ("path/to/module.ts#export": inline compute, hooks, checkpoints,
 * custom mappers) resolved against the files: the module exists and exports the name. `sluice
 * validate` runs this besides `Application.validate()`, so a dangling reference fails at validate,
 * not at synth or at run time.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parseModuleRef } from "./code-ref";
import type { FlowIssue } from "./errors";
import type { FlowModel } from "./model/flow-model";
import { didYouMean } from "./suggest";

interface Ref {
  readonly path: string;
  readonly module: string;
  readonly export: string;
}

/** Every reference of the model that does not resolve, as located issues (code `code.unresolved`). */
export function checkModuleReferences(model: FlowModel, root: string): FlowIssue[] {
  const refs: Ref[] = [];
  for (const [id, node] of Object.entries(model.nodes)) collect(node, `nodes.${id}`, refs);
  const issues: FlowIssue[] = [];
  const exportsOf = new Map<string, ReadonlySet<string> | "any" | "missing">();
  for (const r of refs) {
    const file = isAbsolute(r.module) ? r.module : resolve(root, r.module);
    let known = exportsOf.get(file);
    if (known === undefined) {
      known = existsSync(file) ? exportedNames(readFileSync(file, "utf8")) : "missing";
      exportsOf.set(file, known);
    }
    const where = r.path.replace(/^nodes\.([^.]+)\.?/, (_, n: string) => `node "${n}", `).replace(/, $/, "");
    if (known === "missing") {
      issues.push({
        path: r.path,
        code: "code.unresolved",
        message: `${where}: module "${r.module}" does not exist (looked for ${file})`,
      });
    } else if (known !== "any" && !known.has(r.export)) {
      issues.push({
        path: r.path,
        code: "code.unresolved",
        message: `${where}: module "${r.module}" has no export "${r.export}"${didYouMean(r.export, [...known])}${
          known.size > 0 ? ` (exports: ${[...known].sort().join(", ")})` : ""
        }`,
      });
    }
  }
  return issues;
}

function collect(value: unknown, path: string, out: Ref[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => collect(v, `${path}.${i}`, out));
    return;
  }
  if (value === null || typeof value !== "object") return;
  const o = value as Record<string, unknown>;
  if (typeof o.module === "string" && typeof o.export === "string") {
    out.push({ path, module: o.module, export: o.export });
    return;
  }
  if (o.kind === "custom") {
    for (const key of ["ref", "inverse"] as const) {
      const ref = o[key];
      if (typeof ref !== "string") continue;
      const parsed = parseModuleRef(ref);
      if (!("error" in parsed)) out.push({ path: `${path}.${key}`, ...parsed });
    }
    return;
  }
  for (const [k, v] of Object.entries(o)) collect(v, `${path}.${k}`, out);
}

/** The names a module's source exports, or "any" when it re-exports or assigns exports dynamically. */
export function exportedNames(source: string): ReadonlySet<string> | "any" {
  if (/export\s*\*\s*from|module\.exports\s*=|exports\[/.test(source)) return "any";
  const names = new Set<string>();
  const patterns = [
    /export\s+(?:declare\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/g,
    /export\s+(?:declare\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/g,
    /export\s+(?:declare\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)/g,
    /(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=/g,
  ];
  for (const p of patterns) for (const m of source.matchAll(p)) names.add(m[1] as string);
  for (const m of source.matchAll(/export\s*(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of (m[1] as string).split(",")) {
      const name = part
        .trim()
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (name) names.add(name);
    }
  }
  if (/export\s+default\b/.test(source)) names.add("default");
  // `export const { a, b } = …` and similar destructuring: give up rather than report false errors.
  if (/export\s+(?:const|let|var)\s*[{[]/.test(source)) return "any";
  return names;
}
