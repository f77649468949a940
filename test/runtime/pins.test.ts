/**
 * core/pins.ts, alone: what an event (or a combination of events) pins through a route's links.
 * Forwards always; backwards only through one-to-one links (eq, shift, an injective map).
 */
import { Application, dim, inline, link, map, shift, truncate } from "sluice";
import { agrees, oneToOne, pinsOf, propagate } from "../../src/runtime-bundle/core/pins";
import { RouteTable, type Route } from "../../src/runtime-bundle/core/route-table";

const DAY = "2024-05-07";

function routeOf(build: (app: Application) => void, node: string): Route {
  const app = new Application("pins", { account: "111122223333", region: "us-east-1" });
  build(app);
  return new RouteTable(app.toModel()).route(node) as Route;
}

/** The README's shape: a daily timer, regional events, customers (a ref) linked through a map. */
function readme(mapping: Record<string, number> = { NA: 1, EU: 2, JP: 3 }): Route {
  return routeOf((app) => {
    const events = app.s3Dataset("events", {
      bucket: "raw",
      partitions: ["region={}", "{}"],
      dimensions: { region: dim.string(), day: dim.datetime() },
    });
    const customers = app.glueTable("customers", {
      database: "crm",
      table: "c",
      dimensions: { region_id: dim.long() },
    });
    const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
    app.data("joined", {
      inputs: [daily, events, customers],
      links: [link(customers.dim("region_id"), map(mapping), events.dim("region"))],
      output: { region: dim.string(), day: dim.datetime() },
      compute: inline(async () => {}),
    });
  }, "joined");
}

describe("pinsOf", () => {
  test("an event that reaches every output dimension pins the whole partition", () => {
    expect(pinsOf(readme(), { events: { region: "NA", day: DAY } })).toEqual({
      pins: { region: "NA", day: DAY },
      complete: true,
    });
  });

  test("a timer's day pins only the day", () => {
    expect(pinsOf(readme(), { daily: { day: DAY } })).toEqual({ pins: { day: DAY }, complete: false });
  });

  test("backwards through an injective map: a customers partition pins the region", () => {
    expect(pinsOf(readme(), { customers: { region_id: 2 } })).toEqual({
      pins: { region: "EU" },
      complete: false,
    });
    expect(pinsOf(readme(), { customers: { region_id: 2 }, daily: { day: DAY } })).toEqual({
      pins: { region: "EU", day: DAY },
      complete: true,
    });
  });

  test("not backwards through a many-to-one map", () => {
    expect(pinsOf(readme({ NA: 1, EU: 1 }), { customers: { region_id: 1 } })).toEqual({
      pins: {},
      complete: false,
    });
  });

  test("a combination whose links disagree is not consistent (undefined)", () => {
    expect(
      pinsOf(readme(), { events: { region: "NA", day: DAY }, daily: { day: "2024-05-08" } }),
    ).toBeUndefined();
    expect(
      pinsOf(readme(), { events: { region: "NA", day: DAY }, customers: { region_id: 2 } }),
    ).toBeUndefined();
    expect(
      pinsOf(readme(), { events: { region: "NA", day: DAY }, customers: { region_id: 1 } }),
    ).toBeDefined();
  });

  test("backwards through shift: the timer of the next day pins the day before", () => {
    const route = routeOf((app) => {
      const ev = app.s3Dataset("ev", {
        bucket: "raw",
        partitions: ["{}"],
        dimensions: { day: dim.datetime() },
      });
      const next = app.timer("next", "rate(1 day)", { dimension: "d" });
      app.data("n", {
        inputs: [ev, next],
        links: [link(next.dim("d"), shift(1), ev.dim("day"))],
        compute: inline(async () => {}),
      });
    }, "n");
    expect(pinsOf(route, { next: { d: "2024-05-08" } })).toEqual({ pins: { day: DAY }, complete: true });
    expect(pinsOf(route, { ev: { day: DAY }, next: { d: DAY } })).toBeUndefined();
  });

  test("not backwards through truncate: a daily gate pins no hour", () => {
    const route = routeOf((app) => {
      const hourly = app.s3Dataset("hourly", {
        bucket: "raw",
        partitions: ["{}"],
        dimensions: { hour: dim.datetime({ format: "%Y-%m-%dT%H", granularity: "HOUR" }) },
      });
      const gate = app.timer("gate", "rate(1 day)", { dimension: "day" });
      app.data("n", {
        inputs: [hourly, gate],
        links: [link(gate.dim("day"), truncate("DAY"), hourly.dim("hour"))],
        compute: inline(async () => {}),
      });
    }, "n");
    expect(pinsOf(route, { gate: { day: DAY } })).toEqual({ pins: {}, complete: false });
    expect(pinsOf(route, { hourly: { hour: "2024-05-07T03" } })?.complete).toBe(true);
    // Forwards, truncate still checks: the hour of another day disagrees with the gate.
    expect(pinsOf(route, { hourly: { hour: "2024-05-08T03" }, gate: { day: DAY } })).toBeUndefined();
    expect(pinsOf(route, { hourly: { hour: "2024-05-07T03" }, gate: { day: DAY } })).toBeDefined();
  });
});

test("propagate: every input dimension the links reach", () => {
  const known = propagate(readme(), { events: { region: "JP", day: DAY } });
  expect(known && Object.fromEntries([...known].map(([k, v]) => [k.replace("\u0000", "."), v]))).toEqual({
    "events.region": "JP",
    "events.day": DAY,
    "daily.day": DAY,
    "customers.region_id": 3,
  });
});

test("oneToOne: eq, shift and an injective map; not truncate or a many-to-one map", () => {
  const kinds = (route: Route) => route.node.links.map((l) => [l.mapper.kind, oneToOne(l)]);
  expect(kinds(readme())).toEqual(expect.arrayContaining([["map", true]]));
  expect(kinds(readme({ NA: 1, EU: 1 }))).toEqual(expect.arrayContaining([["map", false]]));
  expect(kinds(readme())).toEqual(expect.arrayContaining([["eq", true]]));
});

test("agrees: every dimension the part pins has the whole's value", () => {
  const route = readme();
  expect(agrees(route, { day: DAY }, { region: "NA", day: DAY })).toBe(true);
  expect(agrees(route, {}, { region: "NA", day: DAY })).toBe(true);
  expect(agrees(route, { day: "2024-05-08" }, { region: "NA", day: DAY })).toBe(false);
  expect(agrees(route, { day: DAY }, { region: "NA" })).toBe(false);
});
