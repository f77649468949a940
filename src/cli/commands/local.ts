/**
 * `sluice local`: the command's help and options; the runtime (DuckDB, the dispatchers) loads in
 * ./local-run only when the command runs.
 */
import type { Command } from "../args";
import type * as LocalRun from "./local-run";

export const localCommand: Command = {
  name: "local",
  summary: "the flow on this machine, its state and data kept in --dir between runs",
  usage: `local <flow.ts> <action> … --dir DIR [--datasets id=folder,…]
  the flow on this machine, in a LocalRuntime whose state and data persist in DIR between runs
  (--datasets: local folders of external datasets)

  process <node> <value…>     a signal of <node> (one value per dimension, in order)
  execute <node> <value…> [--recursive]
                              an execution of a data node's partition; exit 4 if it FAILED
  poll <node> <value…>        the partition's path, or its last executions
  pending <node>              the node's open trigger groups: output partition, inputs received and
                              missing, the partitions a range check still waits for; and its live facts
  facts <node>                the node's live facts: input, what they pin, expiry
  executions <node>           the node's executions, newest first
  status [<node>]             per data node: pending groups and what they wait for (inputs,
                              missing partitions by name), live facts, the last executions, failures
  backfill <node> --from V --to V [--dimension D] [--fixed d=v,…] [--concurrency N] [--recursive]
                              execute every partition of a range (other dimensions: --fixed, or the
                              values their filter declares), N at a time (default 4);
                              exit 4 if any failed`,
  options: {
    dir: "string",
    datasets: "string",
    from: "string",
    to: "string",
    dimension: "string",
    concurrency: "string",
    fixed: "string",
    recursive: "boolean",
  },
  run(args, io) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const local = require("./local-run") as typeof LocalRun;
    return local.runLocalCommand(args, io);
  },
};
