import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TAIL_LIMIT, tailOf, verdictOf } from '../../bench/http.js';
import { medianOf, percentileOf } from '../../bench/stats.js';

describe('the HTTP benchmark verdict', () => {
  it('reads percentiles by nearest rank, NaN when nothing was measured', () => {
    const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOf(hundred, 0.5)).toBe(50);
    expect(percentileOf(hundred, 0.99)).toBe(99);
    expect(percentileOf(Float64Array.of(7.25), 0.99)).toBe(7.25);
    expect(percentileOf(new Float64Array(0), 0.99)).toBeNaN();
  });

  it('a percentile has at least that share of the values at or below it, and fewer strictly below', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (values, p) => {
          const sorted = Float64Array.from(values).sort();
          const at = percentileOf(sorted, p);
          const needed = Math.ceil(p * sorted.length);
          expect(sorted.filter((v) => v <= at).length).toBeGreaterThanOrEqual(needed);
          expect(sorted.filter((v) => v < at).length).toBeLessThan(needed);
        },
      ),
    );
  });

  it('takes the median of numbers in any order, the mean of the middle two for an even count', () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([3, 1, 2, 10])).toBe(2.5);
    expect(medianOf([])).toBeNaN();
  });

  it('measures the tail against the mean latency of 50 connections (Little: 50 / rate)', () => {
    // 5,000 req/s with 50 in flight: a mean of 10 ms, so a p99 of 20 ms sits 2× above it.
    expect(tailOf({ rate: 5_000, p99: 20 })).toBeCloseTo(2, 10);
    // A host twice as fast with the same unevenness: half the p99, the same multiple.
    expect(tailOf({ rate: 10_000, p99: 10 })).toBeCloseTo(2, 10);
  });

  const rounds = (ratios: number[], tails: number[]) =>
    ratios.map((ratio, i) => ({ ratio, workerRatio: ratio, tailRatio: tails[i]! }));

  it('passes on the median round: share >= 30%, tail <= the limit, no failures', () => {
    const good = rounds([0.31, 0.35, 0.29, 0.4, 0.33], [1.0, 1.1, 1.4, 0.9, 0.95]);
    expect(verdictOf(good, 0)).toEqual({ ratio: 0.33, workerRatio: 0.33, tailRatio: 1.0, ok: true });
    // One wild round decides nothing.
    expect(verdictOf(rounds([0.31, 0.31, 0.31, 0.01, 0.9], [1, 1, 1, 9, 9]), 0).ok).toBe(true);
  });

  it('misses when the median tail is past the limit, the median share under 30%, or a request failed', () => {
    const over = TAIL_LIMIT + 0.01;
    expect(verdictOf(rounds([0.35, 0.35, 0.35], [over, over, 1.0]), 0).ok).toBe(false);
    expect(verdictOf(rounds([0.35, 0.35, 0.35], [TAIL_LIMIT, TAIL_LIMIT, 1.0]), 0).ok).toBe(true);
    expect(verdictOf(rounds([0.29, 0.29, 0.5], [1, 1, 1]), 0).ok).toBe(false);
    expect(verdictOf(rounds([0.35, 0.35, 0.35], [1, 1, 1]), 1).ok).toBe(false);
    expect(verdictOf([], 0).ok).toBe(false);
  });
});
