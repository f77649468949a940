/**
 * Loads a user's flow file (TypeScript or JavaScript) and returns its Application. The file is
 * bundled with esbuild (packages kept external); `require("sluice")` is answered with this very
 * package, so the flow's Application is the class the CLI knows; other packages resolve from the
 * flow's own folder.
 */
import { resolve } from "node:path";
import { Application } from "../flow/application";
import * as sluice from "../index";
import { evaluateTypeScript, ModuleLoadError } from "../runtime-bundle/local/module-loader";

export class FlowLoadError extends Error {
  override readonly name = "FlowLoadError";
}

/** Compiles and evaluates a flow file (or any TypeScript module using the package); returns its exports. */
export function loadFlowModule(file: string): Record<string, unknown> {
  try {
    // "sluice" is this package, whether or not the flow's folder has it installed.
    return evaluateTypeScript(resolve(file), { sluice });
  } catch (e) {
    if (e instanceof ModuleLoadError) throw new FlowLoadError(e.message);
    throw e;
  }
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
