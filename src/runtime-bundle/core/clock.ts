/**
 * Time for the router. The system clock on AWS; a virtual clock locally, so that retry backoff,
 * pending TTLs and checkpoints are tested without sleeping.
 */

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly run: () => Promise<void>;
  /** Timers of live work (retries, polls, checkpoints) keep a LocalRuntime busy; TTL sweeps do not. */
  readonly keepsBusy: boolean;
}

/** A clock that only moves when told to, with timers that fire as it passes them. */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Runs `run` once the clock reaches `at`. */
  schedule(at: number, run: () => Promise<void>, keepsBusy: boolean): void {
    this.timers.push({ at, seq: this.seq++, run, keepsBusy });
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** The earliest timer that keeps work alive, if any. */
  nextBusy(): number | undefined {
    return this.timers.find((t) => t.keepsBusy)?.at;
  }

  /** Moves to `to`, firing every due timer in time order (timers they schedule included). */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > to) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      await next.run();
    }
    this.current = Math.max(this.current, to);
  }
}
