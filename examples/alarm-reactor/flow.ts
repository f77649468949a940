/**
 * Alarm reactor: an ingest Lambda's error rate (metric math over two metrics) raises an alarm; when it
 * is in ALARM while the upstream warehouse (another team's account) is healthy, the incident is ours,
 * so a composite alarm fires and a data node writes an incident report and pages on failure.
 */
import { Application, allOf, inline, not } from "sluice";

// Handler references ("handlers/report.ts#…") are relative to this folder, wherever the flow is run from.
const app = new Application("ingest-guard", {
  account: "111122223333",
  region: "us-east-1",
  root: __dirname,
});

const ingest = app.externalMetric("ingest_lambda", {
  namespace: "AWS/Lambda",
  subDimensions: { FunctionName: "ingest" },
  metricNames: ["Errors", "Invocations"],
});

const errorRate = app.alarm("ingest_error_rate", {
  metrics: { errors: ingest.get("Errors"), calls: ingest.get("Invocations") },
  expression: "100 * errors / calls",
  periodSeconds: 300,
  threshold: 5,
  comparison: "GreaterThanThreshold",
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  treatMissingData: "notBreaching",
});

const warehouse = app.externalAlarm("warehouse_health", {
  account: "222233334444",
  region: "us-west-2",
  alarmName: "warehouse-availability",
});

const incident = app.compositeAlarm("ingest_incident", {
  rule: allOf(errorRate.is("ALARM"), not(warehouse.is("ALARM"))),
  description: "Ingest is failing while the warehouse is healthy",
});

const reports = app.data("incident_report", {
  inputs: [incident.is("ALARM")],
  compute: inline("handlers/report.ts#writeIncidentReport"),
  hooks: { onFailure: "handlers/report.ts#pageOnCall" },
  retries: 2,
});

// Alarm on the reactor itself: a report that keeps failing is worth a page too.
app.alarm("incident_report_failures", {
  metric: app.routeMetrics(reports).get("ExecutionFailure"),
  statistic: "Sum",
  periodSeconds: 300,
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
});

export default app;
