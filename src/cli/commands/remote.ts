import type { Command } from "../args";
import type * as RemoteModule from "../remote/run";

const OPTIONS = {
  env: "string",
  region: "string",
  profile: "string",
  "endpoint-lambda": "string",
  "endpoint-dynamodb": "string",
  "endpoint-cloudwatch": "string",
  from: "string",
  to: "string",
  concurrency: "string",
  dimension: "string",
  fixed: "string",
  recursive: "boolean",
} as const;

export const remoteCommand: Command = {
  name: "remote",
  summary: "a deployed environment: process, execute, poll, kill, status, pending, facts, backfill",
  usage: `remote <flow.ts> [--env E] <action> …
  a deployed environment, through its router function, routing table and CloudWatch
  (--region, --profile; --endpoint-lambda, --endpoint-dynamodb, --endpoint-cloudwatch for emulators)

  process <node> <value…>     a signal of <node> (one value per dimension, in order)
  execute <node> <value…> [--recursive]
                              an execution of a data node's partition; exit 4 if it FAILED
  poll <node> <value…>        the partition's path, or its last executions
  kill <node> <value…>        kill the partition's running execution
  status                      executions and pending groups per data node, route metrics of the
                              last 24h, alarm states
  pending <node>              the node's open trigger groups (output partition, inputs received and
                              missing, partitions a range check waits for) and its live facts
  facts <node>                the node's live facts: input, what they pin, expiry
  backfill <node> --from V --to V [--dimension D] [--fixed d=v,…] [--concurrency N] [--recursive]
                              execute every partition of a range (other dimensions: --fixed, or
                              the values their filter declares), N at a time (default 4);
                              exit 4 if any failed`,
  options: OPTIONS,
  run(args, io) {
    // Loaded here so other commands never pay for the AWS clients.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const remote = require("../remote/run") as typeof RemoteModule;
    return remote.runRemote(args, io);
  },
};
