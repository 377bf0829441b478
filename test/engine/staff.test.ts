import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { createEngine } from '../../src/engine/engine.js';
import { parseStaffCommand } from '../../src/engine/staff.js';
import { salonBot } from '../support/salon.js';

const STAFF = '(415) 555-0142';
let ms = Date.parse('2026-11-24T17:00:00Z');
const clock = () => new Date(ms);
const text = (id: string, from: string, body: string) => ({
  id,
  from,
  to: '+14155550199',
  text: body,
  receivedAt: new Date(ms).toISOString(),
});

function setup() {
  const storage = memoryStorage();
  const calendar = {
    name: 'test',
    check: async () => ({ available: true }),
    book: async () => ({ bookingId: 'bk-1' }),
    reschedule: async () => ({ bookingId: 'bk-1' }),
    cancel: async () => ({ cancelled: true }),
  };
  const engine = createEngine({
    bot: salonBot(),
    storage,
    clock,
    staffNumbers: [STAFF],
    actions: { calendar },
  });
  return { engine, storage };
}

describe('staff commands', () => {
  it('parses whole-message commands only', () => {
    expect(parseStaffCommand(' status. ')).toBe('STATUS');
    expect(parseStaffCommand('Waiting!')).toBe('WAITING');
    expect(parseStaffCommand('what is the status of my booking')).toBeNull();
  });

  it('STATUS counts today’s bookings and who waits for a person', async () => {
    const { engine } = setup();
    for (const [i, body] of ['book', '1', 'tomorrow 3pm', 'yes'].entries()) {
      // syncReply waits for the calendar effects, so each answer lands after the previous result.
      await engine.handleInbound(text(`a${i}`, '+14155550100', body), { syncReply: true });
    }
    await engine.handleInbound(text('b0', '+14155550101', 'HUMAN'));
    await engine.stop();
    ms += 86_400_000; // the booking is tomorrow: move to that day
    const r = await engine.handleInbound(text('s1', STAFF, 'STATUS'));
    expect(r.replies.map((x) => x.text)).toEqual(['Today: 1 booking, 1 waiting for a person.']);
  });

  it('WAITING lists the longest-waiting conversations with masked numbers and reasons', async () => {
    const { engine } = setup();
    await engine.handleInbound(text('b0', '+14155550101', 'HUMAN'));
    ms += 10 * 60_000;
    const r = await engine.handleInbound(text('s1', STAFF, 'waiting'));
    expect(r.replies[0]?.text).toBe('Waiting longest: +1415***0101 requested 10 min');
  });

  it('PAUSE sends new conversations to a person with a reply; RESUME turns the bot back on', async () => {
    const { engine, storage } = setup();
    await engine.handleInbound(text('c0', '+14155550100', 'book')); // an ongoing conversation
    expect((await engine.handleInbound(text('s1', STAFF, 'PAUSE'))).replies[0]?.text).toMatch(/Bot paused/);
    const fresh = await engine.handleInbound(text('n0', '+14155550177', 'book'));
    expect(fresh.replies.map((x) => x.text)).toEqual([expect.stringMatching(/getting a person/)]);
    expect((await storage.getConversation('sms:+14155550177'))?.state.thread.handoff).toMatchObject({
      status: 'waiting',
      reason: 'paused',
    });
    // The ongoing conversation carries on with the bot.
    expect((await engine.handleInbound(text('c1', '+14155550100', '1'))).replies[0]?.text).toMatch(
      /What day and time/,
    );
    await engine.handleInbound(text('s2', STAFF, 'RESUME'));
    expect((await engine.handleInbound(text('n1', '+14155550178', 'book'))).replies[0]?.text).toMatch(
      /Which service/,
    );
  });

  it('treats anyone else texting STATUS as a customer', async () => {
    const { engine } = setup();
    const r = await engine.handleInbound(text('x', '+14155550100', 'STATUS'));
    expect(r.replies[0]?.text).not.toMatch(/Today:/);
  });

  it('keeps compliance first for staff too', async () => {
    const { engine } = setup();
    const r = await engine.handleInbound(text('s', STAFF, 'STOP'));
    expect(r.replies[0]?.text).toMatch(/unsubscribed/);
  });
});
