import { TZDate, tzOffset } from '@date-fns/tz';
import { describe, expect, it } from 'vitest';
import { wallTime, zonedInstant, zoneOffsetMs } from '../../src/core/zone.js';

// Zones with every kind of rule: northern and southern DST, 30-minute DST (Lord Howe), odd offsets
// (+5:30, +5:45, -3:30, +12:45), DST abolished (Sao Paulo 2019), DST suspended for Ramadan (Casablanca),
// and none at all.
const ZONES = [
  'America/New_York',
  'America/Los_Angeles',
  'Europe/London',
  'Europe/Berlin',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'Africa/Casablanca',
  'UTC',
];
const HOUR = 3_600_000;
const QUARTER = 15 * 60_000;

/** Instants of offset changes between two years: days whose offset differs from the next day's. */
function transitions(zone: string, fromYear: number, toYear: number): number[] {
  const out: number[] = [];
  const end = Date.UTC(toYear, 0, 1);
  let day = Date.UTC(fromYear, 0, 1);
  let offset = tzOffset(zone, new Date(day));
  for (; day < end; day += 24 * HOUR) {
    const next = tzOffset(zone, new Date(day + 24 * HOUR));
    if (next !== offset) out.push(day);
    offset = next;
  }
  return out;
}

describe('zone math (checked against TZDate from @date-fns/tz)', () => {
  for (const zone of ZONES) {
    it(`${zone}: wall time and offset of every quarter hour around each transition, 2018-2028`, () => {
      const days = transitions(zone, 2018, 2028);
      if (!['Asia/Kolkata', 'Asia/Kathmandu', 'UTC'].includes(zone)) expect(days.length).toBeGreaterThan(0);
      // Each transition day, plus a day either side, every 15 minutes (and one odd minute off the grid).
      const instants = days.flatMap((day) =>
        Array.from({ length: 3 * 96 }, (_, i) => day - 24 * HOUR + i * QUARTER + (i % 7) * 60_000),
      );
      instants.push(Date.UTC(2026, 11, 1, 12), Date.UTC(2030, 5, 15, 3, 7));
      for (const ms of instants) {
        const z = new TZDate(ms, zone);
        expect(wallTime(zone, ms), `${zone} ${new Date(ms).toISOString()}`).toEqual({
          y: z.getFullYear(),
          m: z.getMonth() + 1,
          d: z.getDate(),
          h: z.getHours(),
          min: z.getMinutes(),
          s: z.getSeconds(),
          dow: z.getDay(),
        });
        expect(zoneOffsetMs(zone, ms)).toBe(Math.round(tzOffset(zone, new Date(ms)) * 60) * 1000);
      }
    });

    it(`${zone}: the instant of every wall time around each transition (gaps forward, overlaps first)`, () => {
      for (const day of transitions(zone, 2018, 2028)) {
        // Wall times from a day before to a day after, every 15 minutes, read in the zone.
        const first = wallTime(zone, day - 24 * HOUR);
        for (let i = 0; i < 3 * 96; i++) {
          const w = new Date(Date.UTC(first.y, first.m - 1, first.d, first.h, i * 15));
          const [y, m, d, h, min] = [
            w.getUTCFullYear(),
            w.getUTCMonth() + 1,
            w.getUTCDate(),
            w.getUTCHours(),
            w.getUTCMinutes(),
          ];
          // TZDate, except for a wall time that happens twice: TZDate takes the second reading in zones at or
          // east of the host's (London, Berlin, Sydney with TZ=UTC) and the first west of it (New York); ours is
          // always the first, as datetime.ts documents. The earlier reading is found by stepping back.
          const tz = new TZDate(y, m - 1, d, h, min, 0, 0, zone).getTime();
          const readsAs = (t: number) => {
            const r = wallTime(zone, t);
            return r.y === y && r.m === m && r.d === d && r.h === h && r.min === min;
          };
          const expected = [tz - 2 * HOUR, tz - HOUR, tz - HOUR / 2, tz].find(readsAs) ?? tz;
          expect(zonedInstant(zone, y, m, d, h, min), `${zone} ${y}-${m}-${d} ${h}:${min}`).toBe(expected);
        }
      }
    });
  }

  it('moves a skipped wall time forward by the gap and takes the first of a repeated one', () => {
    // Berlin 2026-10-25: 02:00-03:00 happens twice; the first is CEST (+02:00), 00:30Z.
    expect(new Date(zonedInstant('Europe/Berlin', 2026, 10, 25, 2, 30)).toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    // New York 2026: clocks skip 02:00-03:00 on March 8 and repeat 01:00-02:00 on November 1.
    expect(new Date(zonedInstant('America/New_York', 2026, 3, 8, 2, 30)).toISOString()).toBe(
      '2026-03-08T07:30:00.000Z', // 03:30 EDT
    );
    expect(new Date(zonedInstant('America/New_York', 2026, 11, 1, 1, 30)).toISOString()).toBe(
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, not 01:30 EST (06:30Z)
    );
    // Lord Howe moves by 30 minutes: 02:00-02:30 is skipped on 2026-10-04.
    expect(
      wallTime('Australia/Lord_Howe', zonedInstant('Australia/Lord_Howe', 2026, 10, 4, 2, 15)),
    ).toMatchObject({
      h: 2,
      min: 45,
    });
  });

  it('keeps answering right past the memo bound (20,000 quarter hours in all zones), in several zones', () => {
    const start = Date.UTC(2030, 0, 1);
    const zones = ['Europe/Paris', 'Asia/Tokyo', 'America/Chicago'];
    for (let i = 0; i < 25_000; i++) {
      const zone = zones[i % 3]!;
      const ms = start + i * QUARTER + 7 * 60_000;
      if (i % 997 === 0 || i > 24_990)
        expect(zoneOffsetMs(zone, ms)).toBe(Math.round(tzOffset(zone, new Date(ms)) * 60) * 1000);
      else zoneOffsetMs(zone, ms);
    }
  });

  it('asks for a quarter hour that holds a transition every time, and remembers the others', () => {
    // 2026-03-08 07:00Z is New York's spring-forward instant: it starts a quarter hour, so the quarter before
    // it and the one from it are both whole; an instant a millisecond before keeps the old offset.
    const at = Date.parse('2026-03-08T07:00:00Z');
    expect(zoneOffsetMs('America/New_York', at - 1)).toBe(-5 * HOUR);
    expect(zoneOffsetMs('America/New_York', at)).toBe(-4 * HOUR);
    // Lord Howe's fall-back instant 2026-04-05 15:00Z (02:00 +11 → 01:30 +10:30) sits on a quarter hour too;
    // Chatham's (03:45 +13:45 → 02:45 +12:45, 2026-04-04 14:00Z) as well.
    const lh = Date.parse('2026-04-04T15:00:00Z');
    expect(zoneOffsetMs('Australia/Lord_Howe', lh - 1)).toBe(11 * HOUR);
    expect(zoneOffsetMs('Australia/Lord_Howe', lh)).toBe(10.5 * HOUR);
  });
});
