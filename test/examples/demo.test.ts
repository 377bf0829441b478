// The demo salon (npm start) does what it shows (issue 25, item 4), each through the host app: leads reach the
// CRM and the dashboard, bookings schedule reminders that are sent, bookings survive a restart, and "highlights"
// is a Color.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser, openDayName, type Served, serveApp, simulator } from './server-helpers.js';

const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };

/** Books a Haircut (3 PM unless said) on an open day through the simulator; returns the simulator. */
async function bookHaircut(
  base: string,
  phone: string,
  options: { optIn?: boolean; at?: '3pm' | '11am' } = {},
) {
  const at = options.at ?? '3pm';
  const sim = await simulator(base, phone, options);
  await sim.send('Hi, I would like to book');
  await sim.reply(/Which service/);
  await sim.send('1');
  await sim.reply(/What day and time/);
  await sim.send(`${openDayName()} ${at}`);
  await sim.reply(
    at === '3pm' ? /Haircut on .* at 3:00 PM\. Reply YES/ : /Haircut on .* at 11:00 AM\. Reply YES/,
  );
  await sim.send('yes');
  await sim.reply(/You are booked/);
  return sim;
}

describe('demo salon: leads and reminders', () => {
  let now = Date.now();
  let served: Served;
  beforeAll(async () => {
    // The scheduler's clock: the test moves it to when a reminder is due.
    served = await serveApp({ clock: () => new Date(now) });
  });
  afterAll(() => served?.close());

  it('the lead flow saves the lead to the CRM, and the Leads page shows it', async () => {
    const sim = await simulator(served.base, '+14155550131');
    for (const [text, next] of [
      ['I need a quote', /What do you need/],
      ['wedding hair for 5 people', /budget/],
      ['2', /When do you need it/],
      ['1', /your name/],
      ['Ann Lee', /email/],
      ['ann@example.com', /May we contact you/],
    ] as const) {
      await sim.send(text);
      await sim.reply(next);
    }
    await sim.send('yes');
    const saved = await sim.reply(/we will be in touch|did not save/);
    sim.stream.cancel();
    expect(saved.text).not.toContain('did not save');
    expect(served.host.crm.leads()).toMatchObject([
      {
        phone: '+14155550131',
        fields: { need: 'wedding hair for 5 people', name: 'Ann Lee', email: 'ann@example.com' },
        tags: expect.arrayContaining(['lead']),
      },
    ]);
    const admin = browser(served.base);
    await admin.login(ADMIN.email, ADMIN.password);
    const page = await (await admin.request('/leads')).text();
    expect(page).toContain('+14155550131');
    expect(page).toContain('wedding hair for 5 people');
    expect(page).toContain('ann@example.com');
  });

  it('a booking schedules its reminders, and the reminder is sent when due (opted in)', async () => {
    const sim = await bookHaircut(served.base, '+14155550132', { optIn: true });
    const key = 'webchat:+14155550132';
    const booking = (await served.host.storage.getConversation(key))?.state.profile.booking as {
      id: string;
      start: string;
    };
    expect(booking.id).toMatch(/^bk_/);
    const jobs = (await served.host.scheduler.list()).filter((j) => j.contact === '+14155550132');
    expect(jobs.map((j) => [j.kind, j.payload.lead, j.payload.bookingId])).toEqual([
      ['reminder', '24h', booking.id],
      ['reminder', '2h', booking.id],
    ]);
    // No effect of the booking failed (the old demo: schedule.message SMSFLOW_ERR_UNKNOWN_EFFECT).
    const events = await served.host.storage.listEvents(key);
    const failed = events.filter(
      (e) => e.type === 'event' && e.data.type === 'effect.result' && e.data.ok === false,
    );
    expect(failed).toEqual([]);

    now = Date.parse(jobs[0]!.at) + 1000;
    expect(await served.host.scheduler.runDue()).toBe(1);
    const reminder = await sim.reply(/^Reminder: Haircut on .* at 3:00 PM/);
    sim.stream.cancel();
    expect((await served.host.storage.getOutboxMessage(reminder.id))?.kind).toBe('proactive');
  });

  it('without an opt-in the reminder is not sent, and the transcript says why', async () => {
    // Another time: 3 PM on that day is the previous test's booking.
    const sim = await bookHaircut(served.base, '+14155550133', { at: '11am' });
    sim.stream.cancel();
    const [job] = (await served.host.scheduler.list()).filter((j) => j.contact === '+14155550133');
    now = Math.max(now, Date.parse(job!.at) + 1000);
    await served.host.scheduler.runDue();
    const events = await served.host.storage.listEvents('webchat:+14155550133');
    expect(events.filter((e) => e.type === 'outbound' && /^Reminder/.test(String(e.data.text)))).toEqual([]);
    expect(JSON.stringify(events)).toContain('no_opt_in');
  });

  it('"highlights" is a Color', async () => {
    const sim = await simulator(served.base, '+14155550134');
    await sim.send('Hi, I would like to book');
    await sim.reply(/Which service/);
    await sim.send('highlights');
    await sim.reply(/a Color/);
    sim.stream.cancel();
  });
});

describe('demo salon: bookings survive a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smsflow-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('after a restart the booked slot is not offered again, and its reminders are still scheduled', async () => {
    const first = await serveApp({ dir });
    const sim = await bookHaircut(first.base, '+14155550141');
    sim.stream.cancel();
    await first.close();

    const second = await serveApp({ dir });
    try {
      const other = await simulator(second.base, '+14155550142');
      await other.send('Hi, I would like to book');
      await other.reply(/Which service/);
      await other.send('1');
      await other.reply(/What day and time/);
      await other.send(`${openDayName()} 3pm`);
      const answer = await other.reply(/is taken|Reply YES to book/);
      other.stream.cancel();
      expect(answer.text).toMatch(/at 3:00 PM is taken\. Reply 1 for .*, 2 for /);
      expect(second.host.calendar.bookings().map((b) => b.contact)).toEqual(['+14155550141']);
      const reminders = (await second.host.scheduler.list()).filter((j) => j.contact === '+14155550141');
      expect(reminders.map((j) => j.payload.lead)).toEqual(['24h', '2h']);
    } finally {
      await second.close();
    }
  }, 60_000);
});
