/**
 * The user-code bundle: every module reference a flow makes (inline compute handlers, hook and
 * checkpoint handlers, custom mappers and their inverses) bundled by esbuild into one CommonJS file
 * that the router Lambda loads beside its handler. It exports `refs`, keyed exactly as the router
 * looks them up: `"<module as written in the flow>#<export>"`.
 *
 * A bare function (possible with LocalRuntime) cannot leave the process that declared it, so synth
 * refuses it with an error naming the node and the place it is used.
 */
import { buildSync, type BuildFailure, type Message } from "esbuild";
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { CodeRefModel, FlowModel, MapperModel } from "../flow/model/flow-model";
import { HOOK_NAMES } from "../flow/model/flow-model";
import { SynthError } from "./synth-error";

/** One module reference of the flow, with every place that uses it. */
export interface UserCodeRef {
  /** `"<module>#<export>"`, the key of the bundle's `refs`. */
  readonly key: string;
  /** Module as written in the flow (relative to the application root, or absolute). */
  readonly module: string;
  readonly export: string;
  /** Where the flow uses it: `node "x" compute 1`, `node "x" hook onFailure`, … */
  readonly usedBy: readonly string[];
}

export interface UserCodeBundle {
  /** The bundle: CommonJS for Node 22, minified. */
  readonly code: string;
  /** The references it exports, sorted by key. */
  readonly refs: readonly UserCodeRef[];
}

interface Use {
  readonly ref: CodeRefModel;
  readonly where: string;
}

/** Every code reference of the model with its place, in a stable order (nodes by id). */
function uses(model: FlowModel): Use[] {
  const out: Use[] = [];
  const custom = (m: MapperModel, where: string): void => {
    if (m.kind !== "custom") return;
    out.push({ ref: splitRef(m.ref), where: `${where} (custom mapper)` });
    if (m.inverse !== undefined)
      out.push({ ref: splitRef(m.inverse), where: `${where} (custom mapper inverse)` });
  };
  for (const id of Object.keys(model.nodes).sort()) {
    const node = model.nodes[id];
    if (node.kind !== "data") continue;
    const at = `node "${id}"`;
    node.compute.forEach((t, i) => {
      if (t.handler !== undefined) out.push({ ref: t.handler, where: `${at} compute ${i + 1} (${t.kind})` });
    });
    for (const hook of HOOK_NAMES) {
      const ref = node.hooks.handlers[hook];
      if (ref !== undefined) out.push({ ref, where: `${at} hook ${hook}` });
    }
    node.hooks.checkpoints.forEach((c, i) =>
      out.push({ ref: c.handler, where: `${at} checkpoint ${i + 1} (after ${c.afterSeconds}s)` }),
    );
    node.links.forEach((l, i) =>
      custom(l.mapper, `${at} link ${i + 1} (to ${l.target.input}.${l.target.dimension})`),
    );
    for (const l of node.outputLinks) custom(l.mapper, `${at} output link of "${l.dimension}"`);
  }
  return out;
}

function splitRef(ref: string): CodeRefModel {
  const hash = ref.lastIndexOf("#");
  return { module: ref.slice(0, hash), export: ref.slice(hash + 1) };
}

/**
 * The module references of a flow, deduplicated and sorted by key. Throws a SynthError listing every
 * bare function, naming the node and the place.
 */
export function collectUserCode(model: FlowModel): UserCodeRef[] {
  const functions: string[] = [];
  const byKey = new Map<string, { module: string; export: string; usedBy: string[] }>();
  for (const { ref, where } of uses(model)) {
    if ("function" in ref) {
      functions.push(where);
      continue;
    }
    const key = `${ref.module}#${ref.export}`;
    const entry = byKey.get(key) ?? { module: ref.module, export: ref.export, usedBy: [] };
    entry.usedBy.push(where);
    byKey.set(key, entry);
  }
  if (functions.length > 0) {
    throw new SynthError(
      `a function is not deployable: ${functions.join("; ")} ${functions.length === 1 ? "is a function" : "are functions"}. ` +
        `Functions run only in LocalRuntime; for deployment use a module reference "path/to/module.ts#exportName" ` +
        `(relative to the application's root, or absolute), which synth bundles into the router.`,
    );
  }
  return [...byKey.keys()].sort().map((key) => {
    const e = byKey.get(key) as { module: string; export: string; usedBy: string[] };
    return { key, module: e.module, export: e.export, usedBy: e.usedBy };
  });
}

/** Absolute path of a module reference: relative to `root` unless absolute. */
export function resolveModule(root: string, module: string): string {
  return isAbsolute(module) ? module : resolve(root, module);
}

/** The entry esbuild bundles: one named import per reference, re-exported as `refs`. */
export function userCodeEntry(refs: readonly UserCodeRef[], root: string): string {
  const lines = refs.map(
    (r, i) => `import { ${r.export} as ref${i} } from ${JSON.stringify(resolveModule(root, r.module))};`,
  );
  const entries = refs.map((r, i) => `  ${JSON.stringify(r.key)}: ref${i},`);
  return [...lines, "export const refs = {", ...entries, "};", ""].join("\n");
}

/**
 * Bundles every module reference of the flow (and everything those modules import) for the router:
 * platform node, target node22, CommonJS, minified. Module paths are resolved against `root`; a
 * missing module or export is a SynthError naming the reference and where the flow uses it.
 */
export function bundleUserCode(model: FlowModel, rootDir: string): UserCodeBundle {
  const root = resolve(rootDir);
  const refs = collectUserCode(model);
  const problems: string[] = [];
  for (const r of refs) {
    const file = resolveModule(root, r.module);
    if (!existsSync(file) || !statSync(file).isFile()) {
      problems.push(`"${r.key}" (${r.usedBy.join("; ")}): module not found at ${file}`);
    }
  }
  if (problems.length > 0) throw new SynthError(`user code cannot be bundled: ${problems.join(". ")}`);

  let code: string;
  try {
    const result = buildSync({
      stdin: {
        contents: userCodeEntry(refs, root),
        resolveDir: root,
        sourcefile: "sluice-user-code.ts",
        loader: "ts",
      },
      // Paths esbuild keeps in the output (CommonJS module keys) are relative to the root, so the
      // bytes do not depend on where the project is checked out.
      absWorkingDir: root,
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      minify: true,
      legalComments: "eof",
      write: false,
      logLevel: "silent",
    });
    code = result.outputFiles[0]?.text ?? "";
  } catch (e) {
    throw new SynthError(`user code cannot be bundled: ${describeFailure(e, refs, root)}`);
  }
  return { code, refs };
}

const NO_EXPORT = /^No matching export in "(.+)" for import "(.+)"$/;

function describeFailure(e: unknown, refs: readonly UserCodeRef[], root: string): string {
  const errors: Message[] = (e as Partial<BuildFailure>).errors ?? [];
  if (errors.length === 0) return e instanceof Error ? e.message : String(e);
  return errors
    .map((m) => {
      const missing = NO_EXPORT.exec(m.text);
      if (missing) {
        const [, file, name] = missing;
        const ref = refs.find(
          (r) => r.export === name && resolveModule(root, r.module) === resolveModule(root, file),
        );
        if (ref) return `"${ref.key}" (${ref.usedBy.join("; ")}): the module has no export "${name}"`;
      }
      const where = m.location ? `${m.location.file}:${m.location.line}: ` : "";
      return `${where}${m.text}`;
    })
    .join(". ");
}
