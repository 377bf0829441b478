/**
 * The Redis store against a real Redis (REDIS_URL): same arithmetic as takeToken, atomic under concurrency,
 * keys expire once full. Skipped with the reason in its name when REDIS_URL is not set.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BucketState, createRateLimiter, takeToken } from '../../src/http/rate-limit.js';
import { redisRateLimitStore } from '../../src/http/redis-rate-limit.js';

const url = process.env.REDIS_URL;

describe.skipIf(!url)(`${url ? '' : '[because REDIS_URL is not set] '}redisRateLimitStore`, () => {
  let redis: Redis;
  const prefix = `smsflow-test:${randomUUID()}:`;
  beforeAll(() => {
    redis = new Redis(url as string, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('matches takeToken step by step (caller clock)', async () => {
    const rule = { points: 3, durationMs: 3000 };
    let now = 1_700_000_000_000;
    const limiter = createRateLimiter({
      ...rule,
      store: redisRateLimitStore(redis, { clock: 'caller' }),
      keyPrefix: prefix,
      clock: () => new Date(now),
    });
    let state: BucketState | undefined;
    for (const gap of [0, 0, 0, 0, 400, 600, 1, 2500, 10_000, 0, 0, 0, 0]) {
      now += gap;
      const expected = takeToken(state, rule, now);
      state = expected.state;
      expect(await limiter.consume('parity')).toEqual(expected.result);
    }
  });

  it('is atomic: 50 concurrent takes on one key let exactly `points` through (server clock)', async () => {
    const limiter = createRateLimiter({
      points: 10,
      durationMs: 3_600_000,
      store: redisRateLimitStore(redis),
      keyPrefix: prefix,
    });
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.consume('burst')));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results.find((r) => !r.allowed)?.retryAfterMs).toBeGreaterThan(0);
  });

  it('sets a TTL so idle buckets disappear', async () => {
    const limiter = createRateLimiter({
      points: 2,
      durationMs: 10_000,
      store: redisRateLimitStore(redis),
      keyPrefix: prefix,
    });
    await limiter.consume('ttl');
    const ttl = await redis.pttl(`${prefix}ttl`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000 + 1000);
  });

  it('a failing client is SMSFLOW_ERR_STORAGE; a client without eval is a config error', async () => {
    const store = redisRateLimitStore({ eval: async () => Promise.reject(new Error('ECONNREFUSED')) });
    await expect(store.take('k', { points: 1, durationMs: 1 }, 0)).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_STORAGE',
    });
    expect(() => redisRateLimitStore({} as never)).toThrow(/eval/);
  });
});
