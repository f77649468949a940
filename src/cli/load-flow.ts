/**
 * Loads a user's flow file (TypeScript or JavaScript) and returns its Application. The file is
 * bundled with esbuild (packages kept external); `require("sluice")` is answered with this very
 * package, so the flow's Application is the class the CLI knows; other packages resolve from the
 * flow's own folder.
 */
import { buildSync } from "esbuild";
import Module from "node:module";
import { dirname, resolve } from "node:path";
import { Application } from "../flow/application";
import * as sluice from "../index";

export class FlowLoadError extends Error {
  override readonly name = "FlowLoadError";
}

/** Node's loader internals used to evaluate compiled code as if it were the flow file itself. */
interface LoadableModule {
  filename: string;
  require(id: string): unknown;
  paths: string[];
  exports: Record<string, unknown>;
  _compile(code: string, filename: string): void;
}
type ModuleCtor = (new (id: string, parent?: unknown) => LoadableModule) & {
  _nodeModulePaths(dir: string): string[];
};

/** Compiles and evaluates a flow file (or any TypeScript module using the package); returns its exports. */
export function loadFlowModule(file: string): Record<string, unknown> {
  const entry = resolve(file);
  let code: string;
  try {
    const out = buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      logLevel: "silent",
      packages: "external",
      // Never the sources a tsconfig "paths" entry may point at: the loaded package itself.
      external: ["sluice"],
      sourcemap: "inline",
    });
    code = out.outputFiles[0]?.text ?? "";
  } catch (e) {
    throw new FlowLoadError(`cannot compile ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const Ctor = Module as unknown as ModuleCtor;
  const m = new Ctor(entry);
  m.filename = entry;
  m.paths = Ctor._nodeModulePaths(dirname(entry));
  const own = m.require.bind(m);
  // "sluice" is this package, whether or not the flow's folder has it installed.
  m.require = (id: string) => (id === "sluice" ? sluice : own(id));
  m._compile(code, entry);
  return m.exports;
}

export function loadFlow(file: string): Application {
  const exported = loadFlowModule(file);
  const candidate = exported.default ?? exported.app;
  const app =
    typeof candidate === "function" && !(candidate instanceof Application)
      ? (candidate as () => unknown)()
      : candidate;
  if (!(app instanceof Application)) {
    throw new FlowLoadError(`${file} must export its Application as the default export or as "app"`);
  }
  return app;
}
