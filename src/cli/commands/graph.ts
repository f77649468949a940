import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { EXIT, flag, type Command } from "../args";
import type * as Dot from "../graph/dot";
import type * as GraphModel from "../graph/graph-model";
import type * as Mermaid from "../graph/mermaid";
import type * as Svg from "../graph/svg";
import { loadFlow } from "../load-flow";

type Graph = GraphModel.Graph;

/* eslint-disable @typescript-eslint/no-require-imports -- the renderers load only when graph runs */
const FORMATS = {
  mermaid: (g: Graph) => (require("../graph/mermaid") as typeof Mermaid).renderMermaid(g),
  dot: (g: Graph) => (require("../graph/dot") as typeof Dot).renderDot(g),
  svg: (g: Graph) => (require("../graph/svg") as typeof Svg).renderSvg(g),
} as const;

export const graphCommand: Command = {
  name: "graph",
  summary: "the flow as a graph (mermaid, dot or svg)",
  usage: `graph <flow.ts> [--format mermaid|dot|svg] [--out FILE] [--no-auto-links]
  the flow as a graph: inputs (aliases, ranges, links), metrics, alarm rules; mermaid to stdout
  by default; --json: the graph model. An invalid flow is drawn as far as it builds, its faulty
  nodes and inputs marked, its issues listed on stderr (exit 1)`,
  options: { format: "string", out: "string", "no-auto-links": "boolean" },
  run(args, io) {
    const format = flag(args, "--format") ?? "mermaid";
    if (!Object.hasOwn(FORMATS, format)) {
      io.err.write(`sluice graph: unknown --format ${format} (one of ${Object.keys(FORMATS).join(", ")})\n`);
      return EXIT.usage;
    }
    const { buildGraph, markIssues } = require("../graph/graph-model") as typeof GraphModel;
    // An invalid flow is drawn too, as far as it builds: faulty nodes and inputs marked, issues listed.
    const { model, issues } = loadFlow(args.positional[1] as string).inspect();
    const graph = markIssues(
      buildGraph(model, { autoLinks: args.flags.has("--no-auto-links") ? "omit" : "compact" }),
      model,
      issues,
    );
    const text = io.json
      ? `${JSON.stringify(graph, null, 2)}\n`
      : FORMATS[format as keyof typeof FORMATS](graph);
    const out = flag(args, "--out");
    if (out === undefined) io.out.write(text);
    else {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, text);
      io.out.write(
        `${graph.name}: ${graph.nodes.length} nodes, ${graph.edges.length} edges → ${out} (${io.json ? "json" : format})\n`,
      );
    }
    for (const issue of graph.issues ?? []) io.err.write(`${issue}\n`);
    return issues.length > 0 ? EXIT.invalid : EXIT.ok;
  },
};
