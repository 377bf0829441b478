import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { createEngine } from '../../src/engine/engine.js';
import { recordOptIn } from '../../src/proactive/opt-in.js';
import { conversation } from '../../src/testing/conversation.js';
import { salonBot } from '../support/salon.js';

describe('double opt-in', () => {
  const bot = salonBot({ doubleOptIn: true, complianceKeywords: { optIn: ['JOIN'] } });

  it('asks for YES after JOIN and records consent only at the YES', () => {
    const c = conversation(bot).user('JOIN');
    c.expectReply(/Reply YES to confirm/)
      .expectReply(/Msg & data rates may apply/)
      .expectReply(/STOP/);
    expect(c.state?.consent.status).toBe('unknown');
    expect(c.state?.consent.pendingSince).toBeTruthy();
    c.user('yes').expectReply(/subscribed again|subscribed/);
    expect(c.state?.consent).toMatchObject({ status: 'opted_in', via: 'keyword', text: 'yes' });
  });

  it('STOP while pending ends it, and a later YES does not subscribe', () => {
    const c = conversation(bot)
      .user('JOIN')
      .user('STOP')
      .expectReply(/unsubscribed/);
    c.user('yes').expectReply(/subscribed/); // YES after STOP is the carrier re-subscribe keyword
    expect(c.state?.consent.status).toBe('opted_in');
  });

  it('without doubleOptIn, JOIN subscribes at once', () => {
    const c = conversation(salonBot({ complianceKeywords: { optIn: ['JOIN'] } })).user('JOIN');
    c.expectReply(/subscribed/);
    expect(c.state?.consent.status).toBe('opted_in');
  });

  it('a web form with double: true texts the request; the YES reply records consent', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ bot, storage });
    const { replies } = await recordOptIn(engine, '+14155550100', 'web_form', 'Text me reminders', {
      id: 'form-1',
      business: '+14155550199',
      double: true,
    });
    expect(replies.map((r) => r.text)).toEqual([expect.stringMatching(/Reply YES to confirm/)]);
    expect((await storage.getConversation('sms:+14155550100'))?.state.consent.status).toBe('unknown');
    await engine.handleInbound({
      id: 'y1',
      from: '+14155550100',
      to: '+14155550199',
      text: 'YES',
      receivedAt: new Date(),
    });
    expect((await storage.getConversation('sms:+14155550100'))?.state.consent.status).toBe('opted_in');
  });
});
