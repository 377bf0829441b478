/**
 * The outcome judge and the metrics of the conversation runner. Pure over what the runner observed: the memory
 * calendar's bookings before and after, the CRM's leads, the final conversation state (handoff, consent), the
 * transcript events (escalation, outbound keys) and the replies of each turn. It never reads reply wording, so
 * rewording a message cannot change a verdict.
 */
import type { MemoryBooking, MemoryLead } from '../../src/exports/actions.js';
import type { ConversationState, TranscriptEvent } from '../../src/index.js';
import { medianOf } from '../stats.js';
import { type Category, categories, type ScriptedConversation, timeMatches, wallClockOf } from './corpus.js';

/** One customer message and what the bot did with it. */
export interface ObservedTurn {
  text: string;
  /** Texts the fake channel sent in answer (effect results included). */
  replies: string[];
  /** Transcript events this message caused (its own and its effects'). */
  events: TranscriptEvent[];
  /** Who had the thread and the consent before the message. */
  handoffBefore: string;
  consentBefore: string;
  /** The question the flow waited on before and after the message (`thread.pending`). */
  pendingBefore: unknown;
  pendingAfter: unknown;
  /** Bookings of the contact active before the message. */
  activeBookingsBefore: number;
  /** Bookings created by the conversation so far (any status). */
  createdSoFar: number;
}

/** Everything the judge reads about one conversation. */
export interface Observation {
  phone: string;
  timeZone: string;
  /** Calendar bookings after setup, before the first message. */
  bookingsBefore: MemoryBooking[];
  bookingsAfter: MemoryBooking[];
  /** The setup booking's id, when the conversation has one. */
  setupBookingId: string | null;
  leads: MemoryLead[];
  state: ConversationState | null;
  turns: ObservedTurn[];
  /** `thread.slots` after the first message (undefined while the state has none). */
  slotsAfterFirst: unknown;
}

/** The verdict on one conversation. */
export interface ConversationVerdict {
  passed: boolean;
  /** Why it failed, one line each; empty when it passed. */
  failures: string[];
  /** What was seen, in words (`booked haircut 2026-12-09 15:00`, `handoff requested`, …). */
  seen: string;
  /** For conversations that expect a booking: the calendar shows exactly that booking. */
  bookingCompleted: boolean | null;
  wrongfulHandoff: boolean;
  /** For conversations with openerSlots: `thread.slots` held them after the first message. */
  retained: boolean | null;
  /** Customer messages until a booking existed, for all-details openers; Infinity when none came. */
  messagesToBooking: number | null;
}

const GAVE_UP = new Set(['retries_exhausted', 'low_confidence']);

/** Options of {@link judgeConversation}. */
export interface JudgeOptions {
  /**
   * Catalog keys of replies that say the contact has no upcoming booking: sent while one exists, they fail the
   * conversation (issue 25: reschedule and cancel look the booking up before they answer). @default ['noBooking']
   */
  noBookingKeys?: readonly string[];
}

/**
 * Judges one conversation from what was observed. See the runner's header for each outcome's rule.
 *
 * @param conversation - The scripted conversation with its expectation.
 * @param seen - What the runner observed.
 * @param options - Catalog keys the judge reads.
 * @returns The verdict with every failed check.
 * @example
 * const verdict = judgeConversation(conversation, observation);
 * if (!verdict.passed) console.log(verdict.failures.join('\n'));
 */
export function judgeConversation(
  conversation: ScriptedConversation,
  seen: Observation,
  options: JudgeOptions = {},
): ConversationVerdict {
  const { expect } = conversation;
  const failures: string[] = [];
  const fail = (why: string) => failures.push(why);
  const label = (b: MemoryBooking) => {
    const at = wallClockOf(b.start, seen.timeZone);
    return `${b.service} ${at.date} ${at.time}`;
  };
  const beforeIds = new Set(seen.bookingsBefore.map((b) => b.bookingId));
  const created = seen.bookingsAfter.filter((b) => !beforeIds.has(b.bookingId));
  const active = seen.bookingsAfter.filter((b) => b.status === 'booked' && b.contact === seen.phone);
  const setupBefore = seen.bookingsBefore.find((b) => b.bookingId === seen.setupBookingId);
  const setupAfter = seen.bookingsAfter.find((b) => b.bookingId === seen.setupBookingId);
  const setupUnchanged =
    !setupBefore || (setupAfter?.status === 'booked' && setupAfter.start === setupBefore.start);
  const events = seen.turns.flatMap((t) => t.events);
  const escalations = events.filter((e) => e.type === 'escalation').map((e) => String(e.data.reason));
  const outboundKeys = new Set(events.filter((e) => e.type === 'outbound').map((e) => String(e.data.key)));
  const optedOut = seen.state?.consent.status === 'opted_out';

  // The calendar.
  let bookingCompleted: boolean | null = null;
  if (expect.booking) {
    const wanted = expect.booking;
    const matches = (b: MemoryBooking) => {
      const at = wallClockOf(b.start, seen.timeZone);
      return b.service === wanted.service && at.date === wanted.date && timeMatches(at.time, wanted.time);
    };
    const wantedText = `${wanted.service} ${wanted.date} ${wanted.time}`;
    const problems: string[] = [];
    if (active.length !== 1 || !matches(active[0]!)) {
      const has = active.length === 0 ? 'no active booking' : active.map(label).join(', ');
      problems.push(`expected the calendar to hold ${wantedText}; it holds ${has}`);
    }
    if (created.length > 1) problems.push(`${created.length} bookings were made; at most one may be`);
    if (expect.outcome === 'booked' && active.length === 1 && beforeIds.has(active[0]!.bookingId))
      problems.push('the booking is the one from setup; a new one was expected');
    if (expect.outcome === 'rescheduled' && setupBefore && setupUnchanged)
      problems.push(`the existing booking ${label(setupBefore)} did not move`);
    bookingCompleted = problems.length === 0;
    problems.forEach(fail);
  } else if (expect.outcome === 'cancelled') {
    if (setupAfter?.status !== 'cancelled') fail('the existing booking was not cancelled');
    if (active.length > 0) fail(`bookings still active: ${active.map(label).join(', ')}`);
  } else {
    if (created.length > 0) fail(`unexpected booking: ${created.map(label).join(', ')}`);
    if (!setupUnchanged && setupBefore) {
      const now = setupAfter?.status === 'booked' ? `moved to ${label(setupAfter)}` : 'cancelled';
      fail(`the existing booking ${label(setupBefore)} was ${now}`);
    }
  }

  // Handoff: none at all when the bot should finish alone; the expected reason otherwise.
  const wrongfulHandoff = expect.handoff === false && escalations.length > 0;
  if (wrongfulHandoff) fail(`wrongful handoff (${escalations.join(', ')})`);
  if (expect.handoff !== false) {
    const wanted = expect.handoff;
    const hit = escalations.some((r) => r === wanted || (GAVE_UP.has(wanted) && GAVE_UP.has(r)));
    if (!hit)
      fail(`expected a handoff (${wanted}); saw ${escalations.length ? escalations.join(', ') : 'none'}`);
    // A script ends at the message that should bring a person in: one before it came too early.
    const first = seen.turns.findIndex((t) => t.events.some((e) => e.type === 'escalation'));
    if (first !== -1 && first < seen.turns.length - 1)
      fail(`handed to a person at message ${first + 1} of ${seen.turns.length}, too early`);
  }

  // Every scripted message is meant to be understood; only a script that ends with a person may hold one that
  // is not (an `invalid` event: the flow rejected the answer and asked again).
  if (expect.handoff === false) {
    seen.turns.forEach((t, i) => {
      if (t.events.some((e) => e.type === 'invalid'))
        fail(`message ${i + 1} ("${t.text.slice(0, 40)}") was not understood`);
    });
  }

  // A contact with an upcoming booking is never told there is none.
  const noBooking = new Set(options.noBookingKeys ?? ['noBooking']);
  seen.turns.forEach((t, i) => {
    const said = t.events.some((e) => e.type === 'outbound' && noBooking.has(String(e.data.key)));
    if (said && t.activeBookingsBefore > 0)
      fail(`message ${i + 1} was told there is no booking, though the contact has one`);
  });

  // Consent: only an opt-out may opt out.
  if (expect.outcome === 'opted_out' && !optedOut) fail('expected an opt-out; consent is not opted_out');
  if (expect.outcome !== 'opted_out' && optedOut) fail('opted out, though no opt-out was sent');

  if (expect.faq && !outboundKeys.has(`answer.${expect.faq}`))
    fail(`expected the "${expect.faq}" answer (answer.${expect.faq}); it was not sent`);

  if (expect.outcome === 'lead_captured') {
    const lead = seen.leads.find((l) => l.phone === seen.phone);
    if (!lead) fail('expected a lead in the CRM; none was saved');
    for (const [field, value] of Object.entries(expect.lead ?? {})) {
      const got = lead?.fields[field];
      if (lead && String(got ?? '').toLowerCase() !== value.toLowerCase())
        fail(`lead ${field}: expected "${value}", got ${JSON.stringify(got ?? null)}`);
    }
  }

  if (expect.outcome === 'closed_politely') {
    const last = seen.turns.at(-1);
    const why = last ? notAClosing(last) : 'no turn';
    if (why) fail(`the last message did not get a short closing: ${why}`);
  }

  // Never silence: every message the bot is in charge of gets an answer.
  seen.turns.forEach((t, i) => {
    if (t.handoffBefore === 'bot' && t.consentBefore !== 'opted_out' && t.replies.length === 0)
      fail(`message ${i + 1} ("${t.text.slice(0, 40)}") got no reply`);
  });

  const retained = conversation.openerSlots
    ? slotsHold(seen.slotsAfterFirst, conversation.openerSlots)
    : null;
  const o = conversation.openerSlots;
  const allDetails = o?.service && o.date && o.time && expect.outcome === 'booked';
  let messagesToBooking: number | null = null;
  if (allDetails) {
    const at = seen.turns.findIndex((t) => t.createdSoFar > 0);
    messagesToBooking = at === -1 ? Number.POSITIVE_INFINITY : at + 1;
  }

  const seenParts: string[] = [];
  if (optedOut) seenParts.push('opted out');
  if (escalations.length) seenParts.push(`handoff ${escalations.join(', ')}`);
  if (setupBefore && setupAfter?.status === 'cancelled') seenParts.push('cancelled');
  else if (setupBefore && !setupUnchanged) seenParts.push(`rescheduled to ${label(setupAfter!)}`);
  for (const b of created) seenParts.push(`${b.status} ${label(b)}`);
  if (seen.leads.some((l) => l.phone === seen.phone)) seenParts.push('lead captured');
  for (const key of outboundKeys) if (key.startsWith('answer.')) seenParts.push(`faq ${key.slice(7)}`);
  return {
    passed: failures.length === 0,
    failures,
    seen: seenParts.length ? seenParts.join('; ') : 'nothing changed',
    bookingCompleted,
    wrongfulHandoff,
    retained,
    messagesToBooking,
  };
}

/**
 * Why a turn's answer is not a short closing, or null when it is one: exactly one reply, and the turn asked no
 * new question (`thread.pending` unchanged or cleared), offered no clarifying menu, rejected no answer, ran no
 * effect and escalated nothing.
 */
function notAClosing(turn: ObservedTurn): string | null {
  if (turn.replies.length !== 1) return `${turn.replies.length} replies`;
  const noisy = turn.events.find((e) => ['clarify', 'invalid', 'escalation', 'effect'].includes(e.type));
  if (noisy) return `a "${noisy.type}" event`;
  const asked =
    turn.pendingAfter !== undefined &&
    turn.pendingAfter !== null &&
    JSON.stringify(turn.pendingAfter) !== JSON.stringify(turn.pendingBefore);
  return asked ? `it asked a question (${JSON.stringify(turn.pendingAfter)})` : null;
}

/** Whether `thread.slots` holds every opener slot (`HH:mm:ss` counts as `HH:mm`). */
function slotsHold(slots: unknown, wanted: NonNullable<ScriptedConversation['openerSlots']>): boolean {
  if (typeof slots !== 'object' || slots === null) return false;
  const got = slots as { [k: string]: unknown };
  return Object.entries(wanted).every(([name, value]) => {
    const have = got[name];
    if (typeof have !== 'string') return false;
    return name === 'time' ? have.slice(0, 5) === value : have === value;
  });
}

/** A share with its counts. */
export interface Share {
  count: number;
  total: number;
  /** count / total, NaN when total is 0. */
  rate: number;
}

/** The figures of one run. */
export interface ConversationMetrics {
  conversations: number;
  passed: Share;
  /** Booking conversations (expecting a booking) whose calendar shows exactly that booking. */
  bookingCompleted: Share;
  /** Conversations handed to a person although expect.handoff is false, over all conversations. */
  wrongfulHandoffs: Share;
  /** Conversations with openerSlots whose `thread.slots` held them after the first message. */
  firstMessageRetention: Share;
  /** Median customer messages until a booking exists, all-details openers; Infinity when most never book. */
  medianMessagesToBooking: { median: number; conversations: number; booked: number };
  byCategory: { category: Category; passed: Share }[];
}

const share = (count: number, total: number): Share => ({
  count,
  total,
  rate: total === 0 ? Number.NaN : count / total,
});

/**
 * The metrics of a run from its verdicts.
 *
 * @param results - One verdict per conversation, with its category.
 * @returns The figures issue 25 names, and a pass rate per category.
 * @example
 * const metrics = metricsOf(results);
 * console.log(metrics.bookingCompleted.rate);
 */
export function metricsOf(
  results: readonly (ConversationVerdict & { category: Category })[],
): ConversationMetrics {
  const count = <T>(items: readonly T[], pick: (t: T) => boolean) => items.filter(pick).length;
  const booking = results.filter((r) => r.bookingCompleted !== null);
  const retention = results.filter((r) => r.retained !== null);
  const toBooking = results.flatMap((r) => (r.messagesToBooking === null ? [] : [r.messagesToBooking]));
  const byCategory = categories
    .map((category) => {
      const inCategory = results.filter((r) => r.category === category);
      return {
        category,
        passed: share(
          count(inCategory, (r) => r.passed),
          inCategory.length,
        ),
      };
    })
    .filter((c) => c.passed.total > 0);
  return {
    conversations: results.length,
    passed: share(
      count(results, (r) => r.passed),
      results.length,
    ),
    bookingCompleted: share(
      count(booking, (r) => r.bookingCompleted === true),
      booking.length,
    ),
    wrongfulHandoffs: share(
      count(results, (r) => r.wrongfulHandoff),
      results.length,
    ),
    firstMessageRetention: share(
      count(retention, (r) => r.retained === true),
      retention.length,
    ),
    medianMessagesToBooking: {
      // Conversations that never booked count as Infinity, so failures cannot make the median look better.
      median: medianOf(toBooking),
      conversations: toBooking.length,
      booked: count(toBooking, Number.isFinite),
    },
    byCategory,
  };
}
