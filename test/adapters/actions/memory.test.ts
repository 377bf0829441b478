import { describe, expect, it } from 'vitest';
import {
  memoryCalendar,
  memoryCrm,
  memoryNotifier,
  memoryPayments,
} from '../../../src/adapters/actions/memory.js';
import type { ActionContext } from '../../../src/adapters/actions/types.js';
import { isSmsflowError } from '../../../src/core/errors.js';
import {
  calendarContract,
  crmContract,
  notifyContract,
  paymentsContract,
} from '../../../src/testing/actions-contract.js';

const TZ = 'America/Los_Angeles';
// Tue–Sat 9–18, Sat 9–16: the demo salon's hours (test/support/salon.ts).
const HOURS = {
  2: ['09:00', '18:00'],
  3: ['09:00', '18:00'],
  4: ['09:00', '18:00'],
  5: ['09:00', '18:00'],
  6: ['09:00', '16:00'],
} as { [day: number]: [string, string] };

calendarContract({ name: 'memory', create: () => memoryCalendar({ timeZone: 'America/New_York' }) });
calendarContract({
  name: 'memory with opening hours',
  create: () => memoryCalendar({ timeZone: 'America/New_York', hours: { 2: ['09:00', '17:00'] } }),
});
crmContract({ name: 'memory', create: () => memoryCrm() });
paymentsContract({ name: 'memory', create: () => memoryPayments({ baseUrl: 'http://localhost:3000' }) });
notifyContract({ name: 'memory', create: () => memoryNotifier() });

let n = 0;
const ctx = (effectId = `in-${n++}:e0`): ActionContext => ({
  effectId,
  contact: '+14155550100',
  threadId: 'th-1',
});
const haircut = (start: string, durationMinutes = 45) => ({ service: 'haircut', start, durationMinutes });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('memoryCalendar', () => {
  it('offers the next two free grid slots after a taken one, the same day', async () => {
    const cal = memoryCalendar({ timeZone: TZ, hours: HOURS, busy: ['2026-12-03T14:00:00-08:00'] });
    // Thu Dec 3 2026, 14:00 is busy (30 min); a 45-min haircut at 14:00 overlaps it.
    const result = await cal.check(haircut('2026-12-03T14:00:00-08:00'), ctx());
    expect(result).toEqual({
      available: false,
      alternatives: ['2026-12-03T14:30:00-08:00', '2026-12-03T15:00:00-08:00'],
    });
  });

  it('rolls alternatives to the next open day, within opening hours', async () => {
    const cal = memoryCalendar({
      timeZone: TZ,
      hours: HOURS,
      busy: [{ start: '2026-12-03T17:00:00-08:00', durationMinutes: 60 }],
    });
    // 17:00–17:45 is busy; 17:30 would end after 18:00, so Friday 09:00 and 09:30 come next.
    const result = await cal.check(haircut('2026-12-03T17:00:00-08:00'), ctx());
    expect(result.alternatives).toEqual(['2026-12-04T09:00:00-08:00', '2026-12-04T09:30:00-08:00']);
  });

  it('skips closed days (Sunday, Monday) when searching', async () => {
    const cal = memoryCalendar({ timeZone: TZ, hours: HOURS });
    // Saturday closes at 16:00: a 15:30 haircut ends 16:15, so it is unavailable; next is Tuesday.
    const result = await cal.check(haircut('2026-12-05T15:30:00-08:00'), ctx());
    expect(result).toEqual({
      available: false,
      alternatives: ['2026-12-08T09:00:00-08:00', '2026-12-08T09:30:00-08:00'],
    });
  });

  it('aligns alternatives to the slot grid and keeps the zone offset across DST', async () => {
    const cal = memoryCalendar({
      timeZone: TZ,
      slotMinutes: 60,
      busy: [{ start: '2026-03-08T01:10:00-08:00', durationMinutes: 30 }],
    });
    // 02:00 does not exist on 2026-03-08 in Los Angeles (spring forward): 01:10 → next grid 03:00 PDT.
    const result = await cal.check(haircut('2026-03-08T01:10:00-08:00', 30), ctx());
    expect(result.alternatives).toEqual(['2026-03-08T03:00:00-07:00', '2026-03-08T04:00:00-07:00']);
  });

  it('book is idempotent on effectId, derives the id from it and refuses overlaps', async () => {
    const cal = memoryCalendar({ timeZone: TZ });
    const a = await cal.book(haircut('2026-12-03T14:00:00-08:00'), ctx('SM1:e0'));
    expect(a.bookingId).toMatch(/^bk_[0-9a-f]{16}$/);
    expect(await cal.book(haircut('2026-12-03T14:00:00-08:00'), ctx('SM1:e0'))).toEqual(a);
    // A second calendar given the same effect id derives the same id (replays stay stable).
    expect(
      await memoryCalendar({ timeZone: TZ }).book(haircut('2026-12-03T14:00:00-08:00'), ctx('SM1:e0')),
    ).toEqual(a);
    const error = await rejection(cal.book(haircut('2026-12-03T14:30:00-08:00'), ctx('SM2:e0')));
    expect(isSmsflowError(error, 'SMSFLOW_ERR_PROVIDER')).toBe(true);
    expect(String((error as Error).message)).toMatch(
      /^\[smsflow\] \[memory-calendar\] .*overlaps another booking/,
    );
    expect(cal.bookings()).toHaveLength(1);
    expect(cal.bookings()[0]).toMatchObject({
      bookingId: a.bookingId,
      contact: '+14155550100',
      status: 'booked',
    });
  });

  it('back-to-back bookings do not overlap (end is exclusive)', async () => {
    const cal = memoryCalendar({ timeZone: TZ });
    await cal.book(haircut('2026-12-03T14:00:00-08:00', 30), ctx());
    await expect(cal.book(haircut('2026-12-03T14:30:00-08:00', 30), ctx())).resolves.toHaveProperty(
      'bookingId',
    );
    await expect(cal.book(haircut('2026-12-03T13:30:00-08:00', 30), ctx())).resolves.toHaveProperty(
      'bookingId',
    );
  });

  it('refuses a booking outside opening hours and a malformed start', async () => {
    const cal = memoryCalendar({ timeZone: TZ, hours: HOURS });
    const closed = await rejection(cal.book(haircut('2026-12-06T10:00:00-08:00'), ctx()));
    expect(String((closed as Error).message)).toContain('outside opening hours');
    const bad = await rejection(cal.check(haircut('tomorrow 3pm'), ctx()));
    expect(isSmsflowError(bad, 'SMSFLOW_ERR_PROVIDER')).toBe(true);
    expect(String((bad as Error).message)).toContain('"tomorrow 3pm"');
    const duration = await rejection(cal.check(haircut('2026-12-03T14:00:00-08:00', 0), ctx()));
    expect(String((duration as Error).message)).toContain('durationMinutes');
  });

  it('reschedule keeps the id and the duration; an unknown or cancelled booking is refused', async () => {
    const cal = memoryCalendar({ timeZone: TZ });
    const { bookingId } = await cal.book(haircut('2026-12-03T14:00:00-08:00', 45), ctx());
    expect(await cal.reschedule({ bookingId, start: '2026-12-04T10:00:00-08:00' }, ctx())).toEqual({
      bookingId,
    });
    expect(cal.bookings()[0]).toMatchObject({ start: '2026-12-04T10:00:00-08:00', durationMinutes: 45 });
    expect((await cal.check(haircut('2026-12-04T10:30:00-08:00', 30), ctx())).available).toBe(false);
    expect(await cal.cancel({ bookingId }, ctx())).toEqual({ cancelled: true });
    const error = await rejection(cal.reschedule({ bookingId, start: '2026-12-05T10:00:00-08:00' }, ctx()));
    expect(String((error as Error).message)).toContain('No active booking');
  });

  it('failNext makes the next calls fail without recording anything', async () => {
    const cal = memoryCalendar({ timeZone: TZ, failNext: 1 });
    const error = await rejection(cal.book(haircut('2026-12-03T14:00:00-08:00'), ctx('X:e0')));
    expect(isSmsflowError(error, 'SMSFLOW_ERR_PROVIDER')).toBe(true);
    expect(cal.bookings()).toEqual([]);
    // The engine's retry with the same effect id then succeeds.
    await expect(cal.book(haircut('2026-12-03T14:00:00-08:00'), ctx('X:e0'))).resolves.toHaveProperty(
      'bookingId',
    );
    cal.failNext(2);
    await expect(cal.check(haircut('2026-12-03T16:00:00-08:00'), ctx())).rejects.toThrow(/simulated outage/);
    await expect(cal.check(haircut('2026-12-03T16:00:00-08:00'), ctx())).rejects.toThrow(/simulated outage/);
    await expect(cal.check(haircut('2026-12-03T16:00:00-08:00'), ctx())).resolves.toEqual({
      available: true,
    });
  });

  it('rejects a bad configuration with SMSFLOW_ERR_INVALID_CONFIG', () => {
    const config = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isSmsflowError(e, 'SMSFLOW_ERR_INVALID_CONFIG') ? (e as Error).message : `wrong error ${e}`;
      }
      return 'no error';
    };
    expect(config(() => memoryCalendar({ timeZone: 'Mars/Olympus' }))).toContain('Mars/Olympus');
    expect(config(() => memoryCalendar({ timeZone: TZ, slotMinutes: 0 }))).toContain('slotMinutes');
    expect(config(() => memoryCalendar({ timeZone: TZ, busy: ['noon'] }))).toContain('busy[0]');
    expect(config(() => memoryCalendar({ timeZone: TZ, hours: { 2: ['9am', '5pm'] } }))).not.toBe('no error');
  });
});

describe('memoryCrm', () => {
  it('merges fields and tags into one lead per phone and assigns owners round-robin', async () => {
    const crm = memoryCrm({ owners: ['ana', 'ben'] });
    const a = await crm.upsertLead({ phone: '+14155550100', fields: { name: 'Zoë' }, tags: ['new'] }, ctx());
    const b = await crm.upsertLead({ phone: '+14155550101', fields: {}, tags: [] }, ctx());
    expect([a.owner, b.owner]).toEqual(['ana', 'ben']);
    await crm.upsertLead(
      { phone: '+14155550100', fields: { service: 'color' }, tags: ['new', 'hot'], score: 90 },
      ctx(),
    );
    expect(crm.leads()[0]).toEqual({
      leadId: a.leadId,
      phone: '+14155550100',
      fields: { name: 'Zoë', service: 'color' },
      tags: ['new', 'hot'],
      owner: 'ana',
      score: 90,
    });
  });
});

describe('memoryPayments', () => {
  it('builds the link from baseUrl, confirms into a payment.confirmed event, refuses to cancel a paid link', async () => {
    const pay = memoryPayments({ baseUrl: 'http://localhost:3000/' });
    const { paymentId, url } = await pay.createLink(
      { amountCents: 2500, currency: 'usd', description: 'Deposit' },
      ctx(),
    );
    expect(url).toBe(`http://localhost:3000/pay/${paymentId}`);
    expect(pay.confirm(paymentId)).toEqual({
      contact: '+14155550100',
      event: { id: `payment.confirmed:${paymentId}`, type: 'payment.confirmed', data: { paymentId } },
    });
    expect(await pay.cancel({ paymentId }, ctx())).toEqual({ cancelled: false });
    expect(pay.payments()[0]).toMatchObject({ status: 'paid', currency: 'USD', amountCents: 2500 });
    expect(() => pay.confirm('pay_nope')).toThrow(/\[memory-payments\] Cannot confirm payment "pay_nope"/);
  });

  it('refuses bad amounts and currencies, and a bad baseUrl', async () => {
    const pay = memoryPayments({ baseUrl: 'https://pay.example' });
    await expect(
      pay.createLink({ amountCents: 12.5, currency: 'USD', description: '' }, ctx()),
    ).rejects.toThrow(/amountCents.*12\.5/);
    await expect(
      pay.createLink({ amountCents: 100, currency: 'dollars', description: '' }, ctx()),
    ).rejects.toThrow(/ISO 4217/);
    expect(() => memoryPayments({ baseUrl: 'localhost' })).toThrow(/baseUrl must be an http\(s\) URL/);
  });
});

describe('memoryNotifier', () => {
  it('records each effect once', async () => {
    const notify = memoryNotifier();
    const message = { text: 'Hot lead', kind: 'notify.team', contact: '+14155550100', data: { score: 90 } };
    await notify.notify(message, ctx('N:e0'));
    await notify.notify(message, ctx('N:e0'));
    expect(notify.messages()).toEqual([{ ...message, effectId: 'N:e0', threadId: 'th-1' }]);
  });
});
