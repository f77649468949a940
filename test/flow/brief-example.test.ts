/** The brief's contract flow builds, and its model says what the brief's semantics imply. */
import { FlowValidationError, type CompositeAlarm, type DataNodeModel, type FlowModel } from "sluice";
import { briefApp } from "../support/brief-app";

function data(m: FlowModel, id: string): DataNodeModel {
  const n = m.nodes[id];
  if (n?.kind !== "data") throw new Error(`${id} is not a data node`);
  return n;
}

test("the brief's flow is valid", () => {
  expect(briefApp().validate()).toEqual([]);
});

test("joined: map link to the reference table, auto-linked day, output linked to first inputs by name", () => {
  const m = briefApp().toModel();
  const joined = data(m, "joined");
  expect(joined.inputs.map((i) => [i.alias, i.reference, i.rangeCheck])).toEqual([
    ["daily", false, false],
    ["events", false, false],
    ["customers", true, true],
  ]);
  expect(joined.inputs[1]?.filter).toEqual({ region: ["EU", "JP", "NA"] });
  expect(joined.links.map((l) => [l.target, l.mapper.kind, l.auto])).toEqual([
    [{ input: "customers", dimension: "region_id" }, "map", false],
    [{ input: "events", dimension: "day" }, "eq", true],
  ]);
  expect(joined.outputLinks.map((l) => [l.dimension, l.sources])).toEqual([
    ["region", [{ input: "events", dimension: "region" }]],
    ["day", [{ input: "daily", dimension: "day" }]],
  ]);
  expect(joined).toMatchObject({ retries: 2, pendingTtlSeconds: 86400, path: "internal_data/joined" });
});

test("weekly: a 7-partition window over joined, output defaulting to joined's spec", () => {
  const weekly = data(briefApp().toModel(), "weekly");
  expect(weekly.inputs[0]).toMatchObject({
    alias: "last7",
    node: "joined",
    ranges: { day: { from: -6, to: 0 } },
  });
  expect(weekly.signal.dimensions.map((d) => d.name)).toEqual(["region", "day"]);
  expect(weekly.compute[0]).toMatchObject({
    kind: "pySpark",
    engine: "glue",
    params: { workers: 10, workerType: "G.1X", glueVersion: "4.0" },
  });
});

test("monitor: the rendered rule uses the name for own alarms and the ARN across accounts", () => {
  const app = briefApp();
  const expected =
    'ALARM("adpd-pipeline-weekly_failures") OR ALARM("arn:aws:cloudwatch:us-west-2:222233334444:alarm:foo-availability")';
  expect((app.node("monitor") as CompositeAlarm).alarmRule()).toBe(expected);
  const monitor = app.toModel().nodes.monitor;
  expect(monitor?.kind === "compositeAlarm" && monitor.alarmRule).toBe(expected);
});

test("a broken variant lists every problem at once", () => {
  const app = briefApp();
  expect(() => app.patch("weekly", { retries: -1 })).toThrow(FlowValidationError); // refused, undone
  app.data("broken", { inputs: [app.node("events") as never], compute: [] });
  app.data("flaky", {
    inputs: [app.node("daily") as never],
    compute: (app.node("weekly")?.props as { compute: never }).compute,
    retries: -1,
  });
  const err = (() => {
    try {
      app.toModel();
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(err).toBeInstanceOf(FlowValidationError);
  expect((err as FlowValidationError).issues.map((i) => i.path).sort()).toEqual([
    "nodes.broken",
    "nodes.flaky.retries",
  ]);
});
