/**
 * Dimension declarations: `dim.string()`, `dim.long()`, `dim.datetime()`. Declarations are unnamed;
 * the key of the spec record names them, and the record's order is the dimension order.
 */
import type { Granularity } from "./model/granularity";

export interface StringDimension {
  readonly type: "STRING";
}

export interface LongDimensionProps {
  /** Zero-padded width in paths. @default no padding */
  readonly digits?: number;
}

export interface LongDimension extends LongDimensionProps {
  readonly type: "LONG";
}

export interface DatetimeDimensionProps {
  /** strftime format of values in paths and events. @default "%Y-%m-%d" */
  readonly format?: string;
  /**
   * Period of one partition. @default "DAY", or the finest granularity the format can represent
   * when that is coarser than a day (e.g. "MONTH" for "%Y-%m").
   */
  readonly granularity?: Granularity;
  /** IANA zone of the wall clock, informational (arithmetic is DST-free). @default UTC */
  readonly timezone?: string;
}

export interface DatetimeDimension extends DatetimeDimensionProps {
  readonly type: "DATETIME";
}

export type DimensionDeclaration = StringDimension | LongDimension | DatetimeDimension;

/** Ordered dimension spec: key order is dimension order. */
export type DimensionSpec = Readonly<Record<string, DimensionDeclaration>>;

export const dim = {
  string(): StringDimension {
    return { type: "STRING" };
  },
  long(props: LongDimensionProps = {}): LongDimension {
    return { type: "LONG", ...props };
  },
  datetime(props: DatetimeDimensionProps = {}): DatetimeDimension {
    return { type: "DATETIME", ...props };
  },
} as const;
