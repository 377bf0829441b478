// The memory action adapters driven by the real engine and the demo salon's booking flow: what `check`
// offers is what the flow offers, and a retried effect never books twice.
import { describe, expect, it } from 'vitest';
import { memoryCalendar, memoryNotifier } from '../../../src/adapters/actions/memory.js';
import { memoryStorage } from '../../../src/adapters/storage/memory.js';
import { createEngine } from '../../../src/engine/engine.js';
import { fakeChannel } from '../../support/fake-channel.js';
import { salonBot, salonHours } from '../../support/salon.js';

const PHONE = '+14155550100';
const NOW = Date.parse('2026-11-24T17:00:00Z'); // Tue 09:00 in Los Angeles
const inbound = (id: string, text: string) => ({
  id,
  from: PHONE,
  to: '+14155550199',
  text,
  receivedAt: new Date(NOW).toISOString(),
  provider: 'twilio',
});

describe('memory actions in the engine', () => {
  it('a taken slot is answered with the calendar alternatives, and picking one books it', async () => {
    const calendar = memoryCalendar({
      timeZone: 'America/Los_Angeles',
      hours: { ...salonHours } as never,
      busy: [{ start: '2026-11-25T15:00:00-08:00', durationMinutes: 60 }],
    });
    const notify = memoryNotifier();
    const engine = createEngine({
      bot: salonBot(),
      storage: memoryStorage(),
      channels: { sms: fakeChannel('sms') },
      actions: { calendar, notify },
      clock: () => new Date(NOW),
    });
    await engine.handleInbound(inbound('1', 'book'));
    await engine.handleInbound(inbound('2', '1')); // haircut, 45 min
    await engine.handleInbound(inbound('3', 'tomorrow 3pm'));
    await engine.stop();
    const texts: string[] = [];
    const offer = await engine.handleInbound(inbound('4', '2'));
    texts.push(...offer.replies.map((r) => r.text));
    await engine.handleInbound(inbound('5', 'yes'));
    await engine.stop();
    // 15:00–16:00 is busy, so the calendar offered 16:00 and 16:30; "2" picked 16:30.
    expect(calendar.bookings()).toEqual([
      expect.objectContaining({ start: '2026-11-25T16:30:00-08:00', durationMinutes: 45, status: 'booked' }),
    ]);
    expect(texts.join(' ')).toMatch(/4:30/);
  });
});
