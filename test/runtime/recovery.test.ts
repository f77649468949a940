/**
 * Crash recovery in the Router core (MemoryStore): what a dying invocation leaves is carried on by a
 * redelivery or the sweeper without redoing what was done, with nodes of several targets; deferred
 * tasks that were lost are run by the sweeper once due; and in a LocalRuntime nothing that runs in
 * process is ever taken over.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Application, dim, inline, LocalRuntime } from "sluice";
import { VirtualClock } from "../../src/runtime-bundle/core/clock";
import type { DispatchResult, Dispatcher } from "../../src/runtime-bundle/core/dispatcher";
import type { ExecutionRecord } from "../../src/runtime-bundle/core/execution-record";
import type { DeferredTask } from "../../src/runtime-bundle/core/hooks";
import { MemoryStore } from "../../src/runtime-bundle/core/memory-store";
import { RouteTable } from "../../src/runtime-bundle/core/route-table";
import { Router } from "../../src/runtime-bundle/core/router";
import type { Signal } from "../../src/runtime-bundle/core/signal";
import type { Storage } from "../../src/runtime-bundle/core/storage";
import type { Store } from "../../src/runtime-bundle/core/store";
import { LocalStorage } from "../../src/runtime-bundle/local/local-storage";

const T0 = Date.UTC(2024, 4, 9);
const MINUTE = 60_000;
const DAY = { day: "2024-05-07" };

class Crash extends Error {
  override readonly name = "Crash";
}

/** Counts store and storage calls; the `crashAt`-th throws before it is made. */
class Faults {
  calls = 0;
  crashAt: number | undefined;

  wrap<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (t, p, receiver) => {
        const v = Reflect.get(t, p, receiver) as unknown;
        if (typeof v !== "function") return v;
        const fn = v as (...args: unknown[]) => Promise<unknown>;
        if (p === "partitionPath" || p === "datasetRoot") return fn.bind(t);
        return (...args: unknown[]) => {
          if (++this.calls === this.crashAt) return Promise.reject(new Crash(`before ${String(p)}`));
          return fn.apply(t, args);
        };
      },
    });
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "sluice-recovery-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** a × b → n with three inline targets (each counts its runs); deferred tasks are kept, not run. */
function world(options: { failFirst?: boolean; faults?: Faults } = {}) {
  const app = new Application("recovery", { account: "111122223333", region: "us-east-1" });
  const dims = { day: dim.datetime() };
  const a = app.s3Dataset("a", { bucket: "raw-a", partitions: ["{}"], dimensions: dims });
  const b = app.s3Dataset("b", { bucket: "raw-b", partitions: ["{}"], dimensions: dims });
  app.data("n", {
    inputs: [a, b],
    retries: 1,
    compute: [inline(async () => undefined), inline(async () => undefined), inline(async () => undefined)],
  });
  const runs = [0, 0, 0];
  const lambda: Dispatcher = {
    start: async (request): Promise<DispatchResult> => {
      runs[request.targetIndex] = (runs[request.targetIndex] ?? 0) + 1;
      if (options.failFirst && request.targetIndex === 1 && request.attempt === 1)
        return { status: "FAILED", error: "flaky", transient: false };
      return { status: "SUCCEEDED" };
    },
  };
  const tasks: { at: number; task: DeferredTask }[] = [];
  const clock = new VirtualClock(T0);
  const faults = options.faults ?? new Faults();
  const store: Store = faults.wrap(new MemoryStore());
  const storage: Storage = faults.wrap(new LocalStorage({ root: dir }));
  const router = (): Router =>
    new Router({
      table: new RouteTable(app.toModel()),
      store,
      storage,
      dispatchers: { lambda },
      clock,
      // A queue-backed scheduler whose messages the test delivers (or loses).
      scheduler: { schedule: (at: number, task: DeferredTask) => void tasks.push({ at, task }) },
      environment: { name: "test", config: {} },
    });
  return { router, runs, tasks, clock, faults };
}

async function only(router: Router): Promise<ExecutionRecord> {
  const records = await router.executions("n");
  expect(records).toHaveLength(1);
  return records[0] as ExecutionRecord;
}

describe("a crash at every step of a three-target execution", () => {
  const signals: Signal[] = [
    { node: "a", dimensions: DAY, eventId: "evt-a" },
    { node: "b", dimensions: DAY, eventId: "evt-b" },
  ];

  test.each(["redelivery, then the sweeper", "the sweeper, then redelivery"] as const)(
    "then %s: one execution; a target that had succeeded never runs again",
    async (order) => {
      const reference = world();
      for (const s of signals) await reference.router().process(s);
      expect(reference.runs).toEqual([1, 1, 1]);
      const calls = reference.faults.calls;
      expect(calls).toBeGreaterThan(20);

      for (let k = 1; k <= calls; k++) {
        const faults = new Faults();
        faults.crashAt = k;
        const w = world({ faults });
        const crashed: Signal[] = [];
        for (const s of signals) {
          try {
            await w.router().process(s);
          } catch (e) {
            if (!(e instanceof Crash)) throw e;
            crashed.push(s);
          }
        }
        expect({ k, crashed: crashed.length }).toEqual({ k, crashed: 1 });
        const atCrash = (await w.router().executions("n"))[0];
        const runsAtCrash = [...w.runs];

        await w.clock.advanceTo(T0 + 20 * MINUTE); // past the redelivery delay and the dispatch timeout
        if (order === "the sweeper, then redelivery") await w.router().sweep();
        for (const s of crashed) await w.router().process(s);
        await w.router().sweep();

        const r = w.router();
        const record = await only(r);
        expect({ k, status: record.status, targets: record.targets.map((t) => t.status) }).toEqual({
          k,
          status: "SUCCEEDED",
          targets: ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"],
        });
        expect(await r.pending("n")).toEqual([]);
        expect(await r.poll("n", DAY)).toEqual({ path: record.path });
        // Succeeded before the crash: never again. Ran but the crash cut its result: at most twice.
        for (const [i, n] of w.runs.entries()) {
          const done = atCrash?.targets[i]?.status === "SUCCEEDED";
          const interrupted = !done && runsAtCrash[i] === 1;
          expect({ k, i, runs: n }).toEqual({ k, i, runs: interrupted ? expect.any(Number) : 1 });
          expect(n).toBeLessThanOrEqual(2);
        }
        expect(w.runs.filter((n) => n === 2).length).toBeLessThanOrEqual(1);
        expect(w.tasks).toEqual([]);
      }
    },
  );
});

describe("deferred tasks that are lost or late", () => {
  test("a lost retry runs when the sweeper finds it due, once even with concurrent sweepers", async () => {
    const w = world({ failFirst: true });
    const r = w.router();
    await r.process({ node: "a", dimensions: DAY });
    await r.process({ node: "b", dimensions: DAY });
    expect(w.runs).toEqual([1, 1, 0]);
    const record = await only(r);
    expect(record.targets[1]).toMatchObject({ status: "PENDING", error: "flaky" });
    const retryAt = record.targets[1]?.retryAt as number;
    expect(w.tasks).toEqual([
      {
        at: retryAt,
        task: expect.objectContaining({ kind: "retry", targetIndex: 1, since: record.updatedAt }),
      },
    ]);
    // The task is lost. Before it is due the sweeper leaves the target alone.
    await w.clock.advanceTo(retryAt - 1);
    await r.sweep();
    expect(w.runs).toEqual([1, 1, 0]);
    // Once due: run, from the failed target on, by one of two concurrent sweepers.
    await w.clock.advanceTo(retryAt + 1);
    await Promise.all([w.router().sweep(), w.router().sweep()]);
    expect(w.runs).toEqual([1, 2, 1]);
    expect(await only(r)).toMatchObject({ status: "SUCCEEDED", attempts: 2 });
    // The task turns up after all: the execution has moved on, nothing runs.
    await r.runTask((w.tasks[0] as { task: DeferredTask }).task);
    expect(w.runs).toEqual([1, 2, 1]);
  });

  test("a retry task and a sweeper at the same time dispatch the target once", async () => {
    const w = world({ failFirst: true });
    const r = w.router();
    await r.process({ node: "a", dimensions: DAY });
    await r.process({ node: "b", dimensions: DAY });
    const [{ at, task }] = w.tasks as [{ at: number; task: DeferredTask }];
    await w.clock.advanceTo(at + 1);
    await Promise.all([w.router().runTask(task), w.router().sweep(), w.router().runTask(task)]);
    expect(w.runs).toEqual([1, 2, 1]);
    expect((await only(r)).status).toBe("SUCCEEDED");
  });
});

describe("LocalRuntime", () => {
  test("advancing the clock past the dispatch timeout never restarts compute running in process", async () => {
    const app = new Application("local-recovery", { account: "111122223333", region: "us-east-1" });
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["{}"],
      dimensions: { day: dim.datetime() },
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    let calls = 0;
    const slow = app.data("slow", {
      inputs: [events],
      compute: inline(async () => {
        calls++;
        started();
        await gate;
      }),
    });
    const rt = await LocalRuntime.start(app);
    let status: string | undefined;
    try {
      await rt.process(events.at("2024-05-07"), { wait: false });
      await running;
      await rt.advance(3 * 3600_000); // sweeps, hours past any dispatch timeout
      status = (await rt.executions(slow))[0]?.status;
    } finally {
      release();
      await rt.stop();
    }
    expect(status).toBe("RUNNING");
    expect(calls).toBe(1);
    expect((await rt.executions(slow))[0]?.status).toBe("SUCCEEDED");
  });
});
