/**
 * The conversation runner of `npm run bench:understanding`, tested on its own (not the bot's scores): a tiny flow
 * whose outcomes are known, each metric shown passing and failing, and the corpus schema. The outcome judge on
 * hand-made observations: understanding-judge.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { runConversations } from '../../bench/understanding/conversations.js';
import {
  type CorpusInput,
  categories,
  loadCorpus,
  localToIso,
  parseCorpus,
} from '../../bench/understanding/corpus.js';
import { metricsOf } from '../../bench/understanding/judge.js';
import { salonKnowledgeBase, salonServices } from '../../examples/server/salon.js';
import {
  type BotConfig,
  type BusinessHours,
  defineFlow,
  type FlowEvent,
  type FlowInput,
  flowActions,
  type Json,
} from '../../src/index.js';

const TZ = 'America/Los_Angeles';
const START = '2026-12-08T17:00:00Z';
const BOOK = /^book (\w+) (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})$/;

/**
 * A flow whose behaviour is obvious: "book <service> <date> <time>" books at once, "cancel it" cancels the
 * profile's booking, "thanks" gets a closing, anything else is rejected. Step itself handles PERSON and STOP.
 */
function miniFlow() {
  type Ctx = { booking: { id: string } | null; [k: string]: Json };
  const text = (e: FlowEvent) => (e.type === 'user.text' ? e.text : '');
  const machine = setup({
    types: {} as { context: Ctx; events: FlowEvent; input: FlowInput },
    actions: { ...flowActions },
    guards: {
      book: ({ event }) => BOOK.test(text(event)),
      cancel: ({ event, context }) => text(event) === 'cancel it' && context.booking !== null,
      thanks: ({ event }) => text(event).startsWith('thanks'),
    },
  }).createMachine({
    id: 'mini',
    initial: 'idle',
    context: ({ input }) => ({ booking: (input.profile.booking as Ctx['booking']) ?? null }),
    states: {
      idle: {
        on: {
          'user.text': [
            {
              guard: 'book',
              target: 'waiting',
              actions: {
                type: 'effect',
                params: ({ event }) => {
                  const [, service, date, time] = BOOK.exec(text(event))!;
                  return {
                    type: 'calendar.book',
                    payload: {
                      service: service!,
                      start: localToIso(`${date}T${time}`, TZ),
                      durationMinutes: 30,
                    },
                  };
                },
              },
            },
            {
              guard: 'cancel',
              target: 'waiting',
              actions: {
                type: 'effect',
                params: ({ context }) => ({
                  type: 'calendar.cancel',
                  payload: { bookingId: context.booking!.id },
                }),
              },
            },
            { guard: 'thanks', actions: { type: 'reply', params: { key: 'welcome' } } },
            {
              actions: [
                { type: 'invalid', params: { question: 'anything' } },
                { type: 'reply', params: { key: 'huh', ask: true } },
              ],
            },
          ],
        },
      },
      waiting: {
        on: {
          'effect.result': {
            target: 'done',
            actions: [assign({ booking: null }), { type: 'reply', params: { key: 'done' } }],
          },
        },
      },
      done: { type: 'final' },
    },
  });
  return defineFlow({
    id: 'mini',
    machine,
    messages: { done: 'Done.', welcome: 'You are welcome!', huh: 'Sorry, what was that?' },
  });
}

const config: BotConfig = {
  program: { name: 'Mini Salon', helpContact: 'call 415-555-0100' },
  timeZone: TZ,
  flows: [miniFlow()],
};
const hours = Object.fromEntries(
  [0, 1, 2, 3, 4, 5, 6].map((d) => [d, ['08:00', '20:00']]),
) as unknown as BusinessHours;
const services = [{ id: 'haircut', durationMinutes: 30 }];
const run = (conversations: CorpusInput['conversations']) =>
  runConversations({ start: START, conversations }, { config, hours, services });

const booked = (time: string) => ({
  outcome: 'booked' as const,
  booking: { service: 'haircut', date: '2026-12-09', time },
  handoff: false as const,
});

describe('the conversation runner, on a flow whose outcomes are known', () => {
  it('counts a booking conversation completed only when the calendar holds exactly the expected booking', async () => {
    const { results, metrics } = await run([
      {
        id: 'right',
        category: 'full_opener',
        turns: ['book haircut 2026-12-09 15:00'],
        expect: booked('15:00'),
      },
      {
        id: 'wrong',
        category: 'full_opener',
        turns: ['book haircut 2026-12-09 15:00'],
        expect: booked('16:00'),
      },
      {
        id: 'window',
        category: 'vague_time',
        turns: ['book haircut 2026-12-09 10:30'],
        expect: booked('09:00-11:30'),
      },
    ]);
    expect(results.map((r) => r.bookingCompleted)).toEqual([true, false, true]);
    expect(results[0]!.turns[0]!.replies).toEqual(['Done.']);
    expect(results[1]!.failures[0]).toContain('expected the calendar to hold haircut 2026-12-09 16:00');
    expect(results[1]!.seen).toBe('booked haircut 2026-12-09 15:00');
    expect(metrics.bookingCompleted).toMatchObject({ count: 2, total: 3 });
  });

  it('counts a wrongful handoff only where no person was expected', async () => {
    const { results, metrics } = await run([
      {
        id: 'asked',
        category: 'handoff_request',
        turns: ['PERSON'],
        expect: { outcome: 'handoff', handoff: 'requested' },
      },
      { id: 'not-expected', category: 'faq', turns: ['PERSON'], expect: { outcome: 'none', handoff: false } },
      { id: 'none', category: 'faq', turns: ['thanks'], expect: { outcome: 'none', handoff: false } },
    ]);
    expect(results.map((r) => r.wrongfulHandoff)).toEqual([false, true, false]);
    expect(results.map((r) => r.passed)).toEqual([true, false, true]);
    expect(results[0]!.handoff).toEqual({ status: 'waiting', reason: 'requested' });
    expect(metrics.wrongfulHandoffs).toMatchObject({ count: 1, total: 3 });
  });

  it('reads first-message slots from thread.slots, and a state without them retains nothing', async () => {
    const { results, metrics } = await run([
      {
        id: 'opener',
        category: 'full_opener',
        turns: ['book haircut 2026-12-09 15:00'],
        openerSlots: { service: 'haircut', date: '2026-12-09', time: '15:00' },
        expect: booked('15:00'),
      },
      { id: 'no-opener', category: 'faq', turns: ['thanks'], expect: { outcome: 'none', handoff: false } },
    ]);
    // This flow keeps no thread.slots, so the opener's slots are not retained.
    expect(results.map((r) => r.retained)).toEqual([false, null]);
    expect(metrics.firstMessageRetention).toMatchObject({ count: 0, total: 1 });
  });

  it('counts customer messages until the booking exists, and a conversation that never books as Infinity', async () => {
    const opener = { service: 'haircut', date: '2026-12-09', time: '15:00' };
    const { results, metrics } = await run([
      {
        id: 'first',
        category: 'full_opener',
        turns: ['book haircut 2026-12-09 15:00'],
        openerSlots: opener,
        expect: booked('15:00'),
      },
      {
        id: 'second',
        category: 'full_opener',
        turns: ['hm', 'book haircut 2026-12-09 15:00'],
        openerSlots: opener,
        expect: booked('15:00'),
      },
      {
        id: 'never',
        category: 'full_opener',
        turns: ['hm', 'hm'],
        openerSlots: opener,
        expect: booked('15:00'),
      },
    ]);
    expect(results.map((r) => r.messagesToBooking)).toEqual([1, 2, Number.POSITIVE_INFINITY]);
    expect(metrics.medianMessagesToBooking).toEqual({ median: 2, conversations: 3, booked: 2 });
    const twoNever = metricsOf([...results, { ...results[2]!, id: 'never-2' }]);
    expect(twoNever.medianMessagesToBooking.median).toBe(Number.POSITIVE_INFINITY);
  });

  it('reports pass rates per category and overall', async () => {
    const { metrics } = await run([
      {
        id: 'ok',
        category: 'full_opener',
        turns: ['book haircut 2026-12-09 15:00'],
        expect: booked('15:00'),
      },
      { id: 'bad', category: 'full_opener', turns: ['hm'], expect: booked('15:00') },
      { id: 'out', category: 'opt_out', turns: ['STOP'], expect: { outcome: 'opted_out', handoff: false } },
    ]);
    expect(metrics.byCategory).toEqual([
      { category: 'full_opener', passed: { count: 1, total: 2, rate: 0.5 } },
      { category: 'opt_out', passed: { count: 1, total: 1, rate: 1 } },
    ]);
    expect(metrics.passed).toMatchObject({ count: 2, total: 3 });
  });

  it('seeds an existing booking on the calendar and in the profile, and judges its cancellation', async () => {
    const setupBooking = { booking: { service: 'haircut', start: '2026-12-10T15:00' } };
    const { results } = await run([
      {
        id: 'cancel',
        category: 'cancel',
        turns: ['cancel it'],
        setup: setupBooking,
        expect: { outcome: 'cancelled', handoff: false },
      },
      {
        id: 'keep',
        category: 'cancel',
        turns: ['cancel it'],
        setup: setupBooking,
        expect: { outcome: 'kept', handoff: false },
      },
      {
        id: 'close',
        category: 'polite_closing',
        turns: ['thanks!'],
        setup: setupBooking,
        expect: { outcome: 'closed_politely', handoff: false },
      },
    ]);
    expect(results[0]).toMatchObject({ passed: true, seen: 'cancelled' });
    expect(results[1]!.failures).toEqual(['the existing booking haircut 2026-12-10 15:00 was cancelled']);
    expect(results[2]!.passed).toBe(true);
  });

  it('fails a message the flow rejected, and a closing that asks a question', async () => {
    const { results } = await run([
      {
        id: 'huh',
        category: 'polite_closing',
        turns: ['what?'],
        expect: { outcome: 'closed_politely', handoff: false },
      },
    ]);
    expect(results[0]!.failures).toEqual([
      'message 1 ("what?") was not understood',
      'the last message did not get a short closing: a "invalid" event',
    ]);
  });
});

describe('the corpus schema', () => {
  const valid = {
    id: 'a',
    category: 'faq',
    turns: ['hi'],
    expect: { outcome: 'none', handoff: false },
  } as const;
  const issuesOf = (conversations: unknown[]) => {
    try {
      parseCorpus({ start: START, conversations });
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('accepts a well-formed corpus and applies the clock default', () => {
    expect(parseCorpus({ start: START, conversations: [valid] }).minutesBetween).toBe(1);
  });

  it('rejects a malformed conversation, naming every problem with its path', () => {
    const message = issuesOf([
      { ...valid, id: 'Bad Id', category: 'smalltalk', turns: [] },
      { ...valid, id: 'b', expect: { outcome: 'booked', handoff: false } },
      { ...valid, id: 'c', expect: { outcome: 'handoff', handoff: false } },
      { ...valid, id: 'd', setup: { booking: { service: 'haircut', start: '2026-02-30T10:00' } } },
      { ...valid, id: 'e', expect: { outcome: 'cancelled', handoff: false } },
      { ...valid, id: 'f', expect: { outcome: 'faq_answered', handoff: false } },
    ]);
    expect(message).toContain('conversations.0.id');
    expect(message).toContain('conversations.0.category');
    expect(message).toContain('conversations.0.turns');
    expect(message).toContain('conversations.1.expect.booking: outcome "booked" needs the expected booking');
    expect(message).toContain('conversations.2.expect.handoff');
    expect(message).toContain('conversations.3.setup.booking.start: a real calendar day');
    expect(message).toContain('conversations.4.setup.booking');
    expect(message).toContain('conversations.5.expect.faq');
  });

  it('holds the salon corpus: every category, services and FAQ answers the demo salon has', () => {
    const corpus = loadCorpus();
    expect(corpus.conversations.length).toBeGreaterThanOrEqual(170);
    expect(new Set(corpus.conversations.map((c) => c.category))).toEqual(new Set(categories));
    const serviceIds = new Set(salonServices.map((s) => s.id));
    const faqIds = new Set(salonKnowledgeBase.map((e) => e.id));
    for (const c of corpus.conversations) {
      for (const id of [c.expect.booking?.service, c.setup?.booking?.service, c.openerSlots?.service])
        if (id !== undefined) expect(serviceIds, c.id).toContain(id);
      if (c.expect.faq !== undefined) expect(faqIds, c.id).toContain(c.expect.faq);
    }
  });

  it('rejects two conversations with one id', () => {
    expect(issuesOf([valid, { ...valid, id: 'b' }, valid])).toContain('conversations.2.id: duplicate id "a"');
  });

  it('rejects a conversation naming a service the bot does not offer', async () => {
    await expect(
      run([
        {
          id: 'x',
          category: 'full_opener',
          turns: ['hi'],
          expect: {
            outcome: 'booked',
            booking: { service: 'nails', date: '2026-12-09', time: '10:00' },
            handoff: false,
          },
        },
      ]),
    ).rejects.toThrow('names service "nails"');
  });
});
