/**
 * `range(-n)` in an `at(...)` position: the tip and the n-1 partitions before it (n in all) at the
 * dimension's granularity. `range(n)` looks forward the same way.
 */
export class RangeSelector {
  readonly kind = "range" as const;
  constructor(readonly size: number) {}

  /** Inclusive offsets relative to the tip. */
  get offsets(): { readonly from: number; readonly to: number } {
    return this.size < 0 ? { from: this.size + 1, to: 0 } : { from: 0, to: this.size - 1 };
  }
}

export function range(size: number): RangeSelector {
  return new RangeSelector(size);
}
