/**
 * Loads user code named by a module reference ("handlers/page.ts#page") for LocalRuntime: the module
 * is bundled with esbuild (packages stay external and resolve from the module's folder) and evaluated
 * as if it were the file itself. On Lambda the same references are prebundled at synth time instead.
 */
import type * as Esbuild from "esbuild";
import Module from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";

interface LoadableModule {
  filename: string;
  require(id: string): unknown;
  paths: string[];
  exports: Record<string, unknown>;
  _compile(code: string, filename: string): void;
}
type ModuleCtor = (new (id: string) => LoadableModule) & { _nodeModulePaths(dir: string): string[] };

export class ModuleLoadError extends Error {
  override readonly name = "ModuleLoadError";
}

export class ModuleLoader {
  private readonly cache = new Map<string, Record<string, unknown>>();

  constructor(private readonly root: string) {}

  /** The named export of a module, which must be a function. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- user code of any signature
  load(module: string, name: string): Function {
    const file = isAbsolute(module) ? module : resolve(this.root, module);
    const exports = this.cache.get(file) ?? this.compile(file);
    this.cache.set(file, exports);
    const fn = exports[name];
    if (typeof fn !== "function") {
      throw new ModuleLoadError(
        `${module} has no exported function "${name}" (exports: ${Object.keys(exports).join(", ") || "none"})`,
      );
    }
    return fn;
  }

  private compile(file: string): Record<string, unknown> {
    return evaluateTypeScript(file);
  }
}

/**
 * The esbuild options user code is compiled with: one CommonJS bundle for Node 20 whose packages stay
 * external (they resolve from the file's folder), `external` ones even where a tsconfig "paths" entry
 * would resolve them to sources.
 */
export function typeScriptBuildOptions(
  file: string,
  external: readonly string[],
): Esbuild.BuildOptions & { write: false } {
  return {
    entryPoints: [file],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    logLevel: "silent",
    packages: "external",
    external: [...external],
  };
}

/** Compiled user code, with the files esbuild read to compile it. */
export interface CompiledModule {
  readonly code: string;
  readonly inputs: readonly string[];
}

/** Compiles a file as `evaluateTypeScript` does (esbuild is loaded on first use). */
export function compileTypeScript(file: string, external: readonly string[] = []): CompiledModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- esbuild loads only when something compiles
  const { buildSync } = require("esbuild") as typeof Esbuild;
  try {
    const out = buildSync({ ...typeScriptBuildOptions(file, external), sourcemap: "inline", metafile: true });
    return { code: out.outputFiles[0]?.text ?? "", inputs: Object.keys(out.metafile?.inputs ?? {}) };
  } catch (e) {
    throw new ModuleLoadError(`cannot compile ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Evaluates compiled code as if it were `file` itself (requires resolve from its folder); `provide`
 * answers `require(id)` for the named packages with the given values instead.
 */
export function evaluateCompiled(
  code: string,
  file: string,
  provide: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const Ctor = Module as unknown as ModuleCtor;
  const m = new Ctor(file);
  m.filename = file;
  m.paths = Ctor._nodeModulePaths(dirname(file));
  const own = m.require.bind(m);
  m.require = (id: string) => (Object.prototype.hasOwnProperty.call(provide, id) ? provide[id] : own(id));
  m._compile(code, file);
  return m.exports;
}

/**
 * Bundles a TypeScript/JavaScript file with esbuild (packages stay external and resolve from the
 * file's folder) and evaluates it as if it were the file itself. `provide` answers `require(id)` for
 * the named packages with the given values instead (e.g. the running Sluice package).
 */
export function evaluateTypeScript(
  file: string,
  provide: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return evaluateCompiled(compileTypeScript(file, Object.keys(provide)).code, file, provide);
}
