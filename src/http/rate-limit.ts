/**
 * A small token-bucket rate limiter: `points` tokens per key, refilled evenly over `durationMs`, so a burst
 * of `points` passes and then one request every `durationMs / points`. The bucket state lives in a
 * {@link RateLimitStore}: in memory for one process ({@link memoryRateLimitStore}), in Redis for many
 * (`redisRateLimitStore` in `redis-rate-limit.ts`). We wrote our own instead of depending on
 * `rate-limiter-flexible`: the algorithm is 20 lines and the core stays dependency-free.
 */
import { SmsflowError } from '../core/errors.js';

/** How many requests per key in what time: `points` per `durationMs`, refilled continuously. */
export interface RateLimitRule {
  /** Bucket size: the burst allowed, and the requests allowed per `durationMs`. */
  points: number;
  /** Time for an empty bucket to refill completely, in milliseconds. */
  durationMs: number;
}

/** The persisted state of one bucket. */
export interface BucketState {
  /** Tokens left (fractional while refilling). */
  tokens: number;
  /** When `tokens` was computed, in epoch milliseconds. */
  updatedAt: number;
}

/** What taking a token gave. */
export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: milliseconds until a token is back. `0` when allowed. */
  retryAfterMs: number;
}

/** Where bucket states live. Implement it to plug another backend; it must apply {@link takeToken} atomically per key. */
export interface RateLimitStore {
  /**
   * Takes one token from `key`'s bucket at `nowMs` (or the store's own clock, see the Redis store).
   * @returns Whether the token was there, what is left and when to come back.
   */
  take(key: string, rule: RateLimitRule, nowMs: number): Promise<TakeResult>;
}

/**
 * The token-bucket step, pure: refills `state` up to `now`, then takes one token if there is one. A missing
 * state is a full bucket. The Redis store's Lua script is the same arithmetic.
 *
 * @param state - The stored bucket, or `undefined` for a key never seen (or expired).
 * @param rule - Bucket size and refill time.
 * @param nowMs - Current time in epoch milliseconds.
 * @returns The next state and the result.
 * @example
 * takeToken(undefined, { points: 2, durationMs: 1000 }, 0) // { state: { tokens: 1, updatedAt: 0 }, result: { allowed: true, remaining: 1, retryAfterMs: 0 } }
 */
export function takeToken(
  state: BucketState | undefined,
  rule: RateLimitRule,
  nowMs: number,
): { state: BucketState; result: TakeResult } {
  const rate = rule.points / rule.durationMs;
  let tokens = state ? state.tokens : rule.points;
  let updatedAt = state ? state.updatedAt : nowMs;
  // A clock that went backwards refills nothing (and never takes tokens away).
  if (nowMs > updatedAt) {
    tokens = Math.min(rule.points, tokens + (nowMs - updatedAt) * rate);
    updatedAt = nowMs;
  }
  if (tokens >= 1) {
    tokens -= 1;
    return {
      state: { tokens, updatedAt },
      result: { allowed: true, remaining: Math.floor(tokens), retryAfterMs: 0 },
    };
  }
  return {
    state: { tokens, updatedAt },
    result: { allowed: false, remaining: 0, retryAfterMs: Math.max(1, Math.ceil((1 - tokens) / rate)) },
  };
}

/** Options for {@link memoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Most buckets held; the least recently used is dropped beyond it (bounds memory under a flood of senders). @default 100000 */
  maxKeys?: number;
}

/**
 * An in-process store: a `Map` in least-recently-used order. Right for one process; behind a load
 * balancer each process would count separately, so use the Redis store there.
 *
 * @returns A {@link RateLimitStore}.
 * @example
 * const limiter = createRateLimiter({ points: 20, durationMs: 60_000, store: memoryRateLimitStore({ maxKeys: 10_000 }) });
 */
export function memoryRateLimitStore(options: MemoryRateLimitStoreOptions = {}): RateLimitStore & {
  readonly size: number;
} {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `memoryRateLimitStore: maxKeys must be a positive integer (received ${String(maxKeys)}).`,
    );
  }
  const buckets = new Map<string, BucketState>();
  const take: SyncTake = (key, rule, nowMs) => {
    const { state, result } = takeToken(buckets.get(key), rule, nowMs);
    // Delete then set moves the key to the end: the Map's first key is always the least recently used.
    buckets.delete(key);
    buckets.set(key, state);
    if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
    return result;
  };
  const store = {
    async take(key: string, rule: RateLimitRule, nowMs: number) {
      return take(key, rule, nowMs);
    },
    get size() {
      return buckets.size;
    },
  };
  syncTakes.set(store, take);
  return store;
}

type SyncTake = (key: string, rule: RateLimitRule, nowMs: number) => TakeResult;
const syncTakes = new WeakMap<RateLimitStore, SyncTake>();

/**
 * The synchronous `take` of a store made by {@link memoryRateLimitStore}, for the webhook handler: a message
 * then costs no promise and no turn of the microtask queue for its limits. `undefined` for any other store.
 */
export function syncTakeOf(store: RateLimitStore): SyncTake | undefined {
  return syncTakes.get(store);
}

/** Options for {@link createRateLimiter}. */
export interface RateLimiterOptions extends RateLimitRule {
  /** Where buckets live. @default memoryRateLimitStore() */
  store?: RateLimitStore;
  /** Prefixed to every key, so several limiters can share one store. @default 'smsflow:rl:' */
  keyPrefix?: string;
  /** @default () => new Date() */
  clock?: () => Date;
}

/** A rate limiter for one rule, many keys. */
export interface RateLimiter {
  readonly rule: RateLimitRule;
  /** Takes one token for `key` (a sender, `'global'`, …). */
  consume(key: string): Promise<TakeResult>;
}

/**
 * Creates a token-bucket limiter: each key may burst `points` requests and then gets `points` per `durationMs`.
 *
 * @param options - The rule, and optionally a shared store, key prefix and clock.
 * @returns A {@link RateLimiter}.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when `points` or `durationMs` is not a positive number.
 * @example
 * const perSender = createRateLimiter({ points: 20, durationMs: 60_000 });
 * const { allowed, retryAfterMs } = await perSender.consume('+14155550100');
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const rule = validateRule(options, 'createRateLimiter');
  const store = options.store ?? memoryRateLimitStore();
  const prefix = options.keyPrefix ?? 'smsflow:rl:';
  const clock = options.clock ?? (() => new Date());
  return {
    rule,
    consume(key) {
      return store.take(prefix + key, rule, clock().getTime());
    },
  };
}

/**
 * Checks a rule's numbers and returns a plain copy.
 *
 * @param where - Named in the error message (`rateLimit.perSender`).
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` quoting the bad value.
 * @example
 * validateRule({ points: 10, durationMs: 60_000 }, 'rateLimit.perSender')
 */
export function validateRule(rule: RateLimitRule, where: string): RateLimitRule {
  const { points, durationMs } = rule ?? ({} as RateLimitRule);
  if (!Number.isInteger(points) || points < 1 || !Number.isFinite(durationMs) || durationMs <= 0) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `${where}: expected { points: a positive integer, durationMs: a positive number } (received points ${String(points)}, durationMs ${String(durationMs)}). Example: { points: 20, durationMs: 60_000 }.`,
    );
  }
  return { points, durationMs };
}
