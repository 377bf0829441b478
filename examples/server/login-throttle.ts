/**
 * Login throttling for the dashboard: failed logins are counted per account and per client address, and past a
 * few free failures each further failure locks that key for twice as long as the last (exponential backoff,
 * capped). While a key is locked every login through it is refused before the password is checked, the right
 * password included, so guessing costs time instead of CPU (OWASP Authentication Cheat Sheet, "Login
 * Throttling"). Counters live in two bounded LRU caches: a flood of made-up accounts or addresses evicts old
 * entries instead of growing memory.
 */
import { LRUCache } from 'lru-cache';

/** Options of {@link createLoginThrottle}. */
export interface LoginThrottleOptions {
  /** @default () => new Date() */
  clock?: () => Date;
  /**
   * Failures an account may have before backoff starts.
   * @default 5
   */
  accountFreeFailures?: number;
  /**
   * Failures one client address may have (across accounts) before backoff starts; higher than the account's,
   * because an office or a carrier NAT shares one address.
   * @default 20
   */
  ipFreeFailures?: number;
  /**
   * The first lockout; each further failure doubles it.
   * @default 1000
   */
  baseDelayMs?: number;
  /**
   * The longest lockout.
   * @default 900000 (15 minutes)
   */
  maxDelayMs?: number;
  /**
   * A key with no failure for this long starts again from zero.
   * @default 3600000 (1 hour)
   */
  forgetAfterMs?: number;
  /**
   * Keys remembered per kind (accounts, addresses); the least recently used is forgotten first.
   * @default 10000
   */
  maxEntries?: number;
}

/** Why a login is refused without a password check, and for how long. */
export interface ThrottleVerdict {
  /** Which counter is locked (the account's wins when both are). */
  by: 'account' | 'ip';
  retryAfterMs: number;
}

/** The throttle: ask {@link LoginThrottle.check} first, then report the outcome. */
export interface LoginThrottle {
  /** Null when a login may be tried now, else the lock in force. */
  check(account: string, ip: string): ThrottleVerdict | null;
  /** Records a failed login; returns the lock it started, if any. */
  fail(account: string, ip: string): ThrottleVerdict | null;
  /** A successful login clears the account's counter (the address keeps its own). */
  succeed(account: string): void;
}

interface Counter {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
}

/**
 * Creates a {@link LoginThrottle}.
 *
 * @param options - See {@link LoginThrottleOptions}.
 * @returns The throttle.
 * @example
 * const throttle = createLoginThrottle();
 * const locked = throttle.check('ana@example.com', '203.0.113.7');
 * if (locked) return tooManyAttempts(locked.retryAfterMs);
 */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const clock = options.clock ?? (() => new Date());
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 900_000;
  const forget = options.forgetAfterMs ?? 3_600_000;
  const free = { account: options.accountFreeFailures ?? 5, ip: options.ipFreeFailures ?? 20 };
  const counters = {
    account: new LRUCache<string, Counter>({ max: options.maxEntries ?? 10_000 }),
    ip: new LRUCache<string, Counter>({ max: options.maxEntries ?? 10_000 }),
  };

  const lockOf = (by: ThrottleVerdict['by'], key: string, now: number): ThrottleVerdict | null => {
    const counter = counters[by].get(key);
    return counter && counter.lockedUntilMs > now ? { by, retryAfterMs: counter.lockedUntilMs - now } : null;
  };

  const bump = (by: ThrottleVerdict['by'], key: string, now: number): ThrottleVerdict | null => {
    const previous = counters[by].get(key);
    const failures = previous && now - previous.lastFailureMs < forget ? previous.failures + 1 : 1;
    const over = failures - free[by];
    // 1st failure over the allowance: base; then 2x, 4x, … up to max. The exponent is capped so 2 ** n stays finite.
    const delay = over > 0 ? Math.min(max, base * 2 ** Math.min(over - 1, 40)) : 0;
    counters[by].set(key, { failures, lastFailureMs: now, lockedUntilMs: now + delay });
    return delay > 0 ? { by, retryAfterMs: delay } : null;
  };

  return {
    check(account, ip) {
      const now = clock().getTime();
      return lockOf('account', account, now) ?? lockOf('ip', ip, now);
    },
    fail(account, ip) {
      const now = clock().getTime();
      const byAccount = bump('account', account, now);
      const byIp = bump('ip', ip, now);
      return byAccount ?? byIp;
    },
    succeed(account) {
      counters.account.delete(account);
    },
  };
}
