import { describe, expect, it } from 'vitest';
import { createBot } from '../../src/core/bot.js';
import { measureSegments } from '../../src/core/segments.js';
import { salonConfig } from '../support/salon.js';

// Every template of every flow stays within its segment budget (1 unless the flow declares more), with
// placeholders filled by realistic long values, so a wording change that tips a reply into 2 segments or
// into UCS-2 fails here.
const sample: Record<string, string> = {
  menu: '1 Haircut, 2 Color, 3 Blowout',
  service: 'Blowout',
  slot: 'Wed Nov 25 at 10:30 AM',
  alt1: 'Wed Nov 25 at 10:30 AM',
  alt2: 'Thu Nov 26 at 11:30 AM',
  day: '2026-11-27',
  hours: 'Tue-Fri 9:00 AM-6:00 PM, Sat 9:00 AM-4:00 PM',
  days: '90',
  amount: '$25',
  url: 'https://pay.example.com/p/abc123',
  minutes: '30',
};

describe('segment lint', () => {
  const config = salonConfig();
  for (const flow of config.flows) {
    for (const [key, template] of Object.entries(flow.messages)) {
      it(`${flow.id}.${key} fits its budget in GSM-7`, () => {
        const text = String(template).replace(
          /\{(\w+)\}/g,
          (_, name: string) => sample[name] ?? 'x'.repeat(10),
        );
        const budget = flow.segmentBudgets?.[key] ?? flow.segmentBudget ?? 1;
        const m = measureSegments(text);
        expect(m.encoding, text).toBe('GSM-7');
        expect(m.segments, text).toBeLessThanOrEqual(budget);
      });
    }
  }

  it('compliance replies (STOP, START, HELP) stay GSM-7 and within 2 segments', () => {
    const bot = createBot(config);
    const at = '2026-11-24T17:00:00Z';
    const base = { from: '+14155550100', to: '+14155550199', receivedAt: at };
    const help = bot.step(undefined, { ...base, id: 'h', text: 'HELP' });
    const stop = bot.step(help.state, { ...base, id: 's', text: 'STOP' });
    const start = bot.step(stop.state, { ...base, id: 'st', text: 'START' });
    for (const r of [help, stop, start]) {
      expect(r.replies).toHaveLength(1);
      expect(r.replies[0]!.encoding).toBe('GSM-7');
      expect(r.replies[0]!.segments).toBeLessThanOrEqual(2);
    }
  });
});
