/**
 * `sluice remote <flow.ts> [--env E] <action> …`: the deployed environment of a flow, through its
 * router function (direct invocations), its routing table and CloudWatch.
 */
import type { Application } from "../../flow/application";
import type { FlowModel } from "../../flow/model/flow-model";
import type { ExecutionRecord } from "../../runtime-bundle/core/execution-record";
import type { FactView, PendingView, PollResult, ProcessOutcome } from "../../runtime-bundle/core/router";
import type { Dimensions } from "../../runtime-bundle/core/signal";
import { EXIT, flag, type Args, type Io } from "../args";
import { didYouMean } from "../../flow/suggest";
import { loadFlow } from "../load-flow";
import { renderPending } from "../pending-view";
import { backfillFailed, progressLine, runBackfill, summaryLine } from "./backfill";
import { remoteClients, type RemoteClients } from "./clients";
import { RemoteError, usageError } from "./errors";
import { RouterClient } from "./router-client";
import { collectStatus, renderStatus } from "./status";
import { isoSeconds } from "./table";
import { resolveTarget, type RemoteTarget } from "./target";
import { backfillPlan, nodeDimensions, parseConcurrency, renderDimensions, requireNode } from "../plan";

export const REMOTE_ACTIONS = [
  "process",
  "execute",
  "poll",
  "kill",
  "status",
  "pending",
  "facts",
  "backfill",
] as const;
type Action = (typeof REMOTE_ACTIONS)[number];

const COMMON_FLAGS = new Set<string>([
  "--json",
  "--env",
  "--region",
  "--profile",
  "--endpoint-lambda",
  "--endpoint-dynamodb",
  "--endpoint-cloudwatch",
]);
const ACTION_FLAGS: Readonly<Record<Action, readonly string[]>> = {
  process: [],
  execute: ["--recursive"],
  poll: [],
  kill: [],
  status: [],
  pending: [],
  facts: [],
  backfill: ["--from", "--to", "--concurrency", "--dimension", "--fixed", "--recursive"],
};
const SWITCHES = new Set(["--json", "--recursive"]);

export { DEFAULT_BACKFILL_CONCURRENCY } from "../plan";

export async function runRemote(args: Args, io: Io): Promise<number> {
  try {
    return await remote(args, io);
  } catch (e) {
    if (!(e instanceof RemoteError)) throw e;
    io.err.write(`sluice remote: ${e.message}\n`);
    return e.exit;
  }
}

async function remote(args: Args, io: Io): Promise<number> {
  const [, file, actionName, ...rest] = args.positional;
  if (actionName === undefined) throw usageError(`missing <action> (${REMOTE_ACTIONS.join(", ")})`);
  if (!(REMOTE_ACTIONS as readonly string[]).includes(actionName))
    throw usageError(
      `unknown action "${actionName}"${didYouMean(actionName, REMOTE_ACTIONS)} (actions: ${REMOTE_ACTIONS.join(", ")})`,
    );
  const action = actionName as Action;
  checkFlags(args, action);

  const app = loadFlow(file as string);
  const model: FlowModel = app.toModel();
  const target = resolveTarget(model, {
    env: flag(args, "--env"),
    region: flag(args, "--region"),
    profile: flag(args, "--profile"),
    endpointLambda: flag(args, "--endpoint-lambda"),
    endpointDynamodb: flag(args, "--endpoint-dynamodb"),
    endpointCloudwatch: flag(args, "--endpoint-cloudwatch"),
  });
  // Everything the user typed is checked before the first call.
  const prepared = prepare(model, action, rest, args, app);
  const clients = remoteClients(target);
  try {
    const router = new RouterClient(clients.lambda, target);
    return await prepared(router, clients, target, io);
  } finally {
    clients.destroy();
  }
}

type Prepared = (
  router: RouterClient,
  clients: RemoteClients,
  target: RemoteTarget,
  io: Io,
) => Promise<number>;

function prepare(
  model: FlowModel,
  action: Action,
  rest: readonly string[],
  args: Args,
  app: Application,
): Prepared {
  switch (action) {
    case "process": {
      const node = requireNode(model, rest[0]);
      const dimensions = nodeDimensions(node, rest.slice(1), app);
      return async (router, _clients, _target, io) => {
        const outcome = await router.invoke<ProcessOutcome>({ sluice: "process", node: node.id, dimensions });
        if (io.json) return json(io, { action, node: node.id, dimensions, result: outcome });
        const about = `${node.id} ${renderDimensions(dimensions)}`;
        if (outcome.matched.length === 0)
          io.out.write(`${about}: not matched${outcome.unmatched ? `: ${outcome.unmatched}` : ""}\n`);
        else {
          const offered = outcome.matched.map((m) => `${m.route} (as ${m.input})`).join(", ");
          const started = outcome.executions.length
            ? `started ${outcome.executions.join(", ")}`
            : "no execution started";
          io.out.write(`${about}: offered to ${offered}; ${started}\n`);
        }
        return EXIT.ok;
      };
    }
    case "execute":
    case "poll":
    case "kill": {
      const node = requireNode(model, rest[0], action);
      const dimensions = nodeDimensions(node, rest.slice(1), app);
      const recursive = args.flags.has("--recursive");
      return async (router, _clients, _target, io) => {
        const about = `${node.id} ${renderDimensions(dimensions)}`;
        if (action === "execute") {
          const record = await router.invoke<ExecutionRecord>({
            sluice: "execute",
            node: node.id,
            dimensions,
            ...(recursive ? { recursive: true } : {}),
          });
          if (io.json) json(io, { action, node: node.id, dimensions, result: record });
          else io.out.write(`${about}: ${recordLine(record)}\n`);
          if (record.status !== "FAILED") return EXIT.ok;
          io.err.write(`sluice remote: execution ${record.id} of ${about} FAILED: ${record.error ?? "?"}\n`);
          return EXIT.runtime;
        }
        if (action === "poll") {
          const polled = await router.invoke<PollResult>({ sluice: "poll", node: node.id, dimensions });
          if (io.json) return json(io, { action, node: node.id, dimensions, result: polled });
          if (polled.path !== undefined) io.out.write(`${about}: SUCCEEDED → ${polled.path}\n`);
          else if (!polled.records?.length) io.out.write(`${about}: no finished execution\n`);
          else {
            io.out.write(`${about}: not succeeded\n`);
            for (const r of polled.records) io.out.write(`  ${recordLine(r)}\n`);
          }
          return EXIT.ok;
        }
        const { killed } = await router.invoke<{ killed: ExecutionRecord | null }>({
          sluice: "kill",
          node: node.id,
          dimensions,
        });
        if (io.json) return json(io, { action, node: node.id, dimensions, result: { killed } });
        io.out.write(killed ? `${about}: ${recordLine(killed)}\n` : `${about}: no running execution\n`);
        return EXIT.ok;
      };
    }
    case "pending":
    case "facts": {
      const node = requireNode(model, rest[0], action);
      if (rest.length > 1)
        throw usageError(`${action} takes only <node>, got also "${rest.slice(1).join(" ")}"`);
      return async (router, _clients, _target, io) => {
        const [groups, facts] = await Promise.all([
          action === "pending" ? router.invoke<PendingView[]>({ sluice: "pending", node: node.id }) : [],
          router.invoke<FactView[]>({ sluice: "facts", node: node.id }),
        ]);
        if (io.json)
          return json(io, action === "pending" ? { node: node.id, groups, facts } : { node: node.id, facts });
        if (action === "facts" && facts.length === 0) io.out.write(`${node.id}: no live facts\n`);
        else io.out.write(renderPending(node, { node: node.id, groups, facts }));
        return EXIT.ok;
      };
    }
    case "status": {
      if (rest.length > 0) throw usageError(`status takes no arguments, got "${rest.join(" ")}"`);
      return async (router, clients, target, io) => {
        const report = await collectStatus(model, target, router, clients, Date.now());
        if (io.json) json(io, report);
        else io.out.write(renderStatus(report));
        for (const e of report.errors) io.err.write(`sluice remote status: ${e}\n`);
        return report.errors.length > 0 ? EXIT.runtime : EXIT.ok;
      };
    }
    case "backfill": {
      const node = requireNode(model, rest[0], action);
      if (rest.length > 1)
        throw usageError(
          `backfill takes one <node>, got "${rest.slice(1).join(" ")}" too; give other dimensions with --fixed d=v,…`,
        );
      const plan: Dimensions[] = backfillPlan(node, {
        from: flag(args, "--from"),
        to: flag(args, "--to"),
        dimension: flag(args, "--dimension"),
        fixed: flag(args, "--fixed"),
      });
      const concurrency = parseConcurrency(flag(args, "--concurrency"));
      const recursive = args.flags.has("--recursive");
      return async (router, _clients, _target, io) => {
        // With --json, stdout carries only the summary; progress goes to stderr.
        const progress = io.json ? io.err : io.out;
        const summary = await runBackfill(router, {
          node: node.id,
          plan,
          concurrency,
          recursive,
          progress: (done, total, item) => progress.write(`${progressLine(node.id, done, total, item)}\n`),
        });
        if (io.json) json(io, summary);
        else io.out.write(`${summaryLine(summary)}\n`);
        if (summary.stopped !== undefined) io.err.write(`sluice remote: ${summary.stopped}\n`);
        return backfillFailed(summary) ? EXIT.runtime : EXIT.ok;
      };
    }
  }
}

function checkFlags(args: Args, action: Action): void {
  const allowed = new Set([...COMMON_FLAGS, ...ACTION_FLAGS[action]]);
  for (const [name, value] of args.flags) {
    if (!allowed.has(name)) {
      const elsewhere = REMOTE_ACTIONS.filter((a) => ACTION_FLAGS[a].includes(name));
      throw usageError(
        elsewhere.length > 0
          ? `${name} is an option of ${elsewhere.join(", ")}, not of ${action}`
          : `unknown option ${name}`,
      );
    }
    if (SWITCHES.has(name) && value !== true) throw usageError(`${name} takes no value`);
    if (!SWITCHES.has(name) && value === "") throw usageError(`${name} needs a value`);
  }
}

function recordLine(r: ExecutionRecord): string {
  const when =
    r.endedAt !== undefined ? `ended ${isoSeconds(r.endedAt)}` : `started ${isoSeconds(r.startedAt)}`;
  const error = r.error !== undefined ? `: ${r.error}` : "";
  const path = r.status === "SUCCEEDED" ? ` → ${r.path}` : "";
  return `execution ${r.id} ${r.status} (attempt ${r.attempts}, ${when})${path}${error}`;
}

function json(io: Io, value: unknown): number {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
  return EXIT.ok;
}
