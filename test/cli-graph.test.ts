/** `sluice graph`: the graph model, its Mermaid, DOT and SVG renderings and the SVG's layout. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Application, allOf, anyOf, dim, link, not, shift, sparkSql } from "../src";
import { main, type Output } from "../src/cli/main";
import { renderDot } from "../src/cli/graph/dot";
import { buildGraph, type Graph } from "../src/cli/graph/graph-model";
import { layeredLayout, isotonicPlacement, type Box, type Layout } from "../src/cli/graph/layout";
import { renderMermaid } from "../src/cli/graph/mermaid";
import { layoutGraph, renderSvg } from "../src/cli/graph/svg";
import { loadFlow } from "../src/cli/load-flow";
import { briefApp } from "./support/brief-app";

const ROOT = join(__dirname, "..");

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const sink = (f: (s: string) => void): Output => ({ write: (s: string) => f(s) });
  const code = await main(
    args,
    sink((s) => (out += s)),
    sink((s) => (err += s)),
  );
  return { code, out, err };
}

/** The brief's flow as a flow file the CLI can load. */
const briefFile = ((): string => {
  const file = join(mkdtempSync(join(tmpdir(), "sluice-graph-")), "brief.ts");
  writeFileSync(
    file,
    `export { briefApp as default } from ${JSON.stringify(join(__dirname, "support", "brief-app"))};\n`,
  );
  return file;
})();

const FLOWS: Readonly<Record<string, string>> = {
  "daily-aggregation": "examples/daily-aggregation/flow.ts",
  "two-region-join": "examples/two-region-join/flow.ts",
  "alarm-reactor": "examples/alarm-reactor/flow.ts",
  brief: briefFile,
};

const graphs = new Map<string, Graph>();
function graphOf(name: string): Graph {
  if (!graphs.has(name)) graphs.set(name, buildGraph(loadFlow(FLOWS[name] as string).toModel()));
  return graphs.get(name) as Graph;
}

// ---------------------------------------------------------------- checkers

/** Text outside DOT's quoted strings, with `"…"` replaced by a placeholder. */
function dotStructure(dot: string): { skeleton: string; strings: string[] } {
  const strings: string[] = [];
  const skeleton = dot.replace(/"((?:[^"\\]|\\.)*)"/g, (_, s: string) => {
    strings.push(s.replace(/\\(.)/g, "$1"));
    return `"${strings.length - 1}"`;
  });
  return { skeleton, strings };
}

function checkDot(dot: string): { nodes: Set<string>; edges: [string, string][] } {
  const { skeleton, strings } = dotStructure(dot);
  let depth = 0;
  for (const ch of skeleton) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(depth).toBe(0);
  // One statement a line: the digraph, its defaults, nodes, edges, the closing brace.
  for (const line of skeleton.trimEnd().split("\n")) {
    expect(line).toMatch(
      /^(digraph "\d+" \{| {2}(graph|node|edge) \[.*\];| {2}"\d+"( -> "\d+")? \[.*\];|\})$/,
    );
  }
  const str = (ref: string): string => strings[Number(ref)] as string;
  const nodes = new Set<string>();
  const edges: [string, string][] = [];
  for (const line of skeleton.split("\n")) {
    const edge = /^\s*"(\d+)" -> "(\d+)" \[.*\];$/.exec(line);
    const node = /^\s*"(\d+)" \[.*\];$/.exec(line);
    if (edge) edges.push([str(edge[1] as string), str(edge[2] as string)]);
    else if (node) nodes.add(str(node[1] as string));
  }
  return { nodes, edges };
}

interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  text: string;
}

const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

/** A small XML well-formedness check: one root, balanced tags, quoted attributes, valid entities. */
function parseXml(xml: string): XmlElement[] {
  const token =
    /<\?[^?]*\?>|<!--[\s\S]*?-->|<\/([A-Za-z][\w:.-]*)\s*>|<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: XmlElement[] = [];
  const elements: XmlElement[] = [];
  let roots = 0;
  while (token.lastIndex < xml.length) {
    const at = token.lastIndex;
    const m = token.exec(xml);
    if (!m) throw new Error(`malformed XML at ${at}: ${xml.slice(at, at + 40)}`);
    const [whole, close, open, attrText, selfClosing, text] = m;
    if (close !== undefined) {
      const top = stack.pop();
      if (top?.name !== close) throw new Error(`</${close}> closes <${top?.name}>`);
    } else if (open !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (attrText ?? "").matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)) {
        if ((a[1] as string) in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        if (ENTITY.test(a[2] as string)) throw new Error(`unescaped & in attribute ${a[1]}`);
        attrs[a[1] as string] = a[2] as string;
      }
      const element = { name: open, attrs, text: "" };
      elements.push(element);
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(element);
    } else if (text !== undefined) {
      if (stack.length === 0 && text.trim() !== "") throw new Error(`text outside the root: ${text}`);
      if (ENTITY.test(text) || text.includes(">")) throw new Error(`unescaped text: ${text}`);
      const top = stack[stack.length - 1];
      if (top) top.text += text;
    } else if (!whole.startsWith("<?") && !whole.startsWith("<!--")) throw new Error(`unexpected ${whole}`);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]?.name}>`);
  expect(roots).toBe(1);
  return elements;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** No two boxes (nodes and labels) overlap; every edge runs left to right, from layer to later layer. */
function checkLayout(layout: Layout): void {
  const boxes: [string, Box][] = [
    ...layout.nodes.map((n): [string, Box] => [`node ${n.id}`, n]),
    ...layout.edges.flatMap((e): [string, Box][] => (e.label ? [[`label ${e.from}→${e.to}`, e.label]] : [])),
  ];
  for (let i = 0; i < boxes.length; i++) {
    const [name, box] = boxes[i] as [string, Box];
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(layout.width);
    expect(box.y + box.height).toBeLessThanOrEqual(layout.height);
    for (let j = i + 1; j < boxes.length; j++) {
      const [other, b] = boxes[j] as [string, Box];
      if (overlaps(box, b)) throw new Error(`${name} overlaps ${other}`);
    }
  }
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  for (const edge of layout.edges) {
    const from = byId.get(edge.from) as Box & { layer: number };
    const to = byId.get(edge.to) as Box & { layer: number };
    expect(edge.reversed).toBe(false);
    expect(from.layer).toBeLessThan(to.layer);
    const first = edge.points[0];
    const last = edge.points[edge.points.length - 1];
    expect(first).toEqual({ x: from.x + from.width, y: expect.any(Number) });
    expect(last).toEqual({ x: to.x, y: expect.any(Number) });
    expect(first?.y).toBeGreaterThan(from.y);
    expect(first?.y).toBeLessThan(from.y + from.height);
    expect(last?.y).toBeGreaterThan(to.y);
    expect(last?.y).toBeLessThan(to.y + to.height);
    for (let i = 1; i < edge.points.length; i++) {
      expect((edge.points[i] as { x: number }).x).toBeGreaterThanOrEqual(
        (edge.points[i - 1] as { x: number }).x,
      );
    }
  }
}

// ---------------------------------------------------------------- every flow

describe.each(Object.keys(FLOWS))("%s", (name) => {
  test("mermaid names every node and labels every edge", async () => {
    const r = await run(["graph", FLOWS[name] as string]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.startsWith("flowchart LR\n")).toBe(true);
    const graph = graphOf(name);
    for (const node of graph.nodes)
      expect(r.out).toMatch(new RegExp(`^  ${node.id}[(\\[{/]+"${node.id}<br/>`, "m"));
    for (const edge of graph.edges) {
      expect(r.out).toMatch(new RegExp(`^  ${edge.from} -\\.?->\\|"[^"]*"\\| ${edge.to}$`, "m"));
    }
    expect(r.out.split("\n").filter((l) => / -\.?->\|/.test(l))).toHaveLength(graph.edges.length);
  });

  test("dot is structurally valid: balanced braces, every edge endpoint declared", async () => {
    const r = await run(["graph", FLOWS[name] as string, "--format", "dot"]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith("digraph ")).toBe(true);
    const { nodes, edges } = checkDot(r.out);
    const graph = graphOf(name);
    expect([...nodes].sort()).toEqual(graph.nodes.map((n) => n.id).sort());
    expect(edges).toHaveLength(graph.edges.length);
    for (const [from, to] of edges) {
      expect(nodes.has(from)).toBe(true);
      expect(nodes.has(to)).toBe(true);
    }
  });

  test("svg is well-formed, standalone and deterministic", async () => {
    const a = await run(["graph", FLOWS[name] as string, "--format", "svg"]);
    const b = await run(["graph", FLOWS[name] as string, "--format", "svg"]);
    expect(a.code).toBe(0);
    expect(b.out).toBe(a.out);
    const elements = parseXml(a.out);
    const svg = elements[0] as XmlElement;
    expect(svg.name).toBe("svg");
    expect(svg.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(svg.attrs.viewBox).toBe(`0 0 ${svg.attrs.width} ${svg.attrs.height}`);
    expect(svg.attrs["font-family"]).toMatch(/Helvetica, Arial, sans-serif$/);
    const texts = elements.filter((e) => e.name === "text").map((e) => unescapeXml(e.text));
    const graph = graphOf(name);
    for (const node of graph.nodes) expect(texts).toContain(node.id);
    for (const edge of graph.edges) for (const line of edge.label) expect(texts).toContain(line);
    const paths = elements.filter((e) => e.name === "path" && e.attrs["marker-end"]);
    expect(paths).toHaveLength(graph.edges.length);
  });

  test("layout: no overlapping boxes, every edge left to right between layers", () => {
    checkLayout(layoutGraph(graphOf(name)));
  });
});

// ---------------------------------------------------------------- labels

test("the brief's edges carry aliases, refs, range checks, narrowing, ranges and links", () => {
  const graph = buildGraph(briefApp().toModel());
  const edge = (from: string, to: string): readonly string[] | undefined =>
    graph.edges.find((e) => e.from === from && e.to === to)?.label;
  expect(edge("joined", "weekly")).toEqual(["last7 · day[-6..0]"]);
  expect(edge("customers", "joined")).toEqual([
    "customers · ref · rangeCheck",
    "customers.region_id = map(events.region)",
  ]);
  expect(edge("events", "joined")).toEqual(["events", "day ≡ daily.day"]);
  expect(edge("monitor", "on_alarm")).toEqual(["monitor · state=ALARM"]);
  expect(edge("weekly", "weekly_failures")).toEqual(["ExecutionFailure · Sum/300s"]);
  expect(edge("weekly_failures", "monitor")).toEqual(["ALARM"]);
  expect(edge("upstream_health", "monitor")).toEqual(["ALARM"]);
  expect(graph.edges.find((e) => e.from === "customers")?.dashed).toBe(true);
  expect(graph.nodes.map((n) => [n.id, n.kind])).toEqual([
    ["customers", "table"],
    ["daily", "timer"],
    ["events", "dataset"],
    ["joined", "data"],
    ["lambda_errors", "metric"],
    ["monitor", "compositeAlarm"],
    ["on_alarm", "data"],
    ["upstream_health", "alarm"],
    ["weekly", "data"],
    ["weekly_failures", "alarm"],
  ]);
  expect(graph.nodes.find((n) => n.id === "monitor")?.details).toEqual([
    "ALARM(weekly_failures) OR ALARM(upstream_health)",
  ]);

  const mermaid = renderMermaid(graph);
  expect(mermaid).toContain(`joined -->|"last7 · day[-6..0]"| weekly`);
  expect(mermaid).toContain(
    `customers -.->|"customers · ref · rangeCheck<br/>customers.region_id = map(events.region)"| joined`,
  );
  const dot = renderDot(graph);
  expect(dot).toContain(`"joined" -> "weekly" [label="last7 · day[-6..0]"`);
  expect(dot).toContain(`label="customers · ref · rangeCheck\\ncustomers.region_id = map(events.region)"`);
});

test("the examples' labels: range checks, refs, map links, math metrics, NOT terms", () => {
  const daily = graphOf("daily-aggregation");
  expect(daily.edges.map((e) => [e.from, e.label])).toEqual([
    ["daily", ["tick"]],
    ["orders", ["orders · rangeCheck · day[-6..0]", "day ≡ tick.day"]],
    ["stores", ["stores · ref"]],
  ]);
  expect(graphOf("two-region-join").edges.find((e) => e.from === "billing")?.label).toEqual([
    "billing",
    "billing.market_id = map(clicks.market)",
    "day ≡ clicks.day",
  ]);
  const reactor = graphOf("alarm-reactor");
  expect(reactor.edges.filter((e) => e.kind !== "input").map((e) => [e.from, e.to, e.label])).toEqual([
    ["incident_report", "incident_report_failures", ["ExecutionFailure · Sum/300s"]],
    ["ingest_lambda", "ingest_error_rate", ["calls = Invocations · Sum/300s", "errors = Errors · Sum/300s"]],
    ["ingest_error_rate", "ingest_incident", ["ALARM"]],
    ["ingest_throttled", "ingest_incident", ["NOT ALARM"]],
    ["ingest_lambda", "ingest_throttled", ["Throttles · Sum/300s"]],
  ]);
  expect(reactor.nodes.find((n) => n.id === "ingest_error_rate")?.details).toEqual([
    "100 * errors / calls > 5",
  ]);
});

test("--no-auto-links omits auto eq links; explicit links stay", async () => {
  const r = await run(["graph", briefFile, "--no-auto-links"]);
  expect(r.code).toBe(0);
  expect(r.out).not.toContain("≡");
  expect(r.out).toContain("customers.region_id = map(events.region)");
});

test("narrowing to several values, shift links, custom and platform metrics, nested rules", () => {
  const app = new Application("shapes", { account: "111122223333", region: "us-east-1" });
  const events = app.s3Dataset("events", {
    bucket: "raw",
    dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d" }) },
    filter: { region: ["NA", "EU", "JP"] },
  });
  const today = events.at(["NA", "EU"]);
  const yesterday = events.at(["NA", "EU"]);
  const prev = app.data("prev", {
    inputs: { today, yesterday },
    links: [link(yesterday.dim("day"), shift(-1, "DAY"), today.dim("day"))],
    compute: sparkSql("SELECT 1"),
  });
  const lag = app.metric("lag", { metricNames: ["Lag"] });
  const lagAlarm = app.alarm("lag_alarm", {
    metric: lag.get("Lag"),
    statistic: "p99",
    periodSeconds: 60,
    threshold: 10,
    comparison: "GreaterThanThreshold",
  });
  const throttles = app.alarm("throttles", {
    metric: app.platformMetrics("system").get("DispatchErrors"),
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
  });
  const failures = app.alarm("failures", {
    metric: app.routeMetrics(prev).get("ExecutionFailure"),
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
  });
  app.compositeAlarm("combo", {
    rule: allOf(lagAlarm.is("ALARM"), not(anyOf(throttles.is("OK"), failures.is("ALARM")))),
  });
  const graph = buildGraph(app.toModel());
  const labels = graph.edges.map((e) => [e.from, e.to, e.label]);
  expect(labels).toContainEqual(["events", "prev", ["today · region∈{EU,NA}"]]);
  expect(labels).toContainEqual([
    "events",
    "prev",
    ["yesterday · region∈{EU,NA}", "yesterday.day = shift(today.day, -1 DAY)", "region ≡ today.region"],
  ]);
  expect(labels).toContainEqual(expect.arrayContaining(["$platform:system", "throttles"]));
  expect(labels).toContainEqual(["lag", "lag_alarm", ["Lag · p99/60s"]]);
  expect(labels).toContainEqual(["prev", "failures", ["ExecutionFailure · Sum/300s"]]);
  expect(labels).toContainEqual(["throttles", "combo", ["NOT OK"]]);
  expect(labels).toContainEqual(["failures", "combo", ["NOT ALARM"]]);
  expect(graph.nodes.find((n) => n.id === "combo")?.details).toEqual([
    "ALARM(lag_alarm) AND NOT (OK(throttles) OR ALARM(failures))",
  ]);
  expect(graph.nodes.find((n) => n.id === "$platform:system")).toMatchObject({
    kind: "metric",
    external: true,
  });
  // Every renderer copes with the synthetic platform node.
  expect(checkDot(renderDot(graph)).nodes.has("$platform:system")).toBe(true);
  expect(renderMermaid(graph)).toContain(
    `n__platform_system[/"$platform:system<br/>router system metrics"/]`,
  );
  checkLayout(layoutGraph(graph));
  parseXml(renderSvg(graph));
});

// ---------------------------------------------------------------- CLI

test("--json prints the graph model; --out writes a file; a bad --format is a usage error", async () => {
  const j = await run(["graph", FLOWS["daily-aggregation"] as string, "--json"]);
  expect(j.code).toBe(0);
  expect(JSON.parse(j.out)).toEqual(graphOf("daily-aggregation"));

  const out = join(mkdtempSync(join(tmpdir(), "sluice-graph-")), "nested", "flow.svg");
  const w = await run(["graph", FLOWS["daily-aggregation"] as string, "--format", "svg", "--out", out]);
  expect(w.code).toBe(0);
  expect(w.out).toBe(`daily-sales: 4 nodes, 3 edges → ${out} (svg)\n`);
  expect(readFileSync(out, "utf8")).toBe(renderSvg(graphOf("daily-aggregation")));

  const bad = await run(["graph", FLOWS["daily-aggregation"] as string, "--format", "png"]);
  expect(bad.code).toBe(2);
  expect(bad.err).toBe("sluice graph: unknown --format png (one of mermaid, dot, svg)\n");
  expect((await run(["graph", "--help"])).out).toContain("graph <flow.ts> [--format mermaid|dot|svg]");
});

// ---------------------------------------------------------------- escaping

const NASTY: Graph = {
  name: 'we"ird <app> & co',
  nodes: [
    {
      id: "end",
      kind: "data",
      modelKind: "data",
      external: false,
      details: ['a "quoted" <b>bold</b> & #1 | `x`'],
    },
    {
      id: "$platform:system",
      kind: "metric",
      modelKind: "platformMetrics",
      external: true,
      details: ["C:\\path\\n"],
    },
    { id: "src", kind: "dataset", modelKind: "s3Dataset", external: false, details: ["line1\nline2"] },
  ],
  edges: [
    { from: "src", to: "end", kind: "input", label: ['x · a="1" <2> & 3 | 4 # 5', "\\l"], dashed: false },
    { from: "$platform:system", to: "end", kind: "metric", label: ["'quote'"], dashed: true },
  ],
};

test("mermaid escapes label syntax and never uses reserved or invalid ids", () => {
  const mermaid = renderMermaid(NASTY);
  expect(mermaid).toContain(
    `  n_end("end<br/>a #quot;quoted#quot; #lt;b#gt;bold#lt;/b#gt; #amp; #35;1 #124; #96;x#96;")`,
  );
  expect(mermaid).toContain(`  n__platform_system[/"$platform:system<br/>C:\\path\\n"/]`);
  expect(mermaid).toContain(`  src[("src<br/>line1<br/>line2")]`);
  expect(mermaid).toContain(
    `  src -->|"x · a=#quot;1#quot; #lt;2#gt; #amp; 3 #124; 4 #35; 5<br/>\\l"| n_end`,
  );
  // Every quoted label is closed on its line: no raw quote inside.
  for (const line of mermaid.split("\n").filter((l) => l.includes('"') && !l.startsWith("  %%"))) {
    expect(line.split('"')).toHaveLength(3);
  }
});

test("dot escapes quotes and backslashes", () => {
  const dot = renderDot(NASTY);
  const { nodes, edges } = checkDot(dot);
  expect([...nodes].sort()).toEqual(["$platform:system", "end", "src"]);
  expect(edges).toEqual([
    ["src", "end"],
    ["$platform:system", "end"],
  ]);
  expect(dot).toContain(`digraph "we\\"ird <app> & co" {`);
  expect(dot).toContain(`label="$platform:system\\nC:\\\\path\\\\n"`);
  expect(dot).toContain(`label="x · a=\\"1\\" <2> & 3 | 4 # 5\\n\\\\l"`);
});

test("svg escapes every text", () => {
  const svg = renderSvg(NASTY);
  const elements = parseXml(svg);
  const texts = elements
    .filter((e) => e.name === "text" || e.name === "title")
    .map((e) => unescapeXml(e.text));
  expect(texts).toContain('we"ird <app> & co');
  expect(texts).toContain('a "quoted" <b>bold</b> & #1 | `x`');
  expect(texts).toContain('x · a="1" <2> & 3 | 4 # 5');
  expect(texts).toContain("'quote'");
  checkLayout(layoutGraph(NASTY));
});

// ---------------------------------------------------------------- layout

test("barycentric ordering removes avoidable crossings", () => {
  // In input order a→y and b→x cross; the layout swaps one side.
  const layout = layeredLayout({
    nodes: ["a", "b", "x", "y"].map((id) => ({ id, size: { width: 40, height: 20 } })),
    edges: [
      { from: "a", to: "y" },
      { from: "b", to: "x" },
    ],
  });
  const y = (id: string): number => layout.nodes.find((n) => n.id === id)?.y as number;
  expect(Math.sign(y("a") - y("b"))).toBe(Math.sign(y("y") - y("x")));
  checkLayout(layout);
});

test("long edges pass through every layer; sources sit next to their consumer", () => {
  const layout = layeredLayout({
    nodes: ["a", "b", "c", "d", "late"].map((id) => ({ id, size: { width: 50, height: 30 } })),
    edges: [
      { from: "a", to: "b", label: { width: 30, height: 14 } },
      { from: "b", to: "c" },
      { from: "c", to: "d" },
      { from: "a", to: "d", label: { width: 60, height: 14 } },
      { from: "late", to: "d" },
    ],
  });
  expect(layout.nodes.map((n) => [n.id, n.layer])).toEqual([
    ["a", 0],
    ["b", 1],
    ["c", 2],
    ["d", 3],
    ["late", 2],
  ]);
  checkLayout(layout);
  // The long edge's label sits in the label column just before its target.
  const long = layout.edges[3];
  const d = layout.nodes[3] as Box;
  expect((long?.label as Box).x + (long?.label as Box).width).toBeLessThan(d.x);
  expect((long?.label as Box).x).toBeGreaterThan((layout.nodes[2] as Box).x + (layout.nodes[2] as Box).width);
});

test("a cycle is laid out with its closing edge reversed", () => {
  const layout = layeredLayout({
    nodes: ["a", "b"].map((id) => ({ id, size: { width: 40, height: 20 } })),
    edges: [
      { from: "a", to: "b" },
      { from: "b", to: "a" },
    ],
  });
  expect(layout.edges.map((e) => e.reversed)).toEqual([false, true]);
  const back = layout.edges[1]?.points ?? [];
  expect(back[0]?.x).toBeGreaterThan(back[back.length - 1]?.x as number);
});

test("isotonic placement keeps order and gaps, as close as possible to the wishes", () => {
  expect(isotonicPlacement([0, 0, 0], [10, 10])).toEqual([-10, 0, 10]);
  expect(isotonicPlacement([0, 100, 50], [10, 10])).toEqual([0, 70, 80]);
  expect(isotonicPlacement([5, 50], [10])).toEqual([5, 50]);
});

// ---------------------------------------------------------------- README

test("the README's graph and docs/images/daily-aggregation.svg are up to date", () => {
  const graph = graphOf("daily-aggregation");
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBe(renderMermaid(graph));
  expect(readme).toContain("](docs/images/daily-aggregation.svg)");
  const svg = join(ROOT, "docs", "images", "daily-aggregation.svg");
  expect(existsSync(svg)).toBe(true);
  // Regenerate: node bin/sluice.js graph examples/daily-aggregation/flow.ts --format svg --out docs/images/daily-aggregation.svg
  expect(readFileSync(svg, "utf8")).toBe(renderSvg(graph));
});

test("an invalid flow is drawn: faulty nodes and inputs marked, issues listed, exit 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-graph-invalid-"));
  const file = join(dir, "flow.ts");
  writeFileSync(
    file,
    `import { Application, dim, sparkSql } from "sluice";
     const app = new Application("bad-graph", { account: "111122223333", region: "us-east-1" });
     const ev = app.s3Dataset("ev", { bucket: "raw", dimensions: { region: dim.string() }, filter: { region: ["NA"] } });
     const ok = app.s3Dataset("ok", { bucket: "raw-ok", dimensions: { region: dim.string() } });
     app.data("out", { inputs: [ev.at("EU"), ok], compute: sparkSql("SELECT 1"), retries: -1 });
     export default app;`,
  );
  const r = await run(["graph", file]);
  expect(r.code).toBe(1);
  expect(r.err.split("\n").filter(Boolean)).toEqual([
    expect.stringMatching(
      /^nodes\.out\.inputs\.ev\.dimensions\.region: node "out", input "ev", dimension "region": value "EU" is not in the filter/,
    ),
    expect.stringMatching(/^nodes\.out\.retries: /),
  ]);
  expect(r.out).toContain("classDef invalid stroke:#cf222e,stroke-width:3px");
  expect(r.out).toMatch(/^ {2}class out invalid$/m);
  expect(r.out).toMatch(/^ {2}linkStyle 0 stroke:#cf222e,stroke-width:3px$/m); // ev → out, not ok → out
  expect(r.out).toMatch(/^ {2}%% issue: nodes\.out\.retries: /m);

  const json = JSON.parse((await run(["graph", file, "--json"])).out) as Graph;
  expect(json.issues).toHaveLength(2);
  expect(json.nodes.find((n) => n.id === "out")?.issues).toEqual([expect.stringMatching(/retries/)]);
  expect(json.nodes.find((n) => n.id === "ev")?.issues).toBeUndefined();
  expect(json.edges.map((e) => [e.from, e.issues?.length ?? 0])).toEqual([
    ["ev", 1],
    ["ok", 0],
  ]);
  const dot = await run(["graph", file, "--format", "dot"]);
  expect(dot.out).toMatch(/"out" \[.*color="#cf222e".*penwidth="3"/);
  const svg = await run(["graph", file, "--format", "svg"]);
  expect(svg.out).toContain('stroke="#cf222e" stroke-width="3"');
  // A valid flow's graph carries no issue fields.
  expect((await run(["graph", "examples/daily-aggregation/flow.ts", "--json"])).out).not.toContain(
    '"issues"',
  );
  rmSync(dir, { recursive: true, force: true });
});
