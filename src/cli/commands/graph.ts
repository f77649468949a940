import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { EXIT, flag, type Command } from "../args";
import { renderDot } from "../graph/dot";
import { buildGraph } from "../graph/graph-model";
import { renderMermaid } from "../graph/mermaid";
import { renderSvg } from "../graph/svg";
import { loadFlow } from "../load-flow";

const FORMATS = { mermaid: renderMermaid, dot: renderDot, svg: renderSvg } as const;

export const graphCommand: Command = {
  name: "graph",
  usage: `graph <flow.ts> [--format mermaid|dot|svg] [--out FILE] [--no-auto-links]
                                  the flow as a graph: inputs (aliases, ranges, links), metrics, alarm
                                  rules; mermaid to stdout by default; --json: the graph model`,
  valueFlags: ["--format", "--out"],
  run(args, io) {
    const format = flag(args, "--format") ?? "mermaid";
    if (!Object.hasOwn(FORMATS, format)) {
      io.err.write(`sluice graph: unknown --format ${format} (one of ${Object.keys(FORMATS).join(", ")})\n`);
      return EXIT.usage;
    }
    const graph = buildGraph(loadFlow(args.positional[1] as string).toModel(), {
      autoLinks: args.flags.has("--no-auto-links") ? "omit" : "compact",
    });
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
    return EXIT.ok;
  },
};
