import { describe, expect, it } from 'vitest';
import { bookingFlow } from '../../machines/booking.js';
import { faqTriageFlow, type KnowledgeEntry } from '../../machines/faq-triage.js';
import { faqAnswerMessages } from '../../machines/faq-triage.messages.js';
import { createBot } from '../../src/core/bot.js';
import { isSmsflowError } from '../../src/core/errors.js';
import { measureSegments } from '../../src/core/segments.js';
import { conversation } from '../../src/testing/conversation.js';
import { salonConfig, salonHours, salonServices } from '../support/salon.js';

/** A salon knowledge base: the questions customers text most. */
const knowledgeBase: KnowledgeEntry[] = [
  {
    id: 'parking',
    questions: [
      'where can I park',
      'is there parking',
      'do you have parking',
      'parking near the salon?',
      'is parking free',
      'where do I leave my car',
    ],
    answer: 'Free parking is behind the salon on Oak St. Street parking on Main St is metered until 6 PM.',
  },
  {
    id: 'hours',
    questions: [
      'what are your hours',
      'when are you open',
      'are you open on sunday',
      'what time do you close',
      'opening hours?',
      'how late are you open today',
    ],
    answer: 'We are open Tue-Fri 9 AM-6 PM and Sat 9 AM-4 PM. Closed Sun and Mon.',
  },
  {
    id: 'payment',
    questions: [
      'what payment methods do you accept',
      'do you take credit cards',
      'can I pay with cash',
      'do you accept apple pay',
      'can I pay by card',
      'do you take venmo',
    ],
    answer: 'We accept cash, all major credit cards, Apple Pay and Google Pay. No checks, sorry.',
  },
  {
    id: 'cancellation',
    questions: [
      'what is your cancellation policy',
      'is there a fee if I cancel',
      'how late can I cancel',
      'cancellation fee?',
      'do you charge for no shows',
      'what if I miss my appointment',
    ],
    answer: 'Please cancel at least 24 hours ahead. Late cancellations and no-shows pay 50% of the service.',
    link: 'https://bellasalon.example.com/policy',
  },
  {
    id: 'walkins',
    questions: [
      'do you take walk ins',
      'can I just walk in',
      'do I need an appointment',
      'walk-ins welcome?',
      'can I come in without booking',
    ],
    answer: 'Walk-ins are welcome when a stylist is free, but booking ahead guarantees your spot.',
  },
  {
    id: 'giftcards',
    questions: [
      'do you sell gift cards',
      'can I buy a gift card',
      'gift certificate?',
      'how do gift cards work',
      'do gift cards expire',
      'gift voucher for my mom',
    ],
    answer: 'Gift cards are sold at the front desk and online, any amount from $25. They never expire.',
    link: 'https://bellasalon.example.com/gift',
  },
];

const faq = faqTriageFlow({ knowledgeBase });
const booking = bookingFlow({ services: salonServices, hours: { ...salonHours } as never });
const bot = createBot({ ...salonConfig(), flows: [booking, faq] });

const escalations = (c: ReturnType<typeof conversation>) => c.events.filter((e) => e.type === 'escalation');
const tracked = (c: ReturnType<typeof conversation>, name: string) =>
  c.events.filter((e) => e.type === 'track' && e.data.name === name);

describe('faqTriageFlow: answering', () => {
  it('routes a new thread to the FAQ by its question, answers, asks, and ends on YES', () => {
    const c = conversation(bot)
      .user('where can I park?')
      .expectReply(/Free parking is behind the salon/)
      .expectReply('Did that answer your question? Reply YES or NO')
      .expectState('feedback');
    expect(c.state?.thread.flow).toBe('faq');
    expect(c.lastReplies.map((r) => r.text)).toHaveLength(2);
    expect(c.lastReplies[0]!.text).not.toMatch(/More:/);
    c.user('yes')
      .expectReply(/Glad I could help/)
      .expectState('done')
      .expectHandoff('bot');
    expect(c.state?.thread.machine.status).toBe('done');
    expect(tracked(c, 'faq_feedback').map((e) => e.data.helpful)).toEqual([true]);
  });

  it('treats a thank-you as YES', () => {
    conversation(bot).user('what are your hours').user('Thanks!').expectReply(/Glad/).expectState('done');
  });

  it('appends the link after the answer', () => {
    conversation(bot)
      .user('do you sell gift cards?')
      .expectReply(
        'Gift cards are sold at the front desk and online, any amount from $25. They never expire. More: https://bellasalon.example.com/gift',
      );
  });

  it('answers a follow-up question in the same thread (read by the flow, mid-thread)', () => {
    const c = conversation(bot)
      .user('where can I park?')
      .expectReply(/Free parking/)
      .user('and what time do you close on saturday?')
      .expectReply(/We are open Tue-Fri/)
      .expectReply(/Did that answer/)
      .expectState('feedback');
    expect(tracked(c, 'faq_answered').map((e) => e.data.id)).toEqual(['parking', 'hours']);
    c.user('no').expectHandoff('waiting', 'unanswered');
    // The summary names the question that was answered last, not the first one.
    expect(escalations(c)[0]!.data.summary).toBe('and what time do you close on saturday?');
  });

  it('escalates on NO with reason unanswered and the question as summary', () => {
    const c = conversation(bot)
      .user('is there a fee if I cancel late?')
      .expectReply(/24 hours ahead.*More: https:\/\/bellasalon\.example\.com\/policy/)
      .user('No')
      .expectReply(/Sorry that did not help/)
      .expectEffect('handoff.requested')
      .expectHandoff('waiting', 'unanswered')
      .expectState('escalated');
    const effect = c.lastEffects.find((e) => e.type === 'handoff.requested')!;
    expect(effect.payload).toMatchObject({
      reason: 'unanswered',
      summary: 'is there a fee if I cancel late?',
    });
    expect(tracked(c, 'faq_feedback').map((e) => e.data)).toEqual([
      expect.objectContaining({ id: 'cancellation', helpful: false }),
    ]);
    // While a person has the thread the bot stays silent.
    c.user('hello?').expectNoReply();
  });

  it('asks for the question on a generic "I have a question", then answers it', () => {
    const c = conversation(bot).user('Hi, I have a question').expectReply('Sure, what is your question?');
    expect(c.state?.thread.flow).toBe('faq');
    c.expectState('listening')
      .user('do you take walk ins?')
      .expectReply(/Walk-ins are welcome/);
  });
});

describe('faqTriageFlow: unanswered questions', () => {
  it('records an unmatched question, asks to rephrase, and escalates the second with the question', () => {
    const c = conversation(bot)
      .user('I have a question')
      .user('can I bring my dog?')
      .expectReply(/Could you ask it another way/)
      .expectState('listening')
      .expectHandoff('bot');
    const first = tracked(c, 'unanswered');
    expect(first).toHaveLength(1);
    expect(first[0]!.data).toMatchObject({ flow: 'faq', question: 'can I bring my dog?' });
    c.user('are dogs allowed inside the salon?')
      .expectReply(/getting a person/)
      .expectHandoff('waiting', 'unanswered')
      .expectEffect('handoff.requested');
    expect(tracked(c, 'unanswered').map((e) => e.data.question)).toEqual([
      'can I bring my dog?',
      'are dogs allowed inside the salon?',
    ]);
    expect(escalations(c)[0]!.data).toMatchObject({
      reason: 'unanswered',
      summary: 'are dogs allowed inside the salon?',
    });
  });

  it('keeps only the first 160 characters of an unanswered question', () => {
    const long = `do you ${'really '.repeat(40)}allow dogs?`;
    const c = conversation(bot).user('I have a question').user(long);
    const q = String(tracked(c, 'unanswered')[0]!.data.question);
    expect(q).toHaveLength(160);
    expect(long.startsWith(q)).toBe(true);
  });

  it('a match in between resets the count of misses', () => {
    conversation(bot)
      .user('I have a question')
      .user('can I bring my dog?')
      .expectReply(/another way/)
      .user('where can I park?')
      .expectReply(/Free parking/)
      .user('do you sell wigs or hair extensions?')
      .expectReply(/another way/)
      .expectHandoff('bot');
  });

  it('honours maxUnmatched', () => {
    const strict = createBot({
      ...salonConfig(),
      flows: [booking, faqTriageFlow({ knowledgeBase, maxUnmatched: 1 })],
    });
    conversation(strict)
      .user('I have a question')
      .user('can I bring my dog?')
      .expectHandoff('waiting', 'unanswered');
  });

  it('asks again when the reply to "did that help" is unclear, then hands over', () => {
    conversation(bot)
      .user('where can I park?')
      .user('maybe')
      .expectReply(/Please reply YES if that answered/)
      .expectState('feedback')
      .expectHandoff('bot')
      .user('hmm')
      .expectHandoff('waiting', 'unanswered');
  });

  it('hands the thread back after an agent releases it and answers again', () => {
    conversation(bot)
      .user('where can I park?')
      .user('no')
      .expectHandoff('waiting')
      .event('agent.release')
      .expectReply(/anything else I can help with/)
      .expectState('listening')
      .user('do you take credit cards?')
      .expectReply(/We accept cash/);
  });
});

describe('faqTriageFlow: escalations from step', () => {
  it('a billing dispute goes to a person at once', () => {
    conversation(bot)
      .user('where can I park?')
      .user('you charged me twice!')
      .expectHandoff('waiting', 'billing_dispute')
      .expectReply(/getting a person/);
  });

  it('an angry customer goes to a person at once', () => {
    conversation(bot)
      .user('I have a question')
      .user("this is the worst service ever, I'm furious")
      .expectHandoff('waiting', 'angry_sentiment');
  });

  it('a request for a person escalates as requested', () => {
    conversation(bot)
      .user('where can I park?')
      .user('can I talk to a person')
      .expectHandoff('waiting', 'requested');
  });
});

describe('faqTriageFlow: digressions and routing metadata', () => {
  it('maps each entry to an intent, an answer key and classifier examples', () => {
    expect(faq.id).toBe('faq');
    expect(faq.intents).toEqual([
      'faq',
      'faq.parking',
      'faq.hours',
      'faq.payment',
      'faq.cancellation',
      'faq.walkins',
      'faq.giftcards',
    ]);
    expect(faq.answers).toMatchObject({
      'faq.parking': 'answer.parking',
      'faq.giftcards': 'answer.giftcards',
    });
    expect(faq.intentExamples?.['faq.hours']).toEqual(knowledgeBase[1]!.questions);
    for (const key of Object.values(faq.answers ?? {})) expect(faq.messages[key]).toBeTypeOf('string');
  });

  it('answers an FAQ in the middle of a booking and asks the booking question again', () => {
    const c = conversation(bot)
      .user('I want to book')
      .expectReply(/Which service/)
      .user('where can I park?')
      .expectReply(/Free parking is behind the salon/)
      .expectReply(/Which service/);
    expect(c.state?.thread.flow).toBe('booking');
    expect(c.events.some((e) => e.type === 'digression' && e.data.answeredBy === 'faq')).toBe(true);
  });
});

describe('faqTriageFlow: catalog and validation', () => {
  it('keeps every generated and fixed reply GSM-7 and within its budget', () => {
    for (const [key, text] of Object.entries(faq.messages)) {
      const m = measureSegments(text);
      expect(m.encoding, key).toBe('GSM-7');
      expect(m.segments, key).toBeLessThanOrEqual(faq.segmentBudgets?.[key] ?? faq.segmentBudget ?? 1);
    }
    expect(faq.segmentBudgets?.['answer.cancellation']).toBe(2);
    expect(faq.segmentBudgets?.askQuestion).toBeUndefined();
  });

  it('a long answer with a link is caught by the budget', () => {
    const text = faqAnswerMessages([{ id: 'x', answer: 'a'.repeat(300), link: 'https://e.example/x' }])[
      'answer.x'
    ]!;
    expect(measureSegments(text).segments).toBeGreaterThan(2);
  });

  it('lists every problem of a bad knowledge base at once', () => {
    let error: unknown;
    try {
      faqTriageFlow({
        knowledgeBase: [
          { id: 'parking lot', questions: [], answer: '' },
          { id: 'a', questions: ['q'], answer: 'Hi {name}', link: 'ftp://x' },
          { id: 'a', questions: ['q'], answer: 'ok' },
        ],
        maxUnmatched: 0,
      });
    } catch (e) {
      error = e;
    }
    expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_CONFIG')).toBe(true);
    const paths = (error as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(paths).toEqual([
      'knowledgeBase[0].id',
      'knowledgeBase[0].questions',
      'knowledgeBase[0].answer',
      'knowledgeBase[1].answer',
      'knowledgeBase[1].link',
      'knowledgeBase[2].id',
      'maxUnmatched',
    ]);
    expect(String((error as Error).message)).toContain('"parking lot"');
  });

  it('rejects an empty knowledge base', () => {
    expect(() => faqTriageFlow({ knowledgeBase: [] })).toThrow(/non-empty array/);
  });
});
