import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { salonConfig as hostSalonConfig } from '../../examples/server/salon.js';
import type { LlmAdapter } from '../../src/adapters/llm/types.js';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { createBot } from '../../src/core/bot.js';
import { createEngine } from '../../src/engine/engine.js';
import { conversation } from '../../src/testing/conversation.js';

// The host app's salon: booking, lead qualification and FAQ together.
const bot = createBot(hostSalonConfig());
const corpus = JSON.parse(readFileSync('test/fixtures/injection-corpus.json', 'utf8')) as {
  messages: { text: string }[];
};
const at = '2026-11-24T17:00:00.000Z';

/** A model that obeys whatever the message tells it: it answers admin intents, state names, or "book". */
const gullible: LlmAdapter = {
  name: 'gullible',
  async classify(text) {
    const intent = /admin|system|developer/i.test(text)
      ? 'admin_mode'
      : /free|price|\$0/i.test(text)
        ? 'free_booking'
        : 'booked';
    return {
      intent,
      confidence: 1,
      trace: { model: 'gullible', latencyMs: 1, outcome: 'ok', maskedInput: text },
    };
  },
  async extract() {
    return { value: null, trace: { model: 'gullible', latencyMs: 1, outcome: 'ok', maskedInput: '' } };
  },
};

describe('prompt injection through the engine', () => {
  it(`never moves a conversation beyond what the same text does with the model off (${corpus.messages.length} messages)`, async () => {
    expect(corpus.messages.length).toBeGreaterThanOrEqual(30);
    for (const [i, { text }] of corpus.messages.entries()) {
      const storage = memoryStorage();
      const engine = createEngine({ bot, storage, llm: gullible, clock: () => new Date(at) });
      const message = { id: `inj-${i}`, from: '+14155550100', to: '+14155550199', text, receivedAt: at };
      const withModel = await engine.handleInbound(message);
      const withoutModel = bot.step(undefined, message);
      const state = (await storage.getConversation('sms:+14155550100'))!.state;
      expect({
        text,
        flow: state.thread.flow,
        value: state.thread.machine.value,
        handoff: state.thread.handoff.status,
      }).toEqual({
        text,
        flow: withoutModel.state.thread.flow,
        value: withoutModel.state.thread.machine.value,
        handoff: withoutModel.state.thread.handoff.status,
      });
      expect(withModel.replies.map((r) => r.text)).toEqual(withoutModel.replies.map((r) => r.text));
    }
  });
});

describe('digressions between all three flows', () => {
  it('answers an FAQ in the middle of lead qualification and asks the pending question again', () => {
    const c = conversation(bot)
      .user('I need a quote for wedding hair for 5 people')
      .user('bridal party of five');
    const pendingQuestion = c.lastReplies.at(-1)!.text; // the budget question
    const before = c.state!.thread;
    c.user('where can I park?').expectReply(/parking/i);
    expect(c.lastReplies.map((r) => r.text)).toEqual([expect.stringMatching(/parking/i), pendingQuestion]);
    expect(c.state!.thread.flow).toBe('lead');
    expect(c.state!.thread.machine).toEqual(before.machine);
  });

  it('answers an FAQ in the middle of a booking, leaving the booking where it was', () => {
    const c = conversation(bot).user('I would like to book').user('1');
    const before = c.state!.thread.machine;
    c.user('do you take credit cards?')
      .expectReply(/credit cards/)
      .expectReply(/What day and time/);
    expect(c.state!.thread.machine).toEqual(before);
    c.user('tomorrow 3pm').expectReply(/Reply YES to book/);
  });
});
