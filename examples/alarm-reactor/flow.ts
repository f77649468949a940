/**
 * Alarm reactor: an ingest Lambda's error rate (metric math over two metrics) raises an alarm; when it
 * is in ALARM while the Lambda is not being throttled (throttling is the platform team's incident, not
 * ours), a composite alarm fires and a data node writes an incident report and pages on failure.
 *
 * A composite alarm can only name alarms of its own account and region (CloudWatch evaluates it
 * there): another team's alarm is a data input instead, its state changes forwarded to this account.
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
  metricNames: ["Errors", "Invocations", "Throttles"],
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

const throttled = app.alarm("ingest_throttled", {
  metric: ingest.get("Throttles"),
  statistic: "Sum",
  periodSeconds: 300,
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
  treatMissingData: "notBreaching",
});

const incident = app.compositeAlarm("ingest_incident", {
  rule: allOf(errorRate.is("ALARM"), not(throttled.is("ALARM"))),
  description: "Ingest is failing while it is not throttled",
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
