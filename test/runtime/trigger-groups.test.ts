/**
 * core/trigger-groups.ts, alone: the trigger rule (brief §3, "Order never matters") as pure functions
 * over a bucket's items — classification, a token's transition, completion by live facts, fact sets,
 * fact arrivals and consumption.
 */
import { Application, dim, inline, link } from "sluice";
import { RouteTable, type Route } from "../../src/runtime-bundle/core/route-table";
import { ITEM_SCHEMA, type FactItem, type GroupItem } from "../../src/runtime-bundle/core/store";
import {
  arrive,
  classify,
  comboKeyOf,
  completion,
  consume,
  factSets,
  isExpired,
  isSpent,
  offerToken,
  type TokenContext,
} from "../../src/runtime-bundle/core/trigger-groups";

const DAY = "2024-05-07";
const T = 1_000_000;
const TTL = 3600_000;

/** Daily timer × regional events → (region, day); pending TTL one hour. */
function readme(): Route {
  const app = new Application("tg", { account: "111122223333", region: "us-east-1" });
  const events = app.s3Dataset("events", {
    bucket: "raw",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime() },
  });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  app.data("joined", {
    inputs: [daily, events],
    output: { region: dim.string(), day: dim.datetime() },
    pendingTtlSeconds: 3600,
    compute: inline(async () => {}),
  });
  return new RouteTable(app.toModel()).route("joined") as Route;
}

/** Two unlinked inputs, each pinning one output dimension: every event is a fact. */
function factsOnly(): Route {
  const app = new Application("tg", { account: "111122223333", region: "us-east-1" });
  const x = app.s3Dataset("x", { bucket: "raw", partitions: ["{}"], dimensions: { a: dim.string() } });
  const y = app.s3Dataset("y", { bucket: "raw", partitions: ["{}"], dimensions: { b: dim.string() } });
  app.data("n", {
    inputs: [x, y],
    output: { a: dim.string(), b: dim.string() },
    outputLinks: [link("a", x.dim("a")), link("b", y.dim("b"))],
    compute: inline(async () => {}),
  });
  return new RouteTable(app.toModel()).route("n") as Route;
}

const ctx = (route: Route, over: Partial<TokenContext> = {}): TokenContext => ({
  route,
  alias: "events",
  dims: { region: "NA", day: DAY },
  partition: { region: "NA", day: DAY },
  eventId: "e1",
  now: T,
  newId: () => "g1",
  ...over,
});

const fact = (route: Route, day: string, at: number, arrival = `a-${day}-${at}`): FactItem =>
  arrive(route, undefined, "daily", { day }, { day }, arrival, arrival, at);

describe("classify", () => {
  test("a regional event is a token for its (region, day); the timer a fact pinning the day", () => {
    const route = readme();
    expect(classify(route, "events", { region: "EU", day: DAY })).toEqual({
      kind: "token",
      partition: { region: "EU", day: DAY },
    });
    expect(classify(route, "daily", { day: DAY })).toEqual({ kind: "fact", pins: { day: DAY } });
  });
});

describe("offerToken", () => {
  const route = readme();

  test("no item: a new pending group (created), expiring at the pending TTL", () => {
    const d = offerToken(undefined, ctx(route));
    expect(d).toEqual({
      kind: "write",
      created: true,
      next: expect.objectContaining({
        kind: "group",
        schema: ITEM_SCHEMA,
        signature: route.signature,
        id: "g1",
        partition: { region: "NA", day: DAY },
        state: "pending",
        tokens: { events: { region: "NA", day: DAY } },
        ids: { events: "e1" },
        createdAt: T,
        expiresAt: T + TTL,
      }),
    });
  });

  const pending = (over: Partial<GroupItem> = {}): GroupItem => {
    const d = offerToken(undefined, ctx(route));
    if (d.kind !== "write") throw new Error("expected a write");
    return { ...d.next, ...over };
  };

  test("a second token for a pending group is a no-op; so is any token while waiting on a range check", () => {
    expect(offerToken(pending(), ctx(route, { eventId: "e2" }))).toEqual({ kind: "noop" });
    expect(
      offerToken(pending({ state: "waiting" }), ctx(route, { alias: "daily", dims: { day: DAY } })),
    ).toEqual({
      kind: "noop",
    });
  });

  test("a redelivery of the token a pending group holds: a no-op that hands back the tokens to re-check", () => {
    const g = pending();
    expect(offerToken(g, ctx(route))).toEqual({ kind: "noop", held: g.tokens });
    // Without event ids, the same input's token again is taken for a redelivery too.
    const bare = pending({ ids: {} });
    expect(offerToken(bare, ctx(route, { eventId: undefined }))).toEqual({ kind: "noop", held: bare.tokens });
  });

  test("a token of another input joins the pending group (not created)", () => {
    const d = offerToken(pending(), ctx(route, { alias: "daily", dims: { day: DAY }, eventId: "t1" }));
    expect(d).toMatchObject({
      kind: "write",
      created: false,
      next: { tokens: { daily: { day: DAY } }, ids: { daily: "t1" } },
    });
  });

  test("a group being triggered is finished first", () => {
    const item = pending({ state: "triggering", executionId: "joined-g1" });
    expect(offerToken(item, ctx(route, { eventId: "e9" }))).toEqual({ kind: "finish-trigger", item });
  });

  test("a redelivered token of a consumed group resumes its execution, within the retention", () => {
    const done = consume(pending({ state: "triggering", executionId: "joined-g1" }), T, 1000) as GroupItem;
    expect(done.state).toBe("consumed");
    expect(offerToken(done, ctx(route, { now: T + 999 }))).toEqual({
      kind: "resume",
      executionId: "joined-g1",
    });
    // After the retention the id is forgotten: a new group.
    expect(offerToken(done, ctx(route, { now: T + 1000 }))).toMatchObject({ kind: "write", created: true });
  });

  test("a pending group past its TTL expires (reason ttl) and a new one opens", () => {
    const d = offerToken(pending(), ctx(route, { now: T + TTL, eventId: "e2", newId: () => "g2" }));
    expect(d).toMatchObject({ kind: "write", created: true, next: { id: "g2" }, expired: { reason: "ttl" } });
  });

  test("a group of another link structure or layout expires with a redeploy reason", () => {
    expect(offerToken(pending({ signature: "old" }), ctx(route, { eventId: "e2" }))).toMatchObject({
      kind: "write",
      created: true,
      expired: { reason: expect.stringMatching(/^redeploy: the inputs or links of node "joined" changed/) },
    });
    expect(offerToken(pending({ schema: 1 }), ctx(route, { eventId: "e2" }))).toMatchObject({
      expired: { reason: `redeploy: stored by layout 1, the router uses ${ITEM_SCHEMA}` },
    });
    // A consumed item of another structure has nothing to expire.
    const done = consume(pending({ state: "triggering", executionId: "x" }), T, 1000) as GroupItem;
    expect(offerToken({ ...done, signature: "old" }, ctx(route, { eventId: "e2" }))).not.toHaveProperty(
      "expired",
    );
  });
});

describe("completion", () => {
  const route = readme();
  const tokens = { events: { region: "NA", day: DAY } };

  test("a live fact that agrees with the partition completes it", () => {
    expect(completion(route, { region: "NA", day: DAY }, tokens, [fact(route, DAY, T)], T)).toEqual({
      events: { region: "NA", day: DAY },
      daily: { day: DAY },
    });
  });

  test("a fact of another day, an expired fact or a fact of another structure does not", () => {
    const p = { region: "NA", day: DAY };
    expect(completion(route, p, tokens, [fact(route, "2024-05-08", T)], T)).toBeUndefined();
    expect(completion(route, p, tokens, [fact(route, DAY, T)], T + TTL)).toBeUndefined();
    expect(completion(route, p, tokens, [{ ...fact(route, DAY, T), signature: "old" }], T)).toBeUndefined();
    expect(completion(route, p, {}, [fact(route, DAY, T)], T)).toBeUndefined();
  });
});

describe("facts", () => {
  test("arrive: a refresh keeps createdAt, takes the new arrival, remembers at most 16 ids", () => {
    const route = readme();
    let f = fact(route, DAY, T, "first");
    for (let i = 0; i < 20; i++)
      f = arrive(route, f, "daily", { day: DAY }, { day: DAY }, `r${i}`, `r${i}`, T + i + 1);
    expect(f).toMatchObject({ arrival: "r19", createdAt: T, arrivedAt: T + 20, expiresAt: T + 20 + TTL });
    expect(f.ids).toHaveLength(16);
    expect(f.ids.at(-1)).toBe("r19");
    // An expired fact is not refreshed: a new one.
    expect(
      arrive(route, f, "daily", { day: DAY }, { day: DAY }, "late", undefined, T + 2 * TTL),
    ).toMatchObject({
      createdAt: T + 2 * TTL,
      ids: [],
    });
  });

  test("factSets: every consistent combination including the new fact that pins a whole partition", () => {
    const route = factsOnly();
    const x = (a: string, at: number) => arrive(route, undefined, "x", { a }, { a }, `x${a}`, undefined, at);
    const y = (b: string, at: number) => arrive(route, undefined, "y", { b }, { b }, `y${b}`, undefined, at);
    const all = [x("1", T), x("2", T + 1), y("p", T + 2)];
    const sets = factSets(route, all[2] as FactItem, all, T + 2);
    expect(sets.map((s) => s.partition)).toEqual([
      { a: "2", b: "p" },
      { a: "1", b: "p" },
    ]);
    expect(sets[0]?.arrivals).toEqual(["yp", "x2"]);
    // A set is named by its arrivals, whatever their order.
    expect(comboKeyOf(route, { a: "1", b: "p" }, ["x1", "yp"])).toBe(
      comboKeyOf(route, { a: "1", b: "p" }, ["yp", "x1"]),
    );
    expect(comboKeyOf(route, { a: "1", b: "p" }, ["x1", "yp"])).not.toBe(
      comboKeyOf(route, { a: "1", b: "p" }, ["x1'", "yp"]),
    );
  });
});

describe("consume, isSpent, isExpired", () => {
  const route = readme();
  const d = offerToken(undefined, ctx(route));
  const triggering = {
    ...(d.kind === "write" ? d.next : ({} as GroupItem)),
    state: "triggering" as const,
    executionId: "x1",
  };

  test("a triggered group keeps its token ids as a spent group for the retention, then is spent", () => {
    const done = consume(triggering, T, 500) as GroupItem;
    expect(done).toMatchObject({
      state: "consumed",
      tokens: {},
      spent: [{ ids: ["e1"], executionId: "x1", until: T + 500 }],
    });
    expect(done).not.toHaveProperty("ids");
    expect(isSpent(done, T + 499)).toBe(false);
    expect(isSpent(done, T + 500)).toBe(true);
  });

  test("a group with no ids leaves nothing (the item is deleted)", () => {
    expect(consume({ ...triggering, ids: {} }, T, 500)).toBeUndefined();
  });

  test("pending and waiting groups expire at expiresAt; triggering ones never do", () => {
    expect(isExpired({ ...triggering, state: "pending" }, T + TTL)).toBe(true);
    expect(isExpired({ ...triggering, state: "waiting" }, T + TTL - 1)).toBe(false);
    expect(isExpired(triggering, T + 10 * TTL)).toBe(false);
  });
});
