/**
 * A Redis {@link RateLimitStore}: the token-bucket step of {@link takeToken} as one Lua script, so taking a
 * token is atomic across every webhook process sharing the Redis. The client is passed in (ioredis or
 * anything with the same `eval`), so importing smsflow never loads ioredis.
 */
import { SmsflowError } from '../core/errors.js';
import type { RateLimitStore, TakeResult } from './rate-limit.js';

/** The one ioredis method the store needs; an ioredis `Redis` or `Cluster` fits. */
export interface RedisEvalClient {
  eval(script: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** Options for {@link redisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /**
   * Whose clock refills buckets. `'redis'`: the server's `TIME`, one clock for all processes (needs Redis ≥ 5
   * for script effects replication). `'caller'`: the limiter's clock (tests, or Redis < 5).
   * @default 'redis'
   */
  clock?: 'redis' | 'caller';
}

// KEYS[1] bucket; ARGV: points, durationMs, now (ms, or -1 for the server's TIME). Same arithmetic as takeToken.
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local rate = capacity / duration
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(stored[1])
local at = tonumber(stored[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
-- A bucket that is full again equals a missing one: let Redis forget it then.
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 1000)
return { allowed, math.floor(tokens), retry }
`;

/**
 * Creates a rate-limit store in Redis. Keys are the limiter's keys (prefix `smsflow:rl:` by default) and
 * expire once their bucket is full again, so idle senders cost nothing.
 *
 * @param client - An ioredis client (or anything with a compatible `eval`).
 * @param options - Which clock refills buckets; see {@link RedisRateLimitStoreOptions}.
 * @returns A {@link RateLimitStore}.
 * @example
 * import Redis from 'ioredis';
 * const store = redisRateLimitStore(new Redis(process.env.REDIS_URL!));
 * const handler = createInboundHandler({ engine, channel, publicUrl, rateLimit: { store } });
 */
export function redisRateLimitStore(
  client: RedisEvalClient,
  options: RedisRateLimitStoreOptions = {},
): RateLimitStore {
  if (!client || typeof client.eval !== 'function') {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      'redisRateLimitStore: expected an ioredis client with eval() (received a value without it). Pass new Redis(process.env.REDIS_URL).',
    );
  }
  const useCallerClock = options.clock === 'caller';
  return {
    async take(key, rule, nowMs): Promise<TakeResult> {
      let reply: unknown;
      try {
        reply = await client.eval(
          TAKE_SCRIPT,
          1,
          key,
          rule.points,
          rule.durationMs,
          useCallerClock ? Math.floor(nowMs) : -1,
        );
      } catch (error) {
        throw new SmsflowError(
          'SMSFLOW_ERR_STORAGE',
          `Redis rate-limit store: the take script failed for key ${JSON.stringify(key)}. Check REDIS_URL and that Redis is ≥ 5.`,
          { cause: error },
        );
      }
      if (!Array.isArray(reply) || reply.length !== 3) {
        throw new SmsflowError(
          'SMSFLOW_ERR_STORAGE',
          `Redis rate-limit store: unexpected script reply ${JSON.stringify(reply)}.`,
        );
      }
      const [allowed, remaining, retryAfterMs] = reply.map(Number) as [number, number, number];
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
  };
}
