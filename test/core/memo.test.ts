import { describe, expect, it } from 'vitest';
import { TwoKeyMemo } from '../../src/core/memo.js';

describe('TwoKeyMemo', () => {
  it('keeps values apart by both keys and returns what it stores', () => {
    const memo = new TwoKeyMemo<string, string, number | null>(10);
    expect(memo.set('US', '415', 1)).toBe(1);
    expect(memo.set('GB', '415', null)).toBeNull();
    expect(memo.get('US', '415')).toBe(1);
    expect(memo.get('GB', '415')).toBeNull(); // a remembered null is a hit, not a miss
    expect(memo.get('', '415')).toBeUndefined();
    expect(memo.get('US', '416')).toBeUndefined();
  });

  it('starts again empty once it holds its limit, counting across outer keys', () => {
    const memo = new TwoKeyMemo<string, number, number>(3);
    memo.set('a', 1, 1);
    memo.set('b', 1, 2);
    memo.set('a', 2, 3);
    expect([memo.get('a', 1), memo.get('b', 1), memo.get('a', 2)]).toEqual([1, 2, 3]);
    memo.set('c', 1, 4); // the fourth value: the first three are dropped
    expect([memo.get('a', 1), memo.get('b', 1), memo.get('a', 2), memo.get('c', 1)]).toEqual([
      undefined,
      undefined,
      undefined,
      4,
    ]);
  });
});
