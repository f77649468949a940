/** EMF lines carry the dimensions alarms read: { Application, Route } and { Application, Component }. */
import { EmfMetrics } from "../../src/runtime-bundle/aws/emf-metrics";
import { platformMetricDimensions, routeMetricDimensions } from "../../src/flow/model/route-metrics";

test("route and platform metrics are written with the dimensions routeMetrics()/platformMetrics() read", () => {
  const lines: string[] = [];
  const m = new EmfMetrics({
    namespace: "Sluice/app",
    application: "app",
    write: (l) => lines.push(l),
    now: () => 1_700_000_000_000,
  });
  m.emit("joined", "ExecutionSuccess");
  m.emit("joined", "ExecutionSuccess");
  m.emit(undefined, "EventsReceived");
  m.emit(undefined, "DispatchErrors");
  m.flush();
  const parsed = lines.map(
    (l) =>
      JSON.parse(l) as Record<string, unknown> & {
        _aws: {
          CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
        };
      },
  );
  const byMetric = (name: string) => parsed.find((p) => name in p);
  const route = byMetric("ExecutionSuccess");
  expect(route).toMatchObject({ ...routeMetricDimensions("app", "joined"), ExecutionSuccess: 2 });
  expect(route?._aws.CloudWatchMetrics[0]).toEqual({
    Namespace: "Sluice/app",
    Dimensions: [["Application", "Route"]],
    Metrics: [{ Name: "ExecutionSuccess", Unit: "Count" }],
  });
  expect(byMetric("EventsReceived")).toMatchObject({
    ...platformMetricDimensions("app", "orchestration"),
    EventsReceived: 1,
  });
  expect(byMetric("DispatchErrors")).toMatchObject({
    ...platformMetricDimensions("app", "system"),
    DispatchErrors: 1,
  });
  expect(byMetric("EventsReceived")?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
    ["Application", "Component"],
  ]);
  lines.length = 0;
  m.flush();
  expect(lines).toEqual([]); // counters reset
});
