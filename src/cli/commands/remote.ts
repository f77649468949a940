import type { Command } from "../args";
import type * as RemoteModule from "../remote/run";

const VALUE_FLAGS = [
  "--env",
  "--region",
  "--profile",
  "--endpoint-lambda",
  "--endpoint-dynamodb",
  "--endpoint-cloudwatch",
  "--from",
  "--to",
  "--concurrency",
  "--dimension",
  "--fixed",
];

export const remoteCommand: Command = {
  name: "remote",
  usage: `remote <flow.ts> [--env E] <action> …
                                  a deployed environment, through its router function, routing
                                  table and CloudWatch (--region, --profile; --endpoint-lambda,
                                  --endpoint-dynamodb, --endpoint-cloudwatch for emulators):
      process <node> <value…>     a signal of <node> (one value per dimension, in order)
      execute <node> <value…> [--recursive]
                                  an execution of a data node's partition; exit 4 if it FAILED
      poll <node> <value…>        the partition's path, or its last executions
      kill <node> <value…>        kill the partition's running execution
      status                      executions and pending groups per data node, route metrics of
                                  the last 24h, alarm states
      backfill <node> --from V --to V [--dimension D] [--fixed d=v,…] [--concurrency N] [--recursive]
                                  execute every partition of a range (other dimensions: --fixed,
                                  or the values their filter declares), N at a time (default 4);
                                  exit 4 if any failed`,
  valueFlags: VALUE_FLAGS,
  run(args, io) {
    // Loaded here so other commands never pay for the AWS clients.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const remote = require("../remote/run") as typeof RemoteModule;
    return remote.runRemote(args, io);
  },
};
