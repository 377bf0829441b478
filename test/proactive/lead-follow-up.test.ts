import { describe, expect, it } from 'vitest';
import { bookingFlow } from '../../machines/booking.js';
import { leadQualificationFlow } from '../../machines/lead-qualification.js';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { createBot } from '../../src/core/bot.js';
import { createEngine } from '../../src/engine/engine.js';
import { createProactive, type Proactive } from '../../src/proactive/coordinator.js';
import { inProcessScheduler } from '../../src/proactive/in-process.js';
import type { JobOutcome } from '../../src/proactive/types.js';
import { salonConfig, salonHours, salonServices } from '../support/salon.js';

const LEAD = '+14155550100';

async function harness() {
  let now = Date.parse('2026-11-24T18:00:00Z'); // Tue 10:00 in Los Angeles
  const clock = () => new Date(now);
  const storage = memoryStorage();
  const scheduler = inProcessScheduler({ clock, pollMs: 3_600_000 });
  let proactive: Proactive | undefined;
  const bot = createBot({
    ...salonConfig(),
    flows: [
      bookingFlow({ services: salonServices, hours: { ...salonHours } as never }),
      leadQualificationFlow(),
    ],
  });
  const engine = createEngine({
    bot,
    storage,
    clock,
    onEffect: (e, c) => proactive!.handleEffect(e, c),
  });
  const outcomes: { outcome: JobOutcome; reason?: string }[] = [];
  proactive = createProactive({
    engine,
    scheduler,
    clock,
    onOutcome: (_job, outcome, reason) => outcomes.push({ outcome, ...(reason ? { reason } : {}) }),
  });
  await proactive.start();
  let n = 0;
  const say = async (text: string, afterMinutes = 1) => {
    now += afterMinutes * 60_000;
    await engine.handleInbound({ id: `m${n++}`, from: LEAD, to: '+14155550199', text, receivedAt: clock() });
    await engine.stop();
  };
  const advanceHours = async (hours: number) => {
    const target = now + hours * 3_600_000;
    for (;;) {
      const next = (await scheduler.list())[0];
      if (!next || Date.parse(next.at) > target) break;
      now = Math.max(now, Date.parse(next.at));
      await scheduler.runDue();
      await engine.stop();
    }
    now = target;
  };
  // What the outbox holds for the lead (the dispatcher is not running in this harness).
  const followUps = async () =>
    (await storage.listOutbox(`sms:${LEAD}`)).filter(
      (m) => m.kind === 'proactive' && /Still interested/.test(m.text),
    );
  return { say, advanceHours, followUps, outcomes };
}

describe('lead qualification follow-up', () => {
  it('sends one follow-up when an opted-in lead goes quiet mid-flow', async () => {
    const h = await harness();
    await h.say('START'); // recorded opt-in: proactive texts are allowed
    await h.say('I need a quote for wedding hair for 5 people');
    await h.say('bridal party of five'); // now at the budget question
    await h.advanceHours(25);
    expect(await h.followUps()).toHaveLength(1);
    // The earlier question's follow-up was dropped because the lead answered it.
    expect(h.outcomes).toContainEqual({ outcome: 'cancelled', reason: 'replied' });
  });

  it('sends nothing when the lead keeps answering', async () => {
    const h = await harness();
    await h.say('START');
    await h.say('I need a quote for wedding hair for 5 people');
    await h.say('bridal party of five', 60);
    await h.say('2', 60 * 23);
    await h.advanceHours(1);
    expect(await h.followUps()).toHaveLength(0);
  });

  it('sends nothing without recorded opt-in', async () => {
    const h = await harness();
    await h.say('I need a quote for wedding hair for 5 people');
    await h.advanceHours(25);
    expect(await h.followUps()).toHaveLength(0);
    expect(h.outcomes).toContainEqual({ outcome: 'suppressed', reason: 'no_opt_in' });
  });
});
