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

export function goTimeToDate(t: GoTime): Date {
  return new Date(t.sec * 1000 + Math.floor(t.nsec / 1_000_000));
}

/** Unix nanoseconds as a bigint (the form states and packfile footers use). */
export function goTimeToUnixNano(t: GoTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
}

export function goTimeFromUnixNano(ns: bigint): GoTime {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}
