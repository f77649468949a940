/**
 * Tokens and facts (brief §3, "Order never matters"), on the README's flow: a daily timer (a fact for
 * every region of its day) and regional events (tokens for their (region, day)), customers a ref.
 */
import { Application, dim, inline, link, LocalRuntime, map } from "sluice";
import { VirtualClock } from "../../src/runtime-bundle/core/clock";
import type { Dispatcher } from "../../src/runtime-bundle/core/dispatcher";
import { MemoryStore } from "../../src/runtime-bundle/core/memory-store";
import { RouteTable } from "../../src/runtime-bundle/core/route-table";
import { Router } from "../../src/runtime-bundle/core/router";

function readmeFlow() {
  const app = new Application("readme", { account: "111122223333", region: "us-east-1" });
  const events = app.s3Dataset("events", {
    bucket: "raw",
    prefix: "events",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
    filter: { region: ["NA", "EU", "JP"] },
    completion: null,
  });
  const customers = app.glueTable("customers", {
    database: "crm",
    table: "customers",
    dimensions: { region_id: dim.long() },
  });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  const joined = app.data("joined", {
    inputs: [daily, events, customers.ref()],
    links: [link(customers.dim("region_id"), map({ NA: 1, EU: 2, JP: 3 }), events.dim("region"))],
    output: { region: dim.string(), day: dim.datetime() },
    compute: inline(async () => {}),
  });
  return { app, events, daily, joined };
}

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

const DAY = "2024-05-07";

test("the README flow runs every region in all 24 orders of {timer, NA, EU, JP}", async () => {
  const orders = permutations(["timer", "NA", "EU", "JP"]);
  expect(orders).toHaveLength(24);
  for (const order of orders) {
    const { app, events, daily, joined } = readmeFlow();
    const rt = await LocalRuntime.start(app);
    try {
      for (const e of order) await rt.process(e === "timer" ? daily.at(DAY) : events.at(e, DAY));
      const ran = (await rt.executions(joined)).map(
        (r) => `${String(r.dimensions.region)}/${String(r.dimensions.day)}`,
      );
      expect({ order, ran: ran.sort() }).toEqual({
        order,
        ran: ["EU/2024-05-07", "JP/2024-05-07", "NA/2024-05-07"],
      });
      expect(await rt.pending(joined)).toEqual([]);
    } finally {
      await rt.stop();
    }
  }
});

test("pending shows the whole partition, what it received and what it misses; facts separately", async () => {
  const { app, events, daily, joined } = readmeFlow();
  const rt = await LocalRuntime.start(app);
  try {
    await rt.process(events.at("EU", DAY));
    expect(await rt.pending(joined)).toEqual([
      expect.objectContaining({
        dimensions: { region: "EU", day: DAY },
        received: ["events"],
        missing: ["daily"],
        state: "pending",
      }),
    ]);
    await rt.process(daily.at("2024-05-08"));
    expect(await rt.facts(joined)).toEqual([
      expect.objectContaining({
        input: "daily",
        dimensions: { day: "2024-05-08" },
        pins: { day: "2024-05-08" },
      }),
    ]);
    expect(await rt.pending(joined)).toHaveLength(1);
  } finally {
    await rt.stop();
  }
});

test("re-landed data with a live fact runs again; the fact is not consumed", async () => {
  const { app, events, daily, joined } = readmeFlow();
  const rt = await LocalRuntime.start(app);
  try {
    await rt.process(daily.at(DAY));
    await rt.process(events.at("NA", DAY));
    await rt.process(events.at("NA", DAY));
    const runs = await rt.executions(joined);
    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expect(await rt.facts(joined)).toHaveLength(1);
  } finally {
    await rt.stop();
  }
});

test("a fact expires at the node's pending TTL: a later token waits", async () => {
  const { app, events, daily, joined } = readmeFlow();
  const rt = await LocalRuntime.start(app);
  try {
    await rt.process(daily.at(DAY));
    expect(await rt.facts(joined)).toHaveLength(1);
    await rt.advance(7 * 24 * 3600_000 + 1);
    expect(await rt.facts(joined)).toEqual([]);
    await rt.process(events.at("JP", DAY));
    expect(await rt.executions(joined)).toEqual([]);
    expect(await rt.pending(joined)).toEqual([expect.objectContaining({ missing: ["daily"] })]);
  } finally {
    await rt.stop();
  }
});

/**
 * A redelivered event (same id) meets a live fact. The router records an event id as seen only after
 * its offers ran; a delivery that died before that is redelivered with the same id, and the bucket
 * must then recognise it: the token's id in the consumed group, the fact's in the fact item.
 */
describe("a redelivered event meets a live fact", () => {
  function harness(forgetSeen: boolean) {
    const { app, joined } = readmeFlow();
    const store = new MemoryStore();
    // A store that never remembers seen events: every redelivery reaches the bucket.
    const events = forgetSeen
      ? Object.assign(Object.create(store) as MemoryStore, {
          eventSeen: async () => false,
          claimEvent: async () => true,
        })
      : store;
    const clock = new VirtualClock();
    const runs: string[] = [];
    const lambda: Dispatcher = {
      start: async (r) => {
        runs.push(`${String(r.output.dimensions.region)}/${String(r.output.dimensions.day)}`);
        return { status: "SUCCEEDED" };
      },
    };
    const router = new Router({
      table: new RouteTable(app.toModel()),
      store: events,
      storage: {
        partitionPath: (n, d) => `mem://${n.id}/${Object.values(d).join("/")}`,
        exists: async () => true,
        writeMarker: async () => undefined,
        clear: async () => undefined,
      },
      dispatchers: { lambda },
      clock,
      scheduler: clock,
      environment: { name: "test", config: {} },
    });
    return { router, runs, joined };
  }
  const signal = (node: string, dimensions: Record<string, string>, eventId: string) => ({
    node,
    dimensions,
    eventId,
  });

  test.each([false, true])(
    "the token's redelivery does not run again (seen ids forgotten: %s)",
    async (forget) => {
      const { router, runs } = harness(forget);
      await router.process(signal("daily", { day: DAY }, "tick-1"));
      const first = await router.process(signal("events", { region: "NA", day: DAY }, "na-1"));
      expect(first.executions).toHaveLength(1);
      const again = await router.process(signal("events", { region: "NA", day: DAY }, "na-1"));
      expect(again.executions).toEqual([]);
      expect(runs).toEqual([`NA/${DAY}`]);
      // Re-landed data (a new event id) with the live fact does run again.
      expect(
        (await router.process(signal("events", { region: "NA", day: DAY }, "na-2"))).executions,
      ).toHaveLength(1);
      expect(runs).toEqual([`NA/${DAY}`, `NA/${DAY}`]);
    },
  );

  test.each([false, true])(
    "the fact's redelivery completes nothing twice (seen ids forgotten: %s)",
    async (forget) => {
      const { router, runs } = harness(forget);
      await router.process(signal("events", { region: "EU", day: DAY }, "eu-1"));
      await router.process(signal("daily", { day: DAY }, "tick-1"));
      expect(runs).toEqual([`EU/${DAY}`]);
      await router.process(signal("daily", { day: DAY }, "tick-1"));
      await router.process(signal("events", { region: "EU", day: DAY }, "eu-1"));
      expect(runs).toEqual([`EU/${DAY}`]);
      // The fact stayed live: a new region's token uses it.
      await router.process(signal("events", { region: "JP", day: DAY }, "jp-1"));
      expect(runs).toEqual([`EU/${DAY}`, `JP/${DAY}`]);
      expect(await router.facts("joined")).toHaveLength(1);
    },
  );
});
