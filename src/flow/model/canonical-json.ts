/**
 * Canonical JSON: object keys sorted at every level, arrays kept in order, undefined dropped.
 * Two equal models serialize to the same bytes, so a FlowModel diff is a real change.
 */
export function canonicalize<T>(value: T): T {
  return sortDeep(value) as T;
}

export function canonicalJson(value: unknown, indent = 2): string {
  return JSON.stringify(sortDeep(value), null, indent);
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortDeep(v);
    }
    return out;
  }
  return value;
}
