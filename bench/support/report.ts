/** Formatting shared by the benchmarks: numbers, ratios, medians and compact tables. */

export const int = (x: number): string => Math.round(x).toLocaleString("en-US");
export const ops = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));
export const ratio = (x: number): string => `${x.toFixed(2)}x`;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Prints a table: the first column left-aligned, the others right-aligned. */
export function table(title: string, head: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join("  ");
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}
