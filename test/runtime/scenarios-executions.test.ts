/**
 * Execution scenarios of the router, run end to end in LocalRuntime: retries and their virtual
 * backoff, transient engine errors, engines that are polled, kill, skip-while-running, targets in
 * order, chains, execute() (reverse links, recursive), pySpark overrides, hooks, checkpoints and the
 * inline context. Engines that LocalRuntime cannot run are replaced by fakes through `engines`.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Application,
  dim,
  HOOK_NAMES,
  inline,
  link,
  LocalRuntime,
  map,
  pySpark,
  range,
  shift,
  sparkSql,
  type Dispatcher,
  type DispatchRequest,
  type DispatchResult,
  type ExecutionRecord,
  type HookEvent,
  type HookName,
  type InlineContext,
  type InlineInput,
  type LocalRuntimeOptions,
} from "sluice";
import { DEFAULT_RETRY_POLICY } from "../../src/runtime-bundle/core/hooks";

const DAY = "2024-05-07";

// ------------------------------------------------------------------ helpers

/** A promise the test opens: a fake engine's poll waits on it, so a job stays RUNNING until told. */
class Gate {
  private opened = false;
  private readonly waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return this.opened ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }
}

type Reply = DispatchResult | Promise<DispatchResult>;

/** A scripted engine (Glue stand-in): records every start, poll and kill. */
class FakeEngine implements Dispatcher {
  readonly starts: DispatchRequest[] = [];
  readonly polls: string[] = [];
  readonly kills: { handle: string; request: DispatchRequest }[] = [];
  readonly gate = new Gate();

  constructor(
    private readonly onStart: (n: number, request: DispatchRequest) => Reply,
    private readonly onPoll: (n: number, handle: string) => Reply = () => ({ status: "SUCCEEDED" }),
  ) {
    engines.push(this);
  }

  async start(request: DispatchRequest): Promise<DispatchResult> {
    this.starts.push(request);
    return this.onStart(this.starts.length, request);
  }

  async poll(handle: string): Promise<DispatchResult> {
    this.polls.push(handle);
    return this.onPoll(this.polls.length, handle);
  }

  async kill(handle: string, request: DispatchRequest): Promise<void> {
    this.kills.push({ handle, request });
  }
}

const RUNNING = (handle: string): DispatchResult => ({ status: "RUNNING", handle });

const runtimes: LocalRuntime[] = [];
const engines: FakeEngine[] = [];

afterEach(async () => {
  // Release fakes that a failed test left blocked, so stop() can wait for their work.
  for (const e of engines.splice(0)) e.gate.open();
  for (const rt of runtimes.splice(0)) await rt.stop();
  jest.restoreAllMocks();
});

async function start(app: Application, options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const rt = await LocalRuntime.start(app, options);
  runtimes.push(rt);
  return rt;
}

function newApp(name = "scenarios"): Application {
  return new Application(name, { account: "111122223333", region: "us-east-1" });
}

function eventsOf(app: Application, id = "events") {
  return app.s3Dataset(id, {
    bucket: "raw",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime() },
  });
}

/** Lets background work (`wait: false`) run until `cond` holds; fails instead of hanging. */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function only(rt: LocalRuntime, node: { id: string }): Promise<ExecutionRecord> {
  const all = await rt.executions(node);
  expect(all).toHaveLength(1);
  return all[0] as ExecutionRecord;
}

interface HookCall {
  readonly name: string;
  readonly event: HookEvent;
  readonly ctx: InlineContext;
}

/** Every hook of a node, each recording its call into `log`. */
function recordingHooks(log: HookCall[], names: readonly HookName[] = HOOK_NAMES) {
  return Object.fromEntries(
    names.map((name) => [
      name,
      (event: HookEvent, ctx: InlineContext) => {
        log.push({ name, event, ctx });
      },
    ]),
  );
}

// ------------------------------------------------------------------ retries

describe("retries of user errors", () => {
  test("throws on attempts 1-2, succeeds on 3 with retries: 2; backoff on the virtual clock", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const attempts: number[] = [];
    const log: HookCall[] = [];
    const flaky = app.data("flaky", {
      inputs: [events],
      retries: 2,
      compute: inline(async (_inputs, _output, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error(`boom on attempt ${ctx.attempt}`);
      }),
      hooks: recordingHooks(log, ["onComputeRetry", "onComputeFailure", "onFailure", "onSuccess"]),
    });
    const rt = await start(app);
    const t0 = rt.now();
    const realStart = Date.now();
    await rt.process(events.at("NA", DAY));

    const rec = await only(rt, flaky);
    expect(rec).toMatchObject({ status: "SUCCEEDED", attempts: 3 });
    expect(rec.targets).toEqual([expect.objectContaining({ kind: "inline", status: "SUCCEEDED" })]);
    expect(rec.targets[0]?.error).toBeUndefined();
    expect(attempts).toEqual([1, 2, 3]);
    expect(log.map((c) => [c.name, c.event.error, c.ctx.attempt])).toEqual([
      ["onComputeRetry", "boom on attempt 1", 2],
      ["onComputeRetry", "boom on attempt 2", 3],
      ["onSuccess", undefined, 3],
    ]);
    expect(rt.metrics(flaky)).toMatchObject({ ComputeRetry: 2, ExecutionSuccess: 1, ExecutionBegin: 1 });
    expect(rt.metrics(flaky).ExecutionFailure).toBeUndefined();
    expect(rt.metrics(flaky).ComputeFailure).toBeUndefined();
    // The backoff passed on the virtual clock only.
    const backoff = DEFAULT_RETRY_POLICY.userBackoffMs(2) + DEFAULT_RETRY_POLICY.userBackoffMs(3);
    expect(backoff).toBeGreaterThanOrEqual(60_000);
    expect(rt.now() - t0).toBe(backoff);
    expect((rec.endedAt ?? 0) - rec.startedAt).toBe(backoff);
    expect(Date.now() - realStart).toBeLessThan(5_000);
    expect((await rt.poll(flaky.at("NA", DAY))).path).toBe(rec.path);
  });

  test("with retries: 1 the same compute fails; poll returns the records with the error", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const log: HookCall[] = [];
    const downstreamRan: string[] = [];
    const flaky = app.data("flaky", {
      inputs: [events],
      retries: 1,
      compute: inline(async (_inputs, _output, ctx) => {
        if (ctx.attempt < 3) throw new Error(`boom on attempt ${ctx.attempt}`);
      }),
      hooks: recordingHooks(log),
    });
    const after = app.data("after", {
      inputs: [flaky],
      compute: inline(async () => {
        downstreamRan.push("after");
      }),
    });
    const rt = await start(app);
    const t0 = rt.now();
    await rt.process(events.at("NA", DAY));

    const polled = await rt.poll(flaky.at("NA", DAY));
    expect(polled.path).toBeUndefined();
    expect(polled.records).toHaveLength(1);
    const rec = polled.records?.[0] as ExecutionRecord;
    expect(rec).toMatchObject({
      status: "FAILED",
      attempts: 2,
      error: "boom on attempt 2",
      dimensions: { region: "NA", day: DAY },
      targets: [{ kind: "inline", status: "FAILED", error: "boom on attempt 2" }],
    });
    expect(rec.endedAt).toBe(t0 + DEFAULT_RETRY_POLICY.userBackoffMs(2));
    expect(rt.now() - t0).toBe(DEFAULT_RETRY_POLICY.userBackoffMs(2));
    expect(log.map((c) => c.name)).toEqual([
      "onPendingCreated",
      "onExecBegin",
      "onComputeRetry",
      "onComputeFailure",
      "onFailure",
    ]);
    const failure = log.find((c) => c.name === "onFailure") as HookCall;
    expect(failure.event).toEqual({
      node: "flaky",
      hook: "onFailure",
      dimensions: { region: "NA", day: DAY },
      executionId: rec.id,
      error: "boom on attempt 2",
    });
    expect(log.find((c) => c.name === "onComputeFailure")?.event.error).toBe("boom on attempt 2");
    expect(rt.metrics(flaky)).toMatchObject({ ExecutionFailure: 1, ComputeFailure: 1, ComputeRetry: 1 });
    expect(rt.metrics(flaky).ExecutionSuccess).toBeUndefined();
    expect(rt.metrics()).toMatchObject({ ExecutionsFailed: 1 });
    expect(existsSync(join(rec.path, "_SUCCESS"))).toBe(false);
    expect(downstreamRan).toEqual([]);
    expect(await rt.executions(after)).toEqual([]);
  });
});

// ------------------------------------------------------------------ transient engine errors

describe("transient engine errors", () => {
  test("retried with their own backoff and not counted as attempts", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const glue = new FakeEngine((n) =>
      n <= 3
        ? { status: "FAILED", error: "ThrottlingException: Rate exceeded", transient: true }
        : { status: "SUCCEEDED" },
    );
    const job = app.data("job", { inputs: [events], compute: sparkSql("SELECT * FROM events") });
    const rt = await start(app, { engines: { glue } });
    const t0 = rt.now();
    await rt.process(events.at("EU", DAY));

    const rec = await only(rt, job);
    expect(rec).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    expect(rec.targets).toEqual([{ kind: "sparkSql", engine: "glue", status: "SUCCEEDED" }]);
    expect(glue.starts).toHaveLength(4);
    expect(glue.starts.map((r) => r.attempt)).toEqual([1, 1, 1, 1]);
    const { transientBackoffMs } = DEFAULT_RETRY_POLICY;
    expect(rt.now() - t0).toBe(transientBackoffMs(1) + transientBackoffMs(2) + transientBackoffMs(3));
    expect(rt.metrics(job)).toMatchObject({ ExecutionSuccess: 1, ComputeSuccess: 1 });
    expect(rt.metrics(job).ExecutionFailure).toBeUndefined();
  });

  test("transient forever: FAILED once the execution is older than 24 h", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const glue = new FakeEngine(() => ({
      status: "FAILED",
      error: "ConcurrentRunsExceededException",
      transient: true,
    }));
    const job = app.data("job", { inputs: [events], compute: sparkSql("SELECT * FROM events") });
    const rt = await start(app, { engines: { glue } });
    const realStart = Date.now();
    await rt.process(events.at("EU", DAY));

    const rec = await only(rt, job);
    expect(rec).toMatchObject({ status: "FAILED", attempts: 1, error: "ConcurrentRunsExceededException" });
    expect(rec.targets[0]).toMatchObject({ status: "FAILED", error: "ConcurrentRunsExceededException" });
    const age = (rec.endedAt ?? 0) - rec.startedAt;
    expect(age).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.maxTransientAgeMs);
    expect(age).toBeLessThan(
      DEFAULT_RETRY_POLICY.maxTransientAgeMs + DEFAULT_RETRY_POLICY.transientBackoffMs(99),
    );
    expect(glue.starts.length).toBeGreaterThan(10);
    expect(glue.starts.every((r) => r.attempt === 1)).toBe(true);
    expect(rt.metrics(job)).toMatchObject({ ExecutionFailure: 1, ComputeFailure: 1 });
    expect((await rt.poll(job.at("EU", DAY))).records?.[0]?.status).toBe("FAILED");
    expect(Date.now() - realStart).toBeLessThan(5_000);
  });
});

// ------------------------------------------------------------------ engines that are polled

describe("asynchronous engines", () => {
  test("RUNNING with a handle is polled; process() resolves once it and its downstream finished", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const glue = new FakeEngine(
      () => RUNNING("jr_0001"),
      (n) => (n < 2 ? RUNNING("jr_0001") : { status: "SUCCEEDED" }),
    );
    const job = app.data("job", { inputs: [events], compute: sparkSql("SELECT * FROM events") });
    const seen: string[] = [];
    const after = app.data("after", {
      inputs: [job],
      compute: inline(async (_i, output) => {
        seen.push(JSON.stringify(output.dimensions));
      }),
    });
    const rt = await start(app, { engines: { glue } });
    const t0 = rt.now();
    await rt.process(events.at("NA", DAY));

    expect(glue.polls).toEqual(["jr_0001", "jr_0001"]);
    expect(rt.now() - t0).toBe(2 * DEFAULT_RETRY_POLICY.pollIntervalMs);
    const rec = await only(rt, job);
    expect(rec.status).toBe("SUCCEEDED");
    expect(rec.targets[0]).toMatchObject({ status: "SUCCEEDED" });
    expect(seen).toEqual([JSON.stringify({ region: "NA", day: DAY })]);
    expect((await only(rt, after)).status).toBe("SUCCEEDED");
  });

  test("{ wait: false } returns while the execution is RUNNING; stop() lets it finish", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const glue: FakeEngine = new FakeEngine(
      () => RUNNING("jr_0002"),
      async (n) => {
        await glue.gate.wait();
        return n < 2 ? RUNNING("jr_0002") : { status: "SUCCEEDED" };
      },
    );
    const job = app.data("job", { inputs: [events], compute: sparkSql("SELECT * FROM events") });
    const after = app.data("after", { inputs: [job], compute: inline(async () => {}) });
    const rt = await start(app, { engines: { glue } });
    const outcome = await rt.process(events.at("NA", DAY), { wait: false });

    expect(outcome.executions).toHaveLength(1);
    expect((await only(rt, job)).status).toBe("RUNNING");
    await until(() => glue.polls.length === 1, "the first poll");
    expect((await only(rt, job)).targets[0]).toMatchObject({ status: "RUNNING", handle: "jr_0002" });
    expect(await rt.poll(job.at("NA", DAY))).toEqual({});
    expect(await rt.executions(after)).toEqual([]);

    glue.gate.open();
    await rt.stop();
    expect((await only(rt, job)).status).toBe("SUCCEEDED");
    expect((await only(rt, after)).status).toBe("SUCCEEDED");
    expect(glue.polls).toHaveLength(2);
  });
});

// ------------------------------------------------------------------ kill

test("kill: KILLED, the engine job killed by handle, poll shows it, downstream not triggered", async () => {
  const app = newApp();
  const events = eventsOf(app);
  const glue: FakeEngine = new FakeEngine(
    () => RUNNING("jr_kill"),
    async () => {
      await glue.gate.wait();
      return RUNNING("jr_kill");
    },
  );
  const slow = app.data("slow", { inputs: [events], compute: sparkSql("SELECT * FROM events") });
  const after = app.data("after", { inputs: [slow], compute: inline(async () => {}) });
  const rt = await start(app, { engines: { glue } });
  expect(await rt.kill(slow.at("NA", DAY))).toBeUndefined(); // nothing to kill yet

  await rt.process(events.at("NA", DAY), { wait: false });
  await until(() => glue.polls.length === 1, "the first poll");
  const killed = await rt.kill(slow.at("NA", DAY));

  expect(killed).toMatchObject({ status: "KILLED", node: "slow", dimensions: { region: "NA", day: DAY } });
  expect(killed?.targets).toEqual([expect.objectContaining({ status: "KILLED", handle: "jr_kill" })]);
  expect(glue.kills.map((k) => k.handle)).toEqual(["jr_kill"]);
  expect(glue.kills[0]?.request.executionId).toBe(killed?.id);
  const polled = await rt.poll(slow.at("NA", DAY));
  expect(polled.path).toBeUndefined();
  expect(polled.records?.map((r) => r.status)).toEqual(["KILLED"]);

  // The engine's late answer does not revive it.
  glue.gate.open();
  await rt.stop();
  expect((await only(rt, slow)).status).toBe("KILLED");
  expect(glue.polls).toHaveLength(1);
  expect(existsSync(join(killed?.path ?? "", "_SUCCESS"))).toBe(false);
  expect(await rt.executions(after)).toEqual([]);
  expect(await rt.pending(after)).toEqual([]);
  // Nothing is active any more: a second kill finds nothing and changes nothing.
  expect(await rt.kill(slow.at("NA", DAY))).toBeUndefined();
  expect(glue.kills).toHaveLength(1);
  expect((await only(rt, slow)).status).toBe("KILLED");
});

// ------------------------------------------------------------------ skip while running

test("skip-while-running: a second execution of a RUNNING output is SKIPPED", async () => {
  const app = newApp();
  const events = eventsOf(app);
  const log: HookCall[] = [];
  const glue: FakeEngine = new FakeEngine(
    () => RUNNING("jr_skip"),
    async () => {
      await glue.gate.wait();
      return { status: "SUCCEEDED" };
    },
  );
  const slow = app.data("slow", {
    inputs: [events],
    compute: sparkSql("SELECT * FROM events"),
    hooks: recordingHooks(log, ["onExecBegin", "onExecSkipped"]),
  });
  const rt = await start(app, { engines: { glue } });
  await rt.process(events.at("NA", DAY), { wait: false });
  await until(() => glue.polls.length === 1, "the first poll");
  const [first] = await rt.executions(slow);

  const second = await rt.execute(slow.at("NA", DAY), { wait: false });
  expect(second).toMatchObject({ status: "SKIPPED", dimensions: { region: "NA", day: DAY } });
  expect(second.id).not.toBe(first?.id);
  expect(second.targets.map((t) => t.status)).toEqual(["SKIPPED"]);
  // The same event again (its group was consumed) is skipped too.
  const again = await rt.process(events.at("NA", DAY), { wait: false });
  expect(again.executions).toHaveLength(1);

  expect(log.map((c) => c.name)).toEqual(["onExecBegin", "onExecSkipped", "onExecSkipped"]);
  expect(log[1]?.event).toEqual({
    node: "slow",
    hook: "onExecSkipped",
    dimensions: { region: "NA", day: DAY },
    executionId: second.id,
  });
  expect(rt.metrics(slow)).toMatchObject({ ExecutionSkipped: 2, ExecutionBegin: 1 });
  expect(glue.starts).toHaveLength(1);
  // A different output partition is not affected.
  const other = await rt.execute(slow.at("EU", DAY), { wait: false });
  expect(other.status).toBe("RUNNING");

  glue.gate.open();
  await rt.stop();
  const all = await rt.executions(slow);
  expect(all.map((r) => r.status).sort()).toEqual(["SKIPPED", "SKIPPED", "SUCCEEDED", "SUCCEEDED"]);
  expect(all.find((r) => r.id === first?.id)?.status).toBe("SUCCEEDED");
  expect((await rt.poll(slow.at("NA", DAY))).path).toBe(first?.path);
});

// ------------------------------------------------------------------ targets in order

describe("compute targets", () => {
  test("run in declaration order, across engines", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const order: string[] = [];
    const glue = new FakeEngine((_n, r) => {
      order.push(`glue#${r.targetIndex}`);
      return { status: "SUCCEEDED" };
    });
    const multi = app.data("multi", {
      inputs: [events],
      compute: [
        inline(async () => {
          order.push("inline#0");
        }),
        sparkSql("SELECT * FROM events"),
        inline(async () => {
          order.push("inline#2");
        }),
      ],
    });
    const rt = await start(app, { engines: { glue } });
    await rt.process(events.at("NA", DAY));
    expect(order).toEqual(["inline#0", "glue#1", "inline#2"]);
    const rec = await only(rt, multi);
    expect(rec.status).toBe("SUCCEEDED");
    expect(rec.targets.map((t) => [t.kind, t.engine, t.status])).toEqual([
      ["inline", "lambda", "SUCCEEDED"],
      ["sparkSql", "glue", "SUCCEEDED"],
      ["inline", "lambda", "SUCCEEDED"],
    ]);
    expect(rt.metrics(multi)).toMatchObject({ ComputeSuccess: 3, ExecutionSuccess: 1 });
  });

  test("a failing second target stops the execution; per-target statuses are recorded", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const order: string[] = [];
    const stops = app.data("stops", {
      inputs: [events],
      compute: [
        inline(async () => {
          order.push("first");
        }),
        inline(async () => {
          order.push("second");
          throw new Error("second target broke");
        }),
        inline(async () => {
          order.push("third");
        }),
      ],
    });
    const rt = await start(app);
    await rt.process(events.at("NA", DAY));
    expect(order).toEqual(["first", "second"]);
    const rec = await only(rt, stops);
    expect(rec).toMatchObject({ status: "FAILED", error: "second target broke" });
    expect(rec.targets[0]).toEqual({ kind: "inline", engine: "lambda", status: "SUCCEEDED" });
    expect(rec.targets[1]).toEqual({
      kind: "inline",
      engine: "lambda",
      status: "FAILED",
      error: "second target broke",
    });
    // The third never ran: not SUCCEEDED, and no error of its own.
    expect(rec.targets[2]?.status).not.toBe("SUCCEEDED");
    expect(rec.targets[2]?.error).toBeUndefined();
    expect(rt.metrics(stops)).toMatchObject({ ComputeSuccess: 1, ComputeFailure: 1, ExecutionFailure: 1 });
  });

  test("a retry restarts the failed target, not the ones that succeeded", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const order: string[] = [];
    const resumes = app.data("resumes", {
      inputs: [events],
      retries: 1,
      compute: [
        inline(async (_i, _o, ctx) => {
          order.push(`first@${ctx.attempt}`);
        }),
        inline(async (_i, _o, ctx) => {
          order.push(`second@${ctx.attempt}`);
          if (ctx.attempt === 1) throw new Error("flaky second");
        }),
        inline(async (_i, _o, ctx) => {
          order.push(`third@${ctx.attempt}`);
        }),
      ],
    });
    const rt = await start(app);
    await rt.process(events.at("NA", DAY));
    expect(order).toEqual(["first@1", "second@1", "second@2", "third@2"]);
    const rec = await only(rt, resumes);
    expect(rec).toMatchObject({ status: "SUCCEEDED", attempts: 2 });
    expect(rec.targets.map((t) => t.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    expect(rec.targets.every((t) => t.error === undefined)).toBe(true);
  });
});

// ------------------------------------------------------------------ chains

describe("propagation", () => {
  function chain(failAt?: string) {
    const app = newApp();
    const events = eventsOf(app);
    const ran: string[] = [];
    const step = (id: string) =>
      inline(async (inputs, output) => {
        ran.push(`${id} ${output.dimensions.region}/${output.dimensions.day}`);
        if (id === failAt) throw new Error(`${id} failed`);
        expect(Object.values(inputs)[0]?.paths).toHaveLength(1);
      });
    const a = app.data("A", { inputs: [events], compute: step("A") });
    const b = app.data("B", { inputs: [a], compute: step("B") });
    const c = app.data("C", { inputs: [b], compute: step("C") });
    const d = app.data("D", { inputs: [c], compute: step("D") });
    return { app, events, ran, nodes: [a, b, c, d] as const };
  }

  test("one external event runs A → B → C → D in order", async () => {
    const { app, events, ran, nodes } = chain();
    const rt = await start(app);
    const outcome = await rt.process(events.at("JP", DAY));
    expect(outcome.matched).toEqual([{ route: "A", input: "events" }]);
    expect(ran).toEqual([`A JP/${DAY}`, `B JP/${DAY}`, `C JP/${DAY}`, `D JP/${DAY}`]);
    for (const n of nodes) {
      const rec = await only(rt, n);
      expect(rec).toMatchObject({ status: "SUCCEEDED", dimensions: { region: "JP", day: DAY } });
      expect((await rt.poll(n.at("JP", DAY))).path).toBe(join(rt.dir, "internal_data", n.id, "JP", DAY));
      expect(existsSync(join(rec.path, "_SUCCESS"))).toBe(true);
    }
    const [a, , , d] = nodes;
    const recA = await only(rt, a);
    const recD = await only(rt, d);
    expect(recA.endedAt).toBeLessThanOrEqual(recD.startedAt);
  });

  test("downstream of a FAILED node is not triggered", async () => {
    const { app, events, ran, nodes } = chain("B");
    const [a, b, c, d] = nodes;
    const rt = await start(app);
    await rt.process(events.at("JP", DAY));
    expect(ran).toEqual([`A JP/${DAY}`, `B JP/${DAY}`]);
    expect((await only(rt, a)).status).toBe("SUCCEEDED");
    expect((await only(rt, b)).status).toBe("FAILED");
    expect(await rt.executions(c)).toEqual([]);
    expect(await rt.executions(d)).toEqual([]);
    expect(await rt.pending(c)).toEqual([]);
    expect(rt.metrics(c)).toEqual({});
  });
});

// ------------------------------------------------------------------ execute

describe("execute", () => {
  test("reverse-links through output links and input links (map, shift); pending groups untouched", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const customers = app.glueTable("customers", {
      database: "crm",
      table: "customers",
      dimensions: { region_id: dim.long() },
    });
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const calls: { inputs: Record<string, InlineInput>; output: Record<string, unknown> }[] = [];
    const report = app.data("report", {
      inputs: { cust: customers, ev: events, tick: daily },
      autoLink: false,
      // region_id = map(region); tick.day = ev.day + 1
      links: [
        link(customers.dim("region_id"), map({ NA: 1, EU: 2, JP: 3 }), events.dim("region")),
        link(daily.dim("day"), shift(1), events.dim("day")),
      ],
      output: { region_id: dim.long(), day: dim.datetime() },
      outputLinks: [link("region_id", customers.dim("region_id")), link("day", daily.dim("day"))],
      compute: inline(async (inputs, output) => {
        calls.push({ inputs: { ...inputs }, output: { ...output.dimensions } });
      }),
    });
    const rt = await start(app);
    await rt.process(events.at("EU", "2024-05-06"));
    const pendingBefore = await rt.pending(report);
    expect(pendingBefore).toEqual([expect.objectContaining({ received: ["ev"] })]);

    const rec = await rt.execute(report.at(2, "2024-05-08"));
    expect(rec).toMatchObject({ status: "SUCCEEDED", dimensions: { region_id: 2, day: "2024-05-08" } });
    expect(calls).toHaveLength(1);
    const call = calls[0] as (typeof calls)[number];
    expect(call.output).toEqual({ region_id: 2, day: "2024-05-08" });
    expect(call.inputs.cust?.dimensions).toEqual({ region_id: 2 });
    expect(call.inputs.ev?.dimensions).toEqual({ region: "EU", day: "2024-05-07" }); // map⁻¹, shift⁻¹
    expect(call.inputs.tick?.dimensions).toEqual({ day: "2024-05-08" });
    expect(call.inputs.ev?.paths).toEqual([join(rt.dir, "external", "events", "region=EU", "2024-05-07")]);
    expect(call.inputs.tick?.paths).toEqual([]);
    expect(await rt.pending(report)).toEqual(pendingBefore);

    // Forwards, the same inputs produce the same output partition.
    await rt.process(events.at("EU", "2024-05-07"));
    await rt.process(customers.at(2));
    await rt.process(daily.at("2024-05-08"));
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual(call);
    // customers(2) also joined the older EU group (region_id = map(EU)); it still waits for its timer.
    expect(await rt.pending(report)).toEqual([
      expect.objectContaining({ createdAt: pendingBefore[0]?.createdAt, received: ["cust", "ev"] }),
    ]);
    expect((await rt.executions(report)).map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
  });

  function rangeChain() {
    const app = newApp();
    const events = eventsOf(app);
    const ran: string[] = [];
    const step = (id: string) =>
      inline(async (_inputs, output) => {
        ran.push(`${id} ${output.dimensions.region}/${output.dimensions.day}`);
      });
    const a = app.data("A", { inputs: [events], compute: step("A") });
    const b = app.data("B", { inputs: [a], compute: step("B") });
    // Another consumer of B: it runs once per partition B produces.
    app.data("audit", { inputs: [b], compute: step("audit") });
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    // C: on its timer, reads B's last two days for NA, which must all exist.
    const c = app.data("C", {
      inputs: { tick: daily, lastTwo: b.at("NA", range(-2)).ref().rangeCheck() },
      compute: inline(async (inputs, output) => {
        ran.push(`C ${output.dimensions.day} ${inputs.lastTwo?.paths.length}`);
      }),
    });
    return { app, ran, a, b, c };
  }

  test("a missing range-checked upstream partition is an error without recursive", async () => {
    const { app, ran, a, b, c } = rangeChain();
    const rt = await start(app);
    await expect(rt.execute(c.at(DAY))).rejects.toThrow(
      /range-checked partitions are missing: .*internal_data[/\\]B[/\\]NA[/\\]2024-05-07.*2024-05-06/,
    );
    expect(ran).toEqual([]);
    expect(await rt.executions(a)).toEqual([]);
    expect(await rt.executions(b)).toEqual([]);
    expect(await rt.executions(c)).toEqual([]);
  });

  test("recursive: missing upstream partitions are executed first, crawling the DAG", async () => {
    const { app, ran, a, b, c } = rangeChain();
    const rt = await start(app);
    const rec = await rt.execute(c.at(DAY), { recursive: true });
    expect(rec).toMatchObject({ status: "SUCCEEDED", dimensions: { day: DAY } });
    for (const [n, day] of [
      [a, "2024-05-06"],
      [a, DAY],
      [b, "2024-05-06"],
      [b, DAY],
    ] as const) {
      expect((await rt.poll(n.at("NA", day))).path).toBeDefined();
      expect(ran.indexOf(`${n.id} NA/${day}`)).toBeGreaterThanOrEqual(0);
    }
    // Upstream before downstream, C last.
    expect(ran.indexOf(`A NA/${DAY}`)).toBeLessThan(ran.indexOf(`B NA/${DAY}`));
    expect(ran.indexOf("A NA/2024-05-06")).toBeLessThan(ran.indexOf("B NA/2024-05-06"));
    expect(ran[ran.length - 1]).toBe(`C ${DAY} 2`);
    // Each missing partition is produced once.
    expect(ran.filter((r) => r.startsWith("A ")).sort()).toEqual(["A NA/2024-05-06", `A NA/${DAY}`]);
    expect(ran.filter((r) => r.startsWith("B ")).sort()).toEqual(["B NA/2024-05-06", `B NA/${DAY}`]);
    expect(ran.filter((r) => r.startsWith("audit ")).sort()).toEqual([
      "audit NA/2024-05-06",
      `audit NA/${DAY}`,
    ]);
    expect(await rt.executions(b)).toHaveLength(2);
  });

  test("upstream partitions that exist are not executed again", async () => {
    const { app, ran, c } = rangeChain();
    const rt = await start(app);
    await rt.execute(c.at("2024-05-06"), { recursive: true });
    ran.length = 0;
    await rt.execute(c.at(DAY), { recursive: true });
    expect(ran).toEqual([`A NA/${DAY}`, `B NA/${DAY}`, `audit NA/${DAY}`, `C ${DAY} 2`]);
  });

  // Known gap, kept visible: the crawl waits for nothing, so an upstream on an engine that is polled
  // (Glue, EMR, Athena) is still RUNNING when the crawl checks it, and execute() throws
  // 'upstream "A" NA/2024-05-07 ended RUNNING'. When this is fixed, `.failing` must go.
  test.failing("recursive: an upstream on a polled engine is waited for", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const glue = new FakeEngine(
      (n) => RUNNING(`jr_${n}`),
      () => ({ status: "SUCCEEDED" }),
    );
    const a = app.data("A", { inputs: [events], compute: sparkSql("SELECT * FROM events") });
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const c = app.data("C", {
      inputs: { tick: daily, lastTwo: a.at("NA", range(-2)).ref().rangeCheck() },
      compute: inline(async () => {}),
    });
    const rt = await start(app, { engines: { glue } });
    const rec = await rt.execute(c.at(DAY), { recursive: true });
    expect(rec.status).toBe("SUCCEEDED");
    expect((await rt.executions(a)).map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
  });
});

// ------------------------------------------------------------------ pySpark

describe("pySpark in LocalRuntime", () => {
  function flow() {
    const app = newApp();
    const events = eventsOf(app);
    const weekly = app.data("weekly", {
      inputs: { last7: events.at("*", range(-7)) },
      compute: pySpark("output = last7.select('cid')", {
        workers: 10,
        workerType: "G.1X",
        glueVersion: "4.0",
      }),
    });
    return { app, events, weekly };
  }

  test("without an override: FAILED, telling how to add compute: { node: fn }", async () => {
    const { app, events, weekly } = flow();
    const rt = await start(app);
    await rt.process(events.at("NA", DAY));
    const rec = await only(rt, weekly);
    expect(rec.status).toBe("FAILED");
    expect(rec.error).toContain('node "weekly" cannot run locally');
    expect(rec.error).toContain("LocalRuntime.start(app, { compute: { weekly: ");
    expect(rec.targets[0]).toMatchObject({ kind: "pySpark", engine: "glue", status: "FAILED" });
  });

  test("with an override: SUCCEEDED, and the override got the inputs", async () => {
    const { app, events, weekly } = flow();
    const got: { inputs: Record<string, InlineInput>; output: unknown; ctx: InlineContext }[] = [];
    const rt = await start(app, {
      compute: {
        weekly: async (inputs, output, ctx) => {
          got.push({ inputs: { ...inputs }, output: output.dimensions, ctx });
        },
      },
    });
    await rt.process(events.at("NA", DAY));
    expect((await only(rt, weekly)).status).toBe("SUCCEEDED");
    expect(got).toHaveLength(1);
    const last7 = got[0]?.inputs.last7;
    expect(last7?.dimensions).toEqual({ region: "NA", day: DAY });
    expect(last7?.paths).toHaveLength(7);
    expect(last7?.paths[0]).toBe(join(rt.dir, "external", "events", "region=NA", DAY));
    expect(last7?.paths[6]).toBe(join(rt.dir, "external", "events", "region=NA", "2024-05-01"));
    expect(got[0]?.output).toEqual({ region: "NA", day: DAY });
    expect(got[0]?.ctx).toMatchObject({ env: "local", attempt: 1 });
  });
});

// ------------------------------------------------------------------ hooks

describe("hooks", () => {
  function hooked(log: HookCall[], compute: Parameters<typeof inline>[0]) {
    const app = newApp();
    const events = eventsOf(app);
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const joined = app.data("joined", {
      inputs: [events, daily],
      retries: 1,
      pendingTtlSeconds: 3600,
      compute: inline(compute),
      hooks: recordingHooks(log),
    });
    return { app, events, daily, joined };
  }

  test("each hook fires at its moment with the right HookEvent and emits its route metric", async () => {
    const log: HookCall[] = [];
    const { app, events, daily, joined } = hooked(log, async (_i, output, ctx) => {
      if (output.dimensions.region === "EU") throw new Error("EU is broken");
      if (ctx.attempt === 1) throw new Error("first try");
    });
    const rt = await start(app);
    const na = { region: "NA", day: DAY };
    const eu = { region: "EU", day: DAY };

    await rt.process(events.at("NA", DAY));
    expect(log.map((c) => c.event)).toEqual([{ node: "joined", hook: "onPendingCreated", dimensions: na }]);

    log.length = 0;
    await rt.process(daily.at(DAY));
    const [ok] = await rt.executions(joined);
    const id = ok?.id as string;
    expect(log.map((c) => c.event)).toEqual([
      { node: "joined", hook: "onExecBegin", dimensions: na, executionId: id },
      { node: "joined", hook: "onComputeRetry", dimensions: na, executionId: id, error: "first try" },
      { node: "joined", hook: "onComputeSuccess", dimensions: na, executionId: id },
      { node: "joined", hook: "onSuccess", dimensions: na, executionId: id },
    ]);
    expect(log.map((c) => c.ctx.attempt)).toEqual([1, 2, 2, 2]);
    expect(log.every((c) => c.ctx.env === "local")).toBe(true);

    log.length = 0;
    await rt.process(events.at("EU", DAY));
    await rt.process(daily.at(DAY));
    const [bad] = await rt.executions(joined);
    const badId = bad?.id as string;
    expect(bad?.status).toBe("FAILED");
    expect(log.map((c) => c.event)).toEqual([
      { node: "joined", hook: "onPendingCreated", dimensions: eu },
      { node: "joined", hook: "onExecBegin", dimensions: eu, executionId: badId },
      { node: "joined", hook: "onComputeRetry", dimensions: eu, executionId: badId, error: "EU is broken" },
      { node: "joined", hook: "onComputeFailure", dimensions: eu, executionId: badId, error: "EU is broken" },
      { node: "joined", hook: "onFailure", dimensions: eu, executionId: badId, error: "EU is broken" },
    ]);

    // The timer's day is a fact for every region of that day (brief §3, "Order never matters"):
    // JP on DAY would run at once, so the group that expires is JP on a day without a tick.
    log.length = 0;
    const next = "2024-05-08";
    await rt.process(events.at("JP", next));
    await rt.advance(3599_000);
    expect(log.map((c) => c.name)).toEqual(["onPendingCreated"]);
    await rt.advance(1_000);
    expect(log.map((c) => c.event)).toEqual([
      { node: "joined", hook: "onPendingCreated", dimensions: { region: "JP", day: next } },
      { node: "joined", hook: "onPendingExpired", dimensions: { region: "JP", day: next }, reason: "ttl" },
    ]);
    expect(await rt.pending(joined)).toEqual([]);

    expect(rt.metrics(joined)).toEqual({
      PendingCreated: 3,
      PendingExpired: 1,
      ExecutionBegin: 2,
      ComputeRetry: 2,
      ComputeSuccess: 1,
      ComputeFailure: 1,
      ExecutionSuccess: 1,
      ExecutionFailure: 1,
    });
  });

  test("throwing hooks do not change the outcome", async () => {
    const errors = jest.spyOn(console, "error").mockImplementation(() => {});
    const app = newApp();
    const events = eventsOf(app);
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    const called: string[] = [];
    const throwing = Object.fromEntries(
      HOOK_NAMES.map((name) => [
        name,
        () => {
          called.push(name);
          throw new Error(`${name} hook is broken`);
        },
      ]),
    );
    const joined = app.data("joined", {
      inputs: [events, daily],
      retries: 1,
      compute: inline(async (_i, _o, ctx) => {
        if (ctx.attempt === 1) throw new Error("first try");
      }),
      hooks: throwing,
    });
    const after = app.data("after", { inputs: [joined], compute: inline(async () => {}) });
    const rt = await start(app);
    await rt.process(events.at("NA", DAY));
    expect(await rt.pending(joined)).toHaveLength(1); // a broken onPendingCreated keeps the group
    await rt.process(daily.at(DAY));

    expect(called).toEqual([
      "onPendingCreated",
      "onExecBegin",
      "onComputeRetry",
      "onComputeSuccess",
      "onSuccess",
    ]);
    expect(await only(rt, joined)).toMatchObject({ status: "SUCCEEDED", attempts: 2 });
    expect((await only(rt, after)).status).toBe("SUCCEEDED");
    expect(rt.metrics()).toMatchObject({ RouterErrors: 5 });
    expect(errors).toHaveBeenCalledTimes(5);
    expect(String(errors.mock.calls[0]?.[0])).toContain("onPendingCreated hook is broken");
  });

  test("checkpoints fire after afterSeconds of a RUNNING execution and emit Checkpoint", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const log: HookCall[] = [];
    const glue: FakeEngine = new FakeEngine(
      () => RUNNING("jr_long"),
      async () => {
        await glue.gate.wait();
        return { status: "SUCCEEDED" };
      },
    );
    const checkpoint = (label: string) => (event: HookEvent, ctx: InlineContext) => {
      log.push({ name: label, event, ctx });
    };
    const long = app.data("long", {
      inputs: [events],
      compute: sparkSql("SELECT * FROM events"),
      hooks: {
        checkpoints: [
          { afterSeconds: 3600, handler: checkpoint("1h") },
          { afterSeconds: 600, handler: checkpoint("10min") },
        ],
      },
    });
    const rt = await start(app, { engines: { glue } });
    const t0 = rt.now();
    await rt.process(events.at("NA", DAY), { wait: false });
    await until(() => glue.polls.length === 1, "the first poll");
    const [running] = await rt.executions(long);
    expect(running?.status).toBe("RUNNING");

    await rt.advance(t0 + 599_000 - rt.now());
    expect(log).toEqual([]);
    expect(rt.metrics(long).Checkpoint).toBeUndefined();
    await rt.advance(1_000);
    expect(log.map((c) => c.name)).toEqual(["10min"]);
    expect(log[0]?.event).toEqual({
      node: "long",
      hook: "checkpoint",
      dimensions: { region: "NA", day: DAY },
      executionId: running?.id,
    });
    expect(log[0]?.ctx).toMatchObject({ env: "local", attempt: 1 });
    expect(rt.metrics(long).Checkpoint).toBe(1);

    // Once the execution finished, later checkpoints stay silent.
    glue.gate.open();
    await until(async () => (await rt.executions(long))[0]?.status === "SUCCEEDED", "success");
    await rt.advance(2 * 3600_000);
    expect(log.map((c) => c.name)).toEqual(["10min"]);
    expect(rt.metrics(long).Checkpoint).toBe(1);
  });
});

// ------------------------------------------------------------------ inline ctx and output

describe("inline context and output", () => {
  function flow(seen: { output: { dimensions: unknown; paths: readonly string[] }; ctx: InlineContext }[]) {
    const app = newApp();
    app.environment("prod", {
      account: "999988887777",
      region: "us-east-1",
      config: { threshold: 10, owner: "data-platform" },
    });
    const events = eventsOf(app);
    const out = app.data("out", {
      inputs: [events],
      format: "csv",
      compute: inline(async (_inputs, output, ctx) => {
        seen.push({ output, ctx });
        const dir = output.paths[0];
        expect(statSync(dir).isDirectory()).toBe(true);
        writeFileSync(join(dir, "part-00000.csv"), `region,threshold\nNA,${String(ctx.config.threshold)}\n`);
      }),
    });
    return { app, events, out };
  }

  test('env is "local" by default with empty config; files written at output.paths[0] are at poll().path', async () => {
    const seen: Parameters<typeof flow>[0] = [];
    const { app, events, out } = flow(seen);
    const rt = await start(app);
    await rt.process(events.at("NA", DAY));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.ctx).toMatchObject({
      dimensions: { region: "NA", day: DAY },
      env: "local",
      attempt: 1,
    });
    // config: a callable record (ctx.config("key")), empty here
    expect(Object.keys(seen[0]?.ctx.config ?? { missing: 1 })).toEqual([]);
    const { path } = await rt.poll(out.at("NA", DAY));
    expect(path).toBe(seen[0]?.output.paths[0]);
    expect(path).toBe(join(rt.dir, "internal_data", "out", "NA", DAY));
    expect(readdirSync(path as string).sort()).toEqual(["_SUCCESS", "part-00000.csv"]);
  });

  test("config comes from the app's environment named by LocalRuntime.start(app, { env })", async () => {
    const seen: Parameters<typeof flow>[0] = [];
    const { app, events, out } = flow(seen);
    const rt = await start(app, { env: "prod" });
    await rt.process(events.at("NA", DAY));
    expect(seen[0]?.ctx.env).toBe("prod");
    // ctx.config is a callable record: compare its values
    expect({ ...seen[0]?.ctx.config }).toEqual({ threshold: 10, owner: "data-platform" });
    expect(seen[0]?.ctx.config("threshold")).toBe(10);
    const { path } = await rt.poll(out.at("NA", DAY));
    expect(readdirSync(path as string)).toContain("part-00000.csv");

    const explicit: Parameters<typeof flow>[0] = [];
    const second = flow(explicit);
    const rt2 = await start(second.app, { env: "prod", config: { threshold: 3 } });
    await rt2.process(second.events.at("NA", DAY));
    expect(explicit[0]?.ctx.env).toBe("prod");
    expect({ ...explicit[0]?.ctx.config }).toEqual({ threshold: 3 });
  });

  test("a re-run clears the output partition before it starts", async () => {
    const app = newApp();
    const events = eventsOf(app);
    const listings: string[][] = [];
    const out = app.data("out", {
      inputs: [events],
      compute: inline(async (_inputs, output) => {
        listings.push(readdirSync(output.paths[0]).sort());
        writeFileSync(join(output.paths[0], `part-${listings.length}.csv`), "x\n");
      }),
    });
    const rt = await start(app);
    await rt.process(events.at("NA", DAY));
    await rt.execute(out.at("NA", DAY));
    expect(listings).toEqual([[], []]);
    const { path } = await rt.poll(out.at("NA", DAY));
    expect(readdirSync(path as string).sort()).toEqual(["_SUCCESS", "part-2.csv"]);
  });
});
