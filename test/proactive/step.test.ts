// step's proactive events, pure: proactive.message needs opt-in, proactive.skipped only records.
import { describe, expect, it } from 'vitest';
import type { ConversationState } from '../../src/core/types.js';
import { salonBot } from '../support/salon.js';

const bot = salonBot();
const AT = '2026-11-24T17:00:00.000Z';
function stateWith(status: 'unknown' | 'opted_in' | 'opted_out'): ConversationState {
  const { state } = bot.step(undefined, {
    id: 'm1',
    from: '+14155550100',
    to: '+14155550199',
    text: 'hi',
    receivedAt: AT,
  });
  return { ...state, consent: { status } };
}
const message = {
  kind: 'event' as const,
  id: 'proactive:j1',
  type: 'proactive.message',
  at: AT,
  data: { text: 'Reminder', kind: 'reminder', jobId: 'j1' },
};

describe('step: proactive events', () => {
  it('sends a proactive message as kind "proactive" when opted in', () => {
    const r = bot.step(stateWith('opted_in'), message);
    expect(r.replies).toEqual([
      expect.objectContaining({ text: 'Reminder', kind: 'proactive', id: 'proactive:j1:r0' }),
    ]);
  });

  it.each(['unknown', 'opted_out'] as const)(
    'suppresses it when consent is %s, and records why',
    (status) => {
      const r = bot.step(stateWith(status), message);
      expect(r.replies).toEqual([]);
      expect(r.events.find((e) => e.type === 'suppressed')?.data.reason).toBe(
        status === 'unknown' ? 'no_opt_in' : 'opted_out',
      );
    },
  );

  it('proactive.skipped records the event and leaves the thread untouched', () => {
    const before = stateWith('opted_in');
    const r = bot.step(before, {
      kind: 'event',
      id: 's1',
      type: 'proactive.skipped',
      at: '2026-11-30T00:00:00Z',
      data: { reason: 'too_late' },
    });
    expect(r.replies).toEqual([]);
    expect(r.state.thread).toEqual(before.thread);
    expect(r.events.map((e) => e.type)).toEqual(['event']);
  });

  it('proactive.start starts the flow with replies of kind "proactive"; refuses an unknown flow', () => {
    const r = bot.step(stateWith('opted_in'), {
      kind: 'event',
      id: 'st1',
      type: 'proactive.start',
      at: AT,
      data: { flow: 'booking', fields: {} },
    });
    expect(r.state.thread.flow).toBe('booking');
    expect(r.state.thread.id).toBe('st1:th');
    expect(() =>
      bot.step(stateWith('opted_in'), {
        kind: 'event',
        id: 'st2',
        type: 'proactive.start',
        at: AT,
        data: { flow: 'nope' },
      }),
    ).toThrow(/"nope"/);
  });
});
