import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ComplianceIntent,
  defaultComplianceKeywords,
  detectCompliance,
  scanNaturalOptOut,
} from '../../src/core/compliance.js';

type Row = [text: string, expected: ComplianceIntent | null];

// Whole-message keywords (carrier/Twilio defaults, sms-facts.md §2), with decorations we must ignore.
const keywordRows: Row[] = [
  ['STOP', 'opt_out'],
  ['stop', 'opt_out'],
  ['Stop!', 'opt_out'],
  [' stop. ', 'opt_out'],
  ['Stop!!!', 'opt_out'],
  ['STOP.', 'opt_out'],
  ['STOP 🛑', 'opt_out'],
  ['🛑STOP🛑', 'opt_out'],
  ['"stop"', 'opt_out'],
  ['ＳＴＯＰ', 'opt_out'],
  ['S\u200bTOP', 'opt_out'],
  ['\n\tStop\n', 'opt_out'],
  ['STOPALL', 'opt_out'],
  ['Unsubscribe', 'opt_out'],
  ['cancel', 'opt_out'],
  ['Cancel.', 'opt_out'],
  ['END', 'opt_out'],
  ['quit', 'opt_out'],
  ['REVOKE', 'opt_out'],
  ['optout', 'opt_out'],
  ['opt out', 'opt_out'],
  ['OPT-OUT', 'opt_out'],
  ['Opt   Out!', 'opt_out'],
  ['START', 'opt_in'],
  ['start.', 'opt_in'],
  ['Unstop', 'opt_in'],
  ['yes', 'opt_in'], // reported with keyword 'YES' when the caller does not say whether the contact opted out
  ['HELP', 'help'],
  ['help?', 'help'],
  ['Help!', 'help'],
  ['INFO', 'help'],
  ['info.', 'help'],
  ['yes please', null], // YES is a keyword only as the whole message (and only for opted-out contacts, below)
  ['s t o p', null],
  ['stopp', null],
  ['st0p', null],
  ['', null],
  ['   ', null],
  ['🛑', null],
  ['?', null],
];

// Plain language (CTIA MPBP: act on "please opt me out"; FCC 24-24: any reasonable means).
const naturalPositiveRows: Row[] = [
  ['please stop texting me', 'opt_out'],
  ['Stop messaging me', 'opt_out'],
  ['STOP PLEASE', 'opt_out'],
  ['please stop', 'opt_out'],
  ['stop it', 'opt_out'],
  ['Stop it!!', 'opt_out'],
  ['stop now', 'opt_out'],
  ['stop stop stop', 'opt_out'],
  ['I said STOP', 'opt_out'],
  ['stop all', 'opt_out'],
  ['ok stop', 'opt_out'],
  ['Stop, thanks', 'opt_out'],
  ['wrong number, stop', 'opt_out'],
  ['Who is this? Stop.', 'opt_out'],
  ['Not interested. STOP', 'opt_out'],
  ['stop sending me messages', 'opt_out'],
  ['stop sending these', 'opt_out'],
  ['please stop sending me texts', 'opt_out'],
  ['can you stop contacting me', 'opt_out'],
  ['quit texting me', 'opt_out'],
  ['stop bothering me', 'opt_out'],
  ['how do I stop getting these texts?', 'opt_out'],
  ['I want to stop receiving messages', 'opt_out'],
  ['stop these messages', 'opt_out'],
  ['stop the spam', 'opt_out'],
  ["I can't stop getting these texts, make it stop", 'opt_out'],
  ['take me off your list', 'opt_out'],
  ['Take me off the mailing list please', 'opt_out'],
  ['remove me from this list', 'opt_out'],
  ['please remove my number from your database', 'opt_out'],
  ['get me off this list', 'opt_out'],
  ['remove me', 'opt_out'],
  ['Please delete my number', 'opt_out'],
  ['unsubscribe me', 'opt_out'],
  ['I want to unsubscribe', 'opt_out'],
  ['how do I unsubscribe?', 'opt_out'],
  ['unsub', 'opt_out'],
  ["don't text me anymore", 'opt_out'],
  ['dont text me', 'opt_out'],
  ['Do not contact me', 'opt_out'],
  ['do not contact me again', 'opt_out'],
  ['never message me again', 'opt_out'],
  ['Don’t text this number', 'opt_out'],
  ["don't text me, call me instead", 'opt_out'],
  ['opt me out', 'opt_out'],
  ['please opt me out', 'opt_out'],
  ['I would like to opt out', 'opt_out'],
  ['no more texts', 'opt_out'],
  ['No more messages please', 'opt_out'],
  ["I don't want these texts", 'opt_out'],
  ['I no longer wish to receive messages', 'opt_out'],
  ["I don't want to be contacted", 'opt_out'],
  ['wrong number', 'opt_out'],
  ['Sorry, you have the wrong number', 'opt_out'],
  ['leave me alone', 'opt_out'],
  ['just leave me alone!!', 'opt_out'],
  ['cancel my text alerts', 'opt_out'],
  ['cancel all messages', 'opt_out'],
  ['I revoke my consent', 'opt_out'],
  ['cease and desist', 'opt_out'],
  ["I've been getting these for weeks and never signed up for anything. Please stop texting me.", 'opt_out'],
  [`${'blah '.repeat(400)}stop texting me`, 'opt_out'],
  [`Stop texting me. ${'blah '.repeat(400)}`, 'opt_out'],
  // A stand-alone "Stop." clause wins even before a booking detail: a missed opt-out is the costlier error.
  ['Stop, I meant Tuesday', 'opt_out'],
  ['stop sending the reminders', 'opt_out'],
];

// False positives the brief forbids: when in doubt between an opt-out and a booking, the booking wins.
const naturalNegativeRows: Row[] = [
  ['can I cancel my appointment', null],
  ['I need to cancel', null],
  ['cancel my booking', null],
  ['cancel it please', null],
  ['I want to cancel my subscription', null],
  ['stop by at 3?', null],
  ['can I stop by tomorrow', null],
  ['what time do you end today', null],
  ['the end of the street', null],
  ["don't stop", null],
  ["please don't stop texting me, I love the reminders", null],
  ["I can't stop smiling", null],
  ['unstoppable', null],
  ['quit smoking program?', null],
  ['I quit my job', null],
  ['start time?', null],
  ['when does it start', null],
  ['help me book', null],
  ['is there info on prices', null],
  ['can you help', null],
  ['I need info about parking', null],
  ['where is the bus stop', null],
  ['next stop is mine', null],
  ['remove me from the waitlist', null],
  ['please remove me from the wait list for Friday', null],
  ['stop sending the invoice to my old email', null],
  ["don't text me after 9pm", null],
  ['do not text me before noon', null],
  ['no more questions, book it', null],
  ["I didn't mean to unsubscribe", null],
  ["don't unsubscribe me", null],
  ['is this the wrong number for bookings?', null],
  ['yes please book it', null],
  ['no thanks', null],
  ['not interested in the upgrade', null],
  ['can I end my session early', null],
  ['the pain will not stop', null],
  ['we help people stop smoking', null],
  ['Hi! Can you stop texting at 6am? thanks', null],
  ['please stop messaging me so early', null],
  ['stop the appointment reminders', null],
  ['my card info changed', null],
  ['INFO please: what are your hours', null],
];

describe('detectCompliance: phrase table', () => {
  const rows = [...keywordRows, ...naturalPositiveRows, ...naturalNegativeRows];

  it('has at least 80 rows with positives and negatives', () => {
    expect(rows.length).toBeGreaterThanOrEqual(80);
    expect(rows.filter(([, e]) => e === null).length).toBeGreaterThanOrEqual(40);
  });

  it.each(rows)('%j → %s', (text, expected) => {
    expect(detectCompliance(text)?.intent ?? null).toBe(expected);
  });
});

describe('detectCompliance: match details', () => {
  it('reports via keyword with the keyword as listed', () => {
    expect(detectCompliance('Stop!!! 🛑')).toEqual({ intent: 'opt_out', via: 'keyword', keyword: 'STOP' });
    expect(detectCompliance('opt-out')).toEqual({ intent: 'opt_out', via: 'keyword', keyword: 'OPT OUT' });
    expect(detectCompliance('info')).toEqual({ intent: 'help', via: 'keyword', keyword: 'INFO' });
  });

  it('reports via natural without a keyword', () => {
    expect(detectCompliance('please stop texting me')).toEqual({ intent: 'opt_out', via: 'natural' });
  });

  it('counts YES as opt-in only for an opted-out contact, or leaves the decision to the caller', () => {
    expect(detectCompliance('yes')).toEqual({ intent: 'opt_in', via: 'keyword', keyword: 'YES' });
    expect(detectCompliance('Yes!', undefined, { optedOut: false })).toBeNull();
    expect(detectCompliance('Yes!', undefined, { optedOut: true })).toEqual({
      intent: 'opt_in',
      via: 'keyword',
      keyword: 'YES',
    });
    expect(detectCompliance('yes please book it', undefined, { optedOut: true })).toBeNull();
  });

  it('lets the host extend or replace keyword lists', () => {
    const spanish = {
      ...defaultComplianceKeywords,
      optOut: [...defaultComplianceKeywords.optOut, 'ALTO', 'BAJA'],
    };
    expect(detectCompliance('Alto.', spanish)).toEqual({
      intent: 'opt_out',
      via: 'keyword',
      keyword: 'ALTO',
    });
    expect(detectCompliance('alto')).toBeNull();
    const noYes = { ...defaultComplianceKeywords, optInWhenOptedOut: [] };
    expect(detectCompliance('yes', noYes, { optedOut: true })).toBeNull();
    // Without CANCEL in the host's list, a bare "cancel" is left to the flow.
    const noCancel = { ...defaultComplianceKeywords, optOut: ['STOP'] };
    expect(detectCompliance('cancel', noCancel)).toBeNull();
  });

  it('survives malformed arguments from untyped callers', () => {
    const loose = detectCompliance as (text: unknown, keywords?: unknown, options?: unknown) => unknown;
    expect(loose(undefined)).toBeNull();
    expect(loose(42)).toBeNull();
    expect(loose('stop', null)).toEqual({ intent: 'opt_out', via: 'natural' });
    expect(loose('help', { optOut: 'STOP', optIn: [1, null], help: ['HELP'] })).toMatchObject({
      intent: 'help',
    });
    expect(loose('stop', defaultComplianceKeywords, null)).toMatchObject({
      intent: 'opt_out',
      via: 'keyword',
    });
  });

  it('stays fast on 10,000 characters of adversarial text', () => {
    const inputs = [
      'stop '.repeat(2000),
      'now please '.repeat(900),
      `${'please '.repeat(1400)}x`,
      `dont want ${'any more '.repeat(1100)}x`,
      '😀'.repeat(5000),
      `${'a'.repeat(9990)} stop`,
    ];
    const started = performance.now();
    for (const text of inputs) detectCompliance(text.slice(0, 10_000));
    expect(performance.now() - started).toBeLessThan(250);
  });
});

describe('detectCompliance: properties', () => {
  it('never throws and returns a stable, well-formed result for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 700 }), fc.boolean(), (text, optedOut) => {
        const first = detectCompliance(text, undefined, { optedOut });
        expect(detectCompliance(text, undefined, { optedOut })).toEqual(first);
        if (first !== null) {
          expect(['opt_out', 'opt_in', 'help']).toContain(first.intent);
          expect(['keyword', 'natural']).toContain(first.via);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the word check in front of the plain-language scan never changes an answer', () => {
    // Whole opt-out phrases (one per form), their near misses, and ordinary text, joined by separators and
    // decorated (case, fullwidth letters, zero-width characters, apostrophes), short and past the 600-character
    // windows. Where no keyword answered, detectCompliance must say "natural" exactly when the full scan does.
    const pieces = [
      'stop',
      'stop texting me',
      'please stop sending me messages',
      'how do i stop getting these texts',
      'stop all the texts',
      "don't text me",
      'do not contact me after 9pm',
      'no more texts please',
      'take me off your list',
      'remove my number from the database',
      'unsubscribe me',
      'opt me out',
      'I no longer wish to receive messages',
      "I don't want to be contacted",
      'cancel my text alerts',
      'revoke my consent',
      'withdraw my consent',
      'cease and desist',
      'leave me alone',
      'remove me',
      'lose my number',
      'wrong number',
      'sorry you have the wrong person',
      "I didn't mean to unsubscribe",
      'book a haircut',
      'tomorrow at 3pm',
      'cancel my appointment',
      'can you stop by at 3',
      'the nonstop list',
      'hi',
      '1',
    ];
    const separator = fc.constantFrom(' ', ', ', '. ', '! ', ' - ', '\n', '… ', '; ', '(', ') ');
    const decorate = (text: string, how: number) =>
      how === 1
        ? text.toUpperCase()
        : how === 2
          ? text.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)) // fullwidth
          : how === 3
            ? text.replace(/o/g, 'o\u200b') // zero-width space inside words
            : how === 4
              ? text.replace(/'/g, '’')
              : text;
    const text = fc
      .tuple(
        fc.array(fc.tuple(fc.constantFrom(...pieces), separator, fc.integer({ min: 0, max: 4 })), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.constantFrom(0, 0, 0, 400, 700),
        fc.constantFrom(0, 0, 400, 700),
      )
      .map(
        ([parts, before, after]) =>
          'la '.repeat(before / 3) +
          parts.map(([piece, sep, how]) => decorate(piece, how) + sep).join('') +
          ' la'.repeat(after / 3),
      );
    let natural = 0;
    fc.assert(
      fc.property(text, (t) => {
        const found = detectCompliance(t);
        if (found?.via === 'keyword') return;
        if (found) natural++;
        expect(found?.via === 'natural', t).toBe(scanNaturalOptOut(t));
      }),
      { numRuns: 4_000 },
    );
    expect(natural).toBeGreaterThan(1_000); // the property saw opt-outs, not only ordinary text
  });

  it('ignores surrounding punctuation, emoji and whitespace around a keyword', () => {
    const decoration = fc.array(fc.constantFrom(' ', '!', '.', '?', '\n', '🛑', '🙏', '"', '*', '~'), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        decoration,
        fc.constantFrom('stop', 'STOP', 'Stop', 'sToP'),
        decoration,
        (pre, word, post) => {
          expect(detectCompliance(pre.join('') + word + post.join(''))).toMatchObject({ intent: 'opt_out' });
        },
      ),
    );
  });
});
