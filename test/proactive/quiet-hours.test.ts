import { describe, expect, it } from 'vitest';
import {
  areaCodeOf,
  knownAreaCodes,
  stateForNumber,
  zonesForNumber,
} from '../../src/proactive/area-codes.js';
import { createPacer } from '../../src/proactive/pacing.js';
import { isAllowed, nextAllowedTime, recipientZones, windowFor } from '../../src/proactive/quiet-hours.js';

const W: [number, number] = [8 * 60, 21 * 60];

describe('area codes', () => {
  it('maps US area codes to zones, split codes to every zone, unknown ones to none', () => {
    expect(knownAreaCodes.length).toBeGreaterThan(330);
    expect(zonesForNumber('+14155550100')).toEqual(['America/Los_Angeles']);
    expect(zonesForNumber('+12125550100')).toEqual(['America/New_York']);
    expect(zonesForNumber('+13125550100')).toEqual(['America/Chicago']);
    expect(zonesForNumber('+13035550100')).toEqual(['America/Denver']);
    expect(zonesForNumber('+16025550100')).toEqual(['America/Phoenix']);
    expect(zonesForNumber('+18085550100')).toEqual(['Pacific/Honolulu']);
    expect(zonesForNumber('+12085550100')).toEqual(['America/Boise', 'America/Los_Angeles']);
    expect(zonesForNumber('+19995550100')).toEqual([]);
    expect(zonesForNumber('+447700900123')).toEqual([]);
    expect(areaCodeOf('+14155550100')).toBe('415');
    expect(stateForNumber('+19185550100')).toBe('OK');
    expect(stateForNumber('+14155550100')).toBeNull();
  });

  it('every zone in the table is a real IANA zone', () => {
    const zones = new Set(knownAreaCodes.flatMap((npa) => zonesForNumber(`+1${npa}5550100`)));
    for (const zone of zones)
      expect(() => new Intl.DateTimeFormat('en-US', { timeZone: zone })).not.toThrow();
  });
});

describe('quiet hours', () => {
  it('moves a time before 8:00 local to 8:00 local, and after 21:00 to 8:00 the next day', () => {
    // 03:00 UTC = 22:00 EST (previous day) → 08:00 EST = 13:00 UTC.
    expect(nextAllowedTime(new Date('2026-03-02T03:00:00Z'), ['America/New_York'], W).toISOString()).toBe(
      '2026-03-02T13:00:00.000Z',
    );
    const ok = new Date('2026-03-02T15:00:00Z');
    expect(nextAllowedTime(ok, ['America/New_York'], W)).toBe(ok);
    // 21:00 is already quiet (end exclusive).
    expect(isAllowed(new Date('2026-03-03T02:00:00Z'), ['America/New_York'], W)).toBe(false);
  });

  it('follows DST: 08:00 local is 12:00Z after the spring change and 13:00Z after the fall change', () => {
    expect(nextAllowedTime(new Date('2026-03-08T11:30:00Z'), ['America/New_York'], W).toISOString()).toBe(
      '2026-03-08T12:00:00.000Z',
    );
    expect(nextAllowedTime(new Date('2026-03-07T11:30:00Z'), ['America/New_York'], W).toISOString()).toBe(
      '2026-03-07T13:00:00.000Z',
    );
    expect(nextAllowedTime(new Date('2026-11-01T12:30:00Z'), ['America/New_York'], W).toISOString()).toBe(
      '2026-11-01T13:00:00.000Z',
    );
  });

  it('with several possible zones, waits until the time is allowed in all of them', () => {
    // 15:30Z is 08:30 Boise (MST) but 07:30 Los Angeles: wait for 08:00 LA.
    const at = nextAllowedTime(new Date('2026-01-06T15:30:00Z'), ['America/Boise', 'America/Los_Angeles'], W);
    expect(at.toISOString()).toBe('2026-01-06T16:00:00.000Z');
  });

  it('applies a state window to that state’s area codes, and refuses a bad window', () => {
    const q = { byState: { OK: ['08:00', '20:00'] as [string, string] } };
    expect(windowFor('+14055550100', q)).toEqual([480, 1200]);
    expect(windowFor('+14155550100', q)).toEqual([480, 1260]);
    expect(() => windowFor('+14155550100', { start: '8am' })).toThrow(/"8am"/);
    expect(() => windowFor('+14155550100', { start: '21:00', end: '08:00' })).toThrow(/empty/);
  });

  it('takes the profile zone first, then the area code, then the business zone', () => {
    expect(recipientZones('+12125550100', { timeZone: 'America/Chicago' }, 'America/Los_Angeles')).toEqual({
      zones: ['America/Chicago'],
      source: 'profile',
    });
    expect(recipientZones('+12125550100', { timeZone: 'Nowhere/Else' }, 'UTC').source).toBe('area_code');
    expect(recipientZones('+19995550100', {}, 'America/Los_Angeles')).toEqual({
      zones: ['America/Los_Angeles'],
      source: 'business',
    });
  });
});

describe('pacing', () => {
  it('holds messagesPerSecond within 10% (fake clock), per sending number', async () => {
    let now = 0;
    const pacer = createPacer({
      messagesPerSecond: 3,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 31 }, () =>
        pacer.acquire('+18005550100', 1, 'campaign').then(() => times.push(now)),
      ),
    );
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
    expect(Math.abs(rate - 3) / 3).toBeLessThan(0.1);
    // Another number has its own lane: no wait.
    const before = now;
    await pacer.acquire('+18005550101', 1, 'campaign');
    expect(now).toBe(before);
  });

  it('holds segmentsPerMinute: a 3-segment message takes three slots', async () => {
    let now = 0;
    const pacer = createPacer({
      segmentsPerMinute: 60,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    await pacer.acquire('a', 3, 'campaign');
    await pacer.acquire('a', 1, 'campaign');
    expect(now).toBe(3000);
  });

  it('a reply waiting behind a campaign goes next', async () => {
    let now = 0;
    const pacer = createPacer({
      messagesPerSecond: 1,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const order: string[] = [];
    const all = Array.from({ length: 5 }, (_, i) =>
      pacer.acquire('a', 1, 'campaign').then(() => order.push(`c${i}`)),
    );
    all.push(pacer.acquire('a', 1, 'reply').then(() => order.push('reply')));
    await Promise.all(all);
    expect(order.indexOf('reply')).toBeLessThanOrEqual(2);
  });

  it('holds the rate within 10% in a real short run (20 msg/s for ~1 s)', async () => {
    const pacer = createPacer({ messagesPerSecond: 20 });
    const started = Date.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 21 }, () =>
        pacer.acquire('real', 1, 'campaign').then(() => times.push(Date.now())),
      ),
    );
    const rate = 20 / ((times.at(-1)! - times[0]!) / 1000);
    expect(Math.abs(rate - 20) / 20).toBeLessThan(0.1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => createPacer({ messagesPerSecond: 0 })).toThrow(/messagesPerSecond is 0/);
  });
});
