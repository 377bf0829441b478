// The demo's SQLite calendar runs the library's calendar contract, and keeps its bookings across a reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteCalendar } from '../../examples/server/calendar.js';
import { salonHours } from '../../examples/server/salon.js';
import { calendarContract } from '../../src/testing/actions-contract.js';

const zone = 'America/Los_Angeles';
// A Tuesday 10 AM in Los Angeles: inside the salon's hours, as is 1 PM (the contract's second slot).
const slot = '2030-06-04T10:00:00-07:00';
const ctx = (effectId: string) => ({ effectId, contact: '+14155550100', threadId: 'th-1' });

calendarContract({
  name: 'demo sqlite calendar',
  slot,
  create: () => sqliteCalendar({ database: new Database(':memory:'), timeZone: zone, hours: salonHours }),
});

describe('demo sqlite calendar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smsflow-calendar-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps bookings across a reopen of the file: the slot stays taken, the retry stays the same', async () => {
    const path = join(dir, 'calendar.db');
    const first = new Database(path);
    const before = sqliteCalendar({ database: first, timeZone: zone, hours: salonHours });
    const booked = await before.book({ service: 'haircut', start: slot, durationMinutes: 45 }, ctx('e1'));
    first.close();

    const again = sqliteCalendar({ database: new Database(path), timeZone: zone, hours: salonHours });
    const check = await again.check({ service: 'color', start: slot, durationMinutes: 30 }, ctx('e2'));
    expect(check.available).toBe(false);
    // Alternatives start after the 45 minutes taken, on the 30-minute grid, inside opening hours.
    expect(check.alternatives).toEqual(['2030-06-04T11:00:00-07:00', '2030-06-04T11:30:00-07:00']);
    expect(await again.book({ service: 'haircut', start: slot, durationMinutes: 45 }, ctx('e1'))).toEqual(
      booked,
    );
    expect(again.bookings({ from: new Date('2030-06-01T00:00:00Z') })).toMatchObject([
      { bookingId: booked.bookingId, service: 'haircut', start: slot, durationMinutes: 45 },
    ]);
  });

  it('refuses and never offers a slot outside opening hours', async () => {
    const cal = sqliteCalendar({ database: new Database(':memory:'), timeZone: zone, hours: salonHours });
    // Saturday closes at 4 PM: a 45-minute cut at 3:30 PM would end after closing.
    const late = '2030-06-08T15:30:00-07:00';
    expect(await cal.check({ service: 'haircut', start: late, durationMinutes: 45 }, ctx('c1'))).toEqual({
      available: false,
      // Sunday and Monday are closed: the next open slots are Tuesday at opening.
      alternatives: ['2030-06-11T09:00:00-07:00', '2030-06-11T09:30:00-07:00'],
    });
    await expect(
      cal.book({ service: 'haircut', start: late, durationMinutes: 45 }, ctx('b1')),
    ).rejects.toThrow(/outside opening hours/);
  });

  it('refuses malformed requests with a provider error that says what to send', async () => {
    const cal = sqliteCalendar({ database: new Database(':memory:'), timeZone: zone });
    await expect(
      cal.check({ service: 'x', start: 'tomorrow', durationMinutes: 30 }, ctx('m1')),
    ).rejects.toMatchObject({ code: 'SMSFLOW_ERR_PROVIDER', message: expect.stringContaining('start') });
    await expect(
      cal.book({ service: 'x', start: slot, durationMinutes: 0 }, ctx('m2')),
    ).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_PROVIDER',
    });
  });

  it('holds a slot for a deposit: others cannot book it, the hold books it, a release frees it', async () => {
    const cal = sqliteCalendar({ database: new Database(':memory:'), timeZone: zone, hours: salonHours });
    const req = { service: 'color', start: slot, durationMinutes: 60 };
    const { holdId } = await cal.hold({ ...req, minutes: 15 }, ctx('h1'));
    expect(await cal.hold({ ...req, minutes: 15 }, ctx('h1'))).toEqual({ holdId });
    expect((await cal.check(req, ctx('c1'))).available).toBe(false);
    await expect(cal.book(req, ctx('b1'))).rejects.toMatchObject({ code: 'SMSFLOW_ERR_PROVIDER' });
    const { bookingId } = await cal.book({ ...req, holdId }, { ...ctx('b2'), contact: '+14155550177' });
    // Booked once: the hold cannot be booked or released again, and the slot stays taken.
    await expect(cal.book({ ...req, holdId }, ctx('b3'))).rejects.toThrow(/No active hold/);
    expect(await cal.release({ holdId }, ctx('r1'))).toEqual({ released: false });
    expect((await cal.check(req, ctx('c2'))).available).toBe(false);
    expect(await cal.find({}, { ...ctx('f1'), contact: '+14155550177' })).toEqual({
      bookings: [{ id: bookingId, service: 'color', start: slot }],
    });

    const later = '2030-06-04T14:00:00-07:00';
    const second = await cal.hold({ ...req, start: later, minutes: 15 }, ctx('h2'));
    expect(await cal.release(second, ctx('r2'))).toEqual({ released: true });
    expect((await cal.check({ ...req, start: later }, ctx('c3'))).available).toBe(true);
    expect(await cal.find({}, ctx('f2'))).toEqual({ bookings: [] });
  });
});
