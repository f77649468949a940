/**
 * The docs quote tables of a bench run (`npm run bench`): a quoted table's header must still be one
 * the benches print, column for column, so a bench that changes its columns fails here until the docs
 * quote a new run. Headers are read from the bench sources (`table(title, [header…], rows)` calls,
 * found with the TypeScript parser) and from the docs' fenced blocks (a header line, then a line of
 * dashes per column, as bench/support/report.ts prints them).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ts from "typescript";

const ROOT = join(__dirname, "..");
/** The docs that quote bench runs, and the bench files whose tables each must quote at least once. */
const DOCS: Readonly<Record<string, readonly string[]>> = {
  "docs/runtime.md": ["bundle.ts"],
  "docs/synth.md": ["synth.ts"],
  "bench/README.md": ["bundle.ts", "synth.ts"],
};
/** The date of the quoted run, which each doc states. */
const RUN_DATE = "2026-12-03";

/** Every header of a `table(…)` call in a bench source: its column names. */
function benchHeaders(file: string): string[][] {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(ROOT, "bench", file), "utf8"),
    ts.ScriptTarget.Latest,
  );
  const headers: string[][] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "table" &&
      node.arguments.length >= 2
    ) {
      const head = node.arguments[1];
      if (head && ts.isArrayLiteralExpression(head)) {
        headers.push(
          head.elements.map((e) => (ts.isStringLiteralLike(e) ? e.text : `<${e.getText(source)}>`)),
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return headers;
}

/** The tables quoted in a doc's fenced blocks: the header cells of each. */
function quotedHeaders(text: string): string[][] {
  const headers: string[][] = [];
  const blocks = text.split(/^```/m).filter((_, i) => i % 2 === 1);
  for (const block of blocks) {
    const lines = block.split("\n");
    for (let i = 1; i + 1 < lines.length; i++) {
      const rule = lines[i + 1] as string;
      if (!/^-+( {2}-+)*\s*$/.test(rule)) continue;
      // Columns are as wide as their rule: cut the header at the rule's gaps.
      const cells: string[] = [];
      const re = /-+/g;
      for (let m = re.exec(rule); m; m = re.exec(rule)) {
        cells.push((lines[i] as string).slice(m.index, m.index + m[0].length).trim());
      }
      headers.push(cells);
    }
  }
  return headers;
}

const benchFiles = readdirSync(join(ROOT, "bench")).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
const printed = new Map(benchFiles.map((f) => [f, benchHeaders(f)]));
const key = (cells: readonly string[]): string => JSON.stringify(cells);

test("the benches print tables (the parser finds their headers)", () => {
  expect(printed.get("bundle.ts")?.length).toBeGreaterThanOrEqual(3);
  expect(printed.get("synth.ts")?.length).toBeGreaterThanOrEqual(2);
});

describe.each(Object.entries(DOCS))("%s", (doc, sources) => {
  const text = readFileSync(join(ROOT, doc), "utf8");
  const quoted = quotedHeaders(text);

  test("every quoted table has the columns a bench prints", () => {
    const all = new Set([...printed.values()].flat().map(key));
    for (const cells of quoted)
      expect({ table: cells, printed: all.has(key(cells)) }).toEqual({
        table: cells,
        printed: true,
      });
  });

  test(`quotes a run of ${sources.join(" and ")}, dated, with the machine`, () => {
    for (const source of sources) {
      const own = new Set((printed.get(source) ?? []).map(key));
      expect({ source, quoted: quoted.some((cells) => own.has(key(cells))) }).toEqual({
        source,
        quoted: true,
      });
    }
    expect(text).toContain(RUN_DATE);
    expect(text).toMatch(/AMD EPYC|cores?\b/);
  });
});
