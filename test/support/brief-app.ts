/** The flow of the design brief, verbatim, used by several suites. */
import { Application, dim, range, link, map, sparkSql, pySpark, inline, anyOf } from "sluice";

/**
 * `upstream`: where the upstream_health alarm is. The brief puts it in another account and region, which
 * a CloudWatch composite alarm cannot name (synth refuses it); synth tests pass the application's own.
 */
export function briefApp(upstream = { account: "222233334444", region: "us-west-2" }): Application {
  const app = new Application("adpd-pipeline", { account: "111122223333", region: "us-east-1" });
  app.environment("prod", {
    account: "999988887777",
    region: "us-east-1",
    datasets: { events: { bucket: "prod-raw" } },
    config: { threshold: 10 },
  });
  const events = app.s3Dataset("events", {
    account: "444455556666",
    bucket: "raw",
    prefix: "events",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
    filter: { region: ["NA", "EU", "JP"] },
    format: "parquet",
    completion: "_SUCCESS",
  });
  const customers = app.glueTable("customers", {
    database: "crm",
    table: "customers",
    dimensions: { region_id: dim.long() },
  });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  app.externalMetric("lambda_errors", { namespace: "AWS/Lambda", subDimensions: { FunctionName: "ingest" } });
  const upstreamAlarm = app.externalAlarm("upstream_health", { ...upstream, alarmName: "foo-availability" });
  const joined = app.data("joined", {
    inputs: [daily, events, customers.ref().rangeCheck()],
    links: [link(customers.dim("region_id"), map({ NA: 1, EU: 2, JP: 3 }), events.dim("region"))],
    output: { region: dim.string(), day: dim.datetime() },
    compute: sparkSql("SELECT e.* FROM events e JOIN customers c ON e.cid = c.cid"),
    retries: 2,
    pendingTtlSeconds: 86400,
  });
  const weekly = app.data("weekly", {
    inputs: { last7: joined.at("*", range(-7)) },
    compute: pySpark("output = last7.select('cid')", { workers: 10, workerType: "G.1X", glueVersion: "4.0" }),
  });
  const failures = app.alarm("weekly_failures", {
    metric: app.routeMetrics(weekly).get("ExecutionFailure"),
    statistic: "Sum",
    periodSeconds: 300,
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
  });
  const monitor = app.compositeAlarm("monitor", {
    rule: anyOf(failures.is("ALARM"), upstreamAlarm.is("ALARM")),
  });
  app.data("on_alarm", { inputs: [monitor.is("ALARM")], compute: inline("handlers/page.ts#page") });
  return app;
}
