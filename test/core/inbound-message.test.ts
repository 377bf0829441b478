import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  inboundMessageSchema,
  instantMsOf,
  isCanonicalInstant,
  isoStringOf,
  MAX_INBOUND_TEXT,
  safeParseInboundMessage,
} from '../../src/core/types.js';

/** Both parses must agree: success, and on success the same object (values, undefined keys, key order). */
function expectSameAnswer(input: unknown): void {
  const fast = safeParseInboundMessage(input);
  const schema = inboundMessageSchema.safeParse(input);
  expect(fast.success).toBe(schema.success);
  if (fast.success && schema.success) {
    expect(fast.data).toStrictEqual(schema.data);
    expect(Object.keys(fast.data)).toEqual(Object.keys(schema.data));
    expect(fast.data.media).not.toBe((input as { media?: unknown }).media); // a fresh array, as the schema gives
  }
}

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const isoLike = fc.oneof(
  // Instants across four millennia, as toISOString writes them (years 0000-9999 pass; +/-YYYYYY do not).
  fc
    .date({ min: new Date(Date.UTC(-50, 0, 1)), max: new Date(Date.UTC(12000, 0, 1)), noInvalidDate: true })
    .map((d) => d.toISOString()),
  // Near misses: impossible days, no milliseconds, an offset, lower case, junk.
  fc.constantFrom(
    '2026-02-29T00:00:00.000Z',
    '2000-02-29T00:00:00.000Z',
    '1900-02-29T00:00:00.000Z',
    '2100-02-29T00:00:00.000Z',
    '0000-02-29T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '2026-00-10T00:00:00.000Z',
    '2026-01-00T00:00:00.000Z',
    '2026-06-31T00:00:00.000Z',
    '2026-12-31T23:59:59.999Z',
    '2024-02-29T12:00:00.000Z',
    '2026-04-31T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-01-01T24:00:00.000Z',
    '2026-01-01T23:60:00.000Z',
    '2026-01-01T23:59:60.000Z',
    '2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00.000+02:00',
    '2026-01-01t00:00:00.000z',
    '2026-01-01',
    '',
  ),
  fc.string(),
);
const receivedAt = fc.oneof(
  isoLike,
  fc.date(), // includes Invalid Date
  fc.constant(new Date(Number.NaN)),
  fc.integer(),
  fc.constant(null),
);
const text = (max: number) =>
  fc.oneof(fc.string({ maxLength: max + 2 }), fc.constant('x'.repeat(max)), fc.constant('x'.repeat(max + 1)));
const fields = fc.record(
  {
    id: fc.oneof(text(256), fc.integer()),
    from: text(64),
    to: text(64),
    text: fc.oneof(
      fc.string(),
      fc.constant('y'.repeat(MAX_INBOUND_TEXT)),
      fc.constant('y'.repeat(MAX_INBOUND_TEXT + 1)),
      fc.constant(null),
    ),
    receivedAt,
    channel: maybe(fc.constantFrom('sms', 'whatsapp', 'webchat', 'SMS', 'mms', '')),
    provider: maybe(fc.oneof(text(64), fc.integer())),
    media: maybe(
      fc.oneof(
        fc.constant([]),
        fc.constant([{ url: 'https://x/1.jpg' }]),
        fc.constant([{}]),
        fc.constant('none'),
      ),
    ),
    understanding: maybe(
      fc.constantFrom({ intent: 'book', confidence: 0.9, source: 'rules' }, { intent: 'x' }),
    ),
    extra: maybe(fc.string()),
  },
  { requiredKeys: [] },
);

const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** Strings of toISOString()'s shape with every field a little past its range (month 13, day 32, 24:00, :60). */
const canonicalShaped = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1900, 2000, 2024, 2100, 2400)),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: 0, max: 61 }),
    fc.integer({ min: 0, max: 61 }),
    fc.integer({ min: 0, max: 999 }),
  )
  .map(
    ([y, mo, d, h, mi, sec, ms]) =>
      `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(sec, 2)}.${pad(ms, 3)}Z`,
  );

describe('safeParseInboundMessage: the same answers as inboundMessageSchema.safeParse', () => {
  it('agrees on generated messages, valid and invalid', () => {
    fc.assert(
      fc.property(fields, (input) => expectSameAnswer(input)),
      { numRuns: 3000 },
    );
  });

  it('agrees on every receivedAt of toISOString form, real or not (days per month, leap years, 24:00)', () => {
    const base = { id: 'SM1', from: '+14155550100', to: '+14155550199', text: 'hi' };
    fc.assert(
      fc.property(canonicalShaped, (at) => expectSameAnswer({ ...base, receivedAt: at })),
      { numRuns: 5000 },
    );
    for (const at of ['2000-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2026-01-00T00:00:00.000Z'])
      expectSameAnswer({ ...base, receivedAt: at });
  });

  it('isCanonicalInstant: true exactly for the strings Date writes back unchanged', () => {
    const writtenBack = (text: string) => {
      const ms = Date.parse(text);
      return !Number.isNaN(ms) && new Date(ms).toISOString() === text;
    };
    fc.assert(
      fc.property(
        fc.oneof(canonicalShaped, fc.string()),
        (text) => isCanonicalInstant(text) === writtenBack(text),
      ),
      { numRuns: 5000 },
    );
    expect(isCanonicalInstant('2026-12-01T10:00:00.000Z')).toBe(true);
    expect(isCanonicalInstant('2026-12-01T10:00:00Z')).toBe(false); // Date writes milliseconds
  });

  it('instantMsOf: the same number as Date.parse, for every instant and for any other text', () => {
    const same = (text: string) => Object.is(instantMsOf(text), Date.parse(text));
    fc.assert(fc.property(fc.oneof(canonicalShaped, isoLike, fc.string()), same), { numRuns: 20_000 });
    // Every day of four centuries around the Gregorian leap rules, at the first and last millisecond.
    for (let day = Date.UTC(1899, 0, 1); day < Date.UTC(2401, 0, 1); day += 86_400_000) {
      for (const ms of [day, day + 86_399_999]) {
        const text = new Date(ms).toISOString();
        expect(instantMsOf(text), text).toBe(ms);
      }
    }
    for (const text of ['0000-01-01T00:00:00.000Z', '0000-02-29T12:00:00.000Z', '9999-12-31T23:59:59.999Z'])
      expect(instantMsOf(text), text).toBe(Date.parse(text));
    expect(instantMsOf('2026-12-01T10:00:00.000Z')).toBe(1_796_119_200_000);
    expect(instantMsOf('2026-02-30T00:00:00.000Z')).toBe(Date.parse('2026-02-30T00:00:00.000Z'));
  });

  it('isoStringOf: what toISOString writes, for any number, and the same RangeError for an invalid time', () => {
    const same = (ms: number) => {
      let expected: string | Error;
      try {
        expected = new Date(ms).toISOString();
      } catch (error) {
        expected = error as Error;
      }
      if (typeof expected === 'string') expect(isoStringOf(ms)).toBe(expected);
      else expect(() => isoStringOf(ms)).toThrow(RangeError);
    };
    const YEAR_10000 = Date.UTC(10_000, 0, 1);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: YEAR_10000 + 86_400_000 }),
          fc.integer({ min: Date.UTC(-300, 0, 1), max: 0 }),
          fc.double({ noNaN: false }),
          fc.constantFrom(
            -1,
            -0,
            0.5,
            YEAR_10000 - 1,
            YEAR_10000,
            8.64e15,
            8.64e15 + 1,
            Infinity,
            Number.NaN,
          ),
        ),
        (ms) => same(ms),
      ),
      { numRuns: 20_000 },
    );
    // The remembered day must change with the day: consecutive instants across midnights, both directions.
    for (let day = Date.UTC(1999, 11, 30); day < Date.UTC(2000, 2, 2); day += 86_400_000) {
      for (const ms of [day - 1, day, day + 1, day - 1]) same(ms);
    }
    expect(isoStringOf(1_796_119_200_000)).toBe('2026-12-01T10:00:00.000Z');
  });

  it('agrees with keys present but undefined, and drops unknown keys', () => {
    const base = {
      id: 'SM1',
      from: '+14155550100',
      to: '+14155550199',
      text: 'hi',
      receivedAt: '2026-12-01T10:00:00.000Z',
    };
    expectSameAnswer(base);
    expectSameAnswer({
      ...base,
      provider: undefined,
      understanding: undefined,
      channel: undefined,
      media: undefined,
    });
    expectSameAnswer({ ...base, extra: 1, __proto__: null });
    expectSameAnswer({ ...base, receivedAt: new Date('2026-12-01T10:00:00Z') });
    expect(safeParseInboundMessage(base)).toMatchObject({
      success: true,
      data: { channel: 'sms', media: [] },
    });
  });

  it('agrees on what is not a plain object', () => {
    for (const input of [null, undefined, 'text', 42, [], new Map(), Object.create({ id: 'SM1' })])
      expectSameAnswer(input);
    class Message {
      id = 'SM1';
      from = '+1';
      to = '+2';
      text = 'hi';
      receivedAt = '2026-12-01T10:00:00.000Z';
    }
    expectSameAnswer(new Message());
  });
});
