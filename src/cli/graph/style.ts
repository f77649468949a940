/** Colors of the node kinds, shared by the renderers so that every format looks alike. */
import type { GraphEdgeKind, GraphNodeKind } from "./graph-model";

export interface KindStyle {
  readonly fill: string;
  readonly stroke: string;
  /** Shown in the SVG legend. */
  readonly title: string;
}

export const NODE_STYLE: Readonly<Record<GraphNodeKind, KindStyle>> = {
  dataset: { fill: "#e7f0fb", stroke: "#3b78c3", title: "S3 dataset" },
  table: { fill: "#e4f4f1", stroke: "#2a9d8f", title: "Glue table" },
  timer: { fill: "#fff3dc", stroke: "#d98e1f", title: "timer" },
  metric: { fill: "#f1eafb", stroke: "#8a5cc2", title: "metric" },
  alarm: { fill: "#fdeaea", stroke: "#cf4455", title: "alarm" },
  compositeAlarm: { fill: "#fbe4ef", stroke: "#a8336a", title: "composite alarm" },
  data: { fill: "#e8f5e6", stroke: "#3d8f45", title: "data node" },
};

export const EDGE_COLOR: Readonly<Record<GraphEdgeKind, string>> = {
  input: "#4a5563",
  metric: "#8a5cc2",
  rule: "#cf4455",
};

export const FONT_STACK = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif";

/** Faulty nodes and inputs of an invalid flow. */
export const INVALID_COLOR = "#cf222e";
