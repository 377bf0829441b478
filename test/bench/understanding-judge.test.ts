/**
 * The outcome judge of the conversation runner (`bench/understanding/judge.ts`), on hand-made observations: what
 * the calendar, the transcript and the state show, and the verdict it gives.
 */
import { describe, expect, it } from 'vitest';
import { parseCorpus } from '../../bench/understanding/corpus.js';
import { judgeConversation, type Observation, type ObservedTurn } from '../../bench/understanding/judge.js';
import type { MemoryBooking } from '../../src/exports/actions.js';
import type { Json, TranscriptEvent } from '../../src/index.js';

const TZ = 'America/Los_Angeles';
const START = '2026-12-08T17:00:00Z';
const booked = (time: string) => ({
  outcome: 'booked' as const,
  booking: { service: 'haircut', date: '2026-12-09', time },
  handoff: false as const,
});

describe('the outcome judge', () => {
  const PHONE = '+14155550100';
  const booking = (id: string, start: string, status: MemoryBooking['status'] = 'booked'): MemoryBooking => ({
    bookingId: id,
    service: 'haircut',
    start,
    durationMinutes: 45,
    contact: PHONE,
    threadId: 't',
    status,
  });
  const event = (type: string, data: { [k: string]: Json } = {}): TranscriptEvent => ({
    id: `m:${type}`,
    threadId: 't',
    at: START,
    type,
    data,
  });
  const turn = (over: Partial<ObservedTurn> = {}): ObservedTurn => ({
    text: 'hi',
    replies: ['Hello!'],
    events: [],
    handoffBefore: 'bot',
    consentBefore: 'unknown',
    pendingBefore: undefined,
    pendingAfter: undefined,
    activeBookingsBefore: 0,
    createdSoFar: 0,
    ...over,
  });
  const observe = (over: Partial<Observation> = {}): Observation => ({
    phone: PHONE,
    timeZone: TZ,
    bookingsBefore: [],
    bookingsAfter: [],
    setupBookingId: null,
    leads: [],
    state: null,
    turns: [turn()],
    slotsAfterFirst: undefined,
    ...over,
  });
  const conversation = (expectation: object, extra: object = {}) =>
    parseCorpus({
      start: START,
      conversations: [{ id: 'c', category: 'full_opener', turns: ['hi'], ...extra, expect: expectation }],
    }).conversations[0]!;
  const wed3pm = '2026-12-09T15:00:00-08:00';

  it('reads the booking from the calendar in the business time zone', () => {
    const c = conversation(booked('15:00'));
    expect(
      judgeConversation(c, observe({ bookingsAfter: [booking('b1', '2026-12-09T23:00:00.000Z')] })).passed,
    ).toBe(true);
    const twice = observe({ bookingsAfter: [booking('b1', wed3pm), booking('b2', wed3pm, 'cancelled')] });
    expect(judgeConversation(c, twice).failures).toEqual(['2 bookings were made; at most one may be']);
    expect(judgeConversation(c, observe()).failures[0]).toContain('it holds no active booking');
  });

  it('tells a moved booking from a kept one, and a new booking from the setup one', () => {
    const setupExtra = { setup: { booking: { service: 'haircut', start: '2026-12-10T15:00' } } };
    const before = [booking('old', '2026-12-10T15:00:00-08:00')];
    const moved = observe({
      bookingsBefore: before,
      bookingsAfter: [booking('old', wed3pm)],
      setupBookingId: 'old',
    });
    const wanted = { outcome: 'rescheduled', booking: booked('15:00').booking, handoff: false };
    expect(judgeConversation(conversation(wanted, setupExtra), moved).passed).toBe(true);
    expect(
      judgeConversation(conversation({ outcome: 'kept', handoff: false }, setupExtra), moved).failures,
    ).toEqual(['the existing booking haircut 2026-12-10 15:00 was moved to haircut 2026-12-09 15:00']);
    const unmoved = observe({ bookingsBefore: before, bookingsAfter: before, setupBookingId: 'old' });
    expect(judgeConversation(conversation(wanted, setupExtra), unmoved).failures).toContain(
      'the existing booking haircut 2026-12-10 15:00 did not move',
    );
  });

  it('reads the handoff from escalation events: wrongful, expected, too early, or the bot giving up', () => {
    const escalated = (reason: string) => turn({ events: [event('escalation', { reason })] });
    const none = conversation({ outcome: 'none', handoff: false });
    expect(judgeConversation(none, observe({ turns: [escalated('low_confidence')] })).wrongfulHandoff).toBe(
      true,
    );
    const gaveUp = conversation({ outcome: 'handoff', handoff: 'low_confidence' });
    expect(
      judgeConversation(gaveUp, observe({ turns: [turn(), escalated('retries_exhausted')] })).passed,
    ).toBe(true);
    expect(
      judgeConversation(gaveUp, observe({ turns: [escalated('low_confidence'), turn()] })).failures,
    ).toEqual(['handed to a person at message 1 of 2, too early']);
    const billing = conversation({ outcome: 'handoff', handoff: 'billing_dispute' });
    expect(judgeConversation(billing, observe({ turns: [escalated('angry_sentiment')] })).failures).toEqual([
      'expected a handoff (billing_dispute); saw angry_sentiment',
    ]);
  });

  it('checks consent, FAQ answers, silence and "no booking" said to a contact who has one', () => {
    const none = conversation({ outcome: 'none', handoff: false, faq: 'parking' });
    const optedOut = { consent: { status: 'opted_out' } } as Observation['state'];
    const verdict = judgeConversation(
      none,
      observe({
        state: optedOut,
        turns: [
          turn({ replies: [], activeBookingsBefore: 1, events: [event('outbound', { key: 'noBooking' })] }),
        ],
      }),
    );
    expect(verdict.failures).toEqual([
      'message 1 was told there is no booking, though the contact has one',
      'opted out, though no opt-out was sent',
      'expected the "parking" answer (answer.parking); it was not sent',
      'message 1 ("hi") got no reply',
    ]);
    const answered = observe({ turns: [turn({ events: [event('outbound', { key: 'answer.parking' })] })] });
    expect(judgeConversation(none, answered).passed).toBe(true);
  });

  it('counts slots as retained only when thread.slots holds every opener slot', () => {
    const c = conversation(booked('15:00'), {
      openerSlots: { service: 'haircut', date: '2026-12-09', time: '15:00' },
    });
    const withSlots = (slotsAfterFirst: unknown) =>
      judgeConversation(c, observe({ slotsAfterFirst })).retained;
    expect(withSlots({ service: 'haircut', date: '2026-12-09', time: '15:00:00' })).toBe(true);
    expect(withSlots({ service: 'haircut', date: '2026-12-09' })).toBe(false);
    expect(withSlots(undefined)).toBe(false);
  });
});
