/**
 * The deployment contract (src/flow/model/deployment-contract.ts) is what synth and the router agree
 * on. TypeScript holds both sides to it; these tests hold what the compiler cannot: the Python Spark
 * driver, the built runtime bundle, and the environment a synthesized module really renders.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthModule } from "../src/cli/synth-module";
import type { Application } from "../src/flow/application";
import {
  CLI_ENV,
  COMPLETION_MARKER,
  DRIVER_SCRIPT_KEY,
  HANDLER_EXPORT,
  HANDLER_FILE,
  HANDLER_MODULE,
  INTERNAL_DATA_PREFIX,
  LAMBDA_HANDLER,
  MANIFEST_KEY,
  REQUIRED_ROUTER_ENV,
  ROUTER_ENV,
  ROUTER_PACKAGE,
  SPARK_DRIVER_DIR,
  SPARK_DRIVER_FILE,
  SPARK_JOB_SPEC_VERSION,
  SPEC_ARGUMENT,
  dataNodePath,
} from "../src/flow/model/deployment-contract";
import { DATA_FORMATS, type FlowModel } from "../src/flow/model/flow-model";
import { defaultBundleDir } from "../src/synth/bundle-dir";

const ROOT = join(__dirname, "..");
const DRIVER = join(ROOT, "src", "runtime-bundle", SPARK_DRIVER_DIR, SPARK_DRIVER_FILE);

/** Source files under `dir` (recursively) whose names end in one of `extensions`. */
function sourceFiles(dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path, extensions));
    else if (extensions.some((e) => entry.endsWith(e))) out.push(path);
  }
  return out;
}

/** The string value of a top-level Python assignment `NAME = "value"` (or a number). */
function pythonConstant(source: string, name: string): string {
  const m = new RegExp(`^${name} = (.+)$`, "m").exec(source);
  if (!m) throw new Error(`${SPARK_DRIVER_FILE} has no constant ${name}`);
  return (m[1] as string).trim();
}

describe("router environment", () => {
  test("each key of ROUTER_ENV is its own variable name; the required ones are among them", () => {
    for (const [key, value] of Object.entries(ROUTER_ENV)) expect(value).toBe(key);
    for (const key of REQUIRED_ROUTER_ENV) expect(Object.values(ROUTER_ENV)).toContain(key);
  });

  test("every SLUICE_* name the sources spell (src, scripts, bench) is a variable of the contract", () => {
    const declared = new Set<string>([...Object.values(ROUTER_ENV), ...Object.values(CLI_ENV)]);
    const spelled = new Map<string, string>();
    for (const dir of ["src", "scripts", "bench"]) {
      for (const file of sourceFiles(join(ROOT, dir), [".ts", ".js", ".py"])) {
        for (const m of readFileSync(file, "utf8").matchAll(/\bSLUICE_[A-Z0-9_]*[A-Z0-9]\b/g)) {
          spelled.set(m[0], file.slice(ROOT.length + 1));
        }
      }
    }
    const undeclared = [...spelled].filter(([name]) => !declared.has(name));
    expect(undeclared).toEqual([]);
  });
});

describe("the Spark driver agrees with the contract", () => {
  const source = readFileSync(DRIVER, "utf8");

  test("it is the runtime bundle's driver file", () => {
    expect(existsSync(DRIVER)).toBe(true);
  });

  test("the spec argument and the spec version", () => {
    expect(pythonConstant(source, "SPEC_ARG")).toBe(JSON.stringify(SPEC_ARGUMENT));
    expect(Number(pythonConstant(source, "SPEC_VERSION"))).toBe(SPARK_JOB_SPEC_VERSION);
  });

  test("the data formats", () => {
    const formats = [...pythonConstant(source, "FORMATS").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(formats).toEqual([...DATA_FORMATS]);
  });

  test("the completion marker it keeps Hadoop's committer from writing, under the internal data prefix", () => {
    // The driver writes no marker: it documents Sluice's (the router writes it) and turns off the
    // committer's marker of the same name, which would otherwise complete a partition too early.
    expect(COMPLETION_MARKER).toBe("_SUCCESS"); // Hadoop FileOutputCommitter's marker name
    expect(source).toContain(`Sluice's \`\`${COMPLETION_MARKER}\`\``);
    expect(source).toContain(`\`\`${COMPLETION_MARKER}\`\` under \`\`${dataNodePath("<node>")}/...\`\``);
    expect(pythonConstant(source, "SUCCESS_MARKER_CONF")).toBe(
      JSON.stringify("mapreduce.fileoutputcommitter.marksuccessfuljobs"),
    );
  });
});

describe("the prebuilt runtime bundle (npm run build) has the contract's files", () => {
  const bundle = defaultBundleDir();

  test("the handler file exports the Lambda handler", () => {
    expect(LAMBDA_HANDLER).toBe(`${HANDLER_MODULE}.${HANDLER_EXPORT}`);
    expect(HANDLER_FILE).toBe(`${HANDLER_MODULE}.js`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built bundle, as Lambda loads it
    const handler = require(join(bundle, HANDLER_FILE)) as Record<string, unknown>;
    expect(typeof handler[HANDLER_EXPORT]).toBe("function");
  });

  test("the Spark driver is the source's, at the contract's place", () => {
    const built = join(bundle, SPARK_DRIVER_DIR, SPARK_DRIVER_FILE);
    expect(readFileSync(built, "utf8")).toBe(readFileSync(DRIVER, "utf8"));
  });
});

describe("a synthesized module (examples/daily-aggregation) renders the contract", () => {
  type Json = Record<string, Record<string, Record<string, Record<string, unknown>>>>;
  let out: string | undefined;
  let module: Json;
  let files: readonly string[];

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "sluice-deployment-contract-"));
    let app: Application | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module registry for the example
      const flow = require(join(ROOT, "examples", "daily-aggregation", "flow.ts")) as {
        default: Application;
      };
      app = flow.default;
    });
    files = synthModule(app as Application, { out }).files;
    module = JSON.parse(readFileSync(join(out, "main.tf.json"), "utf8")) as Json;
  }, 60_000);

  afterAll(() => {
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  test("the router's environment uses only the contract's variables, the required ones included", () => {
    const functions = Object.values(module.resource?.aws_lambda_function ?? {});
    expect(functions).toHaveLength(1);
    const router = functions[0] as { handler: string; environment: { variables: Record<string, string> } };
    const keys = Object.keys(router.environment.variables);
    const declared: readonly string[] = Object.values(ROUTER_ENV);
    expect(keys.filter((k) => !declared.includes(k))).toEqual([]);
    for (const key of REQUIRED_ROUTER_ENV) expect(keys).toContain(key);
    expect(router.handler).toBe(LAMBDA_HANDLER);
  });

  test("the code package and the driver sit beside the module under the contract's names", () => {
    expect(files).toContain(ROUTER_PACKAGE);
    expect(files).toContain(SPARK_DRIVER_FILE);
    const objects = Object.values(module.resource?.aws_s3_object ?? {}) as { key: string; source?: string }[];
    const driver = objects.find((o) => o.key === DRIVER_SCRIPT_KEY);
    expect(driver?.source).toBe(`\${path.module}/${SPARK_DRIVER_FILE}`);
  });

  test("the published manifest: its key, and each data node's partitions under the internal data prefix", () => {
    const objects = Object.values(module.resource?.aws_s3_object ?? {}) as {
      key: string;
      content?: string;
    }[];
    const manifest = objects.find((o) => o.key === MANIFEST_KEY);
    const model = JSON.parse(manifest?.content ?? "{}") as FlowModel;
    const data = Object.values(model.nodes ?? {}).filter((n) => n.kind === "data");
    expect(data.length).toBeGreaterThan(0);
    for (const n of data) expect(n.path).toBe(dataNodePath(n.id));
    expect(dataNodePath("x")).toBe(`${INTERNAL_DATA_PREFIX}x`);
  });
});
