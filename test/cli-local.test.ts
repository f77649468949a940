/**
 * `sluice local`: a LocalRuntime persisted under --dir, driven through main() one CLI invocation at a
 * time, so that every state the flow needs between actions must come back from the folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, type Output } from "../src/cli/main";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(args: string[], options: { tty?: boolean } = {}): Promise<Run> {
  let out = "";
  let err = "";
  const errSink: Output & { isTTY?: boolean } = { write: (s: string) => (err += s) };
  if (options.tty) errSink.isTTY = true;
  const code = await main(args, { write: (s: string) => (out += s) }, errSink);
  return { code, out, err };
}

let tmp: string;
let flow: string;
let dir: string;
/** Where the flow's compute logs "start <day>" / "end <day>", to see how many ran at once. */
let log: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "sluice-cli-local-"));
  dir = join(tmp, "state");
  log = join(tmp, "compute.log");
  flow = join(tmp, "flow.ts");
  writeFileSync(
    flow,
    `import { appendFileSync } from "node:fs";
     import { Application, dim, inline } from "sluice";
     const app = new Application("local-cli", { account: "111122223333", region: "us-east-1" });
     const dims = { day: dim.datetime() };
     const a = app.s3Dataset("a", { bucket: "raw-a", partitions: ["{}"], dimensions: dims });
     const b = app.s3Dataset("b", { bucket: "raw-b", partitions: ["{}"], dimensions: dims });
     app.data("joined", {
       inputs: [a, b],
       retries: 0,
       compute: inline(async (_inputs, output) => {
         const day = String(output.dimensions.day);
         appendFileSync(${JSON.stringify(log)}, "start " + day + "\\n");
         await new Promise((resolve) => setTimeout(resolve, 20));
         appendFileSync(${JSON.stringify(log)}, "end " + day + "\\n");
         if (day === "2024-05-03") throw new Error("no data for " + day);
       }),
     });
     const ev = app.s3Dataset("ev", {
       bucket: "raw-ev",
       partitions: ["region={}", "n={}", "{}"],
       dimensions: { region: dim.string(), n: dim.long(), day: dim.datetime() },
       filter: { region: ["NA", "EU"] },
     });
     app.data("per_region", { inputs: [ev], compute: inline(async () => undefined) });
     export default app;`,
  );
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function local(...args: string[]): string[] {
  return ["local", flow, ...args, "--dir", dir];
}

/** Most compute calls that were running at the same time. */
function maxConcurrent(): number {
  let running = 0;
  let max = 0;
  for (const line of readFileSync(log, "utf8").trim().split("\n")) {
    running += line.startsWith("start ") ? 1 : -1;
    max = Math.max(max, running);
  }
  return max;
}

test("two inputs processed by two invocations: the second one executes, from the persisted state", async () => {
  const first = await run(local("process", "a", "2024-05-07"));
  expect(first).toMatchObject({ code: 0, err: "" });
  expect(first.out).toContain("a day=2024-05-07 → joined (input a)");
  expect(first.out).toContain("no execution yet");
  expect(existsSync(log)).toBe(false);
  expect(existsSync(join(dir, ".sluice", "state"))).toBe(true);
  expect(existsSync(join(dir, ".sluice", "state", "LOCK"))).toBe(false); // released at the end of the run

  const pending = await run(local("pending", "joined"));
  expect(pending.code).toBe(0);
  expect(pending.out).toMatch(/day\s+received\s+missing\s+state/);
  expect(pending.out).toMatch(/2024-05-07\s+a\s+b\s+pending/);
  const pendingJson = JSON.parse((await run(local("pending", "joined", "--json"))).out);
  expect(pendingJson).toEqual({
    node: "joined",
    groups: [expect.objectContaining({ dimensions: { day: "2024-05-07" }, received: ["a"], missing: ["b"] })],
    facts: [],
  });

  const second = await run(local("process", "b", "2024-05-07"));
  expect(second.code).toBe(0);
  expect(second.out).toContain("b day=2024-05-07 → joined (input b)");
  expect(second.out).toMatch(/joined-\S+ day=2024-05-07 SUCCEEDED \(1 attempt\) → /);
  expect(readFileSync(log, "utf8")).toBe("start 2024-05-07\nend 2024-05-07\n");

  expect((await run(local("pending", "joined"))).out).toBe("joined: no pending groups\n");
  const executions = await run(local("executions", "joined"));
  expect(executions.code).toBe(0);
  expect(executions.out.trim().split("\n")).toHaveLength(2);
  expect(executions.out).toMatch(/joined-\S+\s+2024-05-07\s+SUCCEEDED\s+1/);
  const records = JSON.parse((await run(local("executions", "joined", "--json"))).out);
  expect(records).toEqual([
    expect.objectContaining({ status: "SUCCEEDED", dimensions: { day: "2024-05-07" } }),
  ]);

  const poll = await run(local("poll", "joined", "2024-05-07"));
  expect(poll).toEqual({ code: 0, out: `${records[0].path}\n`, err: "" });
  expect(records[0].path).toBe(join(dir, "internal_data", "joined", "2024-05-07"));
  expect(existsSync(join(records[0].path, "_SUCCESS"))).toBe(true);
  expect(JSON.parse((await run(local("poll", "joined", "2024-05-07", "--json"))).out)).toEqual({
    path: records[0].path,
  });
  expect((await run(local("poll", "joined", "2024-05-08"))).out).toBe(
    "joined day=2024-05-08: no finished execution yet\n",
  );
  // The virtual clock is kept next to the state.
  expect(JSON.parse(readFileSync(join(dir, ".sluice", "clock.json"), "utf8"))).toEqual({
    now: expect.any(Number),
    iso: expect.any(String),
  });
});

test("a duplicate of the first event in a later run does not execute twice", async () => {
  await run(local("process", "a", "2024-05-07"));
  await run(local("process", "b", "2024-05-07"));
  await run(local("process", "b", "2024-05-07"));
  const records = JSON.parse((await run(local("executions", "joined", "--json"))).out);
  expect(records).toHaveLength(1);
});

test("execute runs one partition; a failing one exits 4 and poll reports it", async () => {
  const ok = await run(local("execute", "joined", "2024-05-01"));
  expect(ok.code).toBe(0);
  expect(ok.out).toMatch(/^joined-\S+ day=2024-05-01 SUCCEEDED \(1 attempt\) → .*2024-05-01\n$/);

  const failed = await run(local("execute", "joined", "2024-05-03", "--json"));
  expect(failed.code).toBe(4);
  expect(JSON.parse(failed.out)).toMatchObject({
    status: "FAILED",
    error: expect.stringContaining("no data"),
  });
  const poll = await run(local("poll", "joined", "2024-05-03"));
  expect(poll.code).toBe(4);
  expect(poll.out).toContain("joined day=2024-05-03: the latest execution did not succeed");
  expect(poll.out).toMatch(/FAILED \(1 attempt\): .*no data for 2024-05-03/);
});

test("backfill over 5 days with concurrency 2: 5 executions, at most 2 at a time, a summary", async () => {
  const r = await run(
    local("backfill", "joined", "--from", "2024-05-04", "--to", "2024-05-08", "--concurrency", "2"),
  );
  expect(r.code).toBe(0);
  // Not a terminal: one plain progress line per finished execution.
  const progress = r.err.trim().split("\n");
  expect(progress).toHaveLength(5);
  expect(progress[4]).toMatch(/^\[5\/5\] joined day=2024-05-\d\d SUCCEEDED \d+(ms|\.\ds)$/);
  const lines = r.out.trim().split("\n");
  expect(lines[0]).toMatch(/^day\s+status\s+attempts\s+duration\s+error$/);
  expect(lines.slice(1, 6).map((l) => l.split(/\s+/).slice(0, 3))).toEqual(
    ["04", "05", "06", "07", "08"].map((d) => [`2024-05-${d}`, "SUCCEEDED", "1"]),
  );
  expect(lines[6]).toBe("joined: 5 executions: 5 succeeded");
  expect(maxConcurrent()).toBe(2);
  expect(readFileSync(log, "utf8").match(/^start/gm)).toHaveLength(5);
  expect(JSON.parse((await run(local("executions", "joined", "--json"))).out)).toHaveLength(5);
});

test("backfill --json: parseable, nothing on stderr", async () => {
  const r = await run(
    local("backfill", "joined", "--from", "2024-05-04", "--to", "2024-05-08", "--concurrency", "2", "--json"),
  );
  expect(r.code).toBe(0);
  expect(r.err).toBe("");
  const summary = JSON.parse(r.out);
  expect(summary).toMatchObject({
    node: "joined",
    dimension: "day",
    from: "2024-05-04",
    to: "2024-05-08",
    concurrency: 2,
    counts: { total: 5, succeeded: 5 },
  });
  expect(summary.executions).toHaveLength(5);
  expect(summary.executions[0]).toEqual({
    id: expect.stringMatching(/^joined-/),
    dimensions: { day: "2024-05-04" },
    status: "SUCCEEDED",
    attempts: 1,
    durationMs: expect.any(Number),
    path: join(dir, "internal_data", "joined", "2024-05-04"),
  });
});

test("backfill with a failing day exits 4 and lists it", async () => {
  const r = await run(
    local("backfill", "joined", "--from", "2024-05-01", "--to", "2024-05-05", "--concurrency", "3"),
  );
  expect(r.code).toBe(4);
  expect(r.out).toMatch(/2024-05-03\s+FAILED\s+1\s+\S+\s+.*no data for 2024-05-03/);
  expect(r.out).toContain("joined: 5 executions: 4 succeeded, 1 failed");
  expect(r.err).toMatch(/joined day=2024-05-03 FAILED .*no data for 2024-05-03/);
  const json = JSON.parse(
    (await run(local("backfill", "joined", "--from", "2024-05-03", "--to", "2024-05-03", "--json"))).out,
  );
  expect(json.counts).toEqual({ total: 1, failed: 1 });
});

test("backfill on a terminal draws a progress bar", async () => {
  const r = await run(local("backfill", "joined", "--from", "2024-05-04", "--to", "2024-05-05"), {
    tty: true,
  });
  expect(r.code).toBe(0);
  expect(r.err).toContain("\r");
  expect(r.err).toMatch(/joined [█░]{30} 2\/2\n$/);
});

test("backfill over other dimensions: their declared filter, or --fixed", async () => {
  const all = await run(
    local(
      "backfill",
      "per_region",
      "--from",
      "2024-05-01",
      "--to",
      "2024-05-02",
      "--dimension",
      "day",
      "--json",
    ),
  );
  expect(all.code).toBe(2);
  expect(all.err).toBe(
    'sluice local: node "per_region", dimension "n" declares no values to backfill over: give them with --fixed n=VALUE\n',
  );
  const r = await run(
    local(
      "backfill",
      "per_region",
      "--from",
      "2024-05-01",
      "--to",
      "2024-05-02",
      "--dimension",
      "day",
      "--fixed",
      "n=1,2",
      "--json",
    ),
  );
  expect(r.code).toBe(0);
  const dims = JSON.parse(r.out).executions.map((e: { dimensions: unknown }) => e.dimensions);
  expect(dims).toHaveLength(8);
  expect(dims[0]).toEqual({ region: "EU", n: 1, day: "2024-05-01" });
  expect(dims.slice(0, 4).every((d: { day: string }) => d.day === "2024-05-01")).toBe(true);
  const fixed = await run(
    local(
      "backfill",
      "per_region",
      "--from",
      "2024-05-01",
      "--to",
      "2024-05-02",
      "--dimension",
      "day",
      "--fixed",
      "region=NA,n=7",
      "--json",
    ),
  );
  expect(JSON.parse(fixed.out).executions.map((e: { dimensions: unknown }) => e.dimensions)).toEqual([
    { region: "NA", n: 7, day: "2024-05-01" },
    { region: "NA", n: 7, day: "2024-05-02" },
  ]);
});

test.each([
  [["process", "nope", "2024-05-07"], 'unknown node "nope" (nodes: a, b, ev, joined, per_region)'],
  [["process", "a"], 'node "a" takes 1 value (day: DATETIME %Y-%m-%d, in this order), got 0'],
  [
    ["process", "a", "2024-05-07", "x"],
    'node "a" takes 1 value (day: DATETIME %Y-%m-%d, in this order), got 2: 2024-05-07 x',
  ],
  [
    ["process", "a", "2024-13-01"],
    'node "a", dimension "day" (DATETIME %Y-%m-%d): value "2024-13-01" does not match format "%Y-%m-%d": month 13 is out of range',
  ],
  [
    ["execute", "per_region", "NA", "one", "2024-05-01"],
    'node "per_region", dimension "n" (LONG): expected a LONG, got "one"',
  ],
  [
    ["execute", "a", "2024-05-01"],
    'node "a" (s3Dataset) is not a data node: execute takes one of joined, per_region',
  ],
  [["poll", "joined"], 'node "joined" takes 1 value (day: DATETIME %Y-%m-%d, in this order), got 0'],
  [
    ["frobnicate"],
    'unknown action "frobnicate" (actions: process, execute, poll, pending, facts, executions, status, backfill)',
  ],
  [
    ["backfill", "joined", "--from", "2024-05-03"],
    'backfill needs --from and --to (values of "day", %Y-%m-%d, inclusive)',
  ],
  [
    ["backfill", "joined", "--from", "2024-05-03", "--to", "2024-05-01"],
    "--from 2024-05-03 is after --to 2024-05-01",
  ],
  [
    ["backfill", "joined", "--from", "2024-05-01", "--to", "2024-05-02", "--concurrency", "x"],
    '--concurrency must be an integer from 1 to 100, got "x"',
  ],
  [["pending", "joined", "2024-05-01"], 'pending takes only <node>, got also "2024-05-01"'],
  [
    ["process", "a", "2024-05-01", "--datasets", "zz=/tmp"],
    '--datasets: "zz" is not an s3Dataset or glueTable of the flow (a, b, ev)',
  ],
])("%j → one-line error, exit 2", async (args, message) => {
  const r = await run(local(...args));
  expect(r).toEqual({ code: 2, out: "", err: `sluice local: ${message}\n` });
  expect(existsSync(log)).toBe(false);
});

test("--dir is required; a state folder in use is refused with exit 4", async () => {
  const noDir = await run(["local", flow, "pending", "joined"]);
  expect(noDir.code).toBe(2);
  expect(noDir.err).toBe(
    "sluice local: --dir DIR is required: the folder that keeps the local state and data between runs\n",
  );

  await run(local("pending", "joined"));
  const lock = join(dir, ".sluice", "state", "LOCK");
  writeFileSync(lock, `${process.pid}\n`); // a live process holds it
  const busy = await run(local("pending", "joined"));
  expect(busy.code).toBe(4);
  expect(busy.err).toMatch(/^sluice local: .* is in use by another sluice process \(pid \d+\); .*\n$/);
  writeFileSync(lock, "999999999\n"); // a process that is gone: taken over
  expect((await run(local("pending", "joined"))).code).toBe(0);
  expect(existsSync(lock)).toBe(false);
});

test("sluice help lists the local command", async () => {
  expect((await run(["help"])).out).toMatch(/^ {2}local {6}the flow on this machine/m);
  expect((await run(["help", "local"])).out).toContain("local <flow.ts> <action>");
  expect((await run(["local", "--help"])).out).toContain("pending <node>");
});

describe("pending and facts: what a node waits for, by name", () => {
  let rangeFlow: string;
  beforeEach(() => {
    rangeFlow = join(tmp, "range-flow.ts");
    writeFileSync(
      rangeFlow,
      `import { Application, dim, inline, range } from "sluice";
       const app = new Application("pending-cli", { account: "111122223333", region: "us-east-1" });
       const clicks = app.s3Dataset("clicks", {
         bucket: "raw-clicks",
         partitions: ["region={}", "{}"],
         dimensions: { region: dim.string(), day: dim.datetime() },
         filter: { region: ["NA", "EU", "JP"] },
       });
       const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
       app.data("w", {
         inputs: { t: daily, last3: clicks.at("NA", range(-3)).rangeCheck() },
         output: { day: dim.datetime() },
         compute: inline(async () => undefined),
       });
       app.data("joined", {
         inputs: [daily, clicks],
         output: { region: dim.string(), day: dim.datetime() },
         compute: inline(async () => undefined),
       });
       export default app;`,
    );
  });
  const ranged = (...args: string[]): string[] => ["local", rangeFlow, ...args, "--dir", dir];

  test("a range check names the partitions it still waits for; facts are listed separately", async () => {
    for (const day of ["2024-05-07", "2024-05-05"]) {
      const marker = join(dir, "external", "clicks", "region=NA", day);
      mkdirSync(marker, { recursive: true });
      writeFileSync(join(marker, "_SUCCESS"), "");
    }
    expect((await run(ranged("process", "daily", "2024-05-07"))).code).toBe(0);
    expect((await run(ranged("process", "clicks", "NA", "2024-05-07"))).code).toBe(0);

    const text = await run(ranged("pending", "w"));
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^day\s+received\s+missing\s+state\s+created\s+expires$/m);
    expect(text.out).toMatch(/^2024-05-07\s+t,last3\s+-\s+waiting\s/m);
    // Times are real times: the state folder's virtual clock starts at, and keeps up with, the real time.
    const created = /waiting\s+(\S+Z)/.exec(text.out)?.[1] as string;
    expect(Math.abs(Date.parse(created) - Date.now())).toBeLessThan(10 * 60_000);
    expect(text.out).toMatch(/^day=2024-05-07: waits for 1 missing partition: \S*region=NA\/2024-05-06$/m);

    const json = JSON.parse((await run(ranged("pending", "w", "--json"))).out);
    expect(json.node).toBe("w");
    expect(json.groups).toEqual([
      expect.objectContaining({
        dimensions: { day: "2024-05-07" },
        received: ["t", "last3"],
        missing: [],
        state: "waiting",
        missingPartitions: [expect.stringMatching(/region=NA\/2024-05-06$/)],
      }),
    ]);

    // The timer of 2024-05-07 is a live fact of "joined": it pins the day for every region.
    const facts = await run(ranged("facts", "joined"));
    expect(facts.code).toBe(0);
    expect(facts.out).toMatch(/^live facts of joined:$/m);
    expect(facts.out).toMatch(/^daily\s+day=2024-05-07\s+day=2024-05-07\s+\S+Z\s+\S+Z$/m);
    const factsJson = JSON.parse((await run(ranged("facts", "joined", "--json"))).out);
    expect(factsJson).toEqual({
      node: "joined",
      facts: [
        expect.objectContaining({
          input: "daily",
          dimensions: { day: "2024-05-07" },
          pins: { day: "2024-05-07" },
        }),
      ],
    });
    // pending of joined: the NA group of the clicks event (whole partition, never "*"), and the fact.
    const joined = JSON.parse((await run(ranged("pending", "joined", "--json"))).out);
    for (const g of joined.groups) {
      expect(Object.keys(g.dimensions).sort()).toEqual(["day", "region"]);
      expect(Object.values(g.dimensions)).not.toContain("*");
    }
    expect(joined.facts).toHaveLength(1);
  });

  test("a value outside the filter is a usage error that lists the filter", async () => {
    const r = await run(ranged("process", "clicks", "XX", "2024-05-07"));
    expect(r).toEqual({
      code: 2,
      out: "",
      err: 'sluice local: node "clicks", dimension "region": XX is not in the filter (NA, EU, JP)\n',
    });
  });
});

test("local and remote share one backfill planner: a LONG range, --fixed deduplicated, one cap", async () => {
  const r = await run(
    local(
      "backfill",
      "per_region",
      "--dimension",
      "n",
      "--from",
      "1",
      "--to",
      "2",
      "--fixed",
      "region=NA,NA,day=2024-05-01",
      "--json",
    ),
  );
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).executions.map((e: { dimensions: unknown }) => e.dimensions)).toEqual([
    { region: "NA", n: 1, day: "2024-05-01" },
    { region: "NA", n: 2, day: "2024-05-01" },
  ]);
  const big = await run(local("backfill", "joined", "--from", "2000-01-01", "--to", "2099-01-01"));
  expect(big).toEqual({
    code: 2,
    out: "",
    err: "sluice local: --from 2000-01-01 --to 2099-01-01 is more than 10000 values; split it\n",
  });
});

test("--datasets: a folder that does not exist is a usage error", async () => {
  const missing = join(tmp, "nope");
  expect(await run(local("process", "a", "2024-05-01", "--datasets", `a=${missing}`))).toEqual({
    code: 2,
    out: "",
    err: `sluice local: --datasets: the folder of "a", ${missing}, does not exist\n`,
  });
});

test("status: per data node, pending groups and what they wait for, the last executions, failures", async () => {
  expect((await run(local("process", "a", "2024-05-03"))).code).toBe(0);
  expect((await run(local("process", "b", "2024-05-03"))).code).toBe(4); // the compute fails on 05-03
  expect((await run(local("process", "a", "2024-05-04"))).code).toBe(0);
  const r = await run(local("status"));
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^now: \S+Z$/m);
  expect(r.out).toContain("\njoined: 1 execution, 1 failed, 1 pending group\n");
  expect(r.out).toContain("  pending day=2024-05-04: pending, received a; waits for inputs b\n");
  expect(r.out).toMatch(/^ {2}joined-\S+ day=2024-05-03 FAILED \(1 attempt\): .*no data for 2024-05-03$/m);
  expect(r.out).toContain("\nper_region: 0 executions, 0 failed, 0 pending groups\n");
  const json = JSON.parse((await run(local("status", "joined", "--json"))).out);
  expect(json.nodes).toEqual([
    expect.objectContaining({
      node: "joined",
      executions: 1,
      failed: 1,
      groups: [expect.objectContaining({ dimensions: { day: "2024-05-04" }, missing: ["b"] })],
    }),
  ]);
  expect((await run(local("status", "a"))).err).toBe(
    'sluice local: node "a" (s3Dataset) is not a data node: status takes one of joined, per_region\n',
  );
});

test("a project config gives the default flow and --dir; the command line wins; typos are errors", async () => {
  const cwd = process.cwd();
  process.chdir(tmp);
  try {
    writeFileSync(join(tmp, "sluice.config.json"), JSON.stringify({ flow: "flow.ts", dir: "state" }));
    expect((await run(["local", "process", "a", "2024-05-07"])).code).toBe(0);
    const pending = await run(["local", "pending", "joined", "--json"]);
    expect(JSON.parse(pending.out).groups).toEqual([
      expect.objectContaining({ dimensions: { day: "2024-05-07" }, received: ["a"] }),
    ]);
    expect(existsSync(join(dir, ".sluice", "state"))).toBe(true); // dir is tmp/state
    expect((await run(["validate"])).out).toBe(`${flow}: valid (5 nodes)\n`);
    // An explicit flow and --dir win over the config.
    const other = join(tmp, "other");
    expect((await run(["local", flow, "pending", "joined", "--dir", other])).out).toBe(
      "joined: no pending groups\n",
    );

    writeFileSync(join(tmp, "sluice.config.json"), JSON.stringify({ flow: "flow.ts", dirs: "state" }));
    expect(await run(["validate"])).toEqual({
      code: 2,
      out: "",
      err: 'sluice validate: sluice.config.json: unknown key "dirs" (did you mean "dir"?) (keys: flow, dir, datasets, env)\n',
    });
    rmSync(join(tmp, "sluice.config.json"));
    writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "p", sluice: { flow: "flow.ts" } }));
    expect((await run(["validate"])).code).toBe(0);
  } finally {
    process.chdir(cwd);
  }
});
