/**
 * A layered (Sugiyama-style) left-to-right layout, pure and deterministic:
 *
 * 1. cycles are broken by reversing DFS back edges (a FlowModel is acyclic, so normally none);
 * 2. longest-path layering, sources then pulled next to their first consumer;
 * 3. every layer is followed by a label layer: an edge becomes a chain of dummy items, one per layer
 *    it crosses, and its label is the item in the label layer just before its target, so labels are
 *    laid out like nodes and never overlap anything;
 * 4. barycentric ordering sweeps with adjacent swaps, keeping the order with the fewest crossings;
 * 5. vertical positions: each layer is placed as close as possible to the mean position of its
 *    neighbours, subject to minimum gaps (an isotonic regression, solved by pool-adjacent-violators);
 * 6. edges: horizontal through the columns they cross, a horizontal-tangent curve in each gap between
 *    columns, ports spread along the node's side in the order of the neighbours.
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** x, y: top-left corner. */
export interface Box extends Size {
  readonly x: number;
  readonly y: number;
}

export interface LayoutInput {
  readonly nodes: readonly { readonly id: string; readonly size: Size }[];
  readonly edges: readonly { readonly from: string; readonly to: string; readonly label?: Size }[];
}

export interface NodePlacement extends Box {
  readonly id: string;
  /** Layer index, 0 leftmost. */
  readonly layer: number;
}

export interface EdgePlacement {
  /** Index of the edge in the input. */
  readonly index: number;
  readonly from: string;
  readonly to: string;
  /** From the source's side to the target's side; empty for a self-loop (not drawn). */
  readonly points: readonly Point[];
  readonly label?: Box;
  /** The edge closes a cycle: it was laid out backwards, so it runs right to left. */
  readonly reversed: boolean;
}

export interface Layout extends Size {
  readonly layers: number;
  readonly nodes: readonly NodePlacement[];
  readonly edges: readonly EdgePlacement[];
}

export interface LayoutOptions {
  /** Space around the drawing. */
  readonly margin?: number;
  /** Horizontal gap between columns. */
  readonly columnGap?: number;
  /** Vertical gap between two nodes of a layer. */
  readonly nodeGap?: number;
}

type ItemKind = "node" | "label" | "dummy";

interface Item {
  readonly kind: ItemKind;
  readonly width: number;
  readonly height: number;
  /** Column: 2 × node layer, odd columns hold labels. */
  readonly column: number;
  readonly node?: number;
  pos: number;
  y: number;
  readonly up: number[];
  readonly down: number[];
}

const DUMMY_HEIGHT = 6;
const SWEEPS = 24;
const PLACEMENT_ROUNDS = 8;

export function layeredLayout(input: LayoutInput, options: LayoutOptions = {}): Layout {
  const margin = options.margin ?? 16;
  const columnGap = options.columnGap ?? 22;
  const nodeGap = options.nodeGap ?? 22;
  const index = new Map(input.nodes.map((n, i) => [n.id, i]));
  const endpoints = input.edges.map((e) => {
    const from = index.get(e.from);
    const to = index.get(e.to);
    if (from === undefined || to === undefined) {
      throw new Error(`edge ${e.from} → ${e.to}: unknown node "${from === undefined ? e.from : e.to}"`);
    }
    return { from, to };
  });
  const reversed = backEdges(input.nodes.length, endpoints);
  const directed = endpoints.map((e, i) => (reversed[i] ? { from: e.to, to: e.from } : e));
  const rank = layering(input.nodes.length, directed);

  // Items: the nodes, then per edge its dummies and label.
  const items: Item[] = input.nodes.map((n, i) => ({
    kind: "node",
    width: n.size.width,
    height: n.size.height,
    column: 2 * (rank[i] as number),
    node: i,
    pos: 0,
    y: 0,
    up: [],
    down: [],
  }));
  const chains: number[][] = directed.map((e, i) => {
    if (e.from === e.to) return [];
    const first = 2 * (rank[e.from] as number);
    const last = 2 * (rank[e.to] as number);
    const chain = [e.from];
    for (let column = first + 1; column < last; column++) {
      const label = column === last - 1 ? input.edges[i]?.label : undefined;
      chain.push(items.length);
      items.push({
        kind: label ? "label" : "dummy",
        width: label?.width ?? 0,
        height: label?.height ?? DUMMY_HEIGHT,
        column,
        pos: 0,
        y: 0,
        up: [],
        down: [],
      });
    }
    chain.push(e.to);
    for (let j = 1; j < chain.length; j++) {
      (items[chain[j - 1] as number] as Item).down.push(chain[j] as number);
      (items[chain[j] as number] as Item).up.push(chain[j - 1] as number);
    }
    return chain;
  });

  const columnCount = items.length === 0 ? 0 : Math.max(...items.map((it) => it.column)) + 1;
  const columns: number[][] = Array.from({ length: columnCount }, () => []);
  for (let i = 0; i < items.length; i++) columns[(items[i] as Item).column]?.push(i);
  order(items, columns);
  placeVertically(items, columns, nodeGap);

  // x: columns as wide as their widest item, items centred in them.
  const left: number[] = [];
  const width: number[] = [];
  let x = margin;
  for (const column of columns) {
    const w = Math.max(
      column.some((i) => (items[i] as Item).kind !== "dummy") ? 0 : 12,
      ...column.map((i) => (items[i] as Item).width),
    );
    left.push(x);
    width.push(w);
    x += w + columnGap;
  }
  const top = items.length === 0 ? 0 : Math.min(...items.map((it) => it.y - it.height / 2));
  const shift = margin - top;
  for (const it of items) it.y += shift;
  const boxOf = (i: number): Box => {
    const it = items[i] as Item;
    const colLeft = left[it.column] as number;
    const colWidth = width[it.column] as number;
    return {
      x: colLeft + (colWidth - it.width) / 2,
      y: it.y - it.height / 2,
      width: it.width,
      height: it.height,
    };
  };

  const ports = portOffsets(items, chains);
  const edges: EdgePlacement[] = input.edges.map((e, i) => {
    const chain = chains[i] as number[];
    const base = { index: i, from: e.from, to: e.to, reversed: reversed[i] as boolean };
    if (chain.length === 0) return { ...base, points: [] };
    const points: Point[] = [];
    const add = (p: Point): void => {
      const last = points[points.length - 1];
      if (!last || last.x !== p.x || last.y !== p.y) points.push(p);
    };
    const src = items[chain[0] as number] as Item;
    const srcBox = boxOf(chain[0] as number);
    const outY = src.y + (ports.out.get(i) ?? 0);
    add({ x: srcBox.x + srcBox.width, y: outY });
    add({ x: (left[src.column] as number) + (width[src.column] as number), y: outY });
    let label: Box | undefined;
    for (const j of chain.slice(1, -1)) {
      const it = items[j] as Item;
      add({ x: left[it.column] as number, y: it.y });
      add({ x: (left[it.column] as number) + (width[it.column] as number), y: it.y });
      if (it.kind === "label") label = boxOf(j);
    }
    const tgt = items[chain[chain.length - 1] as number] as Item;
    const tgtBox = boxOf(chain[chain.length - 1] as number);
    const inY = tgt.y + (ports.in.get(i) ?? 0);
    add({ x: left[tgt.column] as number, y: inY });
    add({ x: tgtBox.x, y: inY });
    return { ...base, points: reversed[i] ? points.reverse() : points, ...(label ? { label } : {}) };
  });

  const nodes: NodePlacement[] = input.nodes.map((n, i) => ({
    id: n.id,
    layer: rank[i] as number,
    ...boxOf(i),
  }));
  const bottom = items.length === 0 ? 0 : Math.max(...items.map((it) => it.y + it.height / 2));
  return {
    width: Math.max(x - columnGap + margin, 2 * margin),
    height: Math.max(bottom + margin, 2 * margin),
    layers: Math.ceil(columnCount / 2),
    nodes,
    edges,
  };
}

// ---------------------------------------------------------------- 1. cycles

/** Edges that close a cycle in a DFS from the nodes in input order. */
function backEdges(n: number, edges: readonly { from: number; to: number }[]): boolean[] {
  const out: number[][] = Array.from({ length: n }, () => []);
  edges.forEach((e, i) => out[e.from]?.push(i));
  const state = new Array<number>(n).fill(0); // 0 new, 1 on the stack, 2 done
  const back = edges.map(() => false);
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as [number, number];
      const [v, next] = frame;
      const list = out[v] as number[];
      if (next >= list.length) {
        state[v] = 2;
        stack.pop();
        continue;
      }
      frame[1] = next + 1;
      const e = list[next] as number;
      const w = (edges[e] as { to: number }).to;
      if (state[w] === 1) back[e] = w !== v;
      else if (state[w] === 0) {
        state[w] = 1;
        stack.push([w, 0]);
      }
    }
  }
  return back;
}

// ---------------------------------------------------------------- 2. layers

function layering(n: number, edges: readonly { from: number; to: number }[]): number[] {
  const preds: number[][] = Array.from({ length: n }, () => []);
  const succs: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) {
    if (e.from === e.to) continue;
    preds[e.to]?.push(e.from);
    succs[e.from]?.push(e.to);
  }
  const rank = new Array<number>(n).fill(0);
  const indegree = preds.map((p) => p.length);
  const queue = indegree.flatMap((d, i) => (d === 0 ? [i] : []));
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q] as number;
    for (const w of succs[v] as number[]) {
      rank[w] = Math.max(rank[w] as number, (rank[v] as number) + 1);
      indegree[w] = (indegree[w] as number) - 1;
      if (indegree[w] === 0) queue.push(w);
    }
  }
  // Longest path puts every source in layer 0; pull each next to its nearest consumer.
  for (let v = 0; v < n; v++) {
    const s = succs[v] as number[];
    if ((preds[v] as number[]).length === 0 && s.length > 0)
      rank[v] = Math.min(...s.map((w) => rank[w] as number)) - 1;
  }
  const min = n === 0 ? 0 : Math.min(...rank);
  return rank.map((r) => r - min);
}

// ---------------------------------------------------------------- 4. order within layers

function order(items: Item[], columns: number[][]): void {
  const setPositions = (): void => columns.forEach((c) => c.forEach((i, p) => ((items[i] as Item).pos = p)));
  setPositions();
  // Initial order: each column by the mean position of its predecessors.
  for (let k = 1; k < columns.length; k++) reorder(items, columns, k, "up");
  let best = columns.map((c) => [...c]);
  let bestCrossings = crossings(items, columns);
  for (let sweep = 0; sweep < SWEEPS && bestCrossings > 0; sweep++) {
    if (sweep % 2 === 0) for (let k = 1; k < columns.length; k++) reorder(items, columns, k, "up");
    else for (let k = columns.length - 2; k >= 0; k--) reorder(items, columns, k, "down");
    transpose(items, columns);
    const c = crossings(items, columns);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = columns.map((col) => [...col]);
    }
  }
  best.forEach((c, k) => (columns[k] = c));
  setPositions();
}

function reorder(items: Item[], columns: number[][], k: number, side: "up" | "down"): void {
  const column = columns[k] as number[];
  const key = new Map<number, number>();
  for (const i of column) {
    const it = items[i] as Item;
    const neighbours = it[side];
    key.set(
      i,
      neighbours.length === 0
        ? it.pos
        : neighbours.reduce((s, j) => s + (items[j] as Item).pos, 0) / neighbours.length,
    );
  }
  column.sort(
    (a, b) =>
      (key.get(a) as number) - (key.get(b) as number) || (items[a] as Item).pos - (items[b] as Item).pos,
  );
  column.forEach((i, p) => ((items[i] as Item).pos = p));
}

/** Crossings between every pair of adjacent columns. */
function crossings(items: Item[], columns: number[][]): number {
  let total = 0;
  for (let k = 0; k + 1 < columns.length; k++) {
    const segments: [number, number][] = [];
    for (const i of columns[k] as number[]) {
      for (const j of (items[i] as Item).down)
        segments.push([(items[i] as Item).pos, (items[j] as Item).pos]);
    }
    for (let a = 0; a < segments.length; a++) {
      for (let b = a + 1; b < segments.length; b++) {
        const [a1, a2] = segments[a] as [number, number];
        const [b1, b2] = segments[b] as [number, number];
        if ((a1 - b1) * (a2 - b2) < 0) total++;
      }
    }
  }
  return total;
}

/** Crossings among the edges of a and b (a above b) with both neighbouring columns. */
function pairCrossings(items: Item[], a: Item, b: Item): number {
  let c = 0;
  for (const side of ["up", "down"] as const) {
    for (const i of a[side])
      for (const j of b[side]) if ((items[i] as Item).pos > (items[j] as Item).pos) c++;
  }
  return c;
}

/** Swaps adjacent items while that removes crossings. */
function transpose(items: Item[], columns: number[][]): void {
  for (let round = 0, improved = true; improved && round < 8; round++) {
    improved = false;
    for (const column of columns) {
      for (let p = 0; p + 1 < column.length; p++) {
        const ia = column[p] as number;
        const ib = column[p + 1] as number;
        const a = items[ia] as Item;
        const b = items[ib] as Item;
        if (pairCrossings(items, b, a) < pairCrossings(items, a, b)) {
          column[p] = ib;
          column[p + 1] = ia;
          a.pos = p + 1;
          b.pos = p;
          improved = true;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- 5. vertical positions

function gap(a: Item, b: Item, nodeGap: number): number {
  if (a.kind === "node" && b.kind === "node") return nodeGap;
  if (a.kind === "dummy" && b.kind === "dummy") return 6;
  return 10;
}

function placeVertically(items: Item[], columns: number[][], nodeGap: number): void {
  const separations = columns.map((column) =>
    column.slice(1).map((i, p) => {
      const a = items[column[p] as number] as Item;
      const b = items[i] as Item;
      return (a.height + b.height) / 2 + gap(a, b, nodeGap);
    }),
  );
  const place = (k: number, sides: readonly ("up" | "down")[]): void => {
    const column = columns[k] as number[];
    const desired = column.map((i) => {
      const it = items[i] as Item;
      const neighbours = sides.flatMap((s) => it[s]);
      return neighbours.length === 0
        ? it.y
        : neighbours.reduce((s, j) => s + (items[j] as Item).y, 0) / neighbours.length;
    });
    const y = isotonicPlacement(desired, separations[k] as number[]);
    column.forEach((i, p) => ((items[i] as Item).y = y[p] as number));
  };
  for (let k = 0; k < columns.length; k++) place(k, []);
  for (let round = 0; round < PLACEMENT_ROUNDS; round++) {
    for (let k = 1; k < columns.length; k++) place(k, ["up"]);
    for (let k = columns.length - 2; k >= 0; k--) place(k, ["down"]);
  }
  for (let round = 0; round < 2; round++) for (let k = 0; k < columns.length; k++) place(k, ["up", "down"]);
}

/**
 * Positions y (in order) closest in least squares to `desired` with y[i+1] − y[i] ≥ separations[i]:
 * with c the cumulative separations, z = y − c must be non-decreasing, an isotonic regression of
 * desired − c solved by pool-adjacent-violators.
 */
export function isotonicPlacement(desired: readonly number[], separations: readonly number[]): number[] {
  const offset: number[] = [];
  let c = 0;
  desired.forEach((_, i) => {
    if (i > 0) c += separations[i - 1] as number;
    offset.push(c);
  });
  const blocks: { sum: number; count: number }[] = [];
  desired.forEach((d, i) => {
    blocks.push({ sum: d - (offset[i] as number), count: 1 });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1] as { sum: number; count: number };
      const prev = blocks[blocks.length - 2] as { sum: number; count: number };
      if (prev.sum / prev.count <= last.sum / last.count) break;
      prev.sum += last.sum;
      prev.count += last.count;
      blocks.pop();
    }
  });
  const z = blocks.flatMap((b) => new Array<number>(b.count).fill(b.sum / b.count));
  return z.map((v, i) => v + (offset[i] as number));
}

// ---------------------------------------------------------------- 6. ports

/** Vertical offsets of each edge's end on its source's right side and its target's left side. */
function portOffsets(
  items: Item[],
  chains: number[][],
): { out: Map<number, number>; in: Map<number, number> } {
  const out = new Map<number, number>();
  const into = new Map<number, number>();
  const spread = (node: Item, ends: { edge: number; y: number }[], into_: Map<number, number>): void => {
    ends.sort((a, b) => a.y - b.y || a.edge - b.edge);
    const step = ends.length < 2 ? 0 : Math.min(12, (node.height - 14) / (ends.length - 1));
    ends.forEach((e, i) => into_.set(e.edge, (i - (ends.length - 1) / 2) * step));
  };
  const outgoing = new Map<number, { edge: number; y: number }[]>();
  const incoming = new Map<number, { edge: number; y: number }[]>();
  chains.forEach((chain, edge) => {
    if (chain.length < 2) return;
    const first = chain[0] as number;
    const last = chain[chain.length - 1] as number;
    outgoing.set(first, [...(outgoing.get(first) ?? []), { edge, y: (items[chain[1] as number] as Item).y }]);
    incoming.set(last, [
      ...(incoming.get(last) ?? []),
      { edge, y: (items[chain[chain.length - 2] as number] as Item).y },
    ]);
  });
  for (const [node, ends] of outgoing) spread(items[node] as Item, ends, out);
  for (const [node, ends] of incoming) spread(items[node] as Item, ends, into);
  return { out, in: into };
}
