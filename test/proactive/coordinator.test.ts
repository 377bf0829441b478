import { describe, expect, it, vi } from 'vitest';
import { memoryCalendar } from '../../src/adapters/actions/memory.js';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { createBot } from '../../src/core/bot.js';
import { createEngine } from '../../src/engine/engine.js';
import { createProactive, type Proactive } from '../../src/proactive/coordinator.js';
import { inProcessScheduler } from '../../src/proactive/in-process.js';
import { optInConfirmationText, recordOptIn, startConversation } from '../../src/proactive/opt-in.js';
import type { JobOutcome } from '../../src/proactive/types.js';
import { fakeChannel } from '../support/fake-channel.js';
import { salonConfig, salonHours } from '../support/salon.js';

const BUSINESS = '+14155550199';

async function harness(start: string, options: { minLeadMs?: number; cap?: number; config?: object } = {}) {
  let now = Date.parse(start);
  const clock = () => new Date(now);
  const storage = memoryStorage();
  const sms = fakeChannel('sms');
  const calendar = memoryCalendar({ timeZone: 'America/Los_Angeles', hours: { ...salonHours } as never });
  const scheduler = inProcessScheduler({ clock, pollMs: 3_600_000 });
  let proactive: Proactive | undefined;
  const engine = createEngine({
    bot: createBot(salonConfig(options.config ?? {})),
    storage,
    channels: { sms },
    actions: { calendar },
    clock,
    onEffect: (e, c) => proactive!.handleEffect(e, c),
  });
  const outcomes: { lead: unknown; outcome: JobOutcome; reason?: string; at: string }[] = [];
  proactive = createProactive({
    engine,
    scheduler,
    clock,
    ...(options.minLeadMs !== undefined ? { reminderMinLeadMs: options.minLeadMs } : {}),
    ...(options.cap !== undefined ? { caps: { perContactPerDay: options.cap } } : {}),
    onOutcome: (job, outcome, reason) =>
      outcomes.push({ lead: job.payload.lead ?? job.kind, outcome, reason, at: new Date(now).toISOString() }),
  });
  await proactive.start();
  let n = 0;
  /** Texts the business recorded in answer (including replies to effect results). */
  const say = async (from: string, text: string) => {
    const key = `sms:${from}`;
    const before = new Set((await storage.listOutbox(key)).map((m) => m.id));
    await engine.handleInbound({ id: `m${n++}`, from, to: BUSINESS, text, receivedAt: clock() });
    await engine.stop(); // waits for the effects (calendar, schedule.*) of this message
    return (await storage.listOutbox(key)).filter((m) => !before.has(m.id)).map((x) => x.text);
  };
  /** Runs every job due up to `iso`, stepping the clock to each job's time. */
  const runUntil = async (iso: string) => {
    const target = Date.parse(iso);
    for (;;) {
      const next = (await scheduler.list())[0];
      if (!next || Date.parse(next.at) > target) break;
      now = Math.max(now, Date.parse(next.at));
      await scheduler.runDue();
      await engine.stop();
    }
    now = target;
  };
  const proactiveSends = () => sms.sent.filter((s) => s.id.startsWith('proactive:'));
  const book = async (phone: string, when: string) => {
    await say(phone, 'START');
    await say(phone, 'book');
    await say(phone, '1');
    await say(phone, when);
    return say(phone, 'YES');
  };
  return { engine, storage, sms, scheduler, proactive, outcomes, say, runUntil, book, proactiveSends, clock };
}

describe('booking reminders', () => {
  it('sends the 24 h and 2 h reminders at the right time; "C" confirms in the booking thread', async () => {
    const h = await harness('2026-11-24T17:00:00Z'); // Tue 09:00 Los Angeles
    expect((await h.book('+14155550100', 'tomorrow 3pm')).join(' ')).toMatch(/You are booked/);
    const jobs = await h.scheduler.list();
    expect(jobs.map((j) => [j.payload.lead, j.at])).toEqual([
      ['24h', '2026-11-24T23:00:00.000Z'],
      ['2h', '2026-11-25T21:00:00.000Z'],
    ]);
    await h.runUntil('2026-11-24T22:59:00Z');
    expect(h.proactiveSends()).toHaveLength(0);
    await h.runUntil('2026-11-25T22:00:00Z');
    expect(h.outcomes.map((o) => [o.lead, o.outcome, o.at])).toEqual([
      ['24h', 'sent', '2026-11-24T23:00:00.000Z'],
      ['2h', 'sent', '2026-11-25T21:00:00.000Z'],
    ]);
    await h.engine.dispatchOutbox();
    const texts = h.proactiveSends().map((s) => s.text);
    expect(texts[0]).toBe('Reminder: Haircut on Wed Nov 25 at 3:00 PM. Reply C to confirm, R to reschedule.');
    const outbox = await h.storage.listOutbox('sms:+14155550100');
    expect(outbox.filter((m) => m.kind === 'proactive')).toHaveLength(2);
    expect((await h.say('+14155550100', 'C')).join(' ')).toBe('Thanks, see you Wed Nov 25 at 3:00 PM!');
  });

  it('across time zones: a 7:00 LA reminder goes at once to a New York number, waits until 8:00 for an LA number', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    await h.book('+14155550100', 'tomorrow 9am'); // Wed 09:00 PST = 17:00Z; 2 h reminder due 07:00 PST
    await h.book('+12125550100', 'tomorrow 10am');
    await h.runUntil('2026-11-25T19:00:00Z');
    const la = h.outcomes.filter((o) => o.lead === '2h');
    expect(la.map((o) => [o.outcome, o.at])).toEqual([
      ['moved', '2026-11-25T15:00:00.000Z'], // 07:00 PST: quiet in LA → moved to 08:00 PST
      ['sent', '2026-11-25T16:00:00.000Z'], // 11:00 in New York: allowed, sent on time
      ['sent', '2026-11-25T16:00:00.000Z'], // the moved LA reminder at 08:00 PST
    ]);
  });

  it('the profile time zone wins over the area code', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    await h.book('+12125550100', 'tomorrow 9am');
    const key = 'sms:+12125550100';
    const stored = (await h.storage.getConversation(key))!;
    await h.storage.commit({
      key,
      expectedVersion: stored.version,
      state: { ...stored.state, profile: { ...stored.state.profile, timeZone: 'America/Los_Angeles' } },
      events: [],
      outbox: [],
    });
    await h.runUntil('2026-11-25T16:30:00Z');
    expect(h.outcomes.filter((o) => o.lead === '2h').map((o) => o.outcome)).toEqual(['moved', 'sent']);
  });

  it('drops a reminder that would be too late after quiet hours, and records why', async () => {
    const h = await harness('2026-11-24T17:00:00Z', { minLeadMs: 90 * 60_000 });
    await h.book('+14155550100', 'tomorrow 9am');
    await h.runUntil('2026-11-25T17:00:00Z');
    expect(h.outcomes.find((o) => o.lead === '2h')).toMatchObject({
      outcome: 'dropped',
      reason: 'too_late_after_quiet_hours',
    });
    const events = await h.storage.listEvents('sms:+14155550100');
    expect(events.some((e) => e.data.type === 'proactive.skipped')).toBe(true);
  });

  it('a DST change: the 2 h reminder before a Tue 9:00 visit booked in PDT moves to 8:00 PST (16:00Z)', async () => {
    const h = await harness('2026-10-31T16:00:00Z'); // Sat 09:00 PDT
    await h.book('+14155550100', 'Tue 9am'); // Tue Nov 3 09:00 PST = 17:00Z
    const jobs = await h.scheduler.list();
    expect(jobs.map((j) => j.at)).toEqual(['2026-11-02T17:00:00.000Z', '2026-11-03T15:00:00.000Z']);
    await h.runUntil('2026-11-03T17:00:00Z');
    expect(h.outcomes.map((o) => [o.lead, o.outcome, o.at])).toEqual([
      ['24h', 'sent', '2026-11-02T17:00:00.000Z'], // Mon 09:00 PST
      ['2h', 'moved', '2026-11-03T15:00:00.000Z'],
      ['2h', 'sent', '2026-11-03T16:00:00.000Z'], // 08:00 PST, not 15:00Z (which was 08:00 PDT)
    ]);
  });

  it('cancels the reminders after STOP and sends nothing', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    await h.book('+14155550100', 'tomorrow 3pm');
    await h.say('+14155550100', 'STOP');
    await h.runUntil('2026-11-26T00:00:00Z');
    await h.engine.dispatchOutbox();
    expect(h.outcomes.map((o) => [o.outcome, o.reason])).toEqual([
      ['cancelled', 'opted_out'],
      ['cancelled', 'opted_out'],
    ]);
    expect(h.proactiveSends()).toHaveLength(0);
  });

  it('a rescheduled booking cancels the old reminders and sends the new ones', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    await h.book('+14155550100', 'tomorrow 3pm');
    await h.say('+14155550100', 'R');
    await h.say('+14155550100', 'Thu 3pm');
    expect((await h.say('+14155550100', 'YES')).join(' ')).toMatch(/moved to/);
    await h.runUntil('2026-11-27T00:00:00Z');
    expect(h.outcomes.map((o) => [o.lead, o.outcome, o.reason ?? null])).toEqual([
      ['24h', 'cancelled', 'booking_rescheduled'],
      ['2h', 'cancelled', 'booking_rescheduled'],
      ['24h', 'sent', null],
      ['2h', 'sent', null],
    ]);
    await h.engine.dispatchOutbox();
    expect(h.proactiveSends().map((s) => s.text)[0]).toMatch(/Thu Nov 26 at 3:00 PM/);
  });

  it('needs recorded opt-in: a customer who booked without it gets no reminder', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    await h.say('+14155550100', 'book');
    await h.say('+14155550100', '1');
    await h.say('+14155550100', 'tomorrow 3pm');
    await h.say('+14155550100', 'YES');
    await h.runUntil('2026-11-26T00:00:00Z');
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['suppressed', 'suppressed']);
  });

  it('caps proactive messages per contact per 24 h', async () => {
    const h = await harness('2026-11-24T17:00:00Z', { cap: 1 });
    await h.say('+14155550100', 'START');
    for (const id of ['c1', 'c2']) {
      await h.proactive.schedule({
        id,
        at: '2026-11-24T18:00:00Z',
        kind: 'campaign',
        contact: '+14155550100',
        channel: 'sms',
        payload: { text: 'Holiday hours: open Sat 9-4.' },
      });
    }
    await h.runUntil('2026-11-24T19:00:00Z');
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['sent', 'capped']);
  });

  it('counts only the last 24 h for the cap, and reads only that day of the outbox', async () => {
    const h = await harness('2026-11-24T17:00:00Z', { cap: 1 });
    await h.say('+14155550100', 'START');
    const job = (id: string, at: string) =>
      h.proactive.schedule({
        id,
        at,
        kind: 'campaign',
        contact: '+14155550100',
        channel: 'sms',
        payload: { text: 'Holiday hours: open Sat 9-4.' },
      });
    await job('d1', '2026-11-24T18:00:00Z');
    await h.runUntil('2026-11-24T18:30:00Z');
    const list = vi.spyOn(h.storage, 'listOutbox');
    await job('d2', '2026-11-25T18:00:01Z'); // a day and a second later: the first no longer counts
    await h.runUntil('2026-11-25T18:30:00Z');
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['sent', 'sent']);
    expect(list).toHaveBeenCalledWith('sms:+14155550100', { createdAfter: '2026-11-24T18:00:01.000Z' });
  });
});

describe('timer events and opt-in', () => {
  it('schedule.event fires as engine.dispatch(contact, { type: event, data: payload })', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    await h.say('+14155550100', 'hi');
    await h.proactive.handleEffect(
      {
        id: 'ev1',
        type: 'schedule.event',
        threadId: 't',
        payload: {
          at: '2026-11-24T17:30:00Z',
          event: 'deposit.expired',
          paymentId: 'p1',
          contact: '+14155550100',
        },
      },
      { conversationKey: 'sms:+14155550100' },
    );
    await h.runUntil('2026-11-24T18:00:00Z');
    const events = await h.storage.listEvents('sms:+14155550100');
    expect(events.find((e) => e.data.type === 'deposit.expired')?.data.data).toMatchObject({
      paymentId: 'p1',
    });
  });

  it('recordOptIn creates the contact, records source and disclosure, and confirms with rates and HELP/STOP', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    const shown = 'Yes, text me appointment reminders. Msg & data rates may apply.';
    const { replies } = await recordOptIn(h.engine, '+13125550100', 'web_form', shown, {
      id: 'form-1',
      business: BUSINESS,
      description: 'appointment reminders',
    });
    const state = (await h.storage.getConversation('sms:+13125550100'))!.state;
    expect(state.consent).toMatchObject({ status: 'opted_in', via: 'web_form', text: shown });
    expect(replies[0]?.text).toBe(
      'Bella Salon: You are subscribed to appointment reminders. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to end.',
    );
    expect(replies[0]?.kind).toBe('proactive');
    // Idempotent on the form id.
    expect(
      (await recordOptIn(h.engine, '+13125550100', 'web_form', shown, { id: 'form-1', business: BUSINESS }))
        .replies,
    ).toEqual(replies);
    // A campaign can now start a flow; the customer's answer continues it.
    expect((await startConversation(h.engine, '+13125550100', 'booking', {}, { id: 'camp-1' })).started).toBe(
      true,
    );
    expect((await h.say('+13125550100', 'haircut')).join(' ')).toMatch(/Great, a Haircut/);
  });

  it('startConversation refuses without opt-in; recordOptIn refuses after a STOP', async () => {
    const h = await harness('2026-11-24T17:00:00Z');
    await h.say('+14155550100', 'hi');
    expect(await startConversation(h.engine, '+14155550100', 'booking', {}, { id: 'x' })).toEqual({
      started: false,
      replies: [],
    });
    await h.say('+14155550100', 'STOP');
    await expect(
      recordOptIn(h.engine, '+14155550100', 'api', 'x', { id: 'f', business: BUSINESS }),
    ).rejects.toMatchObject({ code: 'SMSFLOW_ERR_OPTED_OUT' });
  });

  it('a host-set JOIN keyword opts in with a confirmation that states program, frequency, rates, HELP/STOP', async () => {
    const text = optInConfirmationText(
      { name: 'Bella Salon', frequency: 'Up to 4 msgs/mo' },
      'appointment reminders',
    );
    const h = await harness('2026-11-24T17:00:00Z', {
      config: { complianceKeywords: { optIn: ['JOIN'] }, complianceMessages: { optIn: text } },
    });
    expect(await h.say('+14155550100', 'JOIN')).toEqual([text]);
    expect((await h.storage.getConversation('sms:+14155550100'))!.state.consent.status).toBe('opted_in');
    expect(text).toMatch(/Msg & data rates may apply.*HELP.*STOP/);
  });
});
