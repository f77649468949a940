/**
 * References to user code: "path/to/module.ts#export" (relative to the application root, or absolute)
 * or, for LocalRuntime only, a function. Synth bundles references; functions cannot leave the process.
 */
import type { CodeRefModel } from "./model/flow-model";

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any callable is accepted here
export type CodeRef = string | Function;

const MODULE_EXT = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Parses "module#export"; returns an error sentence instead of throwing. */
export function parseModuleRef(ref: string): { module: string; export: string } | { error: string } {
  const hash = ref.lastIndexOf("#");
  if (hash <= 0 || hash === ref.length - 1) {
    return { error: `code reference "${ref}" must look like "path/to/module.ts#exportName"` };
  }
  const module = ref.slice(0, hash);
  const name = ref.slice(hash + 1);
  if (!MODULE_EXT.test(module)) {
    return { error: `code reference "${ref}": module must be a .ts or .js file` };
  }
  if (!IDENTIFIER.test(name)) return { error: `code reference "${ref}": "${name}" is not an export name` };
  return { module, export: name };
}

/**
 * Registry of functions passed in place of module references, keyed by a stable name derived from
 * their place in the flow, so the model stays plain data and LocalRuntime can still find them.
 */
export class LocalFunctionRegistry {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  private readonly fns = new Map<string, Function>();

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  register(key: string, fn: Function): CodeRefModel {
    this.fns.set(key, fn);
    return { function: key };
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  get(key: string): Function | undefined {
    return this.fns.get(key);
  }

  keys(): string[] {
    return [...this.fns.keys()].sort();
  }
}
