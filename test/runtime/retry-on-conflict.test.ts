/** core/retry-on-conflict.ts, alone: bounded attempts, backoff with full jitter, a metric per lost write. */
import { backoffMs, ConflictError, retryOnConflict } from "../../src/runtime-bundle/core/retry-on-conflict";

function recorder() {
  const metrics: (string | undefined)[][] = [];
  const sleeps: number[] = [];
  return {
    metrics,
    sleeps,
    sink: { emit: (route: string | undefined, name: string) => void metrics.push([route, name]) },
    sleep: async (ms: number) => void sleeps.push(ms),
  };
}

test("returns the first attempt's value without waiting or counting", async () => {
  const r = recorder();
  await expect(retryOnConflict("x", async () => ({ value: 7 }), { sleep: r.sleep }, r.sink)).resolves.toBe(7);
  expect(r.sleeps).toEqual([]);
  expect(r.metrics).toEqual([]);
});

test("a lost write counts StoreConflicts and retries; the first retry is immediate, later ones back off", async () => {
  const r = recorder();
  let n = 0;
  const v = await retryOnConflict(
    "x",
    async () => (++n < 5 ? undefined : { value: n }),
    { sleep: r.sleep, random: () => 0.5, baseDelayMs: 4 },
    r.sink,
  );
  expect(v).toBe(5);
  expect(r.metrics).toEqual(Array(4).fill([undefined, "StoreConflicts"]));
  // Attempts 2, 3, 4 wait up to 4, 8, 16 ms (half of it with random() = 0.5).
  expect(r.sleeps).toEqual([2, 4, 8]);
});

test("gives up with a ConflictError after maxAttempts", async () => {
  const r = recorder();
  let n = 0;
  const p = retryOnConflict("group b/G#k", async () => void n++, { maxAttempts: 3, sleep: r.sleep }, r.sink);
  await expect(p).rejects.toThrow(ConflictError);
  await expect(p).rejects.toThrow("group b/G#k kept changing under concurrent writes (3 attempts)");
  expect(n).toBe(3);
  expect(r.metrics).toHaveLength(3);
});

test("backoffMs: none for attempts 0 and 1, then full jitter under base × 2^(n-2), capped", () => {
  expect(backoffMs(0)).toBe(0);
  expect(backoffMs(1)).toBe(0);
  const top = { random: () => 0.999999 };
  expect(backoffMs(2, top)).toBe(3);
  expect(backoffMs(5, top)).toBe(31);
  expect(backoffMs(20, top)).toBe(249);
  expect(backoffMs(20, { ...top, maxDelayMs: 50 })).toBe(49);
  expect(backoffMs(9, { random: () => 0 })).toBe(0);
});
