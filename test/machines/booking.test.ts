import { describe, expect, it } from 'vitest';
import { bookingFlow } from '../../machines/booking.js';
import { conversation } from '../../src/testing/conversation.js';
import { salonBot, salonServices } from '../support/salon.js';

// 2026-11-24T17:00:00Z is Tuesday 09:00 in Los Angeles; the salon is open Tue–Sat.
const bot = salonBot();

describe('booking flow: happy path', () => {
  it('books in four messages and repeats the slot back', () => {
    const c = conversation(bot)
      .user('Hi, I would like to book')
      .expectReply(/Which service/)
      .expectReply(/1 Haircut, 2 Color, 3 Blowout/)
      .user('1')
      .expectReply(/What day and time/)
      .user('tomorrow 3pm')
      .expectEffect('calendar.check')
      .expectReply(/Haircut on Wed Nov 25 at 3:00 PM/)
      .user('yes')
      .expectEffect('calendar.book')
      .expectReply(/You are booked: Haircut on Wed Nov 25 at 3:00 PM/);
    expect(c.transcript.filter((l) => l.who === 'user')).toHaveLength(4);
    expect(c.state?.thread.machine.status).toBe('done');
    expect(c.state?.profile.booking).toMatchObject({
      service: 'haircut',
      start: '2026-11-25T15:00:00-08:00',
    });
  });

  it('accepts a service by name and skips the menu', () => {
    conversation(bot)
      .user('can I book a trim')
      .expectReply(/a Haircut. What day and time/);
  });

  it('accepts "Fri 10:30am", "12/3 at 2" and ISO dates', () => {
    for (const [text, label] of [
      ['Fri 10:30am', /Fri Nov 27 at 10:30 AM/],
      ['12/3 at 2', /Thu Dec 3 at 2:00 PM/],
      ['2026-12-03 14:00', /Thu Dec 3 at 2:00 PM/],
    ] as const) {
      conversation(bot).user('book').user('2').user(text).expectReply(label);
    }
  });

  it('asks for a time when only a day is given', () => {
    conversation(bot)
      .user('book')
      .user('1')
      .user('Friday')
      .expectReply(/What time on/)
      .expectState('askTime');
  });
});

describe('booking flow: refusals and retries', () => {
  it('refuses a past time and hours outside business hours with a helpful reply', () => {
    conversation(bot)
      .user('book')
      .user('1')
      .user('today 8am')
      .expectReply(/already passed/)
      .user('tomorrow 8pm')
      .expectReply(/We are open/)
      .user('Sunday 11am')
      // The third failed answer to the same question goes to a person.
      .expectReply(/getting a person/);
    conversation(bot)
      .user('book')
      .user('1')
      .user('Sunday 11am')
      .expectReply(/We are open Tue-Fri/);
  });

  it('escalates after the third failed answer to one question', () => {
    conversation(bot)
      .user('book')
      .user('purple')
      .expectReply(/reply with a number/i)
      .user('banana')
      .expectReply(/reply with a number/i)
      .user('whatever')
      .expectReply(/getting a person/)
      .expectHandoff('waiting', 'retries_exhausted')
      .user('hello?')
      .expectNoReply();
  });

  it('offers alternatives when the slot is taken', () => {
    conversation(bot, {
      effects: (e) =>
        e.type === 'calendar.check'
          ? {
              ok: true,
              data: {
                available: false,
                alternatives: ['2026-11-25T16:00:00-08:00', '2026-11-25T17:00:00-08:00'],
              },
            }
          : { ok: true, data: { bookingId: 'b-1' } },
    })
      .user('book')
      .user('1')
      .user('tomorrow 3pm')
      .expectReply(/is taken. Reply 1 for Wed Nov 25 at 4:00 PM, 2 for Wed Nov 25 at 5:00 PM/)
      .user('2')
      .expectReply(/Haircut on Wed Nov 25 at 5:00 PM. Reply YES/)
      .user('yes')
      .expectReply(/You are booked/);
  });

  it('answers a failed booking honestly and hands over', () => {
    conversation(bot, {
      effects: (e) =>
        e.type === 'calendar.book'
          ? { ok: false, data: { error: 'timeout' } }
          : { ok: true, data: { available: true } },
    })
      .user('book')
      .user('1')
      .user('tomorrow 3pm')
      .user('yes')
      .expectReply(/booking system is not answering/)
      .expectHandoff('waiting', 'effect_failed');
  });

  it('says NO at the confirmation and picks another time', () => {
    conversation(bot)
      .user('book')
      .user('1')
      .user('tomorrow 3pm')
      .user('no')
      .expectReply(/What day and time/)
      .expectState('askTime');
  });
});

describe('booking flow: reschedule and cancel', () => {
  const booked = () => {
    const c = conversation(bot, {
      effects: (e) => ({
        ok: true,
        data: e.type === 'calendar.book' ? { bookingId: 'bk-7' } : { available: true },
      }),
    });
    c.user('book')
      .user('1')
      .user('tomorrow 3pm')
      .user('yes')
      .expectReply(/You are booked/);
    return c;
  };

  it('reschedules an existing booking', () => {
    booked()
      .user('R')
      .expectReply(/Your Haircut is on Wed Nov 25 at 3:00 PM. What new day/)
      .user('Thu 11am')
      .expectReply(/Haircut on Thu Nov 26 at 11:00 AM. Reply YES/)
      .user('yes')
      .expectEffect('calendar.reschedule')
      .expectReply(/moved to Thu Nov 26 at 11:00 AM/);
  });

  it('cancels an existing booking after a confirmation', () => {
    const c = booked()
      .user('X')
      .expectReply(/Cancel your Haircut on Wed Nov 25 at 3:00 PM\? Reply YES/)
      .user('yes');
    c.expectEffect('calendar.cancel').expectReply(/is cancelled/);
    expect(c.state?.profile.booking).toBeNull();
  });

  it('keeps the booking when the customer says no', () => {
    booked()
      .user('X')
      .user('no')
      .expectReply(/stays booked/);
  });

  it('offers to book when there is nothing to reschedule', () => {
    conversation(bot)
      .user('R')
      .expectReply(/could not find an upcoming booking/)
      .user('yes')
      .expectReply(/Which service/);
  });
});

describe('booking flow: handoff', () => {
  it('hands over at any point when the customer asks for a person', () => {
    conversation(bot)
      .user('book')
      .user('1')
      .user('can I talk to a real person please')
      .expectReply(/getting a person/)
      .expectHandoff('waiting', 'requested');
  });

  it('asks the pending question again when an agent hands the thread back', () => {
    conversation(bot)
      .user('book')
      .user('1')
      .user('HUMAN')
      .expectHandoff('waiting')
      .event('agent.release')
      .expectHandoff('bot')
      .expectReply(/What day and time/)
      .user('tomorrow 3pm')
      .expectReply(/Reply YES to book/);
  });
});

describe('booking flow: deposits', () => {
  const depositBot = salonBot({
    flows: [
      bookingFlow({
        services: [{ ...salonServices[1]!, depositCents: 2500 }],
        hours: { 2: ['09:00', '18:00'], 3: ['09:00', '18:00'] },
        depositHoldMinutes: 30,
      }),
    ],
  });
  const answer = (e: { type: string }) =>
    e.type === 'payments.createLink'
      ? { ok: true, data: { paymentId: 'pay-1', url: 'https://pay.example.com/p/1' } }
      : e.type === 'calendar.book'
        ? { ok: true, data: { bookingId: 'bk-9' } }
        : e.type === 'calendar.check'
          ? { ok: true, data: { available: true } }
          : undefined;

  it('confirms only when the payment event arrives', () => {
    conversation(depositBot, { effects: answer })
      .user('book color')
      .user('tomorrow 10am')
      .user('yes')
      .expectEffect('payments.createLink')
      .expectReply(/\$25 deposit holds Wed Nov 25 at 10:00 AM/)
      .event('payment.confirmed', { paymentId: 'pay-1' })
      .expectEffect('calendar.book')
      .expectReply(/Deposit received/);
  });

  it('releases the slot when no payment arrives in time', () => {
    conversation(depositBot, { effects: answer })
      .user('book color')
      .user('tomorrow 10am')
      .user('yes')
      .event('deposit.expired', { paymentId: 'pay-1' }, 31)
      .expectReply(/slot is released/)
      .expectEffect('payments.cancel');
  });
});
