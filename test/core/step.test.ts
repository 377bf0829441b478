import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSmsflowError } from '../../src/core/errors.js';
import type { ConversationState, StepResult } from '../../src/core/types.js';
import { conversation } from '../../src/testing/conversation.js';
import { salonBot } from '../support/salon.js';

const bot = salonBot();
const msg = (id: string, text: string, minute = 0) => ({
  id,
  from: '+14155550100',
  to: '+14155550199',
  text,
  receivedAt: new Date(Date.UTC(2026, 10, 24, 17, minute)).toISOString(),
});

describe('step: compliance before any flow', () => {
  it('sends exactly one opt-out confirmation, then nothing until START', () => {
    const c = conversation(bot)
      .user('book')
      .expectReply(/Which service/);
    c.user('STOP')
      .expectReply(/Bella Salon: You are unsubscribed/)
      .expectReply(/Reply START/);
    expect(c.lastReplies).toHaveLength(1);
    expect(c.lastReplies[0]?.kind).toBe('compliance');
    expect(c.state?.consent).toMatchObject({
      status: 'opted_out',
      via: 'keyword',
      messageId: 'msg-2',
      text: 'STOP',
    });
    c.user('1')
      .expectNoReply()
      .user('stop')
      .expectNoReply()
      .user('HELP')
      .expectNoReply()
      .user('hello?')
      .expectNoReply();
    c.user('START')
      .expectReply(/subscribed again/)
      .expectReply(/Msg & data rates may apply/);
    expect(c.state?.consent.status).toBe('opted_in');
    c.user('1').expectReply(/What day and time/);
  });

  it('treats natural opt-outs as opt-outs and cancellations of bookings as bookings', () => {
    conversation(bot)
      .user('please stop texting me')
      .expectReply(/unsubscribed/);
    conversation(bot)
      .user('can I cancel my appointment')
      .expectReply(/could not find an upcoming booking/);
  });

  it('answers HELP with program, contact, frequency, rates and opt-out, mid-flow, without moving the flow', () => {
    const c = conversation(bot).user('book').user('1').user('HELP');
    c.expectReply(/Bella Salon/)
      .expectReply(/call 415-555-0199/)
      .expectReply(/Msg frequency varies/)
      .expectReply(/Msg & data rates may apply/)
      .expectReply(/STOP/);
    c.expectState('askTime')
      .user('tomorrow 3pm')
      .expectReply(/Reply YES/);
  });

  it('re-opts in with YES only when opted out; otherwise YES is an answer', () => {
    conversation(bot)
      .user('STOP')
      .user('yes')
      .expectReply(/subscribed again/);
    conversation(bot)
      .user('book')
      .user('1')
      .user('tomorrow 3pm')
      .user('YES')
      .expectReply(/You are booked/);
  });

  it('drops flow replies caused by effects after an opt-out', () => {
    const c = conversation(bot, { effects: () => undefined })
      .user('book')
      .user('1')
      .user('tomorrow 3pm')
      .expectEffect('calendar.check');
    const effect = c.lastEffects[0]!;
    c.user('STOP');
    const r = bot.step(c.state, {
      kind: 'event',
      id: 'late-result',
      type: 'effect.result',
      at: '2026-11-24T17:30:00Z',
      data: {
        effectId: effect.id,
        effect: effect.type,
        threadId: effect.threadId,
        ok: true,
        data: { available: true },
      },
    });
    expect(r.replies).toEqual([]);
    expect(r.events.some((e) => e.type === 'suppressed')).toBe(true);
  });

  it('records a provider-reported opt-out without replying', () => {
    const c = conversation(bot).user('book').event('consent.opted_out');
    c.expectNoReply();
    expect(c.state?.consent).toMatchObject({ status: 'opted_out', via: 'provider' });
    c.user('1').expectNoReply();
  });
});

describe('step: purity and persistence', () => {
  it('is deterministic: the same inputs give deep-equal outputs', () => {
    const run = () => {
      let state: ConversationState | undefined;
      const results: StepResult[] = [];
      for (const [i, text] of ['book', '1', 'tomorrow 3pm'].entries()) {
        const r = bot.step(state, msg(`m${i}`, text, i));
        state = r.state;
        results.push(r);
      }
      return results;
    };
    expect(run()).toEqual(run());
  });

  it('continues exactly the same from a JSON round-trip of the state', () => {
    const a = bot.step(undefined, msg('m1', 'book'));
    const b = bot.step(a.state, msg('m2', '1', 1));
    const viaJson = bot.step(JSON.parse(JSON.stringify(b.state)), msg('m3', 'tomorrow 3pm', 2));
    const direct = bot.step(b.state, msg('m3', 'tomorrow 3pm', 2));
    expect(viaJson).toEqual(direct);
    expect(JSON.parse(JSON.stringify(direct.state))).toEqual(direct.state);
  });

  it('restoring a state never re-emits earlier replies or effects', () => {
    const a = bot.step(undefined, msg('m1', 'book'));
    const b = bot.step(a.state, msg('m2', '1', 1));
    const c = bot.step(JSON.parse(JSON.stringify(b.state)), {
      kind: 'event',
      id: 'noop',
      type: 'unrelated.event',
      at: '2026-11-24T17:05:00Z',
    });
    expect(c.replies).toEqual([]);
    expect(c.effects).toEqual([]);
  });

  it('derives ids from the input id', () => {
    const r = bot.step(undefined, msg('SM123', 'book'));
    expect(r.replies.map((x) => x.id)).toEqual(['SM123:r0']);
    expect(r.state.thread.id).toBe('SM123:th');
    expect(r.events.every((e) => e.id.startsWith('SM123:t'))).toBe(true);
  });

  it('carries encoding and segment count on every reply', () => {
    const r = bot.step(undefined, msg('m1', 'book'));
    expect(r.replies[0]).toMatchObject({
      encoding: 'GSM-7',
      segments: 1,
      to: '+14155550100',
      from: '+14155550199',
      channel: 'sms',
    });
  });

  it('normalises numbers and rejects invalid ones with a coded error', () => {
    const r = bot.step(undefined, { ...msg('m1', 'hi'), from: '(415) 555-0100' });
    expect(r.state.contact.phone).toBe('+14155550100');
    let error: unknown;
    try {
      bot.step(undefined, { ...msg('m1', 'hi'), from: 'not a phone' });
    } catch (e) {
      error = e;
    }
    expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_PHONE')).toBe(true);
    expect(String((error as Error).message)).toContain('not a phone');
  });

  it('rejects a message that is not a message with every problem listed', () => {
    try {
      bot.step(undefined, { id: '', from: '+14155550100', to: '', text: 'x', receivedAt: 'yesterday' });
      expect.unreachable();
    } catch (e) {
      expect(isSmsflowError(e, 'SMSFLOW_ERR_INVALID_MESSAGE')).toBe(true);
      expect((e as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
        'id',
        'receivedAt',
        'to',
      ]);
    }
  });

  it('starts a new thread after the idle TTL and carries consent and profile over', () => {
    const c = conversation(bot).user('book').user('1').user('tomorrow 3pm').user('yes');
    const firstThread = c.state!.thread.id;
    c.user('hi again', 60 * 24 * 8).expectReply(/Which service/);
    expect(c.state!.thread.id).not.toBe(firstThread);
    expect(c.state!.profile.booking).toBeTruthy();
  });
});

describe('step: property', () => {
  it('never throws on any text, any length up to 5,000, in any order; same inputs → same outputs', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 200 }),
            fc.string({ maxLength: 5000 }),
            fc.constantFrom('STOP', 'START', 'HELP', 'book', '1', 'yes', 'tomorrow 3pm', 'HUMAN', 'R', 'X'),
          ),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (texts) => {
          const run = () => {
            let state: ConversationState | undefined;
            const out: StepResult[] = [];
            texts.forEach((text, i) => {
              const r = bot.step(state, msg(`p${i}`, text, i));
              state = JSON.parse(JSON.stringify(r.state));
              out.push(r);
            });
            return out;
          };
          expect(run()).toEqual(run());
        },
      ),
      { numRuns: 150 },
    );
  });
});
