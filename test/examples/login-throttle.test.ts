import { describe, expect, it } from 'vitest';
import { createLoginThrottle } from '../../examples/server/login-throttle.js';

describe('login throttle', () => {
  const setup = (options = {}) => {
    let now = 0;
    const throttle = createLoginThrottle({ clock: () => new Date(now), ...options });
    return { throttle, advance: (ms: number) => (now += ms) };
  };

  it('locks an account after its free failures, doubling up to the cap', () => {
    const { throttle, advance } = setup({ accountFreeFailures: 2, maxDelayMs: 4000 });
    expect(throttle.fail('ann', 'ip1')).toBeNull();
    expect(throttle.fail('ann', 'ip2')).toBeNull();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const lock = throttle.fail('ann', `ip${i + 3}`);
      delays.push(lock?.retryAfterMs ?? 0);
      expect(throttle.check('ann', 'elsewhere')).toEqual({ by: 'account', retryAfterMs: lock?.retryAfterMs });
      advance(lock?.retryAfterMs ?? 0);
      expect(throttle.check('ann', 'elsewhere')).toBeNull();
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000, 4000]);
  });

  it('locks an address across accounts, and a success clears only the account', () => {
    const { throttle } = setup({ ipFreeFailures: 3, accountFreeFailures: 1 });
    throttle.fail('a', 'ip');
    throttle.fail('b', 'ip');
    throttle.fail('c', 'ip');
    expect(throttle.check('d', 'ip')).toBeNull();
    expect(throttle.fail('d', 'ip')).toEqual({ by: 'ip', retryAfterMs: 1000 });
    expect(throttle.check('anyone', 'ip')).toEqual({ by: 'ip', retryAfterMs: 1000 });
    expect(throttle.check('anyone', 'other-ip')).toBeNull();
    throttle.fail('e', 'ip2');
    expect(throttle.fail('e', 'ip3')).toEqual({ by: 'account', retryAfterMs: 1000 });
    throttle.succeed('e');
    expect(throttle.check('e', 'ip4')).toBeNull();
    expect(throttle.check('x', 'ip')).toEqual({ by: 'ip', retryAfterMs: 1000 });
  });

  it('forgets failures after a quiet hour', () => {
    const { throttle, advance } = setup({ accountFreeFailures: 1, forgetAfterMs: 3_600_000 });
    throttle.fail('ann', 'ip');
    advance(3_600_000);
    expect(throttle.fail('ann', 'ip')).toBeNull();
    expect(throttle.fail('ann', 'ip')).toEqual({ by: 'account', retryAfterMs: 1000 });
  });

  it('remembers at most maxEntries keys per kind (the oldest is forgotten)', () => {
    const { throttle } = setup({ accountFreeFailures: 0, ipFreeFailures: 1000, maxEntries: 2 });
    throttle.fail('a', 'ip');
    throttle.fail('b', 'ip');
    throttle.fail('c', 'ip');
    expect(throttle.check('a', 'ip')).toBeNull();
    expect(throttle.check('c', 'ip')?.by).toBe('account');
  });
});
