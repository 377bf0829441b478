/**
 * In-memory action adapters (calendar, CRM, payments, notifier) for tests, the demo and the contract suite.
 * Everything lives in one process's memory and is lost on exit. Each call is idempotent on
 * `context.effectId` (the engine may run an effect twice after a crash), and ids are derived from it, so a
 * replayed conversation gets the same booking and payment ids. Length (~510 lines): four small adapters that
 * share the idempotency and failure-injection helpers at the top; splitting them would copy those helpers.
 */
import { createHash } from 'node:crypto';
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { type BusinessHours, checkSlot, describeHours, formatSlot } from '../../core/datetime.js';
import { SmsflowError } from '../../core/errors.js';
import type { Json } from '../../core/types.js';
import type { ActionContext, CalendarAdapter, CrmAdapter, NotifyAdapter, PaymentsAdapter } from './types.js';

/** Extra methods every memory adapter has, for tests that need a provider outage. */
export interface FailureInjection {
  /**
   * Makes the next `count` calls reject with `SMSFLOW_ERR_PROVIDER` (nothing is recorded for them).
   * @param count - How many calls fail. @default 1
   */
  failNext(count?: number): void;
}

function providerError(adapter: string, message: string): SmsflowError {
  return new SmsflowError('SMSFLOW_ERR_PROVIDER', `[${adapter}] ${message}`);
}

/** Short, URL-safe, deterministic id: the same effect id always gives the same id (replays stay stable). */
function idFrom(prefix: string, seed: string): string {
  return `${prefix}_${createHash('sha256').update(seed, 'utf8').digest('hex').slice(0, 16)}`;
}

/** Result cache keyed by operation and effect id, plus the failure counter shared by one adapter. */
function createLedger(adapter: string, failNext = 0) {
  const done = new Map<string, unknown>();
  let failures = failNext;
  return {
    failNext(count = 1): void {
      failures += count;
    },
    /** Runs `fn` once per `op` + effect id; a retry with the same effect id gets the first result back. */
    async once<T>(op: string, context: ActionContext, fn: () => T): Promise<T> {
      if (context.signal?.aborted) throw providerError(adapter, `${op} was aborted by the caller.`);
      const key = `${op}\u0000${context.effectId}`;
      if (done.has(key)) return structuredClone(done.get(key) as T);
      if (failures > 0) {
        failures -= 1;
        throw providerError(adapter, `${op} failed (simulated outage from failNext).`);
      }
      const result = fn();
      done.set(key, structuredClone(result));
      return result;
    },
  };
}

// ---------------------------------------------------------------- calendar

/** A busy period already on the calendar: an ISO start (lasting `slotMinutes`) or a start with a duration. */
export type BusyEntry = string | { start: string; durationMinutes: number };

/** Options of {@link memoryCalendar}. */
export interface MemoryCalendarOptions {
  /** IANA zone of the business: alternatives are written with its offset, hours are read in it. */
  timeZone: string;
  /** Opening hours; when given, slots outside them are not available, not offered and not bookable. */
  hours?: BusinessHours;
  /**
   * Grid of the alternatives offered, in minutes from midnight in `timeZone`.
   * @default 30
   */
  slotMinutes?: number;
  /** Periods already taken (e.g. the owner's lunch), as ISO starts lasting `slotMinutes` or `{ start, durationMinutes }`. */
  busy?: BusyEntry[];
  /**
   * How many of the first calls reject with `SMSFLOW_ERR_PROVIDER` (see {@link FailureInjection.failNext}).
   * @default 0
   */
  failNext?: number;
  /**
   * How many days after the requested slot are searched for alternatives.
   * @default 14
   */
  searchDays?: number;
}

/** One booking held by {@link memoryCalendar}. */
export interface MemoryBooking {
  bookingId: string;
  service: string;
  /** ISO start as requested (or as rescheduled). */
  start: string;
  durationMinutes: number;
  paymentId?: string;
  contact: string;
  threadId: string;
  status: 'booked' | 'cancelled';
}

/** The in-memory calendar: a {@link CalendarAdapter} plus `bookings()` to inspect and `failNext`. */
export interface MemoryCalendar extends CalendarAdapter, FailureInjection {
  /** Every booking in creation order, cancelled ones included (copies: changing them changes nothing). */
  bookings(): MemoryBooking[];
}

interface Span {
  startMs: number;
  endMs: number;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseStart(adapter: string, start: unknown, field = 'start'): number {
  const ms = typeof start === 'string' && ISO_WITH_ZONE.test(start) ? Date.parse(start) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw providerError(
      adapter,
      `${field} must be an ISO-8601 time with offset, received ${JSON.stringify(String(start).slice(0, 40))}. Pass e.g. "2026-12-03T14:00:00-08:00".`,
    );
  }
  return ms;
}

function parseDuration(adapter: string, minutes: unknown): number {
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes <= 0 || minutes > 24 * 60) {
    throw providerError(
      adapter,
      `durationMinutes must be a whole number from 1 to 1440, received ${JSON.stringify(minutes)}.`,
    );
  }
  return minutes;
}

/**
 * An in-memory calendar. A slot is free unless it overlaps a booking or a busy entry (or falls outside
 * `hours`); when it is taken, `check` offers the next two free slots of the same length on the `slotMinutes`
 * grid, later that day or on the next days. `book` is idempotent on `context.effectId` and refuses a slot that
 * overlaps another booking. Booking ids are derived from the effect id (`bk_<16 hex>`).
 *
 * @param options - See {@link MemoryCalendarOptions}.
 * @returns A {@link MemoryCalendar}.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` for an unknown zone, bad hours, grid or busy entry.
 * @example
 * const calendar = memoryCalendar({ timeZone: 'America/Los_Angeles', hours: { 2: ['09:00', '18:00'] } });
 * const engine = createEngine({ bot, storage, channel, actions: { calendar } });
 */
export function memoryCalendar(options: MemoryCalendarOptions): MemoryCalendar {
  const name = 'memory-calendar';
  const { timeZone, hours, slotMinutes = 30, searchDays = 14 } = options;
  formatSlot('2026-01-01T00:00:00Z', timeZone); // throws SMSFLOW_ERR_INVALID_CONFIG for an unknown zone
  if (!Number.isInteger(slotMinutes) || slotMinutes <= 0 || slotMinutes > 1440) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[${name}] slotMinutes must be a whole number from 1 to 1440, received ${JSON.stringify(slotMinutes)}.`,
    );
  }
  if (hours) describeHours(hours); // parses every day: throws SMSFLOW_ERR_INVALID_CONFIG for malformed hours
  const busy: Span[] = (options.busy ?? []).map((entry, i) => {
    const start = typeof entry === 'string' ? entry : entry.start;
    const minutes = typeof entry === 'string' ? slotMinutes : entry.durationMinutes;
    try {
      const startMs = parseStart(name, start, `busy[${i}]`);
      return { startMs, endMs: startMs + parseDuration(name, minutes) * 60_000 };
    } catch (error) {
      throw new SmsflowError(
        'SMSFLOW_ERR_INVALID_CONFIG',
        (error as Error).message.replace('[smsflow] ', ''),
      );
    }
  });
  const bookings = new Map<string, MemoryBooking>();
  const ledger = createLedger(name, options.failNext);

  function withinHours(startMs: number, minutes: number): boolean {
    if (!hours) return true;
    // checkSlot is pure and DST-aware; `now` just before the start turns off its past/too-far checks.
    return checkSlot(new Date(startMs).toISOString(), {
      now: new Date(startMs - 1),
      timeZone,
      hours,
      durationMinutes: minutes,
    }).ok;
  }

  function overlapsTaken(span: Span, ignore?: string): boolean {
    const hit = (b: Span) => span.startMs < b.endMs && b.startMs < span.endMs;
    if (busy.some(hit)) return true;
    for (const b of bookings.values()) {
      if (b.status !== 'booked' || b.bookingId === ignore) continue;
      const startMs = Date.parse(b.start);
      if (hit({ startMs, endMs: startMs + b.durationMinutes * 60_000 })) return true;
    }
    return false;
  }

  const isFree = (startMs: number, minutes: number, ignore?: string): boolean =>
    withinHours(startMs, minutes) && !overlapsTaken({ startMs, endMs: startMs + minutes * 60_000 }, ignore);

  /** ISO with the business zone's offset, the form parseDateTime produces (e.g. `…T14:00:00-08:00`). */
  const iso = (ms: number): string => format(new TZDate(ms, timeZone), "yyyy-MM-dd'T'HH:mm:ssXXX");

  function alternatives(startMs: number, minutes: number): string[] {
    // First grid point after the requested start, on the wall-clock grid of the business zone.
    const wall = new TZDate(startMs, timeZone);
    const sinceMidnight = wall.getHours() * 60 + wall.getMinutes();
    const offsetMs =
      (sinceMidnight % slotMinutes) * 60_000 + wall.getSeconds() * 1000 + wall.getMilliseconds();
    const out: string[] = [];
    const step = slotMinutes * 60_000;
    const lastMs = startMs + searchDays * 86_400_000;
    for (let t = startMs - offsetMs + step; t <= lastMs && out.length < 2; t += step) {
      if (isFree(t, minutes)) out.push(iso(t));
    }
    return out;
  }

  function refuseTaken(startMs: number, minutes: number, ignore?: string): void {
    if (!withinHours(startMs, minutes)) {
      throw providerError(
        name,
        `The slot ${iso(startMs)} is outside opening hours. Offer a slot from check().`,
      );
    }
    if (overlapsTaken({ startMs, endMs: startMs + minutes * 60_000 }, ignore)) {
      throw providerError(
        name,
        `The slot ${iso(startMs)} (${minutes} min) overlaps another booking; it was not booked. Call check() first.`,
      );
    }
  }

  function activeBooking(bookingId: unknown): MemoryBooking {
    const booking = typeof bookingId === 'string' ? bookings.get(bookingId) : undefined;
    if (booking?.status !== 'booked') {
      throw providerError(
        name,
        `No active booking ${JSON.stringify(bookingId)}. Pass a bookingId returned by book() that was not cancelled.`,
      );
    }
    return booking;
  }

  return {
    name,
    failNext: ledger.failNext,
    bookings: () => [...bookings.values()].map((b) => ({ ...b })),
    check: (request, context) =>
      ledger.once('check', context, () => {
        const startMs = parseStart(name, request.start);
        const minutes = parseDuration(name, request.durationMinutes);
        if (isFree(startMs, minutes)) return { available: true };
        return { available: false, alternatives: alternatives(startMs, minutes) };
      }),
    book: (request, context) =>
      ledger.once('book', context, () => {
        const startMs = parseStart(name, request.start);
        const minutes = parseDuration(name, request.durationMinutes);
        refuseTaken(startMs, minutes);
        const bookingId = idFrom('bk', context.effectId);
        bookings.set(bookingId, {
          bookingId,
          service: String(request.service),
          start: request.start,
          durationMinutes: minutes,
          ...(request.paymentId ? { paymentId: request.paymentId } : {}),
          contact: context.contact,
          threadId: context.threadId,
          status: 'booked',
        });
        return { bookingId };
      }),
    reschedule: (request, context) =>
      ledger.once('reschedule', context, () => {
        const booking = activeBooking(request.bookingId);
        const startMs = parseStart(name, request.start);
        refuseTaken(startMs, booking.durationMinutes, booking.bookingId);
        // The booking keeps its id: hosts and the flow already hold it (booking.ts stores booking.id).
        booking.start = request.start;
        return { bookingId: booking.bookingId };
      }),
    cancel: (request, context) =>
      ledger.once('cancel', context, () => {
        const booking = bookings.get(String(request.bookingId));
        if (!booking) return { cancelled: false };
        booking.status = 'cancelled';
        return { cancelled: true };
      }),
  };
}

// ---------------------------------------------------------------- CRM

/** One lead held by {@link memoryCrm}. */
export interface MemoryLead {
  leadId: string;
  phone: string;
  fields: { [name: string]: Json };
  tags: string[];
  owner?: string;
  score?: number;
}

/** The in-memory CRM: a {@link CrmAdapter} plus `leads()` to inspect and `failNext`. */
export interface MemoryCrm extends CrmAdapter, FailureInjection {
  /** Every lead in creation order (copies). */
  leads(): MemoryLead[];
}

/**
 * An in-memory CRM. `upsertLead` creates one lead per phone number (id `lead_<16 hex>` derived from the
 * phone) and merges later calls into it: fields are overwritten key by key, tags are added once each, an
 * owner or score given replaces the old one. New leads without an owner get the next of `owners` in turn.
 *
 * @param options - `owners`: assigned round-robin to new leads that come without one.
 * @returns A {@link MemoryCrm}.
 * @example
 * const crm = memoryCrm({ owners: ['ana', 'ben'] });
 * await crm.upsertLead({ phone: '+14155550100', fields: { name: 'Zoë' }, tags: ['hot'] }, context);
 */
export function memoryCrm(options: { owners?: string[]; failNext?: number } = {}): MemoryCrm {
  const name = 'memory-crm';
  const leads = new Map<string, MemoryLead>();
  const owners = options.owners ?? [];
  const ledger = createLedger(name, options.failNext);
  return {
    name,
    failNext: ledger.failNext,
    leads: () => [...leads.values()].map((l) => structuredClone(l)),
    upsertLead: (lead, context) =>
      ledger.once('upsertLead', context, () => {
        if (typeof lead.phone !== 'string' || lead.phone.length === 0) {
          throw providerError(name, `upsertLead needs a phone, received ${JSON.stringify(lead.phone)}.`);
        }
        let row = leads.get(lead.phone);
        if (!row) {
          row = { leadId: idFrom('lead', lead.phone), phone: lead.phone, fields: {}, tags: [] };
          const next = owners[leads.size % Math.max(owners.length, 1)];
          if (next !== undefined) row.owner = next;
          leads.set(lead.phone, row);
        }
        Object.assign(row.fields, structuredClone(lead.fields ?? {}));
        for (const tag of lead.tags ?? []) if (!row.tags.includes(tag)) row.tags.push(tag);
        if (lead.owner !== undefined) row.owner = lead.owner;
        if (lead.score !== undefined) row.score = lead.score;
        return { leadId: row.leadId, ...(row.owner !== undefined ? { owner: row.owner } : {}) };
      }),
  };
}

// ---------------------------------------------------------------- payments

/** One payment link held by {@link memoryPayments}. */
export interface MemoryPayment {
  paymentId: string;
  url: string;
  amountCents: number;
  currency: string;
  description: string;
  contact: string;
  threadId: string;
  status: 'pending' | 'paid' | 'cancelled';
}

/** The event a host hands to `engine.dispatch(contact, event)` once a payment is confirmed. */
export interface PaymentConfirmedEvent {
  contact: string;
  event: { id: string; type: 'payment.confirmed'; data: { paymentId: string } };
}

/** The in-memory payments provider: a {@link PaymentsAdapter} plus `confirm`, `payments()` and `failNext`. */
export interface MemoryPayments extends PaymentsAdapter, FailureInjection {
  /**
   * Marks a pending link as paid (what a customer paying would do) and returns the event to dispatch.
   * @throws SmsflowError `SMSFLOW_ERR_PROVIDER` for an unknown or cancelled payment.
   */
  confirm(paymentId: string): PaymentConfirmedEvent;
  /** Every payment link in creation order (copies). */
  payments(): MemoryPayment[];
}

/**
 * An in-memory payments provider. `createLink` is idempotent on `context.effectId` and answers
 * `{ paymentId: 'pay_<16 hex>', url: '<baseUrl>/pay/<paymentId>' }`; `cancel` voids a pending link (a paid
 * one answers `cancelled: false`: it needs a refund); `confirm` simulates the customer paying.
 *
 * @param options - `baseUrl` of the payment pages, e.g. the demo host's URL.
 * @returns A {@link MemoryPayments}.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when `baseUrl` is not an http(s) URL.
 * @example
 * const payments = memoryPayments({ baseUrl: 'http://localhost:3000' });
 * const { contact, event } = payments.confirm(paymentId);
 * await engine.dispatch(contact, event);
 */
export function memoryPayments(options: { baseUrl: string; failNext?: number }): MemoryPayments {
  const name = 'memory-payments';
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\/[^\s/]+/.test(options.baseUrl)) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[${name}] baseUrl must be an http(s) URL, received ${JSON.stringify(options.baseUrl)}. Pass e.g. 'http://localhost:3000'.`,
    );
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const payments = new Map<string, MemoryPayment>();
  const ledger = createLedger(name, options.failNext);
  return {
    name,
    failNext: ledger.failNext,
    payments: () => [...payments.values()].map((p) => ({ ...p })),
    createLink: (request, context) =>
      ledger.once('createLink', context, () => {
        if (!Number.isInteger(request.amountCents) || request.amountCents <= 0) {
          throw providerError(
            name,
            `amountCents must be a positive whole number of cents, received ${JSON.stringify(request.amountCents)}.`,
          );
        }
        if (typeof request.currency !== 'string' || !/^[A-Za-z]{3}$/.test(request.currency)) {
          throw providerError(
            name,
            `currency must be an ISO 4217 code such as "USD", received ${JSON.stringify(request.currency)}.`,
          );
        }
        const paymentId = idFrom('pay', context.effectId);
        const url = `${baseUrl}/pay/${paymentId}`;
        payments.set(paymentId, {
          paymentId,
          url,
          amountCents: request.amountCents,
          currency: request.currency.toUpperCase(),
          description: String(request.description ?? ''),
          contact: context.contact,
          threadId: context.threadId,
          status: 'pending',
        });
        return { paymentId, url };
      }),
    cancel: (request, context) =>
      ledger.once('cancel', context, () => {
        const payment = payments.get(String(request.paymentId));
        if (!payment || payment.status === 'paid') return { cancelled: false };
        payment.status = 'cancelled';
        return { cancelled: true };
      }),
    confirm(paymentId) {
      const payment = payments.get(paymentId);
      if (!payment || payment.status === 'cancelled') {
        throw providerError(
          name,
          `Cannot confirm payment ${JSON.stringify(paymentId)}: it is ${payment ? 'cancelled' : 'unknown'}. Pass a paymentId from createLink().`,
        );
      }
      payment.status = 'paid';
      // A stable event id: confirming twice dispatches one event (engine.dispatch is idempotent on it).
      return {
        contact: payment.contact,
        event: { id: `payment.confirmed:${paymentId}`, type: 'payment.confirmed', data: { paymentId } },
      };
    },
  };
}

// ---------------------------------------------------------------- notifier

/** One notification recorded by {@link memoryNotifier}. */
export interface MemoryNotification {
  text: string;
  kind: string;
  contact: string;
  data?: { [name: string]: Json };
  effectId: string;
  threadId: string;
}

/** The in-memory notifier: a {@link NotifyAdapter} plus `messages()` and `failNext`. */
export interface MemoryNotifier extends NotifyAdapter, FailureInjection {
  /** Every notification in order; a retried effect id is recorded once. */
  messages(): MemoryNotification[];
}

/**
 * An in-memory team notifier that records messages instead of sending them.
 *
 * @returns A {@link MemoryNotifier}.
 * @example
 * const notify = memoryNotifier();
 * // … run a conversation that escalates …
 * expect(notify.messages()[0]?.kind).toBe('handoff.requested');
 */
export function memoryNotifier(options: { failNext?: number } = {}): MemoryNotifier {
  const name = 'memory-notifier';
  const sent: MemoryNotification[] = [];
  const ledger = createLedger(name, options.failNext);
  return {
    name,
    failNext: ledger.failNext,
    messages: () => sent.map((m) => structuredClone(m)),
    notify: (message, context) =>
      ledger.once('notify', context, () => {
        sent.push({
          text: String(message.text),
          kind: String(message.kind),
          contact: String(message.contact),
          ...(message.data !== undefined ? { data: structuredClone(message.data) } : {}),
          effectId: context.effectId,
          threadId: context.threadId,
        });
        return { delivered: true };
      }),
  };
}
