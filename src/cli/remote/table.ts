/** Plain-text tables: a header, columns padded to their widest cell, numbers right-aligned. */

export type Cell = string | number;

export function renderTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const line = (cells: readonly Cell[]) =>
    cells
      .map((c, i) => {
        const text = String(c ?? "");
        const width = widths[i] as number;
        return numeric[i] ? text.padStart(width) : text.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** An epoch-ms time as ISO-8601 to the second. */
export function isoSeconds(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "-";
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
