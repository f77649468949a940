import type { HookFunction, InlineCompute } from "sluice";

/**
 * Writes a small JSON incident report in the output partition. `output.write` works wherever the flow
 * runs: a file in LocalRuntime's folder, an S3 object (with the router's role) on AWS; `node:fs` on
 * `output.paths[0]` would work only locally.
 */
export const writeIncidentReport: InlineCompute = async (inputs, output, ctx) => {
  const trigger = inputs.ingest_incident;
  const report = {
    incident: "ingest_incident",
    state: trigger?.dimensions.state,
    at: trigger?.dimensions.time,
    environment: ctx.env,
    attempt: ctx.attempt,
  };
  await output.write("report.json", `${JSON.stringify(report, null, 2)}\n`);
};

/** Called when the report could not be written after its retries. */
export const pageOnCall: HookFunction = (event) => {
  console.error(JSON.stringify({ page: "ingest-oncall", node: event.node, error: event.error }));
};
