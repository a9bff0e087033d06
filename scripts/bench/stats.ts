/**
 * The q-quantile of ascending `sorted` values by the nearest-rank method (the smallest value with at
 * least q of the values at or below it), so that a p99 is a latency some request really had.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (q <= 0) return sorted[0] as number;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

/** What one measurement saw. Latencies in milliseconds. */
export interface Summary {
  /** Requests answered as the journey expects. */
  ok: number;
  /** Requests answered otherwise, or not at all. */
  errors: number;
  seconds: number;
  /** Successful requests a second over the measured time. */
  rps: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarise(latenciesMs: readonly number[], errors: number, elapsedMs: number): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const seconds = elapsedMs / 1000;
  return {
    ok: sorted.length,
    errors,
    seconds,
    rps: seconds > 0 ? sorted.length / seconds : 0,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
  };
}
