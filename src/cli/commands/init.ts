/**
 * `sluice init [DIR]`: a new project — a flow, a test with markdown-table data, sluice.config.json,
 * jest and TypeScript configs, and a README. Never overwrites a file.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { EXIT, type Command } from "../args";
import { usageError } from "../errors";

function files(name: string): Record<string, string> {
  return {
    "flow.ts": `import { Application, dim, sparkSql } from "sluice";

const app = new Application("${name}", { account: "111122223333", region: "us-east-1" });

// Orders land under s3://${name}-raw/orders/<day>/ as Parquet, then a _SUCCESS file.
export const orders = app.s3Dataset("orders", {
  bucket: "${name}-raw",
  prefix: "orders",
  partitions: ["{}"],
  dimensions: { day: dim.datetime() },
});

// Revenue per region and day, as soon as the day's orders are complete.
export const revenue = app.data("revenue", {
  inputs: [orders],
  compute: sparkSql(\`
    SELECT region, sum(amount) AS total, count(*) AS n
    FROM orders
    GROUP BY region\`),
});

export default app;
`,
    "test/flow.test.ts": `import { expectPartition, LocalRuntime, writeInput } from "sluice";
import app, { orders, revenue } from "../flow";

test("revenue per region for a day of orders", async () => {
  const rt = await LocalRuntime.start(app); // a temp folder, removed by stop()
  try {
    await writeInput(rt, orders.at("2024-05-07"), \`
      | region | amount |
      | string | double |
      | NA     | 10.5   |
      | NA     | 4.5    |
      | EU     | 7      |
    \`);
    await rt.process(orders.at("2024-05-07")); // resolves once everything it caused has finished

    const { path } = await rt.poll(revenue.at("2024-05-07"));
    await expectPartition(
      path!,
      \`
      | region | total  | n    |
      | string | double | long |
      | EU     | 7      | 1    |
      | NA     | 15     | 2    |
    \`,
      { ignoreOrder: true },
    );
  } finally {
    await rt.stop();
  }
});
`,
    "sluice.config.json": `${JSON.stringify({ flow: "flow.ts", dir: ".sluice-local" }, null, 2)}\n`,
    "jest.config.js": `module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\\\.ts$": "ts-jest" },
};
`,
    "tsconfig.json": `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "commonjs",
          strict: true,
          esModuleInterop: true,
          skipLibCheck: true,
          types: ["jest", "node"],
        },
      },
      null,
      2,
    )}\n`,
    "README.md": `# ${name}

A [Sluice](https://github.com/) flow: \`flow.ts\` declares the datasets and the data nodes;
\`test/flow.test.ts\` runs it locally on markdown-table data.

\`\`\`sh
npm install <path to sluice-x.y.z.tgz>
npm install -D jest ts-jest typescript @types/jest @types/node
npx sluice validate                 # the flow of sluice.config.json
npx jest                            # the flow, run locally on the test's tables
npx sluice local process orders 2024-05-07   # state and data in .sluice-local (sluice.config.json)
npx sluice local status
npx sluice synth --out modules/${name}     # a Terraform module
\`\`\`
`,
  };
}

export const initCommand: Command = {
  name: "init",
  summary: "a new project: a flow, a test with markdown-table data, sluice.config.json, a README",
  usage: `init [DIR]
  scaffolds a project in DIR (default: the working directory): flow.ts, test/flow.test.ts (with
  markdown-table data), sluice.config.json, jest.config.js, tsconfig.json and README.md; never
  overwrites a file`,
  needsFlow: false,
  run(args, io) {
    if (args.positional.length > 2)
      throw usageError(`init takes at most one DIR, got also "${args.positional.slice(2).join(" ")}"`);
    const dir = resolve(args.positional[1] ?? ".");
    const name =
      basename(dir)
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^[^a-z]+|-+$/g, "") || "my-flow";
    const scaffold = files(name.length >= 2 ? name.slice(0, 40) : "my-flow");
    const existing = Object.keys(scaffold).filter((f) => existsSync(join(dir, f)));
    if (existing.length > 0) {
      throw usageError(`${dir} already has ${existing.join(", ")}; init never overwrites a file`);
    }
    for (const [file, text] of Object.entries(scaffold)) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    if (io.json) io.out.write(`${JSON.stringify({ dir, files: Object.keys(scaffold) }, null, 2)}\n`);
    else io.out.write(`${dir}: ${Object.keys(scaffold).join(", ")}\n`);
    return EXIT.ok;
  },
};
