/**
 * The contracts every action adapter passes, one suite per kind (calendar, CRM, payments, notify): results
 * have the documented shape, calls are idempotent on `context.effectId`, a taken slot is refused, cancels
 * free what they cancel. Exported from `smsflow/testing` so a host's own adapter runs exactly what the memory
 * and webhook adapters run. Imports vitest only.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ActionContext,
  CalendarAdapter,
  CrmAdapter,
  NotifyAdapter,
  PaymentsAdapter,
} from '../adapters/actions/types.js';
import { isSmsflowError } from '../core/errors.js';

/** How a contract creates and disposes of the adapter under test. */
export interface ActionContractOptions<A> {
  /** Shown in the describe block, e.g. `'memory'`. */
  name: string;
  /** Returns an adapter over EMPTY state (no bookings, leads or links); called before every case. */
  create: () => Promise<A> | A;
  /** Disposes of what `create` made, after every case. */
  destroy?: (adapter: A) => Promise<void> | void;
  /** When set, every case is skipped and its name starts with `[because <skip>]`. */
  skip?: string;
}

/** Options of {@link calendarContract}: the suite books around one slot the calendar must offer. */
export interface CalendarContractOptions extends ActionContractOptions<CalendarAdapter> {
  /**
   * A free, bookable ISO start; the suite also uses the 30-minute slot 3 hours later. Both must be inside
   * opening hours with room for 60 minutes.
   * @default '2030-06-04T10:00:00-04:00' (a Tuesday morning in New York)
   */
  slot?: string;
}

const CONTACT = '+14155550100';

/** A fresh context per call: unique effect ids so a persistent host never sees one twice across runs. */
function contexts() {
  const run = randomUUID();
  let n = 0;
  return (effectId = `${run}:e${n++}`): ActionContext => ({
    effectId,
    contact: CONTACT,
    threadId: `th-${run}`,
  });
}

function define<A>(
  kind: string,
  options: ActionContractOptions<A>,
  body: (get: () => A, ctx: ReturnType<typeof contexts>) => void,
): void {
  describe(`${kind} contract: ${options.name}`, () => {
    let adapter: A | undefined;
    let ctx = contexts();
    beforeEach(async () => {
      if (options.skip) return;
      adapter = await options.create();
      ctx = contexts();
    });
    afterEach(async () => {
      if (options.skip || adapter === undefined) return;
      await options.destroy?.(adapter);
      adapter = undefined;
    });
    body(
      () => adapter as A,
      (effectId) => ctx(effectId),
    );
  });
}

function caseOf(skip: string | undefined) {
  return (title: string, fn: () => Promise<void>) =>
    skip ? it.skip(`[because ${skip}] ${title}`, fn) : it(title, fn);
}

async function expectProviderError(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the call to reject').toBeDefined();
  expect(isSmsflowError(error, 'SMSFLOW_ERR_PROVIDER'), String(error)).toBe(true);
}

const jsonSafe = (value: unknown) => expect(JSON.parse(JSON.stringify(value))).toEqual(value);

/**
 * The calendar contract: check, idempotent book, double booking refused, reschedule, cancel.
 *
 * @param options - See {@link CalendarContractOptions}.
 * @example
 * import { calendarContract } from 'smsflow/testing';
 * calendarContract({ name: 'my-calendar', create: () => myCalendar({ url: freshTestCalendar() }) });
 */
export function calendarContract(options: CalendarContractOptions): void {
  const slot = options.slot ?? '2030-06-04T10:00:00-04:00';
  const later = new Date(Date.parse(slot) + 3 * 3_600_000).toISOString();
  const test = caseOf(options.skip);
  const req = (start = slot, durationMinutes = 30) => ({ service: 'contract', start, durationMinutes });
  define('calendar', options, (cal, ctx) => {
    test('a free slot is available; the adapter has a name', async () => {
      expect(cal().name).toMatch(/\S/);
      const result = await cal().check(req(), ctx());
      expect(result.available).toBe(true);
      jsonSafe(result);
    });

    test('book returns a bookingId, and the same effect id returns the same one', async () => {
      const context = ctx();
      const first = await cal().book(req(), context);
      expect(first.bookingId).toMatch(/\S/);
      jsonSafe(first);
      expect(await cal().book(req(), { ...context })).toEqual(first);
    });

    test('a booked slot is no longer available; alternatives are other, free ISO times', async () => {
      await cal().book(req(slot, 60), ctx());
      const result = await cal().check(req(slot, 30), ctx());
      expect(result.available).toBe(false);
      for (const alt of result.alternatives ?? []) {
        const ms = Date.parse(alt);
        expect(Number.isNaN(ms), `alternative ${alt} is not ISO`).toBe(false);
        // Not inside the booked hour.
        expect(ms >= Date.parse(slot) + 60 * 60_000 || ms + 30 * 60_000 <= Date.parse(slot)).toBe(true);
        expect((await cal().check(req(alt), ctx())).available).toBe(true);
      }
    });

    test('booking an overlapping slot under another effect id is refused', async () => {
      await cal().book(req(slot, 60), ctx());
      const halfway = new Date(Date.parse(slot) + 30 * 60_000).toISOString();
      await expectProviderError(cal().book(req(halfway, 30), ctx()));
    });

    test('reschedule moves the booking: the old slot frees up, the new one is taken', async () => {
      const { bookingId } = await cal().book(req(), ctx());
      const moved = await cal().reschedule({ bookingId, start: later }, ctx());
      expect(moved.bookingId).toMatch(/\S/);
      expect((await cal().check(req(slot), ctx())).available).toBe(true);
      expect((await cal().check(req(later), ctx())).available).toBe(false);
    });

    test('reschedule onto another booking is refused', async () => {
      const { bookingId } = await cal().book(req(slot), ctx());
      await cal().book(req(later), ctx());
      await expectProviderError(cal().reschedule({ bookingId, start: later }, ctx()));
    });

    test('cancel frees the slot and is idempotent on the effect id', async () => {
      const { bookingId } = await cal().book(req(), ctx());
      const context = ctx();
      expect(await cal().cancel({ bookingId }, context)).toEqual({ cancelled: true });
      expect(await cal().cancel({ bookingId }, { ...context })).toEqual({ cancelled: true });
      expect((await cal().check(req(), ctx())).available).toBe(true);
    });

    test('cancelling an unknown booking does not report success', async () => {
      const outcome = await cal()
        .cancel({ bookingId: `missing-${randomUUID()}` }, ctx())
        .then(
          (r) => r.cancelled,
          (e: unknown) => (isSmsflowError(e) ? false : e),
        );
      expect(outcome).toBe(false);
    });
  });
}

/**
 * The CRM contract: upsert returns a lead id, one lead per phone, the owner given is kept, idempotent.
 *
 * @example
 * crmContract({ name: 'hubspot', create: () => hubspotCrm({ token: testToken }) });
 */
export function crmContract(options: ActionContractOptions<CrmAdapter>): void {
  const test = caseOf(options.skip);
  define('crm', options, (crm, ctx) => {
    test('upsertLead returns a leadId; the same phone is the same lead', async () => {
      expect(crm().name).toMatch(/\S/);
      const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
      const first = await crm().upsertLead({ phone, fields: { name: 'Zoë' }, tags: ['new'] }, ctx());
      expect(first.leadId).toMatch(/\S/);
      jsonSafe(first);
      const second = await crm().upsertLead({ phone, fields: { service: 'cut' }, tags: ['hot'] }, ctx());
      expect(second.leadId).toBe(first.leadId);
    });

    test('an owner given is the owner returned', async () => {
      const result = await crm().upsertLead(
        { phone: CONTACT, fields: {}, tags: [], owner: 'ana', score: 80 },
        ctx(),
      );
      expect(result.owner).toBe('ana');
    });

    test('a retry with the same effect id returns the same result', async () => {
      const context = ctx();
      const lead = { phone: CONTACT, fields: { a: 1 }, tags: ['x'] };
      const first = await crm().upsertLead(lead, context);
      expect(await crm().upsertLead(lead, { ...context })).toEqual(first);
    });
  });
}

/**
 * The payments contract: an absolute link, idempotent on the effect id, distinct per effect, cancellable.
 *
 * @example
 * paymentsContract({ name: 'stripe', create: () => stripePayments({ key: testKey }) });
 */
export function paymentsContract(options: ActionContractOptions<PaymentsAdapter>): void {
  const test = caseOf(options.skip);
  const link = { amountCents: 2500, currency: 'USD', description: 'Deposit: Haircut Tue 10:00 AM' };
  define('payments', options, (pay, ctx) => {
    test('createLink returns a paymentId and an absolute http(s) url', async () => {
      expect(pay().name).toMatch(/\S/);
      const result = await pay().createLink(link, ctx());
      expect(result.paymentId).toMatch(/\S/);
      expect(result.url).toMatch(/^https?:\/\/\S+$/);
      jsonSafe(result);
    });

    test('the same effect id returns the same link; another effect id a new one', async () => {
      const context = ctx();
      const first = await pay().createLink(link, context);
      expect(await pay().createLink(link, { ...context })).toEqual(first);
      const other = await pay().createLink(link, ctx());
      expect(other.paymentId).not.toBe(first.paymentId);
    });

    test('cancel voids a link; an unknown payment is not reported cancelled', async () => {
      const { paymentId } = await pay().createLink(link, ctx());
      expect(await pay().cancel({ paymentId }, ctx())).toEqual({ cancelled: true });
      const unknown = await pay()
        .cancel({ paymentId: `missing-${randomUUID()}` }, ctx())
        .then(
          (r) => r.cancelled,
          (e: unknown) => (isSmsflowError(e) ? false : e),
        );
      expect(unknown).toBe(false);
    });
  });
}

/**
 * The notify contract: a notification is delivered and the result is `{ delivered: boolean }`.
 *
 * @example
 * notifyContract({ name: 'slack', create: () => slackNotifier({ webhookUrl: fakeSlackUrl }) });
 */
export function notifyContract(options: ActionContractOptions<NotifyAdapter>): void {
  const test = caseOf(options.skip);
  define('notify', options, (notifier, ctx) => {
    test('notify delivers a hot-lead message', async () => {
      expect(notifier().name).toMatch(/\S/);
      const result = await notifier().notify(
        {
          text: 'Hot lead: wants a color on Tuesday',
          kind: 'notify.team',
          contact: CONTACT,
          data: { score: 90 },
        },
        ctx(),
      );
      expect(result).toEqual({ delivered: true });
    });

    test('a retry with the same effect id still answers delivered', async () => {
      const context = ctx();
      const message = { text: 'A customer needs a person', kind: 'handoff.requested', contact: CONTACT };
      expect(await notifier().notify(message, context)).toEqual({ delivered: true });
      expect(await notifier().notify(message, { ...context })).toEqual({ delivered: true });
    });
  });
}
