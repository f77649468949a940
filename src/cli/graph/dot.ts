/** A Graph in Graphviz DOT (left to right), for `dot -Tsvg` and friends. */
import type { Graph, GraphNodeKind } from "./graph-model";
import { EDGE_COLOR, INVALID_COLOR, NODE_STYLE } from "./style";

const SHAPE: Readonly<Record<GraphNodeKind, string>> = {
  dataset: "cylinder",
  table: "cylinder",
  timer: "box",
  metric: "parallelogram",
  alarm: "hexagon",
  compositeAlarm: "hexagon",
  data: "box",
};

/**
 * A DOT quoted string. Inside quotes only `"` and the backslash escapes (`\n`, `\l`, `\N`…) mean
 * something, so backslashes are doubled, quotes escaped and line breaks become `\n`.
 */
export function quoteDot(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}

function attributes(attrs: Readonly<Record<string, string>>): string {
  return `[${Object.entries(attrs)
    .map(([k, v]) => `${k}=${quoteDot(v)}`)
    .join(", ")}]`;
}

export function renderDot(graph: Graph): string {
  const font = "Helvetica";
  const lines = [
    `digraph ${quoteDot(graph.name)} {`,
    `  graph ${attributes({ rankdir: "LR", nodesep: "0.4", ranksep: "0.8", fontname: font })};`,
    `  node ${attributes({ fontname: font, fontsize: "11", style: "filled", penwidth: "1.4" })};`,
    `  edge ${attributes({ fontname: font, fontsize: "9", arrowsize: "0.7" })};`,
  ];
  for (const node of graph.nodes) {
    const s = NODE_STYLE[node.kind];
    const style = ["filled", ...(node.kind === "data" || node.kind === "timer" ? ["rounded"] : [])];
    if (node.external) style.push("dashed");
    lines.push(
      `  ${quoteDot(node.id)} ${attributes({
        label: [node.id, ...node.details].join("\n"),
        shape: SHAPE[node.kind],
        style: style.join(","),
        fillcolor: s.fill,
        color: node.issues ? INVALID_COLOR : s.stroke,
        ...(node.issues ? { penwidth: "3", tooltip: node.issues.join("\n") } : {}),
      })};`,
    );
  }
  for (const edge of graph.edges) {
    lines.push(
      `  ${quoteDot(edge.from)} -> ${quoteDot(edge.to)} ${attributes({
        label: edge.label.join("\n"),
        color: edge.issues ? INVALID_COLOR : EDGE_COLOR[edge.kind],
        fontcolor: edge.issues ? INVALID_COLOR : EDGE_COLOR[edge.kind],
        style: edge.dashed ? "dashed" : "solid",
        ...(edge.issues ? { penwidth: "3", tooltip: edge.issues.join("\n") } : {}),
      })};`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
