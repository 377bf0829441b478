import { describe, expect, it } from 'vitest';
import { normalizePhone, tryNormalizePhone } from '../../src/core/phone.js';

describe('normalizePhone / tryNormalizePhone', () => {
  it('reads E.164, national numbers with a default country, prefixes and digits-only provider forms', () => {
    expect(tryNormalizePhone('+14155550100')).toBe('+14155550100');
    expect(tryNormalizePhone('(415) 555-0100', { defaultCountry: 'US' })).toBe('+14155550100');
    expect(tryNormalizePhone('whatsapp:+447911123456')).toBe('+447911123456');
    expect(tryNormalizePhone('14155550100')).toBe('+14155550100'); // Vonage drops the '+'
    expect(tryNormalizePhone('020 7946 0018', { defaultCountry: 'GB' })).toBe('+442079460018');
  });

  it('refuses free text, invalid numbers and oversized input', () => {
    for (const input of [
      '',
      'call me',
      '+1415555',
      '+1 415 555 0100 ext 9',
      '1'.repeat(65),
      '+99912345678',
    ]) {
      expect(tryNormalizePhone(input)).toBeNull();
    }
    expect(() => normalizePhone('not a number')).toThrow(
      expect.objectContaining({ code: 'SMSFLOW_ERR_INVALID_PHONE' }),
    );
  });

  it('remembers per default country: the same text reads differently with another one, or none', () => {
    expect(tryNormalizePhone('(415) 555-0100')).toBeNull();
    expect(tryNormalizePhone('(415) 555-0100', { defaultCountry: 'US' })).toBe('+14155550100');
    expect(tryNormalizePhone('(415) 555-0100')).toBeNull();
    expect(tryNormalizePhone('020 7946 0018', { defaultCountry: 'US' })).toBeNull();
    expect(tryNormalizePhone('020 7946 0018', { defaultCountry: 'GB' })).toBe('+442079460018');
    expect(tryNormalizePhone('020 7946 0018', { defaultCountry: 'US' })).toBeNull();
  });

  it('gives the same answers after its memo fills up and starts again', () => {
    const numbers = Array.from(
      { length: 10_050 },
      (_, i) => `+1415${String(2_000_000 + i).padStart(7, '0')}`,
    );
    const first = numbers.map((n) => tryNormalizePhone(n));
    expect(first.every((n, i) => n === numbers[i])).toBe(true);
    expect(tryNormalizePhone('(415) 555-0100', { defaultCountry: 'US' })).toBe('+14155550100');
    expect(numbers.slice(0, 20).map((n) => tryNormalizePhone(n))).toEqual(numbers.slice(0, 20));
    expect(tryNormalizePhone('(415) 555-0100')).toBeNull();
  });
});
