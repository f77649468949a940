/**
 * A signal: one concrete event of a node ("partition (NA, 2024-05-07) of events is complete").
 */
import type { DimensionValue } from "../../flow/model/flow-model";

export type Dimensions = Readonly<Record<string, DimensionValue>>;

export interface Signal {
  /** Id of the node the event is about (an external dataset, a timer, an alarm, a data node). */
  readonly node: string;
  /** Canonical value of every dimension of the node's signal. */
  readonly dimensions: Dimensions;
  /** Where the partition lives, when the signal is about data. */
  readonly path?: string;
  /** Idempotency key of the delivery that carried it, when there is one. */
  readonly eventId?: string;
}

/** Stable text form of dimension values in spec order; used in keys and ids. */
export function dimensionKey(order: readonly string[], dims: Dimensions): string {
  return order.map((d) => encodeURIComponent(String(dims[d] ?? ""))).join("/");
}
