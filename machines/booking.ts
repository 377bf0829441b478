/**
 * The booking flow: one machine, its guards and its option handling. Longer than our ~400-line habit on purpose:
 * the statechart is one readable object (a designer opens it whole in a viewer), and splitting its states across
 * files would hide the transitions between them. Reply texts live in `booking.messages.ts`.
 */
import { assign, setup } from 'xstate';
import {
  type BusinessHours,
  checkSlot,
  describeHours,
  formatSlot,
  parseDateTime,
} from '../src/core/datetime.js';
import {
  type EffectParams,
  type FlowDefinition,
  type FlowEvent,
  type FlowInput,
  flowActions,
  type ReplyParams,
} from '../src/core/flow.js';
import type { Json } from '../src/core/types.js';
import { isNo, isYes, matchChoice } from './answers.js';
import { bookingMessages, bookingSegmentBudgets } from './booking.messages.js';

/** A bookable service. */
export interface BookingService {
  /** Stable id sent to the calendar (`haircut`). */
  id: string;
  /** Name shown to customers (`Haircut`). */
  name: string;
  durationMinutes: number;
  /** Other words customers use for it (`cut`, `trim`). */
  aliases?: string[];
  /** A deposit to hold the slot, in minor units (cents); absent means none. */
  depositCents?: number;
}

/** Options of {@link bookingFlow}. */
export interface BookingFlowOptions {
  services: BookingService[];
  /** Opening hours per weekday (0 = Sunday) in the bot's time zone. */
  hours: BusinessHours;
  /** Furthest bookable day. @default 90 */
  maxDaysAhead?: number;
  /** Failed answers to one question before a person takes over. @default 3 */
  maxRetries?: number;
  /** Minutes a slot is held while a deposit is paid. @default 30 */
  depositHoldMinutes?: number;
  /** Currency of deposits (ISO 4217). @default 'USD' */
  currency?: string;
}

/** The booking machine's context: small and JSON, so the persisted state stays small. */
export interface BookingContext {
  timeZone: string;
  mode: 'new' | 'reschedule' | 'cancel';
  service: string | null;
  start: string | null;
  retries: number;
  alternatives: string[];
  /** The contact's upcoming booking, carried in the profile across threads. */
  booking: { id: string; service: string; start: string } | null;
  /** Payment link id while a deposit is pending. */
  paymentId: string | null;
  /** ISO time the held slot is released when no deposit arrives. */
  holdUntil: string | null;
  [key: string]: Json;
}

type TextEvent = Extract<FlowEvent, { type: 'user.text' }>;
type ResultEvent = Extract<FlowEvent, { type: 'effect.result' }>;

/**
 * The booking flow: which service, which day and time (in the business's zone, within opening hours),
 * availability through a `calendar.check` effect, a confirmation that repeats the slot, then the
 * `calendar.book` effect (or a deposit through `payments.createLink` first). Also reschedules and cancels an
 * existing booking. Three failed answers to one question hand the thread to a person.
 *
 * @example
 * const bot = createBot({ ...program, flows: [bookingFlow({ services, hours })] });
 */
export function bookingFlow(options: BookingFlowOptions): FlowDefinition {
  const services = options.services;
  const maxRetries = options.maxRetries ?? 3;
  const maxDaysAhead = options.maxDaysAhead ?? 90;
  const holdMinutes = options.depositHoldMinutes ?? 30;
  const byId = new Map(services.map((s) => [s.id, s]));
  const menu = services.map((s, i) => `${i + 1} ${s.name}`).join(', ');
  const choices = services.map((s) => [s.name, ...(s.aliases ?? [])]);

  const serviceOf = (ctx: BookingContext) => byId.get(ctx.service ?? '') ?? services[0]!;
  const serviceName = (ctx: BookingContext) => serviceOf(ctx).name;
  const slotLabel = (ctx: BookingContext, start = ctx.start) =>
    start ? formatSlot(start, ctx.timeZone) : '';
  const readSlotUncached = (ctx: BookingContext, e: TextEvent) => {
    const parsed = parseDateTime(e.text, { now: new Date(e.at), timeZone: ctx.timeZone });
    if (!parsed.ok) return { kind: 'unrecognised' as const };
    if (!parsed.hasTime) return { kind: 'no_time' as const, date: parsed.date };
    const check = checkSlot(parsed.start, {
      now: new Date(e.at),
      timeZone: ctx.timeZone,
      hours: options.hours,
      durationMinutes: serviceOf(ctx).durationMinutes,
      maxDaysAhead,
    });
    return check.ok ? { kind: 'ok' as const, start: parsed.start } : { kind: check.reason };
  };
  // Several guards of one transition read the same answer: parse it once per event (the event object is
  // shared by every guard of a transition; the WeakMap keeps this pure and leak-free).
  const slotCache = new WeakMap<
    object,
    { service: string | null; result: ReturnType<typeof readSlotUncached> }
  >();
  const readSlot = (ctx: BookingContext, e: TextEvent) => {
    const hit = slotCache.get(e);
    if (hit && hit.service === ctx.service) return hit.result;
    const result = readSlotUncached(ctx, e);
    slotCache.set(e, { service: ctx.service, result });
    return result;
  };
  const hoursText = describeHours(options.hours);
  const ev = (e: unknown) => e as TextEvent;
  const res = (e: unknown) => e as ResultEvent;
  // Shared transition pieces; typed loosely (`never`) because XState cannot infer a reusable action list.
  const retry = (
    question: string,
    key: keyof typeof bookingMessages,
    vars: (c: BookingContext) => Json = () => ({}),
  ): never =>
    [
      assign({ retries: ({ context }: { context: BookingContext }) => context.retries + 1 }),
      { type: 'invalid' as const, params: { question } },
      {
        type: 'reply' as const,
        params: ({ context }: { context: BookingContext }) => ({
          key,
          vars: vars(context) as { [k: string]: Json },
        }),
      },
    ] as never;
  const exhausted = (question: string): never =>
    ({
      guard: 'retriesExhausted' as const,
      actions: [
        { type: 'track' as const, params: { name: 'retries_exhausted', data: { question } } },
        { type: 'reply' as const, params: { key: 'handoff' } },
        {
          type: 'escalate' as const,
          params: { reason: 'retries_exhausted', summary: `Could not answer "${question}"` },
        },
        assign({ retries: 0 }),
      ],
    }) as never;

  // Reminders 24 h and 2 h before the visit, run by the proactive scheduler (createProactive), which re-checks
  // consent, the booking, quiet hours and caps when each fires.
  const reminders = REMINDER_LEADS.map(([label, ms]) => ({
    type: 'effect' as const,
    params: ({ context }: { context: BookingContext }): EffectParams => {
      const start = context.start ?? context.booking?.start ?? '';
      return {
        type: 'schedule.message',
        payload: {
          kind: 'reminder',
          at: new Date(Date.parse(start) - ms).toISOString(),
          lead: label,
          bookingId: context.booking?.id ?? '',
          start,
          flow: 'booking',
          templateKey: 'reminder',
          vars: { service: serviceName(context), slot: slotLabel(context, start) },
        },
      };
    },
  })) as never[];

  // A calendar or payment call failed: say so honestly, hand the thread to a person, and leave the flow where
  // the person (or the bot, after a hand-back) can pick it up.
  const effectFailed = (summary: string, target: string): never =>
    ({
      guard: 'effectFailed' as const,
      target,
      actions: [
        { type: 'reply' as const, params: { key: 'effectFailed' } },
        { type: 'escalate' as const, params: { reason: 'effect_failed', summary } },
      ],
    }) as never;
  // The booking the calendar confirmed, kept in context until the final state remembers it in the profile.
  const rememberBooking = assign({
    booking: ({ context, event }: { context: BookingContext; event: unknown }) => ({
      id: String(res(event).data.bookingId ?? ''),
      service: serviceOf(context).id,
      start: context.start!,
    }),
  }) as never;

  // A confirmed booking (paid or not): say so, remember it across threads, report it, schedule its reminders.
  const bookedEntry = (key: 'booked' | 'depositPaid'): never =>
    [
      {
        type: 'reply' as const,
        params: ({ context }: { context: BookingContext }) => ({
          key,
          vars: { service: serviceName(context), slot: slotLabel(context) },
        }),
      },
      {
        type: 'remember' as const,
        params: ({ context }: { context: BookingContext }) => ({
          profile: { booking: context.booking },
          tags: ['booked'],
        }),
      },
      { type: 'track' as const, params: { name: 'completed', data: { outcome: 'booked' } } },
      ...reminders,
    ] as never;

  const machine = setup({
    types: {} as { context: BookingContext; events: FlowEvent; input: FlowInput },
    actions: { ...flowActions },
    guards: {
      intentReschedule: ({ event }) => event.type === 'user.text' && event.intent === 'reschedule',
      intentCancel: ({ event }) => event.type === 'user.text' && event.intent === 'cancel_booking',
      intentConfirm: ({ event }) => event.type === 'user.text' && event.intent === 'confirm_booking',
      hasBooking: ({ context }) => context.booking !== null,
      namesService: ({ event }) =>
        event.type === 'user.text' && matchChoice(event.text, choices, { digits: false }) !== null,
      serviceChoice: ({ event }) => event.type === 'user.text' && matchChoice(event.text, choices) !== null,
      retriesExhausted: ({ context }) => context.retries + 1 >= maxRetries,
      slotOk: ({ context, event }) => event.type === 'user.text' && readSlot(context, event).kind === 'ok',
      slotPast: ({ context, event }) =>
        event.type === 'user.text' && readSlot(context, event).kind === 'past',
      slotOutsideHours: ({ context, event }) => {
        if (event.type !== 'user.text') return false;
        const kind = readSlot(context, event).kind;
        return kind === 'outside_hours' || kind === 'closed_day';
      },
      slotTooFar: ({ context, event }) =>
        event.type === 'user.text' && readSlot(context, event).kind === 'too_far',
      slotNoTime: ({ context, event }) =>
        event.type === 'user.text' && readSlot(context, event).kind === 'no_time',
      yes: ({ event }) => event.type === 'user.text' && isYes(event.text),
      no: ({ event }) => event.type === 'user.text' && isNo(event.text),
      pickAlternative: ({ context, event }) =>
        event.type === 'user.text' &&
        /^\s*[12]\s*[.!]?\s*$/.test(event.text) &&
        context.alternatives.length >= Number(event.text.trim()[0]),
      effectFailed: ({ event }) => event.type === 'effect.result' && !event.ok,
      available: ({ event }) => event.type === 'effect.result' && event.ok && event.data.available === true,
      hasAlternatives: ({ event }) =>
        event.type === 'effect.result' &&
        Array.isArray(event.data.alternatives) &&
        event.data.alternatives.length >= 2,
      needsDeposit: ({ context }) => context.mode === 'new' && (serviceOf(context).depositCents ?? 0) > 0,
      isReschedule: ({ context }) => context.mode === 'reschedule',
      paymentConfirmed: ({ context, event }) =>
        event.type === 'external' &&
        event.name === 'payment.confirmed' &&
        event.data.paymentId === context.paymentId,
      holdExpired: ({ context, event }) =>
        context.holdUntil !== null && 'at' in event && event.at >= context.holdUntil,
    },
  }).createMachine({
    id: 'booking',
    initial: 'idle',
    context: ({ input }) => {
      const b = input.profile.booking as BookingContext['booking'] | undefined;
      const future =
        // Compare instants, not strings: the start carries the business offset (-08:00), now is UTC.
        b &&
        typeof b === 'object' &&
        typeof b.start === 'string' &&
        Date.parse(b.start) > Date.parse(input.now)
          ? b
          : null;
      const fields = input.fields;
      return {
        timeZone: input.timeZone,
        mode: 'new',
        service: typeof fields.service === 'string' && byId.has(fields.service) ? fields.service : null,
        start: null,
        retries: 0,
        alternatives: [],
        booking: future,
        paymentId: null,
        holdUntil: null,
      };
    },
    on: {
      'thread.resume': { target: '.askTime.waiting', guard: ({ context }) => context.service !== null },
    },
    states: {
      idle: {
        on: {
          'user.text': [
            {
              guard: 'intentReschedule',
              target: 'noBooking',
              reenter: true,
              actions: assign({ mode: 'reschedule' }),
            },
            {
              guard: 'intentCancel',
              target: 'noBooking',
              reenter: true,
              actions: assign({ mode: 'cancel' }),
            },
            // "C" answers a reminder: confirm the visit (a reminder is sent only while a booking exists).
            {
              guard: ({ context, event }) =>
                event.type === 'user.text' && event.intent === 'confirm_booking' && context.booking !== null,
              target: 'visitConfirmed',
            },
            { guard: 'intentConfirm', target: 'noBooking', reenter: true },
            {
              guard: ({ context }) => context.service !== null,
              target: 'askTime',
            },
            {
              guard: 'namesService',
              target: 'askTime',
              actions: assign({
                service: ({ event }) => pickService(ev(event).text, choices, services, false),
              }),
            },
            { target: 'askService' },
          ],
        },
      },
      noBooking: {
        always: [
          {
            guard: ({ context }) => context.booking !== null && context.mode === 'reschedule',
            target: 'askTime',
            actions: assign({ service: ({ context }) => context.booking!.service }),
          },
          {
            guard: ({ context }) => context.booking !== null && context.mode === 'cancel',
            target: 'confirmCancel',
          },
        ],
        entry: { type: 'reply', params: { key: 'noBooking', ask: true } },
        on: {
          'user.text': [
            { guard: 'yes', target: 'askService', actions: assign({ mode: 'new' }) },
            { guard: 'no', target: 'goodbye' },
            exhausted('noBooking'),
            { actions: retry('noBooking', 'noBooking') },
          ],
        },
      },
      askService: {
        entry: [
          { type: 'reply', params: { key: 'askService', ask: true, vars: { menu } } },
          { type: 'track', params: { name: 'question', data: { question: 'service' } } },
        ],
        on: {
          'user.text': [
            {
              guard: 'serviceChoice',
              target: 'askTime',
              actions: assign({
                service: ({ event }) => pickService(ev(event).text, choices, services, true),
                retries: 0,
              }),
            },
            exhausted('service'),
            { actions: retry('service', 'serviceNotUnderstood', () => ({ menu })) },
          ],
        },
      },
      askTime: {
        initial: 'prompt',
        states: {
          prompt: {
            entry: [
              {
                type: 'reply',
                params: ({ context }): ReplyParams =>
                  context.mode === 'reschedule' && context.booking
                    ? {
                        key: 'askNewTime',
                        ask: true,
                        vars: {
                          service: serviceName(context),
                          slot: slotLabel(context, context.booking.start),
                        },
                      }
                    : { key: 'askTime', ask: true, vars: { service: serviceName(context) } },
              },
              { type: 'track', params: { name: 'question', data: { question: 'time' } } },
            ],
          },
          waiting: {},
        },
        on: {
          'user.text': [
            {
              guard: 'slotOk',
              target: 'checking',
              actions: assign({
                start: ({ context, event }) => (readSlot(context, ev(event)) as { start: string }).start,
                retries: 0,
              }),
            },
            exhausted('time'),
            { guard: 'slotPast', actions: retry('time', 'pastTime') },
            {
              guard: 'slotOutsideHours',
              actions: retry('time', 'outsideHours', () => ({ hours: hoursText })),
            },
            { guard: 'slotTooFar', actions: retry('time', 'tooFar', () => ({ days: maxDaysAhead })) },
            {
              guard: 'slotNoTime',
              actions: [
                { type: 'invalid', params: { question: 'time' } },
                {
                  type: 'reply',
                  params: ({ context, event }): ReplyParams => {
                    const r = readSlot(context, ev(event));
                    return {
                      key: 'needTime',
                      vars: { day: 'date' in r && r.date ? dayLabel(r.date) : 'that day', hours: hoursText },
                    };
                  },
                },
              ],
            },
            { actions: retry('time', 'timeNotUnderstood') },
          ],
        },
      },
      checking: {
        entry: {
          type: 'effect',
          params: ({ context }) => ({
            type: 'calendar.check',
            payload: {
              service: serviceOf(context).id,
              start: context.start!,
              durationMinutes: serviceOf(context).durationMinutes,
            },
          }),
        },
        on: {
          'user.text': {
            actions: {
              type: 'reply',
              params: ({ context }) => ({ key: 'checking', vars: { slot: slotLabel(context) } }),
            },
          },
          'effect.result': [
            effectFailed('Calendar check failed', 'askTime.waiting'),
            { guard: 'available', target: 'confirm' },
            {
              guard: 'hasAlternatives',
              target: 'offering',
              actions: [
                assign({
                  alternatives: ({ event }) => (res(event).data.alternatives as string[]).slice(0, 2),
                }),
                {
                  type: 'reply',
                  params: ({ context, event }) => {
                    const alts = res(event).data.alternatives as string[];
                    return {
                      key: 'slotTaken',
                      ask: true,
                      vars: {
                        slot: slotLabel(context),
                        alt1: slotLabel(context, alts[0]),
                        alt2: slotLabel(context, alts[1]),
                      },
                    };
                  },
                },
              ],
            },
            {
              target: 'askTime.waiting',
              actions: {
                type: 'reply',
                params: ({ context }) => ({
                  key: 'slotTakenNoAlternatives',
                  ask: true,
                  vars: { slot: slotLabel(context) },
                }),
              },
            },
          ],
        },
      },
      offering: {
        on: {
          'user.text': [
            {
              guard: 'pickAlternative',
              target: 'confirm',
              actions: assign({
                start: ({ context, event }) =>
                  context.alternatives[Number(ev(event).text.trim()[0]) - 1] ?? context.start,
                alternatives: [],
              }),
            },
            {
              guard: 'slotOk',
              target: 'checking',
              actions: assign({
                start: ({ context, event }) => (readSlot(context, ev(event)) as { start: string }).start,
                alternatives: [],
              }),
            },
            exhausted('alternative'),
            { actions: retry('alternative', 'timeNotUnderstood') },
          ],
        },
      },
      confirm: {
        entry: [
          {
            type: 'reply',
            params: ({ context }) => ({
              key: 'confirm',
              ask: true,
              vars: { service: serviceName(context), slot: slotLabel(context) },
            }),
          },
          { type: 'track', params: { name: 'question', data: { question: 'confirm' } } },
        ],
        on: {
          'user.text': [
            { guard: 'yes', target: 'booking', actions: assign({ retries: 0 }) },
            { guard: 'no', target: 'askTime', actions: assign({ start: null, retries: 0 }) },
            exhausted('confirm'),
            {
              actions: retry('confirm', 'confirmNotUnderstood', (c) => ({ slot: slotLabel(c) })),
            },
          ],
        },
      },
      booking: {
        always: [{ guard: 'needsDeposit', target: 'deposit' }],
        entry: {
          type: 'effect',
          params: ({ context }): EffectParams =>
            context.mode === 'reschedule'
              ? {
                  type: 'calendar.reschedule',
                  payload: { bookingId: context.booking?.id ?? '', start: context.start! },
                }
              : {
                  type: 'calendar.book',
                  payload: {
                    service: serviceOf(context).id,
                    start: context.start!,
                    durationMinutes: serviceOf(context).durationMinutes,
                  },
                },
        },
        on: {
          'effect.result': [
            effectFailed('Booking failed', 'askTime.waiting'),
            { guard: 'isReschedule', target: 'rescheduled' },
            {
              target: 'booked',
              actions: rememberBooking,
            },
          ],
        },
      },
      deposit: {
        entry: {
          type: 'effect',
          params: ({ context }) => ({
            type: 'payments.createLink',
            payload: {
              amountCents: serviceOf(context).depositCents ?? 0,
              currency: options.currency ?? 'USD',
              description: `Deposit: ${serviceName(context)} ${slotLabel(context)}`,
            },
          }),
        },
        on: {
          'effect.result': [
            effectFailed('Payment link failed', 'askTime.waiting'),
            {
              guard: ({ event }) => res(event).effect === 'payments.createLink',
              target: 'awaitingPayment',
              actions: [
                assign({
                  paymentId: ({ event }) => String(res(event).data.paymentId ?? ''),
                  holdUntil: ({ event }) =>
                    new Date(Date.parse(res(event).at) + holdMinutes * 60_000).toISOString(),
                }),
                {
                  type: 'reply',
                  params: ({ context, event }) => ({
                    key: 'depositRequired',
                    vars: {
                      amount: formatMoney(serviceOf(context).depositCents ?? 0, options.currency ?? 'USD'),
                      slot: slotLabel(context),
                      url: String(res(event).data.url ?? ''),
                      minutes: holdMinutes,
                    },
                  }),
                },
                {
                  type: 'effect',
                  params: ({ context, event }) => ({
                    type: 'schedule.event',
                    payload: {
                      at: new Date(Date.parse(res(event).at) + holdMinutes * 60_000).toISOString(),
                      event: 'deposit.expired',
                      paymentId: String(res(event).data.paymentId ?? context.paymentId ?? ''),
                    },
                  }),
                },
              ],
            },
          ],
        },
      },
      awaitingPayment: {
        on: {
          external: [
            { guard: 'paymentConfirmed', target: 'confirmingDeposit' },
            {
              guard: ({ event, context }) =>
                event.name === 'deposit.expired' && event.data.paymentId === context.paymentId,
              target: 'released',
            },
          ],
          'user.text': [
            { guard: 'holdExpired', target: 'released' },
            {
              actions: {
                type: 'reply',
                params: ({ context }) => ({
                  key: 'depositRequired',
                  vars: {
                    amount: formatMoney(serviceOf(context).depositCents ?? 0, options.currency ?? 'USD'),
                    slot: slotLabel(context),
                    url: 'the link above',
                    minutes: holdMinutes,
                  },
                }),
              },
            },
          ],
        },
      },
      confirmingDeposit: {
        entry: {
          type: 'effect',
          params: ({ context }) => ({
            type: 'calendar.book',
            payload: {
              service: serviceOf(context).id,
              start: context.start!,
              durationMinutes: serviceOf(context).durationMinutes,
              paymentId: context.paymentId ?? '',
            },
          }),
        },
        on: {
          'effect.result': [
            effectFailed('Booking after deposit failed', 'askTime.waiting'),
            {
              target: 'paidAndBooked',
              actions: rememberBooking,
            },
          ],
        },
      },
      released: {
        type: 'final',
        entry: [
          {
            type: 'reply',
            params: ({ context }) => ({ key: 'depositExpired', vars: { slot: slotLabel(context) } }),
          },
          {
            type: 'effect',
            params: ({ context }) => ({
              type: 'payments.cancel',
              payload: { paymentId: context.paymentId ?? '' },
            }),
          },
          { type: 'track', params: { name: 'deposit_expired' } },
        ],
      },
      paidAndBooked: {
        type: 'final',
        entry: bookedEntry('depositPaid'),
      },
      booked: {
        type: 'final',
        entry: bookedEntry('booked'),
      },
      rescheduled: {
        type: 'final',
        entry: [
          {
            type: 'reply',
            params: ({ context }) => ({
              key: 'rescheduled',
              vars: { service: serviceName(context), slot: slotLabel(context) },
            }),
          },
          {
            type: 'remember',
            params: ({ context }) => ({
              profile: {
                booking: {
                  id: context.booking?.id ?? '',
                  service: context.service ?? '',
                  start: context.start!,
                },
              },
            }),
          },
          { type: 'track', params: { name: 'completed', data: { outcome: 'rescheduled' } } },
          // New reminders for the new time; the old ones see a changed booking at fire time and are cancelled.
          ...reminders,
        ],
      },
      visitConfirmed: {
        type: 'final',
        entry: [
          {
            type: 'reply',
            params: ({ context }) => ({
              key: 'visitConfirmed',
              vars: { slot: slotLabel(context, context.booking?.start) },
            }),
          },
          { type: 'track', params: { name: 'completed', data: { outcome: 'visit_confirmed' } } },
        ],
      },
      confirmCancel: {
        entry: [
          {
            type: 'reply',
            params: ({ context }) => ({
              key: 'confirmCancel',
              ask: true,
              vars: {
                service: byId.get(context.booking?.service ?? '')?.name ?? 'booking',
                slot: slotLabel(context, context.booking?.start),
              },
            }),
          },
        ],
        on: {
          'user.text': [
            { guard: 'yes', target: 'cancelling' },
            { guard: 'no', target: 'kept' },
            exhausted('confirmCancel'),
            {
              actions: retry('confirmCancel', 'confirmNotUnderstood', (c) => ({
                slot: slotLabel(c, c.booking?.start),
              })),
            },
          ],
        },
      },
      cancelling: {
        entry: {
          type: 'effect',
          params: ({ context }) => ({
            type: 'calendar.cancel',
            payload: { bookingId: context.booking?.id ?? '' },
          }),
        },
        on: {
          'effect.result': [effectFailed('Cancellation failed', 'confirmCancel'), { target: 'cancelled' }],
        },
      },
      cancelled: {
        type: 'final',
        entry: [
          {
            type: 'reply',
            params: ({ context }) => ({
              key: 'cancelled',
              vars: {
                service: byId.get(context.booking?.service ?? '')?.name ?? 'booking',
                slot: slotLabel(context, context.booking?.start),
              },
            }),
          },
          { type: 'remember', params: { profile: { booking: null } } },
          { type: 'track', params: { name: 'completed', data: { outcome: 'cancelled' } } },
        ],
      },
      kept: {
        type: 'final',
        entry: {
          type: 'reply',
          params: ({ context }) => ({
            key: 'keptBooking',
            vars: {
              service: byId.get(context.booking?.service ?? '')?.name ?? 'booking',
              slot: slotLabel(context, context.booking?.start),
            },
          }),
        },
      },
      goodbye: { type: 'final', entry: { type: 'reply', params: { key: 'goodbye' } } },
    },
  });

  return {
    id: 'booking',
    machine,
    messages: { ...bookingMessages },
    segmentBudget: 1,
    segmentBudgets: { ...bookingSegmentBudgets },
    intents: ['book', 'reschedule', 'cancel_booking', 'confirm_booking'],
    keywords: { R: 'reschedule', X: 'cancel_booking', BOOK: 'book', C: 'confirm_booking' },
    intentExamples: {
      book: [
        'I want to book',
        'can I make an appointment',
        'book a haircut',
        'do you have time tomorrow',
        'schedule me in',
        'I would like to book',
        "I'd like to make an appointment",
        'hi I want to book an appointment',
        'book me in please',
        'can I get an appointment',
        'I need an appointment',
        'any openings this week',
        'do you have availability on friday',
        'I want to come in for a cut',
        "I'd like to book a color",
        'need a blowout saturday',
        'can you fit me in',
      ],
      reschedule: [
        'I need to reschedule',
        'can I move my appointment',
        'change my booking time',
        'different time please',
        'can we push my appointment to another day',
        "I can't make it at that time, can I change it",
        'move my booking to next week',
      ],
      cancel_booking: [
        'cancel my appointment',
        'I need to cancel my booking',
        'cannot make it, please cancel the appointment',
        'please cancel my booking for friday',
        "I won't be able to come, cancel it",
        'cancel my haircut',
      ],
    },
    examples: {
      service: services.map((_s, i) => String(i + 1)),
      time: ['tomorrow 3pm', 'Fri 10:30am'],
      yes: ['YES'],
      no: ['NO'],
    },
  };
}

/** When reminders go out before a visit. */
const REMINDER_LEADS: [string, number][] = [
  ['24h', 24 * 3_600_000],
  ['2h', 2 * 3_600_000],
];

function pickService(
  text: string,
  choices: string[][],
  services: BookingService[],
  digits: boolean,
): string | null {
  const index = matchChoice(text, choices, { digits });
  return index === null ? null : (services[index]?.id ?? null);
}

/** `2026-11-27` → `Fri Nov 27` (a calendar date, so read in UTC on purpose). */
function dayLabel(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  return new Intl.DateTimeFormat('en-US', {
    timeZone: 'UTC',
    weekday: 'short',
    month: 'short',
    day: 'numeric',
  })
    .format(d)
    .replace(',', '');
}

function formatMoney(cents: number, currency: string): string {
  const symbol =
    currency === 'USD' ? '$' : currency === 'EUR' ? 'EUR ' : currency === 'GBP' ? '£' : `${currency} `;
  return `${symbol}${(cents / 100).toFixed(cents % 100 === 0 ? 0 : 2)}`;
}
