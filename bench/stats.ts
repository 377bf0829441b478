/** Order statistics shared by the benchmarks. */

/**
 * The nearest-rank percentile of ascending values: the smallest value with at least `p` (0 – 1) of them at or
 * below it; NaN when there are none.
 *
 * @example
 * percentileOf(Float64Array.of(1, 2, 3, 4), 0.5) // 2
 */
export function percentileOf(sorted: ArrayLike<number>, p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * The median of numbers in any order (the mean of the middle two for an even count); NaN when there are none.
 *
 * @example
 * medianOf([3, 1, 2, 10]) // 2.5
 */
export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
