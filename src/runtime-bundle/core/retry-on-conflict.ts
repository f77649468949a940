/**
 * The one loop around read-modify-conditional-write: bounded attempts, exponential backoff with full
 * jitter after the first immediate retries, and a `StoreConflicts` metric per lost write.
 */
import type { MetricsSink } from "./hooks";

/** A conditional write kept losing to concurrent writers. */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

export interface ConflictPolicy {
  /** @default 12 */
  readonly maxAttempts?: number;
  /** Delay unit of the backoff (attempt n waits up to base × 2^(n-2), the first retry none). @default 4 */
  readonly baseDelayMs?: number;
  /** @default 250 */
  readonly maxDelayMs?: number;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

/** The result of one attempt: `{ value }` when it is done, undefined when its write lost a race. */
export type Attempt<T> = { readonly value: T } | undefined;

/** The delay before attempt `n` (0-based; attempts 0 and 1 do not wait). */
export function backoffMs(n: number, policy: ConflictPolicy = {}): number {
  if (n < 2) return 0;
  const base = policy.baseDelayMs ?? 4;
  const cap = Math.min(policy.maxDelayMs ?? 250, base * 2 ** (n - 2));
  return Math.floor((policy.random ?? Math.random)() * cap);
}

const realSleep = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it returns a value; each undefined (a lost conditional write) counts a
 * conflict and retries after the backoff. Throws ConflictError after `maxAttempts`.
 */
export async function retryOnConflict<T>(
  what: string,
  attempt: () => Promise<Attempt<T>>,
  policy: ConflictPolicy = {},
  metrics?: MetricsSink,
): Promise<T> {
  const max = policy.maxAttempts ?? 12;
  const sleep = policy.sleep ?? realSleep;
  for (let n = 0; n < max; n++) {
    const wait = backoffMs(n, policy);
    if (wait > 0) await sleep(wait);
    const r = await attempt();
    if (r !== undefined) return r.value;
    metrics?.emit(undefined, "StoreConflicts");
  }
  throw new ConflictError(`${what} kept changing under concurrent writes (${max} attempts)`);
}
