/**
 * A Graph as a standalone SVG image, laid out by layout.ts: rounded boxes colored by node kind, edge
 * labels in boxes on their edges, a title and a legend. Pure and deterministic: the same graph gives
 * the same bytes.
 */
import {
  GRAPH_NODE_KINDS,
  type Graph,
  type GraphEdge,
  type GraphEdgeKind,
  type GraphNode,
} from "./graph-model";
import { layeredLayout, type Layout, type Point, type Size } from "./layout";
import { EDGE_COLOR, FONT_STACK, INVALID_COLOR, NODE_STYLE } from "./style";
import { textWidth } from "./text-metrics";

const NODE = { title: 13, detail: 11, titleLine: 17, detailLine: 15, padX: 14, padY: 9, minWidth: 84 };
const LABEL = { size: 11, line: 14, padX: 6, padY: 4 };
const HEADER = 36;
const LEGEND = { size: 11, row: 22, swatch: 14, gap: 18 };
const TEXT_COLOR = "#1f2328";
const DETAIL_COLOR = "#57606a";

export function nodeSize(node: GraphNode): Size {
  const widths = [
    textWidth(node.id, NODE.title, true),
    ...node.details.map((d) => textWidth(d, NODE.detail)),
  ];
  return {
    width: Math.ceil(Math.max(NODE.minWidth, Math.max(...widths) + 2 * NODE.padX)),
    height: 2 * NODE.padY + NODE.titleLine + NODE.detailLine * node.details.length,
  };
}

export function labelSize(edge: GraphEdge): Size | undefined {
  if (edge.label.length === 0) return undefined;
  return {
    width: Math.ceil(Math.max(...edge.label.map((l) => textWidth(l, LABEL.size))) + 2 * LABEL.padX),
    height: 2 * LABEL.padY + LABEL.line * edge.label.length,
  };
}

/** The layout the SVG draws (coordinates below the title). */
export function layoutGraph(graph: Graph): Layout {
  return layeredLayout({
    nodes: graph.nodes.map((n) => ({ id: n.id, size: nodeSize(n) })),
    edges: graph.edges.map((e) => {
      const label = labelSize(e);
      return { from: e.from, to: e.to, ...(label ? { label } : {}) };
    }),
  });
}

/** Text or attribute content for XML: markup characters as entities, characters XML forbids dropped. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

/** Coordinates with one decimal, never "-0". */
function n(v: number): string {
  const r = Math.round(v * 10) / 10;
  return String(r === 0 ? 0 : r);
}

function pathData(points: readonly Point[]): string {
  const [first, ...rest] = points;
  if (!first) return "";
  let d = `M${n(first.x)},${n(first.y)}`;
  let prev = first;
  for (const p of rest) {
    if (Math.abs(p.y - prev.y) < 0.05) d += ` L${n(p.x)},${n(p.y)}`;
    else {
      const dx = (p.x - prev.x) / 2;
      d += ` C${n(prev.x + dx)},${n(prev.y)} ${n(p.x - dx)},${n(p.y)} ${n(p.x)},${n(p.y)}`;
    }
    prev = p;
  }
  return d;
}

function text(x: number, y: number, content: string, attrs: string): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${escapeXml(content)}</text>`;
}

const EDGE_TITLE: Readonly<Record<GraphEdgeKind, string>> = {
  input: "data input",
  metric: "metric",
  rule: "alarm rule",
};

export function renderSvg(graph: Graph): string {
  const layout = layoutGraph(graph);
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const edgeKinds = (["input", "metric", "rule"] as const).filter((k) =>
    graph.edges.some((e) => e.kind === k),
  );
  const hasReference = graph.edges.some((e) => e.kind === "input" && e.dashed);

  // Legend entries, wrapped to the drawing's width.
  const entries: { width: number; draw: (x: number, y: number) => string }[] = [];
  for (const kind of GRAPH_NODE_KINDS.filter((k) => graph.nodes.some((node) => node.kind === k))) {
    const s = NODE_STYLE[kind];
    entries.push({
      width: LEGEND.swatch + 6 + textWidth(s.title, LEGEND.size),
      draw: (x, y) =>
        `<rect x="${n(x)}" y="${n(y - 10)}" width="${LEGEND.swatch}" height="12" rx="3" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.2"/>` +
        text(x + LEGEND.swatch + 6, y, s.title, `font-size="${LEGEND.size}" fill="${DETAIL_COLOR}"`),
    });
  }
  const lineEntry = (title: string, color: string, dashed: boolean): void => {
    entries.push({
      width: 22 + 6 + textWidth(title, LEGEND.size),
      draw: (x, y) =>
        `<path d="M${n(x)},${n(y - 4)} L${n(x + 22)},${n(y - 4)}" stroke="${color}" stroke-width="1.4"${dashed ? ' stroke-dasharray="5 4"' : ""}/>` +
        text(x + 28, y, title, `font-size="${LEGEND.size}" fill="${DETAIL_COLOR}"`),
    });
  };
  for (const kind of edgeKinds) lineEntry(EDGE_TITLE[kind], EDGE_COLOR[kind], kind !== "input");
  if (hasReference) lineEntry("reference input (ref)", EDGE_COLOR.input, true);

  const titleWidth = 16 + textWidth(`${graph.name}`, 15, true) + 16;
  const legendWidth = Math.min(
    entries.reduce((s, e) => s + e.width + LEGEND.gap, 16),
    Math.max(layout.width, 360),
  );
  const width = Math.ceil(Math.max(layout.width, titleWidth, legendWidth));
  const legendRows: (typeof entries)[] = [[]];
  let rowWidth = 16;
  for (const entry of entries) {
    const row = legendRows[legendRows.length - 1] as typeof entries;
    if (row.length > 0 && rowWidth + entry.width > width - 16) {
      legendRows.push([entry]);
      rowWidth = 16 + entry.width + LEGEND.gap;
    } else {
      row.push(entry);
      rowWidth += entry.width + LEGEND.gap;
    }
  }
  const legendTop = HEADER + layout.height;
  const height = Math.ceil(legendTop + (entries.length === 0 ? 0 : legendRows.length * LEGEND.row + 8));

  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_STACK)}" role="img" aria-labelledby="sluice-graph-title">`,
    `<title id="sluice-graph-title">${escapeXml(`${graph.name}: sluice graph`)}</title>`,
    `<defs>`,
    ...(["input", "metric", "rule"] as const).map(
      (k) =>
        `<marker id="arrow-${k}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${EDGE_COLOR[k]}"/></marker>`,
    ),
    `</defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    text(16, 24, graph.name, `font-size="15" font-weight="700" fill="${TEXT_COLOR}"`),
    `<g transform="translate(0,${HEADER})">`,
  ];

  out.push(`<g fill="none" stroke-width="1.4">`);
  for (const placed of layout.edges) {
    const edge = graph.edges[placed.index] as GraphEdge;
    if (placed.points.length < 2) continue;
    out.push(
      `<path d="${pathData(placed.points)}" stroke="${edge.issues ? INVALID_COLOR : EDGE_COLOR[edge.kind]}"${edge.issues ? ' stroke-width="3"' : ""}${edge.dashed ? ' stroke-dasharray="5 4"' : ""} marker-end="url(#arrow-${edge.kind})"/>`,
    );
  }
  out.push(`</g>`);

  for (const placed of layout.edges) {
    const edge = graph.edges[placed.index] as GraphEdge;
    const box = placed.label;
    if (!box) continue;
    const color = EDGE_COLOR[edge.kind];
    out.push(
      `<g><rect x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="4" fill="#ffffff" stroke="${color}" stroke-opacity="0.35"/>`,
    );
    edge.label.forEach((line, i) =>
      out.push(
        text(
          box.x + box.width / 2,
          box.y + LABEL.padY + LABEL.line * i + LABEL.size - 0.5,
          line,
          `font-size="${LABEL.size}" text-anchor="middle" fill="${i === 0 || edge.kind !== "input" ? color : DETAIL_COLOR}"`,
        ),
      ),
    );
    out.push(`</g>`);
  }

  for (const placed of layout.nodes) {
    const node = byId.get(placed.id) as GraphNode;
    const s = NODE_STYLE[node.kind];
    const cx = placed.x + placed.width / 2;
    out.push(
      `<g><title>${escapeXml(`${node.modelKind} ${node.id}`)}</title>`,
      `<rect x="${n(placed.x)}" y="${n(placed.y)}" width="${n(placed.width)}" height="${n(placed.height)}" rx="8" fill="${s.fill}" stroke="${node.issues ? INVALID_COLOR : s.stroke}" stroke-width="${node.issues ? 3 : 1.5}"${node.external ? ' stroke-dasharray="5 3"' : ""}/>`,
      text(
        cx,
        placed.y + NODE.padY + NODE.title,
        node.id,
        `font-size="${NODE.title}" font-weight="600" text-anchor="middle" fill="${TEXT_COLOR}"`,
      ),
      ...node.details.map((d, i) =>
        text(
          cx,
          placed.y + NODE.padY + NODE.titleLine + NODE.detailLine * i + NODE.detail,
          d,
          `font-size="${NODE.detail}" text-anchor="middle" fill="${DETAIL_COLOR}"`,
        ),
      ),
      `</g>`,
    );
  }
  out.push(`</g>`);

  legendRows.forEach((row, r) => {
    let x = 16;
    const y = legendTop + 4 + LEGEND.row * r + 12;
    for (const entry of row) {
      out.push(entry.draw(x, y));
      x += entry.width + LEGEND.gap;
    }
  });
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
