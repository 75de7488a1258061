/**
 * A Go `time.Time` as msgpack carries it: Unix seconds and nanoseconds (0..999999999).
 * JavaScript's Date keeps only milliseconds, and Kloset mtimes are nanosecond-precise.
 */
export interface GoTime {
  /** Seconds since the Unix epoch (may be negative; Go's zero time is -62135596800). */
  readonly sec: number;
  /** Nanoseconds within the second, 0..999_999_999. */
  readonly nsec: number;
}

/** Go's zero `time.Time{}` (0001-01-01 UTC). */
export const GO_ZERO_TIME: GoTime = { sec: -62135596800, nsec: 0 };

export function goTimeFromDate(d: Date): GoTime {
  const ms = d.getTime();
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1_000_000 };
}
