import { describe, expect, it } from 'vitest';
import { callbackFlow } from '../../examples/custom-flow/callback-flow.js';
import { bookingFlow } from '../../machines/booking.js';
import { createBot } from '../../src/core/bot.js';
import { measureSegments } from '../../src/core/segments.js';
import { conversation } from '../../src/testing/conversation.js';
import { salonConfig, salonHours, salonServices } from '../support/salon.js';

const bot = createBot({
  ...salonConfig(),
  flows: [
    bookingFlow({ services: salonServices, hours: { ...salonHours } as never }),
    callbackFlow({ team: 'Bella Salon' }),
  ],
});

describe('docs/writing-a-flow.md: the callback flow', () => {
  it('runs the documented conversation', () => {
    const c = conversation(bot)
      .user('can you call me back?')
      .expectReply(/1 morning, 2 afternoon or 3 evening/)
      .user('tonight maybe')
      .expectReply(/Please reply 1 for morning/)
      .user('3')
      .expectReply('Thanks! Someone from Bella Salon will call you in the evening.')
      .expectEffect('notify.team');
    expect(c.state?.thread.flow).toBe('callback');
  });

  it('escalates after three unclear answers, and the keyword CALL starts it', () => {
    conversation(bot)
      .user('CALL')
      .user('?')
      .user('??')
      .user('???')
      .expectHandoff('waiting', 'retries_exhausted');
  });

  it('keeps every reply GSM-7 in one segment', () => {
    for (const text of Object.values(callbackFlow({ team: 'Bella Salon' }).messages)) {
      const m = measureSegments(text.replace(/\{\w+\}/g, 'afternoon'));
      expect(m.encoding).toBe('GSM-7');
      expect(m.segments).toBe(1);
    }
  });
});
