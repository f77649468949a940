/**
 * User-caused flow errors: collected, never thrown one at a time, so that a user sees every
 * problem of a flow at once. Each issue names its place (node, input, dimension).
 */

export interface FlowIssue {
  /** Dotted location, e.g. `nodes.joined.inputs.customers.dimensions.region_id`. */
  readonly path: string;
  /** Full sentence starting with the location, e.g. `node "joined", input "customers", dimension "region_id": …`. */
  readonly message: string;
  /** Stable machine-readable kind of problem, e.g. `filter.value-not-allowed`. */
  readonly code: string;
}

export class FlowValidationError extends Error {
  readonly issues: readonly FlowIssue[];

  constructor(issues: readonly FlowIssue[]) {
    const lines = issues.map((i) => `  - ${i.message}`).join("\n");
    super(`flow is invalid (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines}`);
    this.name = "FlowValidationError";
    this.issues = issues;
  }
}

/** Where a problem is. Every part is optional; present parts appear in the message in this order. */
export interface Location {
  readonly node?: string;
  readonly input?: string;
  readonly dimension?: string;
  /** Free-form tail such as `link 2` or `compute 1`. */
  readonly field?: string;
  /** Top-level section for non-node problems, e.g. `environments.prod`. */
  readonly section?: string;
}

export function locationPath(loc: Location): string {
  const parts: string[] = [];
  if (loc.section) parts.push(loc.section);
  if (loc.node !== undefined) parts.push(`nodes.${loc.node}`);
  if (loc.input !== undefined) parts.push(`inputs.${loc.input}`);
  if (loc.field !== undefined) parts.push(loc.field.replace(/\s+/g, "."));
  if (loc.dimension !== undefined) parts.push(`dimensions.${loc.dimension}`);
  return parts.join(".") || "application";
}

export function locationText(loc: Location): string {
  const parts: string[] = [];
  if (loc.section) parts.push(loc.section);
  if (loc.node !== undefined) parts.push(`node "${loc.node}"`);
  if (loc.input !== undefined) parts.push(`input "${loc.input}"`);
  if (loc.field !== undefined) parts.push(loc.field);
  if (loc.dimension !== undefined) parts.push(`dimension "${loc.dimension}"`);
  return parts.join(", ") || "application";
}

export class IssueCollector {
  private readonly list: FlowIssue[] = [];

  add(loc: Location, code: string, message: string): void {
    this.addIssue({ path: locationPath(loc), message: `${locationText(loc)}: ${message}`, code });
  }

  /** Adds an issue already located (e.g. one collected by another collector). */
  addIssue(issue: FlowIssue): void {
    if (!this.list.some((i) => i.message === issue.message)) this.list.push(issue);
  }

  get issues(): readonly FlowIssue[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new FlowValidationError(this.list);
  }
}
