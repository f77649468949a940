/**
 * Environments (the Amaterasu model): one flow, several environments, each with its own dataset
 * bindings, config and compute sizing; user code asks a runtime context for them by name.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Application,
  dim,
  FlowValidationError,
  inline,
  LocalRuntime,
  prestoSql,
  pySpark,
  sparkSql,
  type DispatchRequest,
  type InlineContext,
} from "sluice";
import { synthModule } from "../src/cli/synth-module";
import { bindDatasets } from "../src/flow/model/dataset-bindings";
import { inlineConfig } from "../src/flow/model/inline-api";
import { S3Storage } from "../src/runtime-bundle/aws/s3-storage";
import { mergeComputeParams } from "../src/runtime-bundle/core/router";

const DAY = "2024-05-07";
const DEV = { account: "111111111111", region: "us-east-1" };
const PROD = { account: "999988887777", region: "us-east-1" };

function newApp(): Application {
  return new Application("envs", { account: "111122223333", region: "us-east-1" });
}

function eventsOf(app: Application) {
  return app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime() },
  });
}

function issuesOf(app: Application): { path: string; code: string; message: string }[] {
  try {
    app.toModel();
  } catch (e) {
    expect(e).toBeInstanceOf(FlowValidationError);
    return [...(e as FlowValidationError).issues];
  }
  return [];
}

// ---------------------------------------------------------------- validation

describe("validation", () => {
  test("a dataset location bound in one environment and not another names the dataset and both environments", () => {
    const app = newApp();
    eventsOf(app);
    app.environment("dev", { ...DEV });
    app.environment("prod", { ...PROD, datasets: { events: { bucket: "prod-raw" } } });
    expect(issuesOf(app)).toEqual([
      {
        path: "environments.dev.datasets.events",
        code: "environment.binding-missing",
        message: 'environments.dev, dataset "events": bound in "prod" (bucket) but not here',
      },
    ]);
  });

  test("every location field counts; each environment lacking one is reported", () => {
    const app = newApp();
    eventsOf(app);
    app.environment("dev", { ...DEV, datasets: { events: { bucket: "dev-raw" } } });
    app.environment("test", { ...DEV, datasets: {} });
    app.environment("prod", { ...PROD, datasets: { events: { bucket: "prod-raw", prefix: "ev" } } });
    expect(issuesOf(app).map((i) => i.message)).toEqual([
      'environments.dev, dataset "events": bound in "prod" (prefix) but not here',
      'environments.test, dataset "events": bound in "dev" (bucket), "prod" (bucket, prefix) but not here',
    ]);
  });

  test("the same fields bound everywhere are valid; format and encryptionKey may differ freely", () => {
    const app = newApp();
    eventsOf(app);
    app.environment("dev", { ...DEV, datasets: { events: { bucket: "dev-raw", format: "csv" } } });
    app.environment("prod", {
      ...PROD,
      datasets: { events: { bucket: "prod-raw", encryptionKey: "arn:aws:kms:us-east-1:999988887777:key/k" } },
    });
    expect(issuesOf(app)).toEqual([]);
  });

  test("unknown dataset ids and compute overrides of anything but a data node fail", () => {
    const app = newApp();
    eventsOf(app);
    app.environment("dev", {
      ...DEV,
      datasets: { nope: { bucket: "b" } },
      compute: { events: { workers: 2 }, missing: { workers: 2 } },
    });
    const messages = issuesOf(app).map((i) => i.message);
    expect(messages).toContain(
      'environments.dev: dataset binding "nope" does not name an s3Dataset or glueTable of the application',
    );
    expect(messages).toContain('environments.dev: compute override "events" does not name a data node');
    expect(messages).toContain('environments.dev: compute override "missing" does not name a data node');
  });

  test("config values are JSON", () => {
    const app = newApp();
    app.environment("dev", {
      ...DEV,
      config: {
        ok: { nested: [1, "a", true, null] },
        ratio: Number.NaN,
        when: new Date(0) as unknown as string,
        deep: { fn: (() => 1) as unknown as string },
      },
    });
    expect(issuesOf(app).map((i) => [i.path, i.message])).toEqual([
      [
        "environments.dev.config.ratio",
        "environments.dev, config ratio: config values are JSON (strings, finite numbers, booleans, null, arrays and plain objects): value is NaN, not a finite number",
      ],
      [
        "environments.dev.config.when",
        "environments.dev, config when: config values are JSON (strings, finite numbers, booleans, null, arrays and plain objects): value is a Date, not a plain object",
      ],
      [
        "environments.dev.config.deep",
        "environments.dev, config deep: config values are JSON (strings, finite numbers, booleans, null, arrays and plain objects): value.fn is a function",
      ],
    ]);
  });
});

// ---------------------------------------------------------------- runtime: compute sizing

describe("LocalRuntime is an environment", () => {
  function sized() {
    const app = newApp();
    const events = eventsOf(app);
    const joined = app.data("joined", {
      inputs: [events],
      compute: pySpark("output = events", {
        engine: "glue",
        workers: 10,
        workerType: "G.1X",
        glueVersion: "4.0",
        sparkArgs: { "spark.sql.shuffle.partitions": "200", "spark.a": "x" },
      }),
    });
    app.environment("dev", {
      ...DEV,
      config: { threshold: 3 },
      compute: { joined: { workers: 2, sparkArgs: { "spark.sql.shuffle.partitions": "8" } } },
    });
    app.environment("prod", { ...PROD, config: { threshold: 10 } });
    return { app, events, joined };
  }

  async function paramsIn(env: string | undefined) {
    const { app, events } = sized();
    const seen: DispatchRequest[] = [];
    const rt = await LocalRuntime.start(app, {
      ...(env === undefined ? {} : { env }),
      engines: {
        glue: {
          start: async (request) => {
            seen.push(request);
            return { status: "SUCCEEDED" };
          },
        },
      },
    });
    try {
      await rt.process(events.at("NA", DAY));
    } finally {
      await rt.stop();
    }
    expect(seen).toHaveLength(1);
    return seen[0] as DispatchRequest;
  }

  test("LocalRuntime.start(app, { env }) merges the environment's compute sizing over the target's params", async () => {
    const dev = await paramsIn("dev");
    expect(dev.env).toBe("dev");
    expect(dev.config).toEqual({ threshold: 3 });
    expect(dev.target.params).toEqual({
      workers: 2,
      workerType: "G.1X",
      glueVersion: "4.0",
      sparkArgs: { "spark.sql.shuffle.partitions": "8", "spark.a": "x" },
    });
    const prod = await paramsIn("prod");
    expect(prod.config).toEqual({ threshold: 10 });
    expect(prod.target.params.workers).toBe(10);
    const local = await paramsIn(undefined);
    expect(local.env).toBe("local");
    expect(local.target.params).toEqual(prod.target.params);
  });

  test("an undeclared environment fails clearly (unless config is given)", async () => {
    const { app } = sized();
    await expect(LocalRuntime.start(app, { env: "staging" })).rejects.toThrow(
      'LocalRuntime: environment "staging" is not declared in envs (declared: dev, prod); declare it with app.environment(), or pass config',
    );
    const rt = await LocalRuntime.start(app, { env: "staging", config: { threshold: 1 } });
    await rt.stop();
  });

  test("mergeComputeParams: scalars replace; emr, sparkArgs and extra merge by key", () => {
    expect(
      mergeComputeParams(
        {
          workers: 10,
          emr: { releaseLabel: "emr-7.1.0", instanceCount: 3 },
          extra: { a: 1 },
          timeoutSeconds: 60,
        },
        { workers: 4, emr: { instanceCount: 5 }, extra: { b: 2 } },
      ),
    ).toEqual({
      workers: 4,
      emr: { releaseLabel: "emr-7.1.0", instanceCount: 5 },
      extra: { a: 1, b: 2 },
      timeoutSeconds: 60,
    });
  });
});

// ---------------------------------------------------------------- runtime context for inline code

describe("runtime context", () => {
  test("ctx.env, ctx.config (record and callable) and ctx.dataset(name) in LocalRuntime", async () => {
    const app = newApp();
    const events = eventsOf(app);
    let ctx: InlineContext | undefined;
    const joined = app.data("joined", {
      inputs: { ev: events },
      compute: inline((_inputs, _output, c) => {
        ctx = c;
      }),
    });
    app.environment("dev", {
      ...DEV,
      config: { threshold: 3, name: "dev-team", db: { host: "db.dev" } },
      datasets: { events: { bucket: "dev-raw" } },
    });
    const dir = mkdtempSync(join(tmpdir(), "sluice-envs-"));
    const rt = await LocalRuntime.start(app, { env: "dev", datasets: { events: join(dir, "events") } });
    try {
      await rt.process(events.at("NA", DAY));
      const c = ctx as InlineContext;
      expect(c.env).toBe("dev");
      // a record…
      expect(c.config.threshold).toBe(3);
      expect(c.config.name).toBe("dev-team");
      expect(Object.keys(c.config)).toEqual(["db", "name", "threshold"]);
      expect({ ...c.config }).toEqual({ threshold: 3, name: "dev-team", db: { host: "db.dev" } });
      expect(JSON.parse(JSON.stringify(c.config))).toEqual({
        threshold: 3,
        name: "dev-team",
        db: { host: "db.dev" },
      });
      // …and callable, like the Spark driver's config(key, default)
      expect(c.config("threshold")).toBe(3);
      expect(c.config("db.host")).toBe("db.dev");
      expect(c.config("missing")).toBeUndefined();
      expect(c.config("missing", 7)).toBe(7);
      // datasets by input alias and by flow id, located where this runtime keeps them
      const dataset = c.dataset as NonNullable<InlineContext["dataset"]>;
      expect(dataset("ev")).toEqual({
        node: "events",
        kind: "s3Dataset",
        location: join(dir, "events"),
        paths: [rt.partitionPath(events.at("NA", DAY))],
        dimensions: { region: "NA", day: DAY },
        format: "parquet",
      });
      expect(dataset("events")).toEqual({
        node: "events",
        kind: "s3Dataset",
        location: join(dir, "events"),
        format: "parquet",
      });
      expect(dataset("joined")).toEqual({
        node: "joined",
        kind: "data",
        location: join(rt.dir, "internal_data", "joined"),
        format: "parquet",
      });
      expect(() => dataset("nope")).toThrow(
        'ctx.dataset("nope"): no input alias of node "joined" and no dataset of the flow has that name',
      );
      expect((await rt.poll(joined.at("NA", DAY))).path).toBeDefined();
    } finally {
      await rt.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a config key named like a function property is the config value; nothing is inherited", () => {
    const config = inlineConfig({ length: 5 });
    expect(config.length).toBe(5);
    expect(config.name).toBeUndefined();
    expect(config("toString")).toBeUndefined();
    expect(String(config)).toBe('{"length":5}');
  });

  test("on AWS, dataset locations follow the environment's bindings (S3Storage)", () => {
    const app = newApp();
    eventsOf(app);
    app.data("joined", {
      inputs: [app.node("events") as ReturnType<typeof eventsOf>],
      compute: sparkSql("SELECT 1"),
    });
    const model = app.toModel();
    const storage = new S3Storage({ bucket: "store" });
    const events = model.nodes.events as NonNullable<(typeof model.nodes)["events"]>;
    // The router binds the environment's bindings into its model (bindDatasets) before anything reads it.
    const bound = bindDatasets(model, { events: { bucket: "prod-raw" } }).nodes.events as typeof events;
    expect(storage.datasetRoot(bound)).toBe("s3://prod-raw/events");
    expect(storage.datasetRoot(events)).toBe("s3://raw/events");
    expect(storage.partitionPath(bound, { region: "NA", day: DAY })).toBe(
      `s3://prod-raw/events/region=NA/${DAY}`,
    );
  });
});

// ---------------------------------------------------------------- synth: one module per environment

describe("sluice synth --env", () => {
  function flow(bindings: boolean): Application {
    const app = newApp();
    const events = eventsOf(app);
    app.data("joined", { inputs: [events], compute: prestoSql("SELECT * FROM events") });
    app.environment("dev", {
      ...DEV,
      config: { threshold: 3 },
      ...(bindings ? { datasets: { events: { bucket: "devbucket", prefix: "dev-events" } } } : {}),
    });
    app.environment("prod", {
      ...PROD,
      config: { threshold: 10 },
      ...(bindings
        ? {
            datasets: {
              events: {
                bucket: "prodbucket",
                prefix: "prod-events",
                format: "csv" as const,
                encryptionKey: "alias/prod-raw",
              },
            },
          }
        : {}),
    });
    return app;
  }

  function mainTf(app: Application, environment: string): string {
    const out = mkdtempSync(join(tmpdir(), `sluice-env-${environment}-`));
    try {
      synthModule(app, { out, environment });
      return readFileSync(join(out, "main.tf.json"), "utf8");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  test("without dataset bindings, the dev and prod modules are identical (the environment is a variable)", () => {
    const app = flow(false);
    const dev = mainTf(app, "dev");
    expect(mainTf(app, "prod")).toBe(dev);
    const variable = (JSON.parse(dev) as { variable: Record<string, Record<string, unknown>> }).variable;
    expect(variable.environment).toEqual({
      description: "Environment name: tags, and the config the router gives user code",
      type: "string",
    });
  }, 120_000);

  test("with bindings, the modules are identical too: locations are a variable the caller sets", () => {
    const app = flow(true);
    const dev = mainTf(app, "dev");
    expect(mainTf(app, "prod")).toBe(dev);
    expect(dev).not.toContain("devbucket");
    expect(dev).not.toContain("prodbucket");
    expect(dev).not.toContain("alias/prod-raw");
    const json = JSON.parse(dev) as {
      variable: Record<string, Record<string, unknown>>;
      locals: Record<string, Record<string, Record<string, string>>>;
    };
    // The flow's own location is the default; the router and the rules read local.datasets.
    expect(json.variable.datasets?.default).toEqual({
      events: { bucket: "raw", prefix: "events", format: "parquet", encryption_key: "" },
    });
    expect(json.locals.datasets?.events?.bucket).toContain("local.dataset_bindings");
    expect(dev).toContain("${local.datasets.events.bucket}");
    // The router reads the bindings from its bindings object, the module's locals rendered into it.
    expect(dev).toContain("datasets = local.datasets");
  }, 120_000);

  test("format, key, account and region are the caller's too: the table, the grants and the router follow them", () => {
    const json = JSON.parse(mainTf(flow(true), "prod")) as {
      variable: Record<string, { type: string; validation: { condition: string }[] }>;
      locals: Record<string, Record<string, Record<string, string>>>;
      resource: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(json.variable.datasets?.type).toBe(
      "map(object({ account = optional(string), bucket = optional(string), database = optional(string), encryption_key = optional(string), format = optional(string), prefix = optional(string), region = optional(string), table = optional(string) }))",
    );
    expect(json.variable.datasets?.validation.map((v) => v.condition)).toEqual([
      '${alltrue([for id, d in var.datasets : d.format == null || contains(["avro","csv","json","orc","parquet","text"], coalesce(d.format, "parquet"))])}',
      '${alltrue([for id, d in var.datasets : d.account == null || can(regex("^[0-9]{12}$", coalesce(d.account, "000000000000")))])}',
    ]);
    // The dataset is in the application's own account and region: by default, the caller's.
    expect(json.locals.datasets?.events).toEqual({
      account:
        '${try(local.dataset_bindings["events"].account, data.aws_caller_identity.account.account_id)}',
      bucket: '${try(local.dataset_bindings["events"].bucket, "raw")}',
      encryptionKey: '${try(local.dataset_bindings["events"].encryption_key, "")}',
      format: '${try(local.dataset_bindings["events"].format, "parquet")}',
      prefix: '${trim(try(local.dataset_bindings["events"].prefix, "events"), "/")}',
      region: '${try(local.dataset_bindings["events"].region, data.aws_region.region.region)}',
    });
    // Athena's table reads the bound format.
    const table = Object.values(json.resource.aws_glue_catalog_table ?? {})[0] as {
      parameters: Record<string, string>;
      storage_descriptor: { input_format: string; ser_de_info: { serialization_library: string } };
    };
    expect(table.storage_descriptor.input_format).toBe(
      "${local.table_formats[local.datasets.events.format].input_format}",
    );
    expect(table.storage_descriptor.ser_de_info.serialization_library).toBe(
      "${local.table_formats[local.datasets.events.format].serde}",
    );
    expect(table.parameters["skip.header.line.count"]).toBe(
      '${local.datasets.events.format == "csv" ? "1" : "0"}',
    );
    expect(json.locals.table_formats?.csv).toEqual({
      classification: "csv",
      input_format: "org.apache.hadoop.mapred.TextInputFormat",
      output_format: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
      serde: "org.apache.hadoop.hive.serde2.OpenCSVSerde",
    });
    // The bound key is unknown to the module: reads decrypt through S3, for the bound location only.
    const router = Object.values(json.resource.aws_iam_role_policy ?? {})
      .map((p) => JSON.parse(String(p.policy)) as { Statement: { Sid: string }[] })
      .flatMap((p) => p.Statement)
      .filter((st) => st.Sid === "ReadDatasetsDecryptViaS3" || st.Sid === "BatchAthenaInputsDecryptViaS3");
    expect(router).toHaveLength(2);
    for (const st of router) {
      expect(st).toMatchObject({
        Action: "kms:Decrypt",
        // Keys of the dataset's own account and region only.
        Resource: "arn:aws:kms:${local.datasets.events.region}:${local.datasets.events.account}:key/*",
        Condition: {
          StringEquals: {
            "kms:ViaService": ["s3.${local.datasets.events.region}.amazonaws.com"],
            "kms:CallerAccount": "${data.aws_caller_identity.account.account_id}",
          },
          StringLike: {
            "kms:EncryptionContext:aws:s3:arn": [
              "arn:aws:s3:::${local.datasets.events.bucket}",
              "arn:aws:s3:::${local.datasets.events.bucket}/${local.dataset_key_prefixes.events}*",
            ],
          },
        },
      });
    }
  }, 120_000);

  test("the README and the summary give the call for the environment, with its bindings", () => {
    const out = mkdtempSync(join(tmpdir(), "sluice-env-usage-"));
    try {
      const summary = synthModule(flow(true), { out, environment: "prod" });
      expect(summary.inputs).toEqual({
        environment: "prod",
        datasets: {
          events: {
            bucket: "prodbucket",
            encryption_key: "alias/prod-raw",
            format: "csv",
            prefix: "prod-events",
          },
        },
      });
      const readme = readFileSync(join(out, "README.md"), "utf8");
      expect(readme).toContain(
        [
          "```hcl",
          `module "${newApp().name}_prod" {`,
          `  source      = "./modules/${newApp().name}"`,
          "  providers   = { aws = aws.prod }",
          '  environment = "prod"',
          "  datasets = {",
          '    events = { bucket = "prodbucket", encryption_key = "alias/prod-raw", format = "csv", prefix = "prod-events" }',
          "  }",
          "}",
          "```",
        ].join("\n"),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
