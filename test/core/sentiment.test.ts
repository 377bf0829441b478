import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectAnger, detectBillingDispute } from '../../src/core/sentiment.js';

const angerRows: [string, boolean][] = [
  // Angry: escalate as angry_sentiment.
  ['This is ridiculous', true],
  ['worst service ever', true],
  ["I'm furious", true],
  ['I am so angry right now', true],
  ['you people are idiots', true],
  ['what the fuck is going on', true],
  ['wtf', true],
  ['this is bullshit', true],
  ['Absolutely unacceptable.', true],
  ['I am fed up with this', true],
  ["I'm sick and tired of waiting", true],
  ['are you kidding me?', true],
  ['what a waste of my time', true],
  ["I'm calling my lawyer", true],
  ['you ripped me off', true],
  ['incompetent staff', true],
  ['terrible customer service', true],
  ['I hate dealing with you', true],
  ['pissed off', true],
  ['THIS IS A JOKE!!!', true],
  ['How many times do I have to tell you?!', true],
  ['not happy with this at all', true],
  ['so frustrating!!', true],
  ['Damn it, this is a joke', true],
  ['f**king useless', true],
  ['this is outrageous', true],
  ['I want to report you to the BBB', true],
  ['I’m livid', true],
  // Not angry.
  ["I'm not angry", false],
  ['no problem', false],
  ['no worries at all', false],
  ['that is not ridiculous, it makes sense', false],
  ['Thanks so much!!!', false],
  ['THANK YOU SO MUCH!!!', false],
  ['CAN I BOOK FOR TUESDAY AT 3', false],
  ['this place is fucking amazing', false],
  ['damn good haircut', false],
  ['oh shit I am late, can I come at 4?', false],
  ['sorry, stupid question: do you open Sunday?', false],
  ['I was a bit frustrated earlier but all good now', false],
  ['Is this a scam?', false],
  ['worst case I can come Friday', false],
  ['the worst part is the parking, lol', false],
  ['nothing terrible, just need to reschedule', false],
  ['I hate to bother you, can I move my appointment', false],
  ['Mad about the new color! love it', false],
  ['', false],
  ['ok', false],
  ['Hello? Anyone there?', false],
  ['assess the class schedule', false],
];

const billingRows: [string, boolean][] = [
  // Disputes: escalate as billing_dispute.
  ['you charged me twice', true],
  ['I was billed twice for one visit', true],
  ['double charged!!', true],
  ['I got double-charged', true],
  ['I want a refund', true],
  ['where is my refund?', true],
  ['I need to dispute this charge', true],
  ['I was overcharged', true],
  ['you over charged me', true],
  ['there is a wrong charge on my card', true],
  ['unauthorized charge on my account', true],
  ["I didn't authorize this charge", true],
  ['why was I charged $50?', true],
  ['why did you charge me', true],
  ['why am I being charged for a cancelled appointment', true],
  ['I was charged for a service I never got', true],
  ['I am filing a chargeback', true],
  ['duplicate payment on my statement', true],
  ['I want my money back', true],
  ['you charged my card again', true],
  ['there is a fraudulent transaction from you', true],
  ['charged me the wrong amount', true],
  ['can I get a refund', true],
  // Not disputes: price and policy questions, phones charging.
  ['how much do you charge?', false],
  ['do you charge a cancellation fee?', false],
  ['is there a charge for parking', false],
  ['is there an extra charge for parking?', false],
  ['can I pay with card', false],
  ["what's your refund policy", false],
  ['is the deposit refundable?', false],
  ['can I get a refund if I cancel?', false],
  ['do you offer refunds for cancellations?', false],
  ['my phone is charging again, will text later', false],
  ["I'll charge my phone and call you", false],
  ['can you bill my insurance', false],
  ['send me the bill please', false],
  ['payment confirmed, thanks', false],
  ['charge it to my card on file', false],
  ['is there a money back guarantee?', false],
  ['how do refunds work', false],
  ['', false],
];

describe('detectAnger', () => {
  it('has at least 30 rows with positives and negatives', () => {
    expect(angerRows.length).toBeGreaterThanOrEqual(30);
    expect(angerRows.filter(([, a]) => !a).length).toBeGreaterThanOrEqual(15);
  });

  it.each(angerRows)('%j → angry %s', (text, angry) => {
    expect(detectAnger(text).angry).toBe(angry);
  });

  it('reports labels and a score, never the message text', () => {
    const result = detectAnger('This is RIDICULOUS!!! worst service ever');
    expect(result.angry).toBe(true);
    expect(result.matched).toEqual(expect.arrayContaining(['ridiculous', 'worst', 'exclamations']));
    expect(result.score).toBeGreaterThanOrEqual(5);
    expect(detectAnger('No problem, I am not angry at all')).toEqual({ angry: false, score: 0, matched: [] });
  });

  it('adds shouting and exclamations only to a lexical match', () => {
    expect(detectAnger('ugh').score).toBe(1);
    expect(detectAnger('UGH THIS AGAIN!!').score).toBe(3);
    expect(detectAnger('HELLO THERE FRIENDS!!').score).toBe(0);
  });

  it('never throws and is stable on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => {
        const r = detectAnger(text);
        expect(detectAnger(text)).toEqual(r);
        expect(r.angry).toBe(r.score >= 2);
      }),
    );
  });

  it('reads only the first 2,000 characters of a 10,000-character text', () => {
    const started = performance.now();
    expect(detectAnger(`${'fine '.repeat(500)}${'wtf '.repeat(2000)}`.slice(0, 10_000)).angry).toBe(false);
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('detectBillingDispute', () => {
  it('has at least 30 rows with positives and negatives', () => {
    expect(billingRows.length).toBeGreaterThanOrEqual(30);
    expect(billingRows.filter(([, d]) => !d).length).toBeGreaterThanOrEqual(15);
  });

  it.each(billingRows)('%j → dispute %s', (text, dispute) => {
    expect(detectBillingDispute(text)).toBe(dispute);
  });

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => {
        expect(typeof detectBillingDispute(text)).toBe('boolean');
      }),
    );
  });
});
