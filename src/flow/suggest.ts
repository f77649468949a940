/** "Did you mean" suggestions for mistyped names (props, flags, commands, nodes). */

/** Edit distance (insertions, deletions, substitutions, adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[x.length] as number[])[y.length] as number;
}

/** The closest candidate, when close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name, c);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(name.length, 3) / 3));
  if (best !== undefined && bestDistance <= limit) return best;
  // A name that extends or shortens a candidate (`--outdir` for `--out`).
  const bare = (s: string): string => s.replace(/^-+/, "").toLowerCase();
  return candidates.find((c) => {
    const [a, b] = [bare(name), bare(c)];
    return Math.min(a.length, b.length) >= 3 && (a.startsWith(b) || b.startsWith(a));
  });
}

/** ` (did you mean "x"?)`, or "" when nothing is close. */
export function didYouMean(name: string, candidates: readonly string[], quote = '"'): string {
  const c = closest(name, candidates);
  return c === undefined ? "" : ` (did you mean ${quote}${c}${quote}?)`;
}
