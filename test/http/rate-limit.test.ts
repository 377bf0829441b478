/**
 * The token bucket: the pure step, the memory store (LRU bound), the limiter's validation, and a property:
 * over any schedule, no key ever gets more than `points + elapsed × rate` requests through.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLimits } from '../../src/http/limits.js';
import {
  type BucketState,
  createRateLimiter,
  memoryRateLimitStore,
  type RateLimitStore,
  syncTakeOf,
  takeToken,
} from '../../src/http/rate-limit.js';

const rule = { points: 3, durationMs: 3000 }; // one token per second

describe('takeToken (pure)', () => {
  it('starts full, allows a burst of `points`, then refuses with the time to the next token', () => {
    let state: BucketState | undefined;
    const results = [];
    for (let i = 0; i < 4; i++) {
      const step = takeToken(state, rule, 1_000_000);
      state = step.state;
      results.push(step.result);
    }
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]?.retryAfterMs).toBe(1000);
  });

  it('refills continuously and never above `points`; a clock going backwards refills nothing', () => {
    const empty = { tokens: 0, updatedAt: 0 };
    expect(takeToken(empty, rule, 500).result).toMatchObject({ allowed: false, retryAfterMs: 500 });
    expect(takeToken(empty, rule, 1000).result.allowed).toBe(true);
    expect(takeToken(empty, rule, 1_000_000).state.tokens).toBe(2);
    expect(takeToken({ tokens: 0.5, updatedAt: 5000 }, rule, 1000).result.allowed).toBe(false);
  });

  it('property: allowed requests ≤ points + elapsed × rate, for any schedule', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 200 }),
        (points, durationMs, gaps) => {
          let state: BucketState | undefined;
          let now = 0;
          let allowed = 0;
          for (const gap of gaps) {
            now += gap;
            const step = takeToken(state, { points, durationMs }, now);
            state = step.state;
            if (step.result.allowed) allowed++;
            else expect(step.result.retryAfterMs).toBeGreaterThan(0);
          }
          expect(allowed).toBeLessThanOrEqual(points + Math.floor((now * points) / durationMs) + 1e-9);
        },
      ),
    );
  });
});

describe('createRateLimiter with the memory store', () => {
  it('counts keys separately and refills with the clock', async () => {
    let now = 0;
    const limiter = createRateLimiter({ ...rule, clock: () => new Date(now) });
    const a = [];
    for (let i = 0; i < 4; i++) a.push((await limiter.consume('a')).allowed);
    expect(a).toEqual([true, true, true, false]);
    expect((await limiter.consume('b')).allowed).toBe(true);
    now = 999;
    expect((await limiter.consume('a')).allowed).toBe(false);
    now = 1000;
    expect((await limiter.consume('a')).allowed).toBe(true);
  });

  it('holds at most maxKeys buckets, dropping the least recently used', async () => {
    const store = memoryRateLimitStore({ maxKeys: 2 });
    const limiter = createRateLimiter({ points: 1, durationMs: 60_000, store, clock: () => new Date(0) });
    await limiter.consume('a');
    await limiter.consume('b');
    expect((await limiter.consume('a')).allowed).toBe(false); // a is now most recent
    await limiter.consume('c'); // evicts b
    expect(store.size).toBe(2);
    expect((await limiter.consume('b')).allowed).toBe(true); // b forgotten: full again
    expect(() => memoryRateLimitStore({ maxKeys: 0 })).toThrow(/maxKeys/);
  });

  it('its synchronous take shares the buckets of take; the handler limits answer without a promise', async () => {
    const store = memoryRateLimitStore();
    const take = syncTakeOf(store);
    if (!take) throw new Error('the memory store has a synchronous take');
    expect((await store.take('k', rule, 0)).remaining).toBe(2);
    expect(take('k', rule, 0).remaining).toBe(1);
    expect((await store.take('k', rule, 0)).remaining).toBe(0);
    expect(take('k', rule, 0)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1000 });
    expect(syncTakeOf({ take: store.take })).toBeUndefined(); // another store: the async path

    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const message = {
      id: 'SM1',
      from: '+14155550100',
      to: '+14155550199',
      text: 'hi',
      receivedAt: '2026-12-02T10:00:00.000Z',
      channel: 'sms' as const,
      media: [],
    };
    const tight = { perSender: { points: 1, durationMs: 60_000 } };
    const sync = createLimits({ ...tight, store }, 'twilio');
    expect(sync.check(message, logger, {})).toBeNull(); // not a promise
    expect(sync.check(message, logger, {})).toEqual({
      limit: 'per-sender',
      retryAfterMs: expect.any(Number),
    });
    // The same key as the async limiter path uses: the prefix, the provider and the sender.
    expect(take('smsflow:rl:sender:twilio:+14155550100', tight.perSender, Date.now()).allowed).toBe(false);
    const wrapped: RateLimitStore = { take: (key, r, nowMs) => store.take(key, r, nowMs) };
    const viaPromise = createLimits({ ...tight, store: wrapped }, 'twilio').check(message, logger, {});
    expect(viaPromise).toBeInstanceOf(Promise);
    expect(await viaPromise).toEqual({ limit: 'per-sender', retryAfterMs: expect.any(Number) });
  });

  it('refuses bad rules with SMSFLOW_ERR_INVALID_CONFIG quoting the values', () => {
    for (const bad of [
      { points: 0, durationMs: 1000 },
      { points: 1.5, durationMs: 1000 },
      { points: 1, durationMs: 0 },
      { points: 1, durationMs: Number.NaN },
    ]) {
      expect(() => createRateLimiter(bad)).toThrow(
        expect.objectContaining({
          code: 'SMSFLOW_ERR_INVALID_CONFIG',
          message: expect.stringContaining(`points ${bad.points}`),
        }),
      );
    }
  });
});
