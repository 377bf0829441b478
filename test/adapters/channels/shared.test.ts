import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queryOf, safeEqual } from '../../../src/adapters/channels/shared.js';

describe('queryOf', () => {
  it('is the part between the first "?" and the first "#" after it, or "" (a "#" before any "?" ends the URL)', () => {
    // The definition, as written before the faster version: drop the fragment, then take what follows "?".
    const reference = (url: string) => {
      const noFragment = url.split('#', 1)[0] ?? '';
      const at = noFragment.indexOf('?');
      return at === -1 ? '' : noFragment.slice(at + 1);
    };
    const url = fc.string({ unit: fc.constantFrom('?', '#', 'a', '=', '&', '/', ':', '%') });
    fc.assert(
      fc.property(url, (u) => {
        expect(queryOf(u)).toBe(reference(u));
      }),
      { numRuns: 5_000 },
    );
    expect(queryOf('https://x.test/sms?a=1#f')).toBe('a=1');
    expect(queryOf('https://x.test/sms#f?a=1')).toBe('');
    expect(queryOf('https://x.test/sms?')).toBe('');
    expect(queryOf('https://x.test/sms?a=1?b=2')).toBe('a=1?b=2');
  });
});

describe('safeEqual', () => {
  it('is true only for identical strings', () => {
    const digest = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';
    expect(safeEqual(digest, digest)).toBe(true);
    expect(safeEqual(digest, `${digest.slice(0, -2)}9=`)).toBe(false); // same length, last bytes differ
    expect(safeEqual(`x${digest.slice(1)}`, digest)).toBe(false); // first byte differs
    expect(safeEqual('', '')).toBe(true);
  });

  it('is false for different lengths, prefixes included', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('abcd', 'abc')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
  });

  it('compares bytes: strings of equal length but different UTF-8 bytes are unequal', () => {
    // 'é' and 'e' are one UTF-16 unit each but 2 and 1 bytes; '\u00e9' and 'e\u0301' render alike.
    expect(safeEqual('\u00e9', 'e')).toBe(false);
    expect(safeEqual('\u00e9', 'e\u0301')).toBe(false);
    expect(safeEqual('😀', '😀')).toBe(true);
    expect(safeEqual('😀', '😁')).toBe(false);
  });

  it('is false, never a throw, for values that are not strings', () => {
    expect(safeEqual(undefined as unknown as string, 'a')).toBe(false);
    expect(safeEqual('a', null as unknown as string)).toBe(false);
    expect(safeEqual(1 as unknown as string, '1')).toBe(false);
  });
});
