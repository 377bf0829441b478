import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGsm7, measureSegments } from '../../src/core/segments.js';

const grin = '😀';

describe('measureSegments: sms-facts.md §4 vectors (sms-segments-calculator 1.3.0)', () => {
  const vectors: [string, string, 'GSM-7' | 'UCS-2', number, number][] = [
    ['160×a', 'a'.repeat(160), 'GSM-7', 1, 160],
    ['161×a', 'a'.repeat(161), 'GSM-7', 2, 161],
    ['306×a', 'a'.repeat(306), 'GSM-7', 2, 306],
    ['307×a', 'a'.repeat(307), 'GSM-7', 3, 307],
    ['80×€', '€'.repeat(80), 'GSM-7', 1, 160],
    ['81×€', '€'.repeat(81), 'GSM-7', 2, 162],
    ['160×é', 'é'.repeat(160), 'GSM-7', 1, 160],
    ['70×ê', 'ê'.repeat(70), 'UCS-2', 1, 70],
    ['71×ê', 'ê'.repeat(71), 'UCS-2', 2, 71],
    ['35×😀', grin.repeat(35), 'UCS-2', 1, 70],
    ['36×😀', grin.repeat(36), 'UCS-2', 2, 72],
    ['67×a + 😀 + 66×a', 'a'.repeat(67) + grin + 'a'.repeat(66), 'UCS-2', 3, 135],
  ];
  it.each(vectors)('%s', (_name, text, encoding, segments, units) => {
    const info = measureSegments(text);
    expect(info.encoding).toBe(encoding);
    expect(info.segments).toBe(segments);
    expect(info.units).toBe(units);
  });
});

describe('measureSegments: boundaries and atoms', () => {
  it('counts an empty text as 0 segments (nothing is sent)', () => {
    expect(measureSegments('')).toEqual({ encoding: 'GSM-7', segments: 0, units: 0, characters: 0 });
  });

  it('counts one character as 1 segment', () => {
    expect(measureSegments('a')).toEqual({ encoding: 'GSM-7', segments: 1, units: 1, characters: 1 });
  });

  it('never splits an ESC pair: 152×a + € needs a new part for the €', () => {
    // 152 + 2 = 154 septets > 153 per part, so the € opens part 2 even though 1 septet is left in part 1.
    expect(measureSegments('a'.repeat(152) + '€' + 'a'.repeat(10)).segments).toBe(2);
    // 152 + € + 152 = 306 septets: a naive ceil(306/153) says 2, greedy packing says 3.
    expect(measureSegments('a'.repeat(152) + '€' + 'a'.repeat(152))).toMatchObject({
      segments: 3,
      units: 306,
    });
  });

  it('never splits a surrogate pair: 66×ê + 😀 + 66×ê is 3 parts, not ceil(134/67) = 2', () => {
    expect(measureSegments('ê'.repeat(66) + grin + 'ê'.repeat(66))).toMatchObject({
      segments: 3,
      units: 134,
    });
  });

  it('keeps a multi-code-point grapheme (family emoji, 11 units) in one part', () => {
    const family = '👨‍👩‍👧‍👦';
    expect(family.length).toBe(11);
    const info = measureSegments('ê'.repeat(60) + family);
    // 71 units > 70, so multipart; 60 + 11 = 71 > 67, so the family moves to part 2 whole.
    expect(info).toMatchObject({ encoding: 'UCS-2', segments: 2, units: 71, characters: 61 });
  });

  it('splits a grapheme cluster longer than one part by code point instead of looping', () => {
    const zalgo = 'a' + '\u0301'.repeat(200);
    expect(measureSegments(zalgo)).toMatchObject({ encoding: 'UCS-2', units: 201, segments: 3 });
  });

  it('makes the whole message UCS-2 for one non-GSM character', () => {
    expect(measureSegments('a'.repeat(100) + '’')).toMatchObject({
      encoding: 'UCS-2',
      segments: 2,
      units: 101,
    });
    expect(measureSegments('a'.repeat(100) + "'")).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('counts extension characters as 2 septets and CR LF as two GSM characters', () => {
    expect(measureSegments('[]{}|~^\\\f€')).toMatchObject({ encoding: 'GSM-7', units: 20 });
    expect(measureSegments('a\r\nb')).toMatchObject({
      encoding: 'GSM-7',
      units: 4,
      segments: 1,
      characters: 3,
    });
  });

  it('handles the Twilio maximum (1,600 characters) quickly', () => {
    expect(measureSegments('a'.repeat(1600)).segments).toBe(11);
    expect(measureSegments('ê'.repeat(1600)).segments).toBe(24);
  });
});

describe('isGsm7', () => {
  const rows: [string, boolean][] = [
    ['Hello, world!', true],
    ['Price: 10€ {ok} [1] ~x | y ^ z \\', true],
    ['Ça va? Ñandú, Øresund, Åland, Straße, £5, ¥9, ¡Hola! ¿Qué?', false], // `á`, `ú` are not GSM
    ['Ça va? Ñ Ø Å ß £ ¥ ¡ ¿ ΔΦΓΛΩΠΨΣΘΞ', true],
    ['Crêpe', false],
    ['back`tick', false],
    ['“smart quotes”', false],
    ['emoji 😀', false],
    ['tab\there', false],
    ['', true],
  ];
  it.each(rows)('%j → %s', (text, expected) => {
    expect(isGsm7(text)).toBe(expected);
  });
});

describe('measureSegments properties', () => {
  it('never throws and stays consistent with isGsm7 and the per-part limits', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const info = measureSegments(text);
        expect(info.encoding).toBe(isGsm7(text) ? 'GSM-7' : 'UCS-2');
        const [single, multi] = info.encoding === 'GSM-7' ? [160, 153] : [70, 67];
        if (text.length === 0) expect(info.segments).toBe(0);
        else if (info.units <= single) expect(info.segments).toBe(1);
        else expect(info.segments).toBeGreaterThanOrEqual(Math.ceil(info.units / multi));
        expect(info.segments).toBeLessThanOrEqual(Math.max(1, info.units));
      }),
    );
  });

  it('counts GSM-7 characters exactly as grapheme clusters (the fast path agrees with Intl.Segmenter)', () => {
    const gsm = fc.constantFrom(...'\r\n aZ0@£€[]{}^~|\\\féÄΩ'.split(''));
    const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
    fc.assert(
      fc.property(fc.array(gsm, { maxLength: 300 }), (chars) => {
        const text = chars.join('');
        expect(measureSegments(text).characters).toBe([...segmenter.segment(text)].length);
      }),
    );
  });

  it('GSM text of basic characters needs exactly ceil(n/153) parts past 160', () => {
    fc.assert(
      fc.property(fc.integer({ min: 161, max: 2000 }), (n) => {
        expect(measureSegments('x'.repeat(n)).segments).toBe(Math.ceil(n / 153));
      }),
    );
  });
});
